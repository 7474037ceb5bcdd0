package argocd_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/eksbg/eksbg/internal/gitops"
	"github.com/eksbg/eksbg/internal/sandbox/argocd"
	"github.com/eksbg/eksbg/internal/sandbox/catalog"
	"github.com/eksbg/eksbg/internal/sandbox/kube"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/sandbox/tgb"
)

// gitopsScenario: a management cluster, and an environment "shop" with a
// blue cluster (two nodes, serving the shop-blue-web target group behind
// a load balancer) and a green one without nodes.
const gitopsScenario = `
apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: us-east-1
timing: {clusterCreate: 1, clusterDelete: 1, nodegroupCreate: 1, nodegroupDelete: 1, addonCreate: 1, targetInitial: 1}
vpcs:
  - id: vpc-0a00000000000a001
    cidr: 10.40.0.0/16
    subnets:
      - {id: subnet-0a00000000000a001, az: us-east-1a, cidr: 10.40.0.0/24}
      - {id: subnet-0a00000000000b001, az: us-east-1b, cidr: 10.40.1.0/24}
      - {id: subnet-0a00000000000a002, az: us-east-1a, cidr: 10.40.240.0/28}
      - {id: subnet-0a00000000000b002, az: us-east-1b, cidr: 10.40.240.16/28}
      - {id: subnet-0a00000000000a003, az: us-east-1a, cidr: 10.40.250.0/24}
      - {id: subnet-0a00000000000b003, az: us-east-1b, cidr: 10.40.251.0/24}
clusters:
  - name: mgmt
    version: "1.33"
    subnets: [subnet-0a00000000000a002, subnet-0a00000000000b002]
    tags: {eksbg.io/argocd-management: "true"}
  - name: shop-blue
    version: "1.33"
    subnets: [subnet-0a00000000000a002, subnet-0a00000000000b002]
    tags: {eksbg.io/environment: shop, eksbg.io/color: blue}
    nodegroups:
      - {name: general, instanceType: m5.large, desired: 2, min: 1, max: 3, subnets: [subnet-0a00000000000a001, subnet-0a00000000000b001]}
  - name: shop-green
    version: "1.33"
    subnets: [subnet-0a00000000000a002, subnet-0a00000000000b002]
    tags: {eksbg.io/environment: shop, eksbg.io/color: green}
targetGroups:
  - {name: shop-blue-web, vpc: vpc-0a00000000000a001, protocol: HTTP, port: 8080, targetType: ip, cluster: shop-blue}
  - {name: shop-green-web, vpc: vpc-0a00000000000a001, protocol: HTTP, port: 8080, targetType: ip, cluster: shop-green}
loadBalancers:
  - name: shop-alb
    subnets: [subnet-0a00000000000a003, subnet-0a00000000000b003]
    listeners:
      - port: 80
        defaultForward: [{targetGroup: shop-blue-web, weight: 1}]
        rules:
          - {name: web, priority: 10, pathPattern: ["/*"], forward: [{targetGroup: shop-blue-web, weight: 100}, {targetGroup: shop-green-web, weight: 0}]}
`

// TestVersionMatchesScript keeps Version and hack/argocd-bins.sh in step.
func TestVersionMatchesScript(t *testing.T) {
	b, err := os.ReadFile("../../../hack/argocd-bins.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`ARGOCD_VERSION="\$\{ARGOCD_VERSION:-(v[0-9.]+)\}"`).FindSubmatch(b)
	if m == nil || string(m[1]) != argocd.Version {
		t.Fatalf("hack/argocd-bins.sh pins %q, argocd.Version is %s", m, argocd.Version)
	}
}

// TestSandboxGitOps runs real Argo CD against real control planes: the
// catalog's ApplicationSet makes an Application per registered cluster,
// which Argo CD syncs through awsAuthConfig (EKS tokens it signs itself);
// flipping eksbg.io/singletons flips the CronJob's suspend through a sync;
// and a cluster secret removed after its cluster is gone leaves no
// Application behind.
func TestSandboxGitOps(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	env := sandboxtest.StartYAML(t, gitopsScenario)
	logger := sandboxtest.Logger(t)
	dir := t.TempDir()
	m := sandboxtest.StartKube(t, env, sandboxtest.WithKubeDir(filepath.Join(dir, "kube")),
		sandboxtest.WithResync(250*time.Millisecond), sandboxtest.WithLogger(logger)).Manager
	s, err := argocd.StartSandbox(ctx, argocd.SandboxOptions{Emulator: env.Server, URL: env.URL, Manager: m,
		Dir: filepath.Join(dir, "argocd"), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	pids := s.PIDs()
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range []string{argocd.RoleController, argocd.RoleApplicationSet, argocd.RoleRepoServer} {
				b, _ := os.ReadFile(filepath.Join(s.ArgoCD.LogDir(), n+".log"))
				lines := strings.Split(string(b), "\n")
				t.Logf("--- end of %s's log ---\n%s", n, strings.Join(lines[max(0, len(lines)-40):], "\n"))
			}
		}
		s.Close()
		for _, pid := range pids {
			if syscall.Kill(pid, 0) == nil {
				t.Errorf("process %d still runs after Close", pid)
			}
		}
	})
	if s.Management != "mgmt" || s.ArgoCD == nil || len(pids) != 5 {
		t.Fatalf("management cluster %q, Argo CD %v, processes %v", s.Management, s.ArgoCD, pids)
	}
	if got := s.TGB.Clusters(); !slices.Equal(got, []string{"shop-blue", "shop-green"}) {
		t.Fatalf("TargetGroupBinding controller on %v, want the two workload clusters", got)
	}
	argo, dyn := s.ArgoCD.Kube(), s.ArgoCD.Dynamic()
	ns := s.ArgoCD.Namespace()

	// The cluster secrets authenticate with awsAuthConfig only.
	for _, c := range []string{"shop-blue", "shop-green"} {
		sec, err := argo.CoreV1().Secrets(ns).Get(ctx, gitops.SecretName(c), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var conf map[string]any
		if err := json.Unmarshal(sec.Data["config"], &conf); err != nil {
			t.Fatal(err)
		}
		if _, ok := conf["bearerToken"]; ok || conf["awsAuthConfig"] == nil {
			t.Fatalf("cluster secret of %s: config %v, want awsAuthConfig and no bearerToken", c, conf)
		}
		if sec.Labels["env"] != "shop" || sec.Labels[catalog.LabelColor] == "" {
			t.Fatalf("cluster secret of %s: labels %v", c, sec.Labels)
		}
	}

	blue, green := controlPlane(t, m, "shop-blue"), controlPlane(t, m, "shop-green")
	blueServer := endpoint(t, m, "shop-blue")
	// Blue: Synced and Healthy (health from the kwok-run Deployment).
	wctx, wcancel := context.WithTimeout(ctx, 3*time.Minute)
	defer wcancel()
	apps, err := gitops.WaitApplications(wctx, dyn, ns, blueServer, gitops.AllSyncedHealthy(1))
	if err != nil {
		t.Fatalf("%v; applications: %+v", err, apps)
	}
	if apps[0].Name != catalog.ApplicationName("shop-blue") || apps[0].Revision == "" {
		t.Fatalf("blue's applications: %+v", apps)
	}
	dep, err := blue.AppsV1().Deployments(catalog.WebNamespace).Get(ctx, catalog.WebApp, metav1.GetOptions{})
	if err != nil || dep.Status.AvailableReplicas != *dep.Spec.Replicas {
		t.Fatalf("blue's web Deployment: %v %+v", err, dep.Status)
	}
	// Argo CD wrote it, and the cluster secret gives it no credential but
	// awsAuthConfig: it reached the API server with EKS tokens it signed.
	if !slices.ContainsFunc(dep.ManagedFields, func(f metav1.ManagedFieldsEntry) bool { return f.Manager == "argocd-controller" }) {
		t.Fatalf("blue's web Deployment was not written by Argo CD: %+v", dep.ManagedFields)
	}
	// Its TargetGroupBinding names blue's target group, through the
	// ApplicationSet template.
	bcp, _ := m.ControlPlane("shop-blue")
	tgbs, err := dynamic.NewForConfigOrDie(bcp.RESTConfig()).Resource(tgb.GVR).Namespace(catalog.WebNamespace).
		Get(ctx, catalog.WebApp, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	elb := elbv2.NewFromConfig(env.AWS)
	tgs, err := elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"shop-blue-web"}})
	if err != nil {
		t.Fatal(err)
	}
	blueTG := aws.ToString(tgs.TargetGroups[0].TargetGroupArn)
	if arn, _, _ := unstructured.NestedString(tgbs.Object, "spec", "targetGroupARN"); arn != blueTG {
		t.Fatalf("blue's TargetGroupBinding targets %q, want %s", arn, blueTG)
	}
	// ... and the controller registered the web pods there, healthy.
	waitHealthyTargets(ctx, t, elb, blueTG, 3)

	// Singletons: blue runs them, green's are suspended.
	waitSuspend(ctx, t, blue, false)
	waitSuspend(ctx, t, green, true)
	// Flip: a real sync on each cluster.
	if err := gitops.SetSingletons(ctx, argo, ns, "shop-blue", false); err != nil {
		t.Fatal(err)
	}
	if err := gitops.SetSingletons(ctx, argo, ns, "shop-green", true); err != nil {
		t.Fatal(err)
	}
	waitSuspend(ctx, t, blue, true)
	waitSuspend(ctx, t, green, false)
	if _, err := gitops.WaitApplications(ctx, dyn, ns, blueServer, gitops.AllSyncedHealthy(1)); err != nil {
		t.Fatal(err)
	}
	// Registering a registered cluster replaces its labels: blue runs the
	// singletons again.
	if err := gitops.RegisterCluster(ctx, argo, ns, gitops.Cluster{Name: "shop-blue", Server: blueServer, CAData: bcp.CAPEM(),
		Labels:      map[string]string{"env": "shop", catalog.LabelColor: "blue", catalog.LabelSingletons: gitops.SingletonsActive},
		Annotations: map[string]string{catalog.AnnotationTargetGroupARN: blueTG}}); err != nil {
		t.Fatal(err)
	}
	waitSuspend(ctx, t, blue, false)

	// Green goes away first (no node group to delete), then its secret:
	// no Application stays behind on its finalizer.
	greenServer := endpoint(t, m, "shop-green")
	if _, err := eks.NewFromConfig(env.AWS).DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String("shop-green")}); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(context.Context) (bool, error) {
		_, ok := m.ControlPlane("shop-green")
		return !ok, nil
	}); err != nil {
		t.Fatal("green's control plane did not stop")
	}
	if err := gitops.UnregisterCluster(ctx, argo, ns, "shop-green"); err != nil {
		t.Fatal(err)
	}
	if apps, err := gitops.WaitApplications(ctx, dyn, ns, greenServer, func(a []gitops.Application) bool { return len(a) == 0 }); err != nil {
		t.Fatalf("%v: green's applications stayed: %+v", err, apps)
	}
	// Blue's is untouched.
	if apps, err := gitops.ListApplications(ctx, dyn, ns, blueServer); err != nil || len(apps) != 1 || !apps[0].SyncedHealthy() {
		t.Fatalf("blue's applications after green left: %+v %v", apps, err)
	}
}

func controlPlane(t *testing.T, m *kube.Manager, name string) kubernetes.Interface {
	t.Helper()
	cp, ok := m.ControlPlane(name)
	if !ok {
		t.Fatalf("no control plane for %s", name)
	}
	return cp.Client()
}

func endpoint(t *testing.T, m *kube.Manager, name string) string {
	t.Helper()
	cp, ok := m.ControlPlane(name)
	if !ok {
		t.Fatalf("no control plane for %s", name)
	}
	return cp.Endpoint()
}

func waitSuspend(ctx context.Context, t *testing.T, kc kubernetes.Interface, want bool) {
	t.Helper()
	var last any
	err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		cj, err := kc.BatchV1().CronJobs(catalog.WebNamespace).Get(ctx, catalog.CronJob, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			last = err
			return false, nil
		}
		if err != nil {
			return false, err
		}
		last = cj.Spec.Suspend
		return cj.Spec.Suspend != nil && *cj.Spec.Suspend == want, nil
	})
	if err != nil {
		t.Fatalf("waiting for the CronJob's suspend to be %v: %v (last %v)", want, err, last)
	}
}

func waitHealthyTargets(ctx context.Context, t *testing.T, elb *elbv2.Client, arn string, n int) {
	t.Helper()
	var last []elbtypes.TargetHealthDescription
	err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		out, err := elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
		if err != nil {
			return false, err
		}
		last = out.TargetHealthDescriptions
		healthy := 0
		for _, d := range last {
			if d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
				healthy++
			}
		}
		return healthy == n && len(last) == n, nil
	})
	if err != nil {
		t.Fatalf("waiting for %d healthy targets: %v (last %d targets)", n, err, len(last))
	}
}
