package preflight

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/sandbox"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/sandbox/workspace"
	"github.com/eksbg/eksbg/internal/testenv"
	"github.com/eksbg/eksbg/terraform"
)

// TestPlanMultiVersionJump plans 1.29 to 1.32 end to end on the sandbox:
// the workspace's Terraform stack (applied with the real terraform), the
// eksctl config read back from EKS, eksctl's schema, the control plane
// reached with an EKS token, and Argo CD Applications. The plan is not
// blocked by the jump itself, and it lists the APIs removed in 1.32 that
// blue's manifests use.
func TestPlanMultiVersionJump(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	sc := strings.Replace(compatScenario, "    version: \"1.29\"\n", "    version: \"1.29\"\n    tags: {eksbg.io/environment: shop, eksbg.io/color: blue}\n", 1)
	sc = strings.Replace(sc, "        defaultForward: [{targetGroup: shop-blue-web, weight: 1}]\n",
		"        defaultForward: [{targetGroup: shop-blue-web, weight: 1}]\n        rules:\n          - {name: web, priority: 10, pathPattern: [\"/*\"], forward: [{targetGroup: shop-blue-web, weight: 100}, {targetGroup: shop-green-web, weight: 0}]}\n", 1)
	env := sandboxtest.StartYAML(t, sc)
	sb := sandboxtest.StartKube(t, env)
	rc, err := sb.REST(ctx, "shop-blue")
	if err != nil {
		t.Fatal(err)
	}
	tgs, err := elb.NewFromConfig(env.AWS).DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"shop-blue-web"}})
	if err != nil {
		t.Fatal(err)
	}
	seed(ctx, t, rc, kubernetes.NewForConfigOrDie(rc), dynamic.NewForConfigOrDie(rc), *tgs.TargetGroups[0].TargetGroupArn)

	// The workspace a team would have: eksbg.yaml, the eksctl config, and
	// the Terraform network stack, applied.
	w, err := workspace.Read(ctx, env.AWS)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := workspace.Write(w, workspace.Options{Dir: dir, Endpoint: env.URL, Eksbg: "/bin/true"}); err != nil {
		t.Fatal(err)
	}
	if err := sandbox.ApplyNetwork(ctx, filepath.Join(dir, workspace.NetworkDir), w); err != nil {
		t.Fatal(err)
	}
	proj, err := config.Load(filepath.Join(dir, workspace.ProjectFile))
	if err != nil {
		t.Fatal(err)
	}
	penv, err := proj.Env("shop")
	if err != nil {
		t.Fatal(err)
	}
	tf, err := terraform.New(ctx, terraform.WithDataDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	schema, _ := testenv.EksctlSchema(t)
	p, err := MakePlan(ctx, Options{Env: penv, ProjectDir: dir, To: "1.32", AWS: env.AWS, Terraform: tf, Schema: schema,
		ArgoCD:   func(context.Context) (*rest.Config, error) { return rc, nil }, // the Applications live on blue in this test
		Capacity: CheckCapacity(env.AWS, penv)})
	if err != nil {
		t.Fatal(err)
	}
	if p.Blue.Name != "shop-blue" || p.Blue.Version != "1.29" || p.Green.Name != "shop-green" || p.Green.Version != "1.32" {
		t.Errorf("pair = %+v / %+v", p.Blue, p.Green)
	}
	for _, want := range []string{"-  name: shop-blue\n+  name: shop-green", "-  version: \"1.29\"\n+  version: \"1.32\"", "+    eksbg.io/color: green"} {
		if !strings.Contains(p.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, p.Diff)
		}
	}
	var removed []findings.Finding
	for _, f := range p.Findings {
		if f.Check == CheckRemovedAPI && f.Severity == findings.Fail {
			removed = append(removed, f)
		}
		if f.Check == "refused" {
			t.Errorf("green could not be derived: %v", f)
		}
	}
	if len(removed) != 2 || !strings.Contains(removed[0].What+removed[1].What, "FlowSchema") || !strings.Contains(removed[0].What+removed[1].What, "PriorityLevelConfiguration") {
		t.Errorf("removed APIs 1.29 -> 1.32: %v", removed)
	}
	if p.Capacity == nil {
		t.Error("the plan has no capacity report")
	}
	if !p.Blocked {
		t.Error("removed APIs in use must block the upgrade")
	}
	var text strings.Builder
	if err := p.WriteText(&text); err != nil || !strings.Contains(text.String(), "3 minor versions at once") || !strings.Contains(text.String(), "BLOCKED") {
		t.Errorf("text rendering (%v):\n%s", err, text.String())
	}
	var md strings.Builder
	if err := p.WriteMarkdown(&md); err != nil || !strings.Contains(md.String(), "```diff") || !strings.Contains(md.String(), "| fail | removed-api |") {
		t.Errorf("markdown rendering (%v):\n%s", err, md.String())
	}
}
