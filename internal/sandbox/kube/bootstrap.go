package kube

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/eksbg/eksbg/internal/cni"
)

// BootstrapConfig describes what EKS installs in a new cluster.
type BootstrapConfig struct {
	ClusterName string
	Region      string
	VPCID       string
	ServiceCIDR string
	// CNI is the VPC CNI configuration; aws-node's environment carries it.
	CNI cni.Settings
	// Versions maps vpc-cni, coredns and kube-proxy to their versions
	// (vX.Y.Z-eksbuild.N, as EKS names their images' tags).
	Versions map[string]string
}

// ecrAccount is the account of EKS's image registry in most regions
// (https://docs.aws.amazon.com/eks/latest/userguide/add-ons-images.html).
const ecrAccount = "602401143452"

// Bootstrap creates the components every new EKS cluster has in
// kube-system: the aws-node and kube-proxy DaemonSets, and CoreDNS (its
// Deployment, the kube-dns Service and its PodDisruptionBudget), with
// their service accounts and the CoreDNS ConfigMap. Objects that exist
// are left alone. kwok plays their pods: the DaemonSets tolerate every
// taint, as EKS's do, so each lands on every node.
func (cp *ControlPlane) Bootstrap(ctx context.Context, cfg BootstrapConfig) error {
	objs, err := bootstrapObjects(cfg)
	if err != nil {
		return err
	}
	c := cp.client
	var errs []error
	create := func(kind, name string, err error) {
		if err != nil && !apierrors.IsAlreadyExists(err) {
			errs = append(errs, fmt.Errorf("creating %s kube-system/%s in %s: %w", kind, name, cfg.ClusterName, err))
		}
	}
	const ns = metav1.NamespaceSystem
	for _, sa := range objs.serviceAccounts {
		_, err := c.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{})
		create("ServiceAccount", sa.Name, err)
	}
	for _, cm := range objs.configMaps {
		_, err := c.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
		create("ConfigMap", cm.Name, err)
	}
	for _, ds := range objs.daemonSets {
		_, err := c.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{})
		create("DaemonSet", ds.Name, err)
	}
	_, err = c.AppsV1().Deployments(ns).Create(ctx, objs.coreDNS, metav1.CreateOptions{})
	create("Deployment", objs.coreDNS.Name, err)
	_, err = c.CoreV1().Services(ns).Create(ctx, objs.kubeDNS, metav1.CreateOptions{})
	create("Service", objs.kubeDNS.Name, err)
	_, err = c.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, objs.coreDNSPDB, metav1.CreateOptions{})
	create("PodDisruptionBudget", objs.coreDNSPDB.Name, err)
	return errors.Join(errs...)
}

// coreDNSReplicas is the replica count of CoreDNS, as EKS installs it.
const coreDNSReplicas = 2

type bootstrapSet struct {
	serviceAccounts []*corev1.ServiceAccount
	configMaps      []*corev1.ConfigMap
	daemonSets      []*appsv1.DaemonSet
	coreDNS         *appsv1.Deployment
	kubeDNS         *corev1.Service
	coreDNSPDB      *policyv1.PodDisruptionBudget
}

// bootstrapObjects renders the objects, shaped after those EKS creates
// (names, labels, the kube-dns address .10 of the service range, the
// tolerations and priority classes).
func bootstrapObjects(cfg BootstrapConfig) (*bootstrapSet, error) {
	svc, err := netip.ParsePrefix(cfg.ServiceCIDR)
	if err != nil || !svc.Addr().Is4() {
		return nil, fmt.Errorf("service CIDR %q is not an IPv4 prefix", cfg.ServiceCIDR)
	}
	dnsIP := svc.Masked().Addr()
	for range 10 {
		dnsIP = dnsIP.Next()
	}
	image := func(repo, addon, fallback string) string {
		v := cfg.Versions[addon]
		if v == "" {
			v = fallback
		}
		return fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s:%s", ecrAccount, cfg.Region, repo, v)
	}
	meta := func(name string, labels map[string]string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: metav1.NamespaceSystem, Labels: labels}
	}
	tolerateAll := []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	hostPort := func(name string, port int32) corev1.ContainerPort {
		return corev1.ContainerPort{Name: name, ContainerPort: port, HostPort: port, Protocol: corev1.ProtocolTCP}
	}

	env := cfg.CNI.Env()
	env["CLUSTER_NAME"] = cfg.ClusterName
	env["VPC_ID"] = cfg.VPCID
	env["AWS_VPC_K8S_CNI_LOGLEVEL"] = "DEBUG"
	if cfg.CNI.CustomNetworking {
		// ENIConfigs are named after zones
		// (https://docs.aws.amazon.com/eks/latest/userguide/cni-custom-network-tutorial.html).
		env["ENI_CONFIG_LABEL_DEF"] = "topology.kubernetes.io/zone"
	}
	var awsNodeEnv []corev1.EnvVar
	for _, k := range slices.Sorted(maps.Keys(env)) {
		awsNodeEnv = append(awsNodeEnv, corev1.EnvVar{Name: k, Value: env[k]})
	}
	awsNodeEnv = append(awsNodeEnv, corev1.EnvVar{Name: "MY_NODE_NAME",
		ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}})

	daemonSet := func(name string, labels map[string]string, sa string, c corev1.Container) *appsv1.DaemonSet {
		maxUnavailable := intstr.FromString("10%")
		return &appsv1.DaemonSet{
			ObjectMeta: meta(name, labels),
			Spec: appsv1.DaemonSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": name}},
				UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &maxUnavailable}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"k8s-app": name}},
					Spec: corev1.PodSpec{
						ServiceAccountName: sa, HostNetwork: true, PriorityClassName: "system-node-critical",
						Tolerations: tolerateAll, Containers: []corev1.Container{c},
						Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
							NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
								{Key: "kubernetes.io/os", Operator: corev1.NodeSelectorOpIn, Values: []string{"linux"}},
								{Key: "eks.amazonaws.com/compute-type", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"fargate", "hybrid", "auto"}},
							}}}}}},
					},
				},
			},
		}
	}
	privileged := true
	awsNode := daemonSet("aws-node", map[string]string{"k8s-app": "aws-node", "app.kubernetes.io/name": "aws-node"}, "aws-node", corev1.Container{
		Name: "aws-node", Image: image("amazon-k8s-cni", "vpc-cni", "v1.19.5-eksbuild.1"), Env: awsNodeEnv,
		Ports:           []corev1.ContainerPort{hostPort("metrics", 61678)},
		SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN", "NET_RAW"}}},
		Resources:       corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("25m")}},
	})
	kubeProxy := daemonSet("kube-proxy", map[string]string{"k8s-app": "kube-proxy", "eks.amazonaws.com/component": "kube-proxy"}, "kube-proxy", corev1.Container{
		Name: "kube-proxy", Image: image("eks/kube-proxy", "kube-proxy", "v1.33.3-eksbuild.4"),
		Command:         []string{"kube-proxy", "--v=2", "--config=/var/lib/kube-proxy-config/config", "--hostname-override=$(NODE_NAME)"},
		Env:             []corev1.EnvVar{{Name: "NODE_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}},
		SecurityContext: &corev1.SecurityContext{Privileged: &privileged},
		Resources:       corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}},
	})

	dnsLabels := map[string]string{"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"}
	replicas := int32(coreDNSReplicas)
	coreDNS := &appsv1.Deployment{
		ObjectMeta: meta("coredns", map[string]string{"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns", "kubernetes.io/name": "CoreDNS"}),
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: dnsLabels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: dnsLabels},
				Spec: corev1.PodSpec{
					ServiceAccountName: "coredns", PriorityClassName: "system-cluster-critical",
					Tolerations: []corev1.Toleration{
						{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule},
						{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists},
					},
					Containers: []corev1.Container{{
						Name: "coredns", Image: image("eks/coredns", "coredns", "v1.12.1-eksbuild.2"),
						Args: []string{"-conf", "/etc/coredns/Corefile"},
						Ports: []corev1.ContainerPort{{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
							{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
							{Name: "metrics", ContainerPort: 9153, Protocol: corev1.ProtocolTCP}},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("70Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("170Mi")},
						},
					}},
				},
			},
		},
	}
	kubeDNS := &corev1.Service{
		ObjectMeta: meta("kube-dns", map[string]string{"k8s-app": "kube-dns", "eks.amazonaws.com/component": "kube-dns",
			"kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}),
		Spec: corev1.ServiceSpec{
			ClusterIP: dnsIP.String(), Selector: map[string]string{"k8s-app": "kube-dns"},
			Ports: []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
				{Name: "metrics", Port: 9153, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(9153)}},
		},
	}
	one := intstr.FromInt32(1)
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: meta("coredns", map[string]string{"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"}),
		Spec:       policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &one, Selector: &metav1.LabelSelector{MatchLabels: dnsLabels}},
	}
	corefile := `.:53 {
    errors
    health {
        lameduck 5s
      }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
}
`
	sa := func(name string) *corev1.ServiceAccount {
		return &corev1.ServiceAccount{ObjectMeta: meta(name, nil)}
	}
	return &bootstrapSet{
		serviceAccounts: []*corev1.ServiceAccount{sa("aws-node"), sa("kube-proxy"), sa("coredns")},
		configMaps: []*corev1.ConfigMap{{ObjectMeta: meta("coredns", map[string]string{"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"}),
			Data: map[string]string{"Corefile": corefile}}},
		daemonSets: []*appsv1.DaemonSet{awsNode, kubeProxy},
		coreDNS:    coreDNS, kubeDNS: kubeDNS, coreDNSPDB: pdb,
	}, nil
}
