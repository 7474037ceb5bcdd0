package kubesource

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eks"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/internal/kubeaccess"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

const scenarioYAML = `
apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: us-east-1
timing: {clusterCreate: 1, nodegroupCreate: 1}
vpcs:
  - id: vpc-0d00000000000d001
    cidr: 10.60.0.0/16
    subnets:
      - {id: subnet-0d00000000000a001, az: us-east-1a, cidr: 10.60.0.0/24}
      - {id: subnet-0d00000000000b001, az: us-east-1b, cidr: 10.60.1.0/24}
      - {id: subnet-0d00000000000a002, az: us-east-1a, cidr: 10.60.240.0/28}
      - {id: subnet-0d00000000000b002, az: us-east-1b, cidr: 10.60.240.16/28}
clusters:
  - name: census
    version: "1.33"
    subnets: [subnet-0d00000000000a002, subnet-0d00000000000b002]
    cni: {mode: secondary-ip, warmENITarget: 1, warmIPTarget: 4}
    nodegroups:
      - {name: web, instanceType: m5.large, desired: 2, min: 1, max: 3, subnets: [subnet-0d00000000000a001, subnet-0d00000000000b001]}
`

// TestSourceAgainstControlPlane counts pods and reads aws-node's settings
// on a real control plane reached with an EKS token.
func TestSourceAgainstControlPlane(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	env := sandboxtest.StartYAML(t, scenarioYAML)
	sb := sandboxtest.StartKube(t, env)
	s := &Source{REST: sb.REST}
	envs, err := s.AWSNodeEnv(ctx, "census")
	if err != nil {
		t.Fatal(err)
	}
	if envs["WARM_IP_TARGET"] != "4" || envs["WARM_ENI_TARGET"] != "1" {
		t.Errorf("aws-node env = %v, want the scenario's WARM_IP_TARGET=4 and WARM_ENI_TARGET=1", envs)
	}
	if sub, err := s.ENIConfigSubnets(ctx, "census"); err != nil || sub != nil {
		t.Errorf("ENIConfigs without the CRD: %v, %v (want nil, nil)", sub, err)
	}

	// Before: CoreDNS's pods are the only ones with pod IPs (aws-node and
	// kube-proxy run on the host network); wait until they are placed.
	c, err := s.clientsFor(ctx, "census")
	if err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		d, err := c.kube.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
		return err == nil && d.Status.AvailableReplicas == *d.Spec.Replicas, nil
	})
	if err != nil {
		t.Fatalf("CoreDNS never became available: %v", err)
	}
	base, err := s.PodsPerNode(ctx, "census")
	if err != nil {
		t.Fatal(err)
	}
	if base["web"].Pods == 0 {
		t.Fatalf("CoreDNS's pods are not counted: %v", base)
	}
	// Six more pods, and one on the host network, which takes no pod IP.
	deploy(ctx, t, c.kube, "app", 6, false)
	deploy(ctx, t, c.kube, "hostnet", 1, true)
	var got float64
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		pc, err := s.PodsPerNode(ctx, "census")
		if err != nil {
			return false, err
		}
		got = pc["web"].Pods
		return got == base["web"].Pods+3, nil
	})
	if err != nil {
		t.Fatalf("pods per node in web: %v, want %v (6 pods over 2 nodes more than before; host network not counted): %v", got, base["web"].Pods+3, err)
	}
}

func deploy(ctx context.Context, t *testing.T, kc kubernetes.Interface, name string, n int32, hostNetwork bool) {
	t.Helper()
	l := map[string]string{"app": name}
	_, err := kc.AppsV1().Deployments("default").Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: &n, Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec: corev1.PodSpec{HostNetwork: hostNetwork, Containers: []corev1.Container{{Name: "c", Image: "example/app:1"}}}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSourceWithoutCluster: a cluster EKS does not know is "not available"
// to the model, not an error (capacity -f on a config for a new cluster).
func TestSourceWithoutCluster(t *testing.T) {
	env := sandboxtest.StartYAML(t, scenarioYAML)
	s := &Source{REST: func(ctx context.Context, cluster string) (*rest.Config, error) {
		return kubeaccess.RESTConfig(ctx, eks.NewFromConfig(env.AWS), env.AWS, cluster)
	}}
	pc, err := s.PodsPerNode(t.Context(), "nope")
	if err != nil || pc != nil {
		t.Errorf("PodsPerNode of a missing cluster = %v, %v; want nil, nil", pc, err)
	}
	ev, err := s.AWSNodeEnv(t.Context(), "nope")
	if err != nil || ev != nil {
		t.Errorf("AWSNodeEnv of a missing cluster = %v, %v; want nil, nil", ev, err)
	}
}
