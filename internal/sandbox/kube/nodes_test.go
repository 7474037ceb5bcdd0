package kube

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/eksbg/eksbg/internal/sandbox/emulator"
)

func TestNodeName(t *testing.T) {
	for _, tc := range []struct{ ip, region, want string }{
		{"10.20.0.5", "us-east-1", "ip-10-20-0-5.ec2.internal"},
		{"192.168.3.44", "eu-west-1", "ip-192-168-3-44.eu-west-1.compute.internal"},
	} {
		if got := nodeName(tc.ip, tc.region); got != tc.want {
			t.Errorf("nodeName(%s, %s) = %s, want %s", tc.ip, tc.region, got, tc.want)
		}
	}
}

// Allocatable follows the EKS AMI's reservations; m5.large with 29 pods:
// 8192 Mi - (11*29+255) Mi - 100 Mi = 7518 Mi, 2000m - 70m = 1930m.
func TestNodeObject(t *testing.T) {
	c := emulator.ControlPlaneCluster{Name: "c", Region: "us-east-1", Nodegroups: []emulator.ControlPlaneNodegroup{{
		Name: "general", CapacityType: "SPOT", AMIType: "AL2023_x86_64_STANDARD", Version: "1.32", ReleaseVersion: "1.32.3-20250715",
		Labels: map[string]string{"role": "web"}, Taints: []emulator.Taint{{Key: "dedicated", Value: "web", Effect: "NO_EXECUTE"}},
		Instances: []emulator.ControlPlaneInstance{{ID: "i-0123456789abcdef0", Type: "m5.large", AZ: "us-east-1b", ImageID: "ami-1",
			PrivateIP: "10.0.1.7", VCPUs: 2, MemoryMiB: 8192, Arch: "x86_64", MaxPods: 29, PodIPs: []string{"10.0.1.8"}}},
	}}}
	nodes := NodesFor(c)
	if len(nodes) != 1 {
		t.Fatalf("%d nodes", len(nodes))
	}
	n, err := nodes[0].object()
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"eks.amazonaws.com/nodegroup": "general", "eks.amazonaws.com/capacityType": "SPOT",
		"node.kubernetes.io/instance-type": "m5.large", "topology.kubernetes.io/zone": "us-east-1b",
		"topology.kubernetes.io/region": "us-east-1", "kubernetes.io/hostname": "ip-10-0-1-7.ec2.internal",
		"kubernetes.io/arch": "amd64", "role": "web",
	} {
		if got := n.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	if got := n.Status.Allocatable[corev1.ResourcePods]; got.Value() != 29 {
		t.Errorf("allocatable pods %s", got.String())
	}
	if got := n.Status.Allocatable[corev1.ResourceMemory]; got.Value() != 7518<<20 {
		t.Errorf("allocatable memory %s", got.String())
	}
	if got := n.Status.Allocatable[corev1.ResourceCPU]; got.MilliValue() != 1930 {
		t.Errorf("allocatable cpu %s", got.String())
	}
	if n.Status.Addresses[0] != (corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.1.7"}) {
		t.Errorf("addresses %v", n.Status.Addresses)
	}
	if n.Spec.ProviderID != "aws:///us-east-1b/i-0123456789abcdef0" {
		t.Errorf("providerID %s", n.Spec.ProviderID)
	}
	if n.Status.NodeInfo.KubeletVersion != "v1.32.3-eks-sandbox" {
		t.Errorf("kubelet version %s", n.Status.NodeInfo.KubeletVersion)
	}
	wantTaints := []corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule},
		{Key: "dedicated", Value: "web", Effect: corev1.TaintEffectNoExecute}}
	if len(n.Spec.Taints) != 2 || n.Spec.Taints[0] != wantTaints[0] || n.Spec.Taints[1] != wantTaints[1] {
		t.Errorf("taints %v, want %v", n.Spec.Taints, wantTaints)
	}
}

func TestReservedCPU(t *testing.T) {
	for _, tc := range []struct {
		vcpus int
		want  int64
	}{{1, 60}, {2, 70}, {4, 80}, {8, 90}, {96, 310}} {
		if got := reservedCPUMillis(tc.vcpus); got != tc.want {
			t.Errorf("reservedCPUMillis(%d) = %d, want %d", tc.vcpus, got, tc.want)
		}
	}
}
