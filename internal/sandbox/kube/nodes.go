package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/eksbg/eksbg/internal/sandbox/emulator"
)

// kwok manages the nodes carrying this annotation (kwok's own convention).
const (
	kwokNodeAnnotation      = "kwok.x-k8s.io/node"
	kwokNodeAnnotationValue = "fake"
)

// nodegroupConfigAnnotation records the node group labels and taints last
// applied to a node, so a change of the group's configuration replaces
// them without touching labels and taints others added.
const nodegroupConfigAnnotation = "sandbox.eksbg.io/nodegroup-config"

// Node is the kwok node that stands for one EC2 instance of a managed
// node group.
type Node struct {
	// Name is the instance's private DNS name, as EKS names nodes.
	Name         string
	InstanceID   string
	InstanceType string
	AZ           string
	Region       string
	Nodegroup    string
	CapacityType string
	ImageID      string
	// AMIType is the node group's AMI type (AL2023_x86_64_STANDARD, ...).
	AMIType string
	// KubeletVersion is the node group's Kubernetes version, as the kubelet reports it.
	KubeletVersion string
	PrivateIP      string
	VCPUs          int
	MemoryMiB      int
	Arch           string
	MaxPods        int
	// Labels and Taints are the node group's.
	Labels map[string]string
	Taints []corev1.Taint
	// PodIPs are the addresses the VPC CNI holds on the instance for pods.
	PodIPs []string
}

// NodesFor lists the nodes of every instance of a cluster's node groups.
func NodesFor(c emulator.ControlPlaneCluster) []Node {
	var out []Node
	for _, ng := range c.Nodegroups {
		var taints []corev1.Taint
		for _, t := range ng.Taints {
			taints = append(taints, corev1.Taint{Key: t.Key, Value: t.Value, Effect: taintEffect(t.Effect)})
		}
		for _, inst := range ng.Instances {
			out = append(out, Node{
				Name: nodeName(inst.PrivateIP, c.Region), InstanceID: inst.ID, InstanceType: inst.Type, AZ: inst.AZ,
				Region: c.Region, Nodegroup: ng.Name, CapacityType: ng.CapacityType, ImageID: inst.ImageID, AMIType: ng.AMIType,
				KubeletVersion: kubeletVersion(ng.Version, ng.ReleaseVersion), PrivateIP: inst.PrivateIP, VCPUs: inst.VCPUs,
				MemoryMiB: inst.MemoryMiB, Arch: inst.Arch, MaxPods: inst.MaxPods, Labels: ng.Labels, Taints: taints,
				PodIPs: inst.PodIPs,
			})
		}
	}
	return out
}

// nodeName is an instance's private DNS name: ip-10-0-0-1.ec2.internal in
// us-east-1, ip-10-0-0-1.<region>.compute.internal elsewhere
// (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-dns.html#vpc-dns-hostnames).
func nodeName(ip, region string) string {
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

// kubeletVersion renders a node group's version as EKS kubelets report it
// (v1.32.3-eks-473151a); the patch and build are the sandbox's own.
func kubeletVersion(version, release string) string {
	patch := "0"
	if rest, ok := strings.CutPrefix(release, version+"."); ok {
		patch, _, _ = strings.Cut(rest, "-")
	}
	return "v" + version + "." + patch + "-eks-sandbox"
}

// taintEffect maps EKS's taint effects to Kubernetes'.
func taintEffect(e string) corev1.TaintEffect {
	switch e {
	case "NO_EXECUTE":
		return corev1.TaintEffectNoExecute
	case "PREFER_NO_SCHEDULE":
		return corev1.TaintEffectPreferNoSchedule
	}
	return corev1.TaintEffectNoSchedule
}

// nodegroupConfig is what nodegroupConfigAnnotation holds.
type nodegroupConfig struct {
	Labels map[string]string `json:"labels,omitempty"`
	Taints []corev1.Taint    `json:"taints,omitempty"`
}

func (n Node) config() nodegroupConfig { return nodegroupConfig{Labels: n.Labels, Taints: n.Taints} }

// labels are the labels EKS and the kubelet put on a managed node group's
// nodes, then the group's own.
func (n Node) labels() map[string]string {
	arch := "amd64"
	if n.Arch == "arm64" {
		arch = "arm64"
	}
	l := map[string]string{
		corev1.LabelHostname:                n.Name,
		corev1.LabelOSStable:                "linux",
		corev1.LabelArchStable:              arch,
		"beta.kubernetes.io/os":             "linux",
		"beta.kubernetes.io/arch":           arch,
		corev1.LabelInstanceTypeStable:      n.InstanceType,
		corev1.LabelInstanceType:            n.InstanceType,
		corev1.LabelTopologyZone:            n.AZ,
		corev1.LabelTopologyRegion:          n.Region,
		corev1.LabelFailureDomainBetaZone:   n.AZ,
		corev1.LabelFailureDomainBetaRegion: n.Region,
		"eks.amazonaws.com/nodegroup":       n.Nodegroup,
		"eks.amazonaws.com/capacityType":    n.CapacityType,
		"eks.amazonaws.com/nodegroup-image": n.ImageID,
	}
	maps.Copy(l, n.Labels)
	return l
}

// Reservations of the EKS AMI's bootstrap: kube-reserved memory is 11 MiB
// per pod plus 255 MiB, the hard eviction threshold 100 MiB, and
// kube-reserved CPU 6% of the first core, 1% of the second, 0.5% of the
// third and fourth and 0.25% of every other
// (https://github.com/awslabs/amazon-eks-ami/blob/main/templates/al2/runtime/bootstrap.sh).
func reservedMemoryMiB(maxPods int) int { return 11*maxPods + 255 + 100 }

func reservedCPUMillis(vcpus int) int64 {
	var m float64
	for core := 1; core <= vcpus; core++ {
		switch {
		case core == 1:
			m += 60
		case core == 2:
			m += 10
		case core <= 4:
			m += 5
		default:
			m += 2.5
		}
	}
	return int64(m)
}

// object renders the node as the kubelet registers it, with the status
// kwok then keeps up (it fills in the conditions and leaves capacity,
// allocatable and addresses as given). It carries the not-ready taint a
// registering kubelet adds, which the node lifecycle controller lifts once
// kwok reports the node Ready.
func (n Node) object() (*corev1.Node, error) {
	cfg, err := json.Marshal(n.config())
	if err != nil {
		return nil, fmt.Errorf("encoding the node group config of %s: %w", n.Name, err)
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(n.VCPUs), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(int64(n.MemoryMiB)<<20, resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(int64(n.MaxPods), resource.DecimalSI),
	}
	allocatable := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewMilliQuantity(int64(n.VCPUs)*1000-reservedCPUMillis(n.VCPUs), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(int64(max(n.MemoryMiB-reservedMemoryMiB(n.MaxPods), 0))<<20, resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(int64(n.MaxPods), resource.DecimalSI),
	}
	taints := append([]corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}}, n.Taints...)
	arch := n.labels()[corev1.LabelArchStable]
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.labels(), Annotations: map[string]string{
			kwokNodeAnnotation:                     kwokNodeAnnotationValue,
			"alpha.kubernetes.io/provided-node-ip": n.PrivateIP,
			"node.alpha.kubernetes.io/ttl":         "0",
			nodegroupConfigAnnotation:              string(cfg),
		}},
		Spec: corev1.NodeSpec{ProviderID: "aws:///" + n.AZ + "/" + n.InstanceID, Taints: taints},
		Status: corev1.NodeStatus{
			Capacity: capacity, Allocatable: allocatable,
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: n.PrivateIP},
				{Type: corev1.NodeHostName, Address: n.Name},
				{Type: corev1.NodeInternalDNS, Address: n.Name},
			},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}},
			NodeInfo: corev1.NodeSystemInfo{
				KubeletVersion: n.KubeletVersion, OperatingSystem: "linux", Architecture: arch,
				OSImage: osImage(n.AMIType), ContainerRuntimeVersion: "containerd://1.7.27",
				KernelVersion: "6.1.141-155.222.amzn2023." + map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[arch],
				MachineID:     strings.TrimPrefix(n.InstanceID, "i-"), SystemUUID: "ec2" + strings.TrimPrefix(n.InstanceID, "i-"),
			},
		},
	}, nil
}

// osImage is what the kubelet reports of the AMI family.
func osImage(amiType string) string {
	switch {
	case strings.HasPrefix(amiType, "AL2_"):
		return "Amazon Linux 2"
	case strings.HasPrefix(amiType, "BOTTLEROCKET"):
		return "Bottlerocket OS 1.42.0 (aws-k8s)"
	}
	return "Amazon Linux 2023.8.20250715"
}

// SyncNodes makes the cluster's kwok nodes those given: it registers the
// missing ones, deletes the sandbox's nodes that are not given (their
// instances are gone; the pod garbage collector then deletes the pods that
// ran there), and applies node-group label and taint changes to the
// others. It also hands the nodes' pod addresses to the pod IP assigner.
func (cp *ControlPlane) SyncNodes(ctx context.Context, nodes []Node) error {
	cp.ipam.setNodes(nodes)
	want := map[string]Node{}
	for _, n := range nodes {
		want[n.Name] = n
	}
	list, err := cp.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing the nodes of %s: %w", cp.name, err)
	}
	var errs []error
	have := map[string]bool{}
	for i := range list.Items {
		node := &list.Items[i]
		if node.Annotations[kwokNodeAnnotation] != kwokNodeAnnotationValue {
			continue // not the sandbox's
		}
		have[node.Name] = true
		n, ok := want[node.Name]
		if !ok {
			if err := cp.removeNode(ctx, node.Name); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := cp.updateNodegroupConfig(ctx, node.Name, n); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if have[name] {
			continue
		}
		obj, err := want[name].object()
		if err != nil {
			return err
		}
		_, err = cp.client.CoreV1().Nodes().Create(ctx, obj, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			errs = append(errs, fmt.Errorf("registering node %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// removeNode deletes a terminated instance's node and its pods. The
// emulator terminates instances at once where EKS would first drain them;
// their pods die with them, as on any instance that goes away, so their
// controllers replace them now rather than after the pod garbage
// collector's quarantine.
func (cp *ControlPlane) removeNode(ctx context.Context, name string) error {
	pods, err := cp.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + name})
	if err != nil {
		return fmt.Errorf("listing the pods of node %s: %w", name, err)
	}
	now := int64(0)
	var errs []error
	for _, p := range pods.Items {
		err := cp.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &now})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting pod %s/%s of node %s: %w", p.Namespace, p.Name, name, err))
		}
	}
	if err := cp.client.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("deleting node %s: %w", name, err))
	}
	return errors.Join(errs...)
}

// updateNodegroupConfig replaces the node group labels and taints last
// applied to a node with the group's current ones, as EKS does when
// UpdateNodegroupConfig changes them.
func (cp *ControlPlane) updateNodegroupConfig(ctx context.Context, name string, n Node) error {
	want, err := json.Marshal(n.config())
	if err != nil {
		return fmt.Errorf("encoding the node group config of %s: %w", name, err)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := cp.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		old := node.Annotations[nodegroupConfigAnnotation]
		if old == string(want) {
			return nil
		}
		var last nodegroupConfig
		_ = json.Unmarshal([]byte(old), &last) // a missing or mangled record removes nothing
		for k := range last.Labels {
			delete(node.Labels, k)
		}
		if node.Labels == nil {
			node.Labels = map[string]string{}
		}
		maps.Copy(node.Labels, n.labels())
		node.Spec.Taints = slices.DeleteFunc(node.Spec.Taints, func(t corev1.Taint) bool {
			return slices.ContainsFunc(last.Taints, func(l corev1.Taint) bool { return l.Key == t.Key && l.Effect == t.Effect })
		})
		node.Spec.Taints = append(node.Spec.Taints, n.Taints...)
		if node.Annotations == nil {
			node.Annotations = map[string]string{}
		}
		node.Annotations[nodegroupConfigAnnotation] = string(want)
		_, err = cp.client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("updating the labels and taints of node %s: %w", name, err)
	}
	return nil
}
