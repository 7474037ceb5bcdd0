package kube_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/internal/ekstoken"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/kube"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// kubeScenario: one cluster with a node group of three m5.large nodes over
// two AZs, and short timings so nodegroups and clusters move quickly in
// real time.
const kubeScenario = `
apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: us-east-1
timing: {clusterCreate: 1, clusterDelete: 1, nodegroupCreate: 1, nodegroupDelete: 1, nodegroupUpdate: 1, addonCreate: 1, addonDelete: 1}
vpcs:
  - id: vpc-0a00000000000a001
    cidr: 10.40.0.0/16
    subnets:
      - {id: subnet-0a00000000000a001, az: us-east-1a, cidr: 10.40.0.0/24}
      - {id: subnet-0a00000000000b001, az: us-east-1b, cidr: 10.40.1.0/24}
      - {id: subnet-0a00000000000a002, az: us-east-1a, cidr: 10.40.240.0/28}
      - {id: subnet-0a00000000000b002, az: us-east-1b, cidr: 10.40.240.16/28}
clusters:
  - name: alpha
    version: "1.33"
    subnets: [subnet-0a00000000000a002, subnet-0a00000000000b002]
    cni: {mode: secondary-ip, warmENITarget: 1, warmIPTarget: 5}
    nodegroups:
      - name: general
        instanceType: m5.large
        desired: 3
        min: 1
        max: 5
        subnets: [subnet-0a00000000000a001, subnet-0a00000000000b001]
        podsPerNode: 8
        labels: {role: general}
`

var (
	nodeSubnets = []string{"subnet-0a00000000000a001", "subnet-0a00000000000b001"}
	cpSubnets   = []string{"subnet-0a00000000000a002", "subnet-0a00000000000b002"}
)

type kubeEnv struct {
	*sandboxtest.World
	m      *kube.Manager
	dir    string
	eks    *eks.Client
	ec2    *ec2.Client
	client kubernetes.Interface
}

// startKube runs the emulator and a Manager over it, with the emulator's
// token webhook, and waits until the scenario's cluster is ready.
func startKube(t *testing.T) *kubeEnv {
	t.Helper()
	env := sandboxtest.StartYAML(t, kubeScenario)
	w := sandboxtest.StartKube(t, env, sandboxtest.WithResync(250*time.Millisecond), sandboxtest.WithLogger(sandboxtest.Logger(t)))
	cp := w.ControlPlane(t, "alpha")
	return &kubeEnv{World: w, m: w.Manager, dir: w.Dir, eks: eks.NewFromConfig(env.AWS), ec2: ec2.NewFromConfig(env.AWS), client: cp.Client()}
}

func poll(ctx context.Context, t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// alive reports whether a process id is in use.
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// processesUnder lists the processes whose command line mentions dir.
func processesUnder(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), dir) {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

// TestManager runs the scenario's cluster on a real control plane and
// checks what eksbg relies on, then that Close leaves nothing running.
// The subtests share one control plane (starting one costs seconds of CPU).
func TestManager(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	e := startKube(t)
	pids := e.m.PIDs()
	if len(pids) != 5 { // etcd and the cluster's four
		t.Errorf("running %d processes, want 5: %v", len(pids), e.m.Status())
	}

	t.Run("DescribeClusterServesTheRealEndpoint", func(t *testing.T) { testEndpoint(ctx, t, e) })
	t.Run("EKSTokens", func(t *testing.T) { testTokens(ctx, t, e) })
	t.Run("Nodes", func(t *testing.T) { testNodes(ctx, t, e) })
	t.Run("Bootstrap", func(t *testing.T) { testBootstrap(ctx, t, e) })
	t.Run("DeploymentRollsOut", func(t *testing.T) { testDeployment(ctx, t, e) })
	t.Run("PDBBlocksEviction", func(t *testing.T) { testEviction(ctx, t, e) })
	t.Run("CronJob", func(t *testing.T) { testCronJob(ctx, t, e) })
	t.Run("PodsWaitForAddresses", func(t *testing.T) { testAddressExhaustion(ctx, t, e) })
	t.Run("NodegroupLifecycle", func(t *testing.T) { testNodegroupLifecycle(ctx, t, e) })
	t.Run("ClusterLifecycle", func(t *testing.T) { testClusterLifecycle(ctx, t, e) })

	all := e.m.PIDs()
	if err := e.Close(); err != nil { // the Manager's Close
		t.Errorf("Close: %v", err)
	}
	for _, pid := range all {
		if alive(pid) {
			t.Errorf("process %d still running after Close", pid)
		}
	}
	if left := processesUnder(t, e.dir); len(left) > 0 {
		t.Errorf("processes left running after Close:\n%s", strings.Join(left, "\n"))
	}
}

// DescribeCluster returns the API server's endpoint and its CA (base64
// PEM) once the cluster runs: a client built from them alone reaches
// /version over verified TLS.
func testEndpoint(ctx context.Context, t *testing.T, e *kubeEnv) {
	out, err := e.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("alpha")})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := aws.ToString(out.Cluster.Endpoint)
	if !strings.HasPrefix(endpoint, "https://127.0.0.1:") {
		t.Fatalf("endpoint %q", endpoint)
	}
	caPEM, err := base64.StdEncoding.DecodeString(aws.ToString(out.Cluster.CertificateAuthority.Data))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("certificateAuthority.data is not a PEM certificate: %q", caPEM)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/version", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET /version with the published CA: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /version: %s", resp.Status)
	}
	v, err := e.client.Discovery().ServerVersion()
	if err != nil || v.GitVersion != kube.KubeVersion {
		t.Errorf("server version %v (%v), want %s", v, err, kube.KubeVersion)
	}
}

// The API server checks bearer tokens with the emulator's webhook: an EKS
// token for the cluster authenticates its creator into system:masters; a
// token for another cluster, or no EKS token at all, is refused.
func testTokens(ctx context.Context, t *testing.T, e *kubeEnv) {
	cp, _ := e.m.ControlPlane("alpha")
	bearer := func(token string) kubernetes.Interface {
		cfg := &rest.Config{Host: cp.Endpoint(), BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: cp.CAPEM()}}
		c, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	good, err := ekstoken.Generate(ctx, e.AWS, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	review, err := bearer(good.Value).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("an EKS token for alpha: %v", err)
	}
	if u := review.Status.UserInfo; !slices.Contains(u.Groups, "system:masters") || !strings.HasPrefix(u.Username, "arn:aws:") {
		t.Errorf("an EKS token for alpha authenticates as %+v", u)
	}
	other, err := ekstoken.Generate(ctx, e.AWS, "beta")
	if err != nil {
		t.Fatal(err)
	}
	// Signed 16 minutes ago: past the 15 minutes STS (and the webhook) allow.
	expired, err := ekstoken.Generate(ctx, e.AWS, "alpha", ekstoken.WithClock(func() time.Time { return time.Now().Add(-16 * time.Minute) }))
	if err != nil {
		t.Fatal(err)
	}
	// One character of the signature changed.
	forged := tamperSignature(t, good.Value)
	for name, token := range map[string]string{"another cluster's token": other.Value, "not an EKS token": "k8s-aws-v1.bm90LWEtdG9rZW4",
		"an expired token": expired.Value, "a token with a bad signature": forged} {
		_, err := bearer(token).CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if !apierrors.IsUnauthorized(err) {
			t.Errorf("%s: %v, want 401 Unauthorized", name, err)
		}
	}
}

// tamperSignature changes one hex digit of an EKS token's X-Amz-Signature.
func tamperSignature(t *testing.T, token string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, ekstoken.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	u := string(raw)
	i := strings.Index(u, "X-Amz-Signature=")
	if i < 0 {
		t.Fatalf("no signature in %s", u)
	}
	i += len("X-Amz-Signature=")
	c := byte('0')
	if u[i] == '0' {
		c = '1'
	}
	return ekstoken.Prefix + base64.RawURLEncoding.EncodeToString([]byte(u[:i]+string(c)+u[i+1:]))
}

// One kwok node per instance, Ready, with EKS's labels, the instance's
// address and max pods.
func testNodes(ctx context.Context, t *testing.T, e *kubeEnv) {
	view := clusterView(t, e, "alpha")
	want := map[string]emulator.ControlPlaneInstance{}
	for _, inst := range view.Nodegroups[0].Instances {
		want["ip-"+strings.ReplaceAll(inst.PrivateIP, ".", "-")+".ec2.internal"] = inst
	}
	nodes, err := e.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 3 || len(want) != 3 {
		t.Fatalf("%d nodes for %d instances", len(nodes.Items), len(want))
	}
	for _, n := range nodes.Items {
		inst, ok := want[n.Name]
		if !ok {
			t.Errorf("node %s stands for no instance", n.Name)
			continue
		}
		for k, v := range map[string]string{"eks.amazonaws.com/nodegroup": "general", "eks.amazonaws.com/capacityType": "ON_DEMAND",
			"node.kubernetes.io/instance-type": "m5.large", "topology.kubernetes.io/zone": inst.AZ, "role": "general"} {
			if n.Labels[k] != v {
				t.Errorf("node %s label %s = %q, want %q", n.Name, k, n.Labels[k], v)
			}
		}
		if p := n.Status.Allocatable[corev1.ResourcePods]; p.Value() != int64(inst.MaxPods) || inst.MaxPods != 29 {
			t.Errorf("node %s allocatable pods %s, max pods %d", n.Name, p.String(), inst.MaxPods)
		}
		if n.Status.Addresses[0].Address != inst.PrivateIP {
			t.Errorf("node %s addresses %v, instance %s", n.Name, n.Status.Addresses, inst.PrivateIP)
		}
		if !slices.ContainsFunc(n.Status.Conditions, func(c corev1.NodeCondition) bool {
			return c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue
		}) {
			t.Errorf("node %s is not Ready: %v", n.Name, n.Status.Conditions)
		}
	}
	// The node lifecycle controller lifts the not-ready taint kwok's nodes
	// are registered with.
	poll(ctx, t, "the not-ready taints to go", func(ctx context.Context) (bool, error) {
		nodes, err := e.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, n := range nodes.Items {
			if len(n.Spec.Taints) > 0 {
				return false, nil
			}
		}
		return true, nil
	})
}

// aws-node, kube-proxy and CoreDNS run as on EKS; aws-node's environment
// carries the scenario's CNI settings.
func testBootstrap(ctx context.Context, t *testing.T, e *kubeEnv) {
	ds, err := e.client.AppsV1().DaemonSets("kube-system").Get(ctx, "aws-node", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, v := range ds.Spec.Template.Spec.Containers[0].Env {
		env[v.Name] = v.Value
	}
	for k, v := range map[string]string{"WARM_ENI_TARGET": "1", "WARM_IP_TARGET": "5", "ENABLE_PREFIX_DELEGATION": "false",
		"CLUSTER_NAME": "alpha", "VPC_ID": "vpc-0a00000000000a001"} {
		if env[k] != v {
			t.Errorf("aws-node %s=%q, want %q", k, env[k], v)
		}
	}
	for _, name := range []string{"aws-node", "kube-proxy"} {
		poll(ctx, t, name+" on every node", func(ctx context.Context) (bool, error) {
			ds, err := e.client.AppsV1().DaemonSets("kube-system").Get(ctx, name, metav1.GetOptions{})
			return err == nil && ds.Status.DesiredNumberScheduled == 3 && ds.Status.NumberReady == 3, err
		})
	}
	poll(ctx, t, "CoreDNS available", func(ctx context.Context) (bool, error) {
		d, err := e.client.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
		return err == nil && d.Status.AvailableReplicas == 2, err
	})
	svc, err := e.client.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil || svc.Spec.ClusterIP != "172.20.0.10" {
		t.Errorf("kube-dns service: %v, %v", svc.Spec.ClusterIP, err)
	}
	// The kubernetes Service's endpoints are a control-plane ENI's address.
	view := clusterView(t, e, "alpha")
	slice, err := e.client.DiscoveryV1().EndpointSlices("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil || len(slice.Endpoints) == 0 || !slices.Equal(slice.Endpoints[0].Addresses, view.ControlPlaneIPs[:1]) {
		t.Errorf("kubernetes endpoints %v (%v), want %s", slice.Endpoints, err, view.ControlPlaneIPs[0])
	}
}

// A Deployment reaches 3/3 available on kwok nodes, and every pod's IP is
// an address the emulator holds for pods on that pod's node.
func testDeployment(ctx context.Context, t *testing.T, e *kubeEnv) {
	labels := map[string]string{"app": "web"}
	_, err := e.client.AppsV1().Deployments("default").Create(ctx, deployment("web", 3, labels), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "web 3/3 available", func(ctx context.Context) (bool, error) {
		d, err := e.client.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
		return err == nil && d.Status.AvailableReplicas == 3 && d.Status.UpdatedReplicas == 3, err
	})
	podIPs := map[string][]string{}
	for _, n := range kube.NodesFor(clusterView(t, e, "alpha")) {
		podIPs[n.Name] = n.PodIPs
	}
	pods, err := e.client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range pods.Items {
		if !slices.Contains(podIPs[p.Spec.NodeName], p.Status.PodIP) {
			t.Errorf("pod %s on %s has IP %q, not one of the node's pod addresses %v", p.Name, p.Spec.NodeName, p.Status.PodIP, podIPs[p.Spec.NodeName])
		}
		if seen[p.Status.PodIP] {
			t.Errorf("pod IP %s given twice", p.Status.PodIP)
		}
		seen[p.Status.PodIP] = true
	}
}

// An eviction that would break a PodDisruptionBudget answers 429.
func testEviction(ctx context.Context, t *testing.T, e *kubeEnv) {
	labels := map[string]string{"app": "guarded"}
	if _, err := e.client.AppsV1().Deployments("default").Create(ctx, deployment("guarded", 2, labels), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	minAvailable := intstr.FromInt32(2)
	_, err := e.client.PolicyV1().PodDisruptionBudgets("default").Create(ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "guarded"},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAvailable, Selector: &metav1.LabelSelector{MatchLabels: labels}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "the budget to count 2 healthy pods", func(ctx context.Context) (bool, error) {
		p, err := e.client.PolicyV1().PodDisruptionBudgets("default").Get(ctx, "guarded", metav1.GetOptions{})
		return err == nil && p.Status.ObservedGeneration == p.Generation && p.Status.CurrentHealthy == 2, err
	})
	pods, err := e.client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=guarded"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("pods: %v", err)
	}
	victim := pods.Items[0]
	err = e.client.PolicyV1().Evictions("default").Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: victim.Name, Namespace: "default"}})
	if !apierrors.IsTooManyRequests(err) {
		t.Fatalf("evicting a pod the budget protects: %v, want 429", err)
	}
	if _, err := e.client.CoreV1().Pods("default").Get(ctx, victim.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("the protected pod: %v", err)
	}
}

// A CronJob with suspend: false creates Jobs that complete; with suspend:
// true it creates none. Rather than wait for the next minute, the test
// makes a run due by moving status.lastScheduleTime back: the CronJob
// controller runs a missed schedule at once (mostRecentScheduleTime in
// pkg/controller/cronjob/utils.go).
func testCronJob(ctx context.Context, t *testing.T, e *kubeEnv) {
	cjs := e.client.BatchV1().CronJobs("default")
	suspend := false
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "tick"},
		Spec: batchv1.CronJobSpec{Schedule: "* * * * *", Suspend: &suspend, ConcurrencyPolicy: batchv1.ForbidConcurrent,
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "tick", Image: "registry.k8s.io/pause:3.10"}},
			}}}}},
	}
	cj, err := cjs.Create(ctx, cj, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	makeRunDue := func() {
		t.Helper()
		past := time.Now().Add(-90 * time.Second).UTC().Format(time.RFC3339)
		patch := fmt.Sprintf(`{"status":{"lastScheduleTime":%q}}`, past)
		if _, err := cjs.Patch(ctx, "tick", types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
			t.Fatal(err)
		}
	}
	jobsOf := func(ctx context.Context) ([]batchv1.Job, error) {
		list, err := e.client.BatchV1().Jobs("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		var out []batchv1.Job
		for _, j := range list.Items {
			if ref := metav1.GetControllerOf(&j); ref != nil && ref.UID == cj.UID {
				out = append(out, j)
			}
		}
		return out, nil
	}
	makeRunDue()
	poll(ctx, t, "a Job of the CronJob to complete", func(ctx context.Context) (bool, error) {
		jobs, err := jobsOf(ctx)
		if err != nil {
			return false, err
		}
		for _, j := range jobs {
			if slices.ContainsFunc(j.Status.Conditions, func(c batchv1.JobCondition) bool {
				return c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue
			}) {
				return true, nil
			}
		}
		return false, nil
	})

	if _, err := cjs.Patch(ctx, "tick", types.MergePatchType, []byte(`{"spec":{"suspend":true}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	before, err := jobsOf(ctx)
	if err != nil {
		t.Fatal(err)
	}
	makeRunDue()
	// With suspend: false the same due run made a Job within a second or
	// two; suspended, none comes in ten.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = wait.PollUntilContextCancel(wctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		jobs, err := jobsOf(ctx)
		return err == nil && len(jobs) > len(before), nil
	})
	if err == nil {
		t.Errorf("a suspended CronJob created a Job")
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("watching for Jobs: %v", err)
	}
}

// A node runs as many pods with their own IP as the emulator holds
// addresses for it; the others stay Pending without an IP, with the event
// the VPC CNI causes, until addresses come free.
func testAddressExhaustion(ctx context.Context, t *testing.T, e *kubeEnv) {
	node := kube.NodesFor(clusterView(t, e, "alpha"))[0]
	pods, err := e.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node.Name})
	if err != nil {
		t.Fatal(err)
	}
	free := len(node.PodIPs)
	for _, p := range pods.Items {
		if !p.Spec.HostNetwork && p.Status.PodIP != "" && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			free--
		}
	}
	if free < 2 {
		t.Fatalf("node %s has %d free addresses", node.Name, free)
	}
	crowd := func(replicas int32) *appsv1.Deployment {
		d := deployment("crowd", replicas, map[string]string{"app": "crowd"})
		d.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/hostname": node.Name}
		return d
	}
	count := func(ctx context.Context) (withIP, pending int, err error) {
		list, err := e.client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=crowd"})
		if err != nil {
			return 0, 0, err
		}
		for _, p := range list.Items {
			switch {
			case p.Status.PodIP != "" && p.Status.Phase == corev1.PodRunning:
				withIP++
			case p.Status.PodIP == "" && p.Status.Phase == corev1.PodPending:
				pending++
			}
		}
		return withIP, pending, nil
	}
	if _, err := e.client.AppsV1().Deployments("default").Create(ctx, crowd(int32(free+3)), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, fmt.Sprintf("%d crowd pods running and 3 waiting for an address", free), func(ctx context.Context) (bool, error) {
		withIP, pending, err := count(ctx)
		return withIP == free && pending == 3, err
	})
	poll(ctx, t, "the FailedCreatePodSandBox events", func(ctx context.Context) (bool, error) {
		evs, err := e.client.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "reason=FailedCreatePodSandBox"})
		return err == nil && len(evs.Items) == 3, err
	})
	// Scaling down frees addresses: the deployment keeps free-1 pods, all
	// of which then run, the waiting ones among them or not.
	if _, err := e.client.AppsV1().Deployments("default").Update(ctx, crowd(int32(free-1)), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "the crowd to fit", func(ctx context.Context) (bool, error) {
		withIP, pending, err := count(ctx)
		return withIP == free-1 && pending == 0, err
	})
	if err := e.client.AppsV1().Deployments("default").Delete(ctx, "crowd", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// A node group created through the EKS API gets one node per instance,
// with its taint; deleting the group removes the nodes, and the emulator
// frees the instances' ENIs.
func testNodegroupLifecycle(ctx context.Context, t *testing.T, e *kubeEnv) {
	_, err := e.eks.CreateNodegroup(ctx, &eks.CreateNodegroupInput{ClusterName: aws.String("alpha"), NodegroupName: aws.String("batch"),
		NodeRole: aws.String("arn:aws:iam::111122223333:role/node"), Subnets: nodeSubnets, InstanceTypes: []string{"m5.large"},
		CapacityType:  ekstypes.CapacityTypesSpot,
		ScalingConfig: &ekstypes.NodegroupScalingConfig{MinSize: aws.Int32(1), MaxSize: aws.Int32(2), DesiredSize: aws.Int32(2)},
		Taints:        []ekstypes.Taint{{Key: aws.String("batch"), Value: aws.String("yes"), Effect: ekstypes.TaintEffectNoSchedule}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := eks.NewNodegroupActiveWaiter(e.eks).Wait(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String("alpha"),
		NodegroupName: aws.String("batch")}, time.Minute, func(o *eks.NodegroupActiveWaiterOptions) { o.MinDelay, o.MaxDelay = time.Second, time.Second }); err != nil {
		t.Fatal(err)
	}
	var instances []string
	for _, ng := range clusterView(t, e, "alpha").Nodegroups {
		if ng.Name == "batch" {
			for _, inst := range ng.Instances {
				instances = append(instances, inst.ID)
			}
		}
	}
	if len(instances) != 2 {
		t.Fatalf("batch has %d instances", len(instances))
	}
	batchNodes := func(ctx context.Context) ([]corev1.Node, error) {
		list, err := e.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "eks.amazonaws.com/nodegroup=batch"})
		if err != nil {
			return nil, err
		}
		return list.Items, nil
	}
	poll(ctx, t, "the batch nodes", func(ctx context.Context) (bool, error) {
		nodes, err := batchNodes(ctx)
		return len(nodes) == 2, err
	})
	nodes, _ := batchNodes(ctx)
	for _, n := range nodes {
		if n.Labels["eks.amazonaws.com/capacityType"] != "SPOT" ||
			!slices.Contains(n.Spec.Taints, corev1.Taint{Key: "batch", Value: "yes", Effect: corev1.TaintEffectNoSchedule}) {
			t.Errorf("node %s: labels %v, taints %v", n.Name, n.Labels, n.Spec.Taints)
		}
	}
	enisOf := func() []ec2types.NetworkInterface {
		out, err := e.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
			Filters: []ec2types.Filter{{Name: aws.String("attachment.instance-id"), Values: instances}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.NetworkInterfaces
	}
	if len(enisOf()) == 0 {
		t.Fatal("the batch instances have no ENIs")
	}

	if _, err := e.eks.DeleteNodegroup(ctx, &eks.DeleteNodegroupInput{ClusterName: aws.String("alpha"), NodegroupName: aws.String("batch")}); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "the batch nodes to go", func(ctx context.Context) (bool, error) {
		nodes, err := batchNodes(ctx)
		return err == nil && len(nodes) == 0, err
	})
	if left := enisOf(); len(left) != 0 {
		t.Errorf("%d ENIs of deleted instances remain", len(left))
	}
	all, err := e.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(all.Items) != 3 {
		t.Errorf("after deleting batch: %d nodes (%v), want general's 3", len(all.Items), err)
	}
}

// A cluster created through the EKS API stays CREATING until its control
// plane serves, then DescribeCluster has its endpoint; DeleteCluster stops
// its processes.
func testClusterLifecycle(ctx context.Context, t *testing.T, e *kubeEnv) {
	create := func() *kube.ControlPlane {
		t.Helper()
		_, err := e.eks.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String("gamma"), Version: aws.String("1.33"),
			RoleArn:            aws.String("arn:aws:iam::111122223333:role/eks-cluster"),
			ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: cpSubnets}})
		if err != nil {
			t.Fatal(err)
		}
		var described *ekstypes.Cluster
		poll(ctx, t, "gamma to be ACTIVE", func(ctx context.Context) (bool, error) {
			out, err := e.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("gamma")})
			if err != nil {
				return false, err
			}
			described = out.Cluster
			return out.Cluster.Status == ekstypes.ClusterStatusActive, nil
		})
		cp, ok := e.m.ControlPlane("gamma")
		if !ok || aws.ToString(described.Endpoint) != cp.Endpoint() {
			t.Fatalf("ACTIVE gamma's endpoint %q, its control plane's %v", aws.ToString(described.Endpoint), cp)
		}
		return cp
	}
	cp := create()
	marker := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "marker"}}
	if _, err := cp.Client().CoreV1().ConfigMaps("default").Create(ctx, marker, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, pid := range cp.PIDs() {
		pids = append(pids, pid)
	}
	if len(pids) != 4 {
		t.Fatalf("gamma runs %v", cp.PIDs())
	}
	if _, err := e.eks.DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String("gamma")}); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "gamma's processes to stop", func(context.Context) (bool, error) {
		return !slices.ContainsFunc(pids, alive), nil
	})
	if _, ok := e.m.ControlPlane("gamma"); ok {
		t.Error("the Manager still has gamma's control plane")
	}
	if _, ok := e.m.ControlPlane("alpha"); !ok {
		t.Error("deleting gamma lost alpha's control plane")
	}
	poll(ctx, t, "gamma to be gone", func(ctx context.Context) (bool, error) {
		_, err := e.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("gamma")})
		var nf *ekstypes.ResourceNotFoundException
		return errors.As(err, &nf), nil
	})
	// A new cluster of the same name starts empty.
	cp = create()
	if _, err := cp.Client().CoreV1().ConfigMaps("default").Get(ctx, "marker", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the new gamma has the old one's ConfigMap: %v", err)
	}
}

func clusterView(t *testing.T, e *kubeEnv, name string) emulator.ControlPlaneCluster {
	t.Helper()
	for _, c := range e.Server.ControlPlaneClusters() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no cluster %s", name)
	return emulator.ControlPlaneCluster{}
}

func deployment(name string, replicas int32, labels map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}}},
			},
		},
	}
}
