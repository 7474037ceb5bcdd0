package tgb_test

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/sandbox/tgb"
)

// One cluster with two nodes, and its target group behind a load balancer
// (a target group no load balancer uses reports every target "unused").
const tgbScenario = `
apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: us-east-1
timing: {clusterCreate: 1, nodegroupCreate: 1, targetInitial: 1}
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
  - name: shop-blue
    version: "1.33"
    subnets: [subnet-0a00000000000a002, subnet-0a00000000000b002]
    nodegroups:
      - {name: general, instanceType: m5.large, desired: 2, min: 1, max: 3, subnets: [subnet-0a00000000000a001, subnet-0a00000000000b001]}
targetGroups:
  - {name: shop-blue-web, vpc: vpc-0a00000000000a001, protocol: HTTP, port: 8080, targetType: ip, cluster: shop-blue}
loadBalancers:
  - name: shop-alb
    subnets: [subnet-0a00000000000a003, subnet-0a00000000000b003]
    listeners:
      - port: 80
        defaultForward: [{targetGroup: shop-blue-web, weight: 1}]
`

// TestTargetGroupBinding: ready pod IPs are registered, target health
// follows pod readiness, and deleting the binding deregisters every
// target before the finalizer goes.
func TestTargetGroupBinding(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	env := sandboxtest.StartYAML(t, tgbScenario)
	logger := sandboxtest.Logger(t)
	sb := sandboxtest.StartKube(t, env, sandboxtest.WithResync(250*time.Millisecond), sandboxtest.WithLogger(logger))
	cp := sb.ControlPlane(t, "shop-blue")
	kc := cp.Client()
	elb := elbv2.NewFromConfig(env.AWS)
	c := tgb.New(tgb.Options{ELB: elb, Readiness: env.Server, Resync: time.Second, Logger: logger})
	t.Cleanup(c.Close)
	if err := c.AddCluster(ctx, "shop-blue", cp.RESTConfig()); err != nil {
		t.Fatal(err)
	}
	tgs, err := elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"shop-blue-web"}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(tgs.TargetGroups[0].TargetGroupArn)

	// A Deployment of three, its Service (targetPort by name) and a binding.
	sel := map[string]string{"app": "web"}
	if _, err := kc.AppsV1().Deployments("default").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3), Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: sel}, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "web", Image: "nginx", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Selector: sel, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bindings := dynamic.NewForConfigOrDie(cp.RESTConfig()).Resource(tgb.GVR).Namespace("default")
	if _, err := bindings.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding", "metadata": map[string]any{"name": "web"},
		"spec": map[string]any{"targetGroupARN": arn, "targetType": "ip", "serviceRef": map[string]any{"name": "web", "port": int64(80)}},
	}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Every ready pod's IP, on the container port, becomes healthy.
	ips := waitPodIPs(ctx, t, kc, sel, 3)
	want := map[string]string{}
	for _, ip := range ips {
		want[ip+":8080"] = "healthy"
	}
	waitTargets(ctx, t, elb, arn, want)
	b, err := bindings.Get(ctx, "web", metav1.GetOptions{})
	if err != nil || !slices.Contains(b.GetFinalizers(), tgb.Finalizer) {
		t.Fatalf("binding's finalizers: %v %v", b.GetFinalizers(), err)
	}

	// A pod stops being ready: its target fails health checks, then is
	// deregistered (draining), as the real controller does for a pod
	// without a readiness gate; the others stay healthy.
	pods, err := kc.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(sel).String()})
	if err != nil {
		t.Fatal(err)
	}
	sick := pods.Items[0]
	setReady(ctx, t, kc, &sick, false)
	want[sick.Status.PodIP+":8080"] = "draining"
	waitTargets(ctx, t, elb, arn, want)
	// Ready again: registered again, initial, then healthy.
	setReady(ctx, t, kc, &sick, true)
	want[sick.Status.PodIP+":8080"] = "healthy"
	waitTargets(ctx, t, elb, arn, want)

	// Deleting the binding deregisters every target; the binding is gone
	// only after that.
	if err := bindings.Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := bindings.Get(ctx, "web", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Fatal("the binding was not deleted")
	}
	out, err := elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range out.TargetHealthDescriptions {
		if d.TargetHealth.State != elbtypes.TargetHealthStateEnumDraining {
			t.Errorf("after the binding's deletion, target %s is %s, want draining", aws.ToString(d.Target.Id), d.TargetHealth.State)
		}
	}
	if len(out.TargetHealthDescriptions) != 3 {
		t.Errorf("after the binding's deletion: %d targets draining, want 3", len(out.TargetHealthDescriptions))
	}
}

func waitPodIPs(ctx context.Context, t *testing.T, kc kubernetes.Interface, sel map[string]string, n int) []string {
	t.Helper()
	var ips []string
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		pods, err := kc.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(sel).String()})
		if err != nil {
			return false, err
		}
		ips = nil
		for _, p := range pods.Items {
			if p.Status.PodIP != "" && podReady(&p) {
				ips = append(ips, p.Status.PodIP)
			}
		}
		return len(ips) == n, nil
	})
	if err != nil {
		t.Fatalf("waiting for %d ready pods: %v (have %v)", n, err, ips)
	}
	sort.Strings(ips)
	return ips
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// setReady sets a running pod's Ready condition, as a kubelet does when
// its readiness probe fails or passes again.
func setReady(ctx context.Context, t *testing.T, kc kubernetes.Interface, p *corev1.Pod, ready bool) {
	t.Helper()
	cur, err := kc.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	for i, c := range cur.Status.Conditions {
		if c.Type == corev1.PodReady || c.Type == corev1.ContainersReady {
			cur.Status.Conditions[i].Status, cur.Status.Conditions[i].LastTransitionTime = status, metav1.Now()
		}
	}
	for i := range cur.Status.ContainerStatuses {
		cur.Status.ContainerStatuses[i].Ready = ready
	}
	if _, err := kc.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitTargets waits until DescribeTargetHealth reports exactly want
// (ip:port to state).
func waitTargets(ctx context.Context, t *testing.T, elb *elbv2.Client, arn string, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		out, err := elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
		if err != nil {
			return false, err
		}
		got = map[string]string{}
		for _, d := range out.TargetHealthDescriptions {
			got[aws.ToString(d.Target.Id)+":"+strconv.Itoa(int(aws.ToInt32(d.Target.Port)))] = string(d.TargetHealth.State)
		}
		return maps.Equal(got, want), nil
	})
	if err != nil {
		t.Fatalf("waiting for targets %v: %v (have %v)", want, err, got)
	}
}
