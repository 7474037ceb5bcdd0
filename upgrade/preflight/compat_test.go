package preflight

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/gitops"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// A blue cluster on Kubernetes 1.29, as teams still run them, with the
// target groups of a blue/green pair.
const compatScenario = `
apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: us-east-1
timing: {clusterCreate: 1, clusterDelete: 1, nodegroupCreate: 1, nodegroupDelete: 1}
vpcs:
  - id: vpc-0c00000000000c001
    cidr: 10.50.0.0/16
    subnets:
      - {id: subnet-0c00000000000a001, az: us-east-1a, cidr: 10.50.0.0/24}
      - {id: subnet-0c00000000000b001, az: us-east-1b, cidr: 10.50.1.0/24}
      - {id: subnet-0c00000000000a002, az: us-east-1a, cidr: 10.50.240.0/28}
      - {id: subnet-0c00000000000b002, az: us-east-1b, cidr: 10.50.240.16/28}
clusters:
  - name: shop-blue
    version: "1.29"
    subnets: [subnet-0c00000000000a002, subnet-0c00000000000b002]
    nodegroups:
      - {name: general, instanceType: m5.large, desired: 2, min: 1, max: 3, subnets: [subnet-0c00000000000a001, subnet-0c00000000000b001]}
targetGroups:
  - {name: shop-blue-web, vpc: vpc-0c00000000000c001, protocol: HTTP, port: 8080, targetType: ip, cluster: shop-blue}
  - {name: shop-green-web, vpc: vpc-0c00000000000c001, protocol: HTTP, port: 8080, targetType: ip, cluster: shop-green}
loadBalancers:
  - name: shop-alb
    subnets: [subnet-0c00000000000a001, subnet-0c00000000000b001]
    listeners:
      - port: 80
        protocol: HTTP
        defaultForward: [{targetGroup: shop-blue-web, weight: 1}]
`

// TestCompatibilityChecks runs the plan's compatibility checks against a
// real control plane reached with an EKS token: a manifest applied with an
// API removed in 1.32 (live, and in an Argo CD Application's rendered
// resources), a Deployment behind a TargetGroupBinding without a readiness
// probe and with a shutdown shorter than the deregistration delay, and a
// PodDisruptionBudget that allows no eviction.
func TestCompatibilityChecks(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	env := sandboxtest.StartYAML(t, compatScenario)
	sb := sandboxtest.StartKube(t, env)
	eksc := eks.NewFromConfig(env.AWS)
	rc, err := sb.REST(ctx, "shop-blue")
	if err != nil {
		t.Fatal(err)
	}
	kc := kubernetes.NewForConfigOrDie(rc)
	dyn := dynamic.NewForConfigOrDie(rc)
	elbc := elb.NewFromConfig(env.AWS)
	tgs, err := elbc.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"shop-blue-web"}})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := aws.ToString(tgs.TargetGroups[0].TargetGroupArn)
	seed(ctx, t, rc, kc, dyn, tgARN)

	// Insights of a 1.29 cluster: present, and none is a FAIL for
	// blue/green when only in-place matters.
	ins, err := Insights(ctx, eksc, "shop-blue")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ins {
		if f.Check != CheckInsight || f.Where.Object != "EKS cluster shop-blue" {
			t.Errorf("insight finding %+v", f)
		}
	}

	disc := discovery.NewDiscoveryClientForConfigOrDie(rc)
	live, err := LiveObjects(ctx, dyn, disc, "shop-blue")
	if err != nil {
		t.Fatal(err)
	}
	apps, err := gitops.AppObjects(ctx, dyn, "argocd", "shop-blue", "")
	if err != nil {
		t.Fatal(err)
	}
	removed, err := clusters.RemovedAPIs("1.29", "1.32", append(live, apps...))
	if err != nil {
		t.Fatal(err)
	}
	var liveHit, appHit bool
	for _, f := range removed {
		if f.Check != CheckRemovedAPI || f.Severity != findings.Fail || !strings.Contains(f.What, "v1beta3") {
			t.Errorf("removed-API finding %+v", f)
		}
		liveHit = liveHit || f.Where.File == "live on shop-blue" && strings.Contains(f.Where.Object, "FlowSchema")
		appHit = appHit || f.Where.App == "platform" && strings.Contains(f.Where.File, "git://catalog//platform")
	}
	if !liveHit || !appHit || len(removed) != 2 {
		t.Errorf("removed APIs 1.29 -> 1.32: want the live FlowSchema and the app's PriorityLevelConfiguration, got %v", removed)
	}
	// Across a jump that removes nothing, nothing fails (an API already
	// gone before blue's version is a warning: it cannot be running).
	if later, _ := clusters.RemovedAPIs("1.32", "1.34", append(live, apps...)); findings.Blocking(later) || len(later) != 2 {
		t.Errorf("1.32 -> 1.34: %v", later)
	}

	wl, err := Workloads(ctx, kc, dyn, elbc, "shop-blue")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]findings.Finding{}
	for _, f := range wl {
		got[f.Check+" "+f.Where.Object] = f
	}
	if f, ok := got[CheckReadiness+" Deployment shop/web"]; !ok || f.Severity != findings.Fail {
		t.Errorf("no readiness-probe FAIL for shop/web: %v", wl)
	}
	if f, ok := got[CheckShutdown+" Deployment shop/web"]; !ok || !strings.Contains(f.What, "deregistration delay of 10s") || !strings.Contains(f.Fix, "at least 10s") {
		t.Errorf("no shutdown finding naming the 10s delay: %v", wl)
	}
	if _, ok := got[CheckReadiness+" Deployment shop/good"]; ok {
		t.Errorf("shop/good has a readiness probe and a long enough preStop, yet: %v", wl)
	}
	if _, ok := got[CheckShutdown+" Deployment shop/good"]; ok {
		t.Errorf("shop/good sleeps 15s before stopping, yet: %v", wl)
	}
	if _, ok := got[CheckPDB+" PodDisruptionBudget shop/web"]; !ok {
		t.Errorf("no finding for the PodDisruptionBudget that allows no eviction: %v", wl)
	}
	if _, ok := got[CheckShutdown+" Deployment shop/unbound"]; ok {
		t.Errorf("shop/unbound is behind no TargetGroupBinding, yet: %v", wl)
	}

	spec := &clusters.Spec{NodeGroups: []clusters.NodeGroup{{Name: "spot", Spot: true}}}
	spot, err := SpotWithoutNTH(ctx, kc, spec, "shop-blue")
	if err != nil || len(spot) != 1 || spot[0].Check != CheckSpotNTH {
		t.Errorf("spot without a termination handler: %v, %v", spot, err)
	}
}

func seed(ctx context.Context, t *testing.T, rc *rest.Config, kc kubernetes.Interface, dyn dynamic.Interface, tgARN string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// CRDs: the AWS Load Balancer Controller's TargetGroupBinding and Argo
	// CD's Application (only what these checks read).
	crd := func(group, version, kind, plural string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": plural + "." + group},
			"spec": map[string]any{"group": group, "scope": "Namespaced",
				"names": map[string]any{"kind": kind, "plural": plural},
				"versions": []any{map[string]any{"name": version, "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}}}
	}
	crdc := dynamic.NewForConfigOrDie(rc).Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	for _, c := range []*unstructured.Unstructured{crd("elbv2.k8s.aws", "v1beta1", "TargetGroupBinding", "targetgroupbindings"), crd("argoproj.io", "v1alpha1", "Application", "applications")} {
		_, err := crdc.Create(ctx, c, metav1.CreateOptions{})
		must(err)
	}
	// The API server serves a new CRD's resource a moment after creating it.
	for _, gvr := range []schema.GroupVersionResource{tgbResource, gitops.ApplicationGVR} {
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			_, err := dyn.Resource(gvr).Namespace("default").List(ctx, metav1.ListOptions{})
			return err == nil, nil
		})
		must(err)
	}
	for _, ns := range []string{"shop", "argocd"} {
		_, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		must(err)
	}
	// A FlowSchema created through v1 whose manifest, as applied, says
	// v1beta3: what a cluster upgraded in place from 1.28 carries.
	fs := &flowcontrolv1.FlowSchema{ObjectMeta: metav1.ObjectMeta{Name: "shop-batch", Annotations: map[string]string{
		lastApplied: `{"apiVersion":"flowcontrol.apiserver.k8s.io/v1beta3","kind":"FlowSchema","metadata":{"name":"shop-batch"}}`}},
		Spec: flowcontrolv1.FlowSchemaSpec{PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "workload-low"}}}
	_, err := kc.FlowcontrolV1().FlowSchemas().Create(ctx, fs, metav1.CreateOptions{})
	must(err)

	labels := map[string]string{"app": "web"}
	_, err = kc.CoreV1().Services("shop").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt(8080)}}}}, metav1.CreateOptions{})
	must(err)
	goodLabels := map[string]string{"app": "good"}
	_, err = kc.CoreV1().Services("shop").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "good"},
		Spec: corev1.ServiceSpec{Selector: goodLabels, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt(8080)}}}}, metav1.CreateOptions{})
	must(err)
	dep := func(name string, l map[string]string, c corev1.Container, grace int64) {
		one := int32(1)
		_, err := kc.AppsV1().Deployments("shop").Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: l},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l},
					Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace, Containers: []corev1.Container{c}}}}}, metav1.CreateOptions{})
		must(err)
	}
	dep("web", labels, corev1.Container{Name: "web", Image: "example/web:1"}, 30)
	dep("good", goodLabels, corev1.Container{Name: "good", Image: "example/web:1",
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt(8080)}}},
		Lifecycle:      &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/sh", "-c", "sleep 15"}}}}}, 45)
	dep("unbound", map[string]string{"app": "unbound"}, corev1.Container{Name: "x", Image: "example/x:1"}, 30)
	zero := intstr.FromInt(0)
	_, err = kc.PolicyV1().PodDisruptionBudgets("shop").Create(ctx, &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &zero, Selector: &metav1.LabelSelector{MatchLabels: labels}}}, metav1.CreateOptions{})
	must(err)
	for _, name := range []string{"web", "good"} {
		tgb := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding",
			"metadata": map[string]any{"name": name, "namespace": "shop"},
			"spec":     map[string]any{"serviceRef": map[string]any{"name": name, "port": int64(80)}, "targetGroupARN": tgARN, "targetType": "ip"}}}
		_, err = dyn.Resource(tgbResource).Namespace("shop").Create(ctx, tgb, metav1.CreateOptions{})
		must(err)
	}
	// An Argo CD Application targeting shop-blue whose rendered manifests
	// hold a PriorityLevelConfiguration of the removed v1beta3 API.
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "platform", "namespace": "argocd"},
		"spec": map[string]any{"destination": map[string]any{"name": "shop-blue", "namespace": "shop"},
			"source": map[string]any{"repoURL": "git://catalog", "path": "platform"}},
	}}
	created, err := dyn.Resource(gitops.ApplicationGVR).Namespace("argocd").Create(ctx, app, metav1.CreateOptions{})
	must(err)
	must(unstructured.SetNestedSlice(created.Object, []any{
		map[string]any{"group": "flowcontrol.apiserver.k8s.io", "version": "v1beta3", "kind": "PriorityLevelConfiguration", "name": "shop-batch"},
		map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "shop", "name": "web"},
	}, "status", "resources"))
	_, err = dyn.Resource(gitops.ApplicationGVR).Namespace("argocd").Update(ctx, created, metav1.UpdateOptions{})
	must(err)
}

func TestDeprecatedRequests(t *testing.T) {
	metrics := []byte(`# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested
# TYPE apiserver_requested_deprecated_apis gauge
apiserver_requested_deprecated_apis{group="",removed_release="",resource="endpoints",subresource="",version="v1"} 1
apiserver_requested_deprecated_apis{group="flowcontrol.apiserver.k8s.io",removed_release="1.32",resource="flowschemas",subresource="status",version="v1beta3"} 1
apiserver_requested_deprecated_apis{group="resource.k8s.io",removed_release="1.36",resource="resourceclaims",subresource="",version="v1beta1"} 1
apiserver_request_total{code="200"} 5
`)
	fs, err := DeprecatedRequests(context.Background(), func(context.Context) ([]byte, error) { return metrics, nil }, "shop-blue", "1.33")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("findings = %v, want the two APIs with a removal release", fs)
	}
	if f := fs[0]; f.Severity != findings.Fail || f.Where.Object != "flowcontrol.apiserver.k8s.io/v1beta3 flowschemas/status" || !strings.Contains(f.What, "breaks on green (1.33)") {
		t.Errorf("removed by green: %+v", f)
	}
	if f := fs[1]; f.Severity != findings.Warn || !strings.Contains(f.What, "Kubernetes 1.36 removes") {
		t.Errorf("removed later: %+v", f)
	}
	// /metrics not readable: a warning that says what was not checked.
	fs, err = DeprecatedRequests(context.Background(), func(context.Context) ([]byte, error) { return nil, errors.New("forbidden") }, "shop-blue", "1.33")
	if err != nil || len(fs) != 1 || fs[0].Severity != findings.Warn || !strings.Contains(fs[0].What, "not checked") {
		t.Errorf("unreadable metrics: %v %v", fs, err)
	}
}

// fakeDiscovery serves one resource list.
type fakeDiscovery []*metav1.APIResourceList

func (d fakeDiscovery) ServerPreferredResources() ([]*metav1.APIResourceList, error) { return d, nil }

// TestLiveObjectsFromManagedFields: an object Helm (or server-side apply)
// wrote carries no last-applied annotation; the API server records the
// apiVersion each writer used in managedFields, and that is what finds it.
// (The sandbox's kube-apiserver cannot hold one: it serves no removed API
// and drops managedFields at versions it does not serve, so this runs on
// client-go's fake, with the object as a 1.25 API server stores it.)
func TestLiveObjectsFromManagedFields(t *testing.T) {
	hpa := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
		"metadata": map[string]any{"name": "web", "namespace": "shop", "labels": map[string]any{"app.kubernetes.io/instance": "shop"},
			"managedFields": []any{
				map[string]any{"manager": "helm", "operation": "Update", "apiVersion": "autoscaling/v2beta2", "fieldsType": "FieldsV1", "fieldsV1": map[string]any{"f:spec": map[string]any{}}},
				map[string]any{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "autoscaling/v2", "fieldsType": "FieldsV1", "fieldsV1": map[string]any{"f:status": map[string]any{}}, "subresource": "status"},
			}}}}
	gvr := schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{gvr: "HorizontalPodAutoscalerList"}, hpa)
	disc := fakeDiscovery{{GroupVersion: "autoscaling/v2", APIResources: []metav1.APIResource{{Name: "horizontalpodautoscalers", Kind: "HorizontalPodAutoscaler", Verbs: []string{"list"}}}}}
	objs, err := LiveObjects(context.Background(), dyn, disc, "shop-blue")
	if err != nil {
		t.Fatal(err)
	}
	removed, err := clusters.RemovedAPIs("1.25", "1.26", objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0].Severity != findings.Fail || removed[0].Where.File != "live on shop-blue (written by helm, Update)" ||
		removed[0].Where.App != "shop" || !strings.Contains(removed[0].What, "autoscaling/v2beta2") {
		t.Fatalf("removed APIs 1.25 -> 1.26 = %v, want the HPA Helm wrote through autoscaling/v2beta2", removed)
	}
}
