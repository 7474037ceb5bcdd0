package clusters

import (
	"strings"
	"testing"

	"github.com/eksbg/eksbg/internal/findings"
)

func TestRemovedAPIsTable(t *testing.T) {
	releases := map[string]int{}
	seen := map[string]bool{}
	for _, r := range RemovedAPIsTable() {
		releases[r.RemovedIn]++
		k := r.GroupVersion + " " + r.Kind
		if seen[k] {
			t.Errorf("%s listed twice", k)
		}
		seen[k] = true
		removed, err := minorOf(r.RemovedIn)
		if err != nil {
			t.Errorf("%s: %v", k, err)
		}
		if r.Replacement == "" {
			if r.Note == "" {
				t.Errorf("%s: no replacement and no note", k)
			}
			continue
		}
		since, err := minorOf(r.ReplacementSince)
		if err != nil || since > removed {
			t.Errorf("%s: replacement %s served since %s, after the removal in %s", k, r.Replacement, r.ReplacementSince, r.RemovedIn)
		}
	}
	// The releases the deprecation guide lists removals for.
	for _, rel := range []string{"1.16", "1.22", "1.25", "1.26", "1.27", "1.29", "1.32"} {
		if releases[rel] == 0 {
			t.Errorf("no removals in %s", rel)
		}
	}
	if len(releases) != 7 {
		t.Errorf("removals in %d releases, want 7: %v", len(releases), releases)
	}
}

func TestRemovedAPIs(t *testing.T) {
	src := findings.Where{App: "web", File: "web.yaml:1"}
	obj := func(apiVersion, kind string) Object {
		return Object{APIVersion: apiVersion, Kind: kind, Name: "x", Namespace: "ns", Source: src}
	}
	tests := []struct {
		name     string
		from, to string
		obj      Object
		want     findings.Severity // -1: no finding
		wantWhat string
		wantFix  string
	}{
		{"removed in the target", "1.31", "1.32", obj("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema"), findings.Fail,
			"Kubernetes 1.32 stopped serving flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema; green runs 1.32", "use flowcontrol.apiserver.k8s.io/v1, served since 1.29"},
		{"removed between", "1.24", "1.29", obj("policy/v1beta1", "PodDisruptionBudget"), findings.Fail,
			"Kubernetes 1.25 stopped serving policy/v1beta1 PodDisruptionBudget", "use policy/v1, served since 1.21; an empty spec.selector"},
		{"multi-version jump finds each release", "1.24", "1.32", obj("autoscaling/v2beta2", "HorizontalPodAutoscaler"), findings.Fail,
			"Kubernetes 1.26 stopped serving autoscaling/v2beta2", "use autoscaling/v2"},
		{"no successor", "1.24", "1.25", obj("policy/v1beta1", "PodSecurityPolicy"), findings.Fail,
			"stopped serving policy/v1beta1 PodSecurityPolicy", "Pod Security Admission"},
		{"removed after the target", "1.29", "1.31", obj("flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration"), -1, "", ""},
		{"removed in from: already gone on blue", "1.22", "1.29", obj("extensions/v1beta1", "Ingress"), findings.Warn,
			"has not been served since Kubernetes 1.22, so it cannot be running on blue (1.22)", "use networking.k8s.io/v1"},
		{"same group/version, kind not removed", "1.21", "1.22", obj("networking.k8s.io/v1beta1", "NetworkPolicy"), -1, "", ""},
		{"served API", "1.29", "1.32", obj("apps/v1", "Deployment"), -1, "", ""},
		{"core group", "1.16", "1.32", obj("v1", "Service"), -1, "", ""},
		{"same version", "1.32", "1.32", obj("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema"), findings.Warn, "since Kubernetes 1.32", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := RemovedAPIs(tt.from, tt.to, []Object{tt.obj})
			if err != nil {
				t.Fatal(err)
			}
			if tt.want < 0 {
				if len(fs) != 0 {
					t.Errorf("findings %v, want none", fs)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("findings %v, want one", fs)
			}
			f := fs[0]
			if f.Severity != tt.want || f.Check != "removed-api" || !strings.Contains(f.What, tt.wantWhat) || !strings.Contains(f.Fix, tt.wantFix) {
				t.Errorf("finding %s\nwant %s with %q and fix %q", f, tt.want, tt.wantWhat, tt.wantFix)
			}
			want := findings.Where{App: "web", File: "web.yaml:1", Object: tt.obj.APIVersion + " " + tt.obj.Kind + " ns/x"}
			if f.Where != want {
				t.Errorf("where %+v, want %+v", f.Where, want)
			}
		})
	}
	if _, err := RemovedAPIs("1.x", "1.32", nil); err == nil {
		t.Error("bad from accepted")
	}
	if _, err := RemovedAPIs("1.29", "", nil); err == nil {
		t.Error("empty to accepted")
	}
}

func TestObjectsFromYAML(t *testing.T) {
	const manifests = `# rendered by helm
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
---
apiVersion: v1
kind: List
items:
  - apiVersion: policy/v1beta1
    kind: PodDisruptionBudget
    metadata: {name: web, namespace: shop}
  - apiVersion: autoscaling/v2beta2
    kind: HorizontalPodAutoscaler
    metadata: {name: web, namespace: shop}
---
# an empty document
---
not: an object
`
	objs, err := ObjectsFromYAML("shop.yaml", []byte(manifests), findings.Where{App: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Object{
		{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", Namespace: "shop", Source: findings.Where{App: "shop", File: "shop.yaml:2"}},
		{APIVersion: "policy/v1beta1", Kind: "PodDisruptionBudget", Name: "web", Namespace: "shop", Source: findings.Where{App: "shop", File: "shop.yaml:9"}},
		{APIVersion: "autoscaling/v2beta2", Kind: "HorizontalPodAutoscaler", Name: "web", Namespace: "shop", Source: findings.Where{App: "shop", File: "shop.yaml:12"}},
	}
	wantEqual(t, "objects", objs, want)
	fs, err := RemovedAPIs("1.24", "1.32", objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].Where.File != "shop.yaml:12" || fs[1].Where.File != "shop.yaml:9" {
		t.Errorf("findings %v", fs)
	}
	if _, err := ObjectsFromYAML("bad.yaml", []byte("a: [\n"), findings.Where{}); err == nil {
		t.Error("broken YAML accepted")
	}
}
