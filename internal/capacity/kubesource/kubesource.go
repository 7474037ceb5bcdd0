// Package kubesource reads what the capacity model needs from the blue
// cluster's Kubernetes API: how many pods its nodes really carry, and the
// VPC CNI settings its aws-node DaemonSet runs with. It implements
// capacity.PodCensus and capacity.CNIEnvSource over client-go.
package kubesource

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/internal/awserr"
	"github.com/eksbg/eksbg/internal/capacity"
	"github.com/eksbg/eksbg/internal/kubeaccess"
)

// Source reads clusters through client configurations from REST (for EKS,
// kubeaccess.RESTConfig: DescribeCluster and an EKS token).
type Source struct {
	REST func(ctx context.Context, cluster string) (*rest.Config, error)

	mu      sync.Mutex
	clients map[string]clients
}

// errNoCluster says the cluster does not exist.
var errNoCluster = errors.New("no such cluster")

type clients struct {
	kube kubernetes.Interface
	dyn  dynamic.Interface
}

var (
	_ capacity.PodCensus    = (*Source)(nil)
	_ capacity.CNIEnvSource = (*Source)(nil)
)

func (s *Source) clientsFor(ctx context.Context, cluster string) (clients, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[cluster]; ok {
		return c, nil
	}
	rc, err := s.REST(ctx, cluster)
	if err != nil {
		if awserr.IsNotFound(err) {
			// No blue cluster (a first cluster, or -f on a new config):
			// nothing to count, which the model takes as "not available".
			return clients{}, errNoCluster
		}
		return clients{}, err
	}
	kc, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return clients{}, err
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return clients{}, err
	}
	if s.clients == nil {
		s.clients = map[string]clients{}
	}
	c := clients{kc, dyn}
	s.clients[cluster] = c
	return c, nil
}

// nodegroupLabel is the label EKS puts on a managed node group's nodes.
const nodegroupLabel = "eks.amazonaws.com/nodegroup"

// podENIAnnotation marks a pod on a branch ENI (security groups for pods):
// its address does not come from the node's ENIs.
// https://docs.aws.amazon.com/eks/latest/userguide/security-groups-for-pods.html
const podENIAnnotation = "vpc.amazonaws.com/pod-eni"

// PodsPerNode counts, per node group, the pods placed on its nodes that
// take an address from the node's ENIs (not host-network, not on a branch
// ENI, not finished), and those on branch ENIs, averaged over its nodes.
func (s *Source) PodsPerNode(ctx context.Context, cluster string) (map[string]capacity.PodCount, error) {
	c, err := s.clientsFor(ctx, cluster)
	if errors.Is(err, errNoCluster) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	nodes, err := c.kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: nodegroupLabel})
	if err != nil {
		return nil, fmt.Errorf("listing the nodes of %s: %w", cluster, err)
	}
	ngOf := map[string]string{}
	nodesIn := map[string]int{}
	for _, n := range nodes.Items {
		ng := n.Labels[nodegroupLabel]
		ngOf[n.Name] = ng
		nodesIn[ng]++
	}
	pods, err := c.kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName!="})
	if err != nil {
		return nil, fmt.Errorf("listing the pods of %s: %w", cluster, err)
	}
	sums := map[string]*capacity.PodCount{}
	for _, p := range pods.Items {
		ng, ok := ngOf[p.Spec.NodeName]
		if !ok || p.Spec.HostNetwork || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if sums[ng] == nil {
			sums[ng] = &capacity.PodCount{}
		}
		if _, branch := p.Annotations[podENIAnnotation]; branch {
			sums[ng].BranchPods++
		} else {
			sums[ng].Pods++
		}
	}
	out := map[string]capacity.PodCount{}
	for ng, n := range nodesIn {
		pc := capacity.PodCount{}
		if s := sums[ng]; s != nil {
			pc = capacity.PodCount{Pods: s.Pods / float64(n), BranchPods: s.BranchPods / float64(n)}
		}
		out[ng] = pc
	}
	return out, nil
}

// AWSNodeEnv returns the literal environment of the aws-node container of
// kube-system/aws-node (values from references are not resolved), or nil
// when the cluster has no such DaemonSet.
func (s *Source) AWSNodeEnv(ctx context.Context, cluster string) (map[string]string, error) {
	c, err := s.clientsFor(ctx, cluster)
	if errors.Is(err, errNoCluster) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ds, err := c.kube.AppsV1().DaemonSets("kube-system").Get(ctx, "aws-node", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading kube-system/aws-node on %s: %w", cluster, err)
	}
	for _, ct := range ds.Spec.Template.Spec.Containers {
		if ct.Name != "aws-node" {
			continue
		}
		env := map[string]string{}
		for _, e := range ct.Env {
			if e.ValueFrom == nil {
				env[e.Name] = e.Value
			}
		}
		return env, nil
	}
	return nil, nil
}

// eniConfigs is the VPC CNI's ENIConfig (custom networking).
var eniConfigs = schema.GroupVersionResource{Group: "crd.k8s.amazonaws.com", Version: "v1alpha1", Resource: "eniconfigs"}

// ENIConfigSubnets returns each ENIConfig's subnet by the ENIConfig's name,
// which custom networking matches against the nodes' zone label
// (ENI_CONFIG_LABEL_DEF=topology.kubernetes.io/zone, the documented setup);
// nil when the cluster has no ENIConfig CRD.
func (s *Source) ENIConfigSubnets(ctx context.Context, cluster string) (map[string]string, error) {
	c, err := s.clientsFor(ctx, cluster)
	if errors.Is(err, errNoCluster) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	list, err := c.dyn.Resource(eniConfigs).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing ENIConfigs on %s: %w", cluster, err)
	}
	out := map[string]string{}
	for _, e := range list.Items {
		if sub, ok, _ := unstructured.NestedString(e.Object, "spec", "subnet"); ok {
			out[e.GetName()] = sub
		}
	}
	return out, nil
}

// Clients are capacity.NewClients(cfg) with the blue cluster's pods and
// aws-node settings read from its Kubernetes API, reached as EKS intends
// (DescribeCluster and an EKS token signed with cfg's credentials).
func Clients(cfg aws.Config) capacity.Clients {
	c := capacity.NewClients(cfg)
	eksc := eks.NewFromConfig(cfg)
	src := &Source{REST: func(ctx context.Context, cluster string) (*rest.Config, error) {
		return kubeaccess.RESTConfig(ctx, eksc, cfg, cluster)
	}}
	c.Census, c.CNIEnv = src, src
	return c
}
