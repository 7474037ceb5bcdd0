package kube

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/eksbg/eksbg/internal/sandbox/emulator"
)

// LoadNamespace holds the pods that stand for the workloads a scenario's
// node groups carry (podsPerNode) before any app is deployed: the emulator
// allocated the nodes' addresses for that many pods, so the cluster runs
// them, and a census of its pods (the capacity model's N) agrees with the
// world's ENIs.
const LoadNamespace = "sandbox-load"

// SyncLoad keeps, for every node group of c with a scenario podsPerNode, a
// Deployment of pods spread evenly over its nodes so that each node runs
// podsPerNode pods with pod IPs, counting CoreDNS's on the first such node
// group.
func (cp *ControlPlane) SyncLoad(ctx context.Context, c emulator.ControlPlaneCluster, coreDNSReplicas int) error {
	kc := cp.client
	first := true
	for _, ng := range c.Nodegroups {
		if ng.PodsPerNode <= 0 {
			continue
		}
		want := ng.PodsPerNode * len(ng.Instances)
		if first {
			want -= coreDNSReplicas
			first = false
		}
		want = max(want, 0)
		if _, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: LoadNamespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "eksbg-sandbox"}}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating namespace %s: %w", LoadNamespace, err)
		}
		d := loadDeployment(ng, int32(want))
		cur, err := kc.AppsV1().Deployments(LoadNamespace).Get(ctx, d.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = kc.AppsV1().Deployments(LoadNamespace).Create(ctx, d, metav1.CreateOptions{})
		case err == nil && *cur.Spec.Replicas != *d.Spec.Replicas:
			cur.Spec.Replicas = d.Spec.Replicas
			_, err = kc.AppsV1().Deployments(LoadNamespace).Update(ctx, cur, metav1.UpdateOptions{})
		}
		if err != nil {
			return fmt.Errorf("keeping the scenario's pods of node group %s: %w", ng.Name, err)
		}
	}
	return nil
}

func loadDeployment(ng emulator.ControlPlaneNodegroup, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app.kubernetes.io/name": "sandbox-load", "eksbg.io/nodegroup": ng.Name}
	tolerations := make([]corev1.Toleration, 0, len(ng.Taints))
	for _, t := range ng.Taints {
		tolerations = append(tolerations, corev1.Toleration{Key: t.Key, Value: t.Value, Operator: corev1.TolerationOpEqual, Effect: taintEffect(t.Effect)})
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "load-" + ng.Name, Namespace: LoadNamespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: map[string]string{"eks.amazonaws.com/nodegroup": ng.Name},
					Tolerations:  tolerations,
					// Even over the node group's nodes, as the scenario's
					// podsPerNode says.
					TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "kubernetes.io/hostname",
						WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: &metav1.LabelSelector{MatchLabels: labels}}},
					Containers: []corev1.Container{{Name: "load", Image: "public.ecr.aws/eks-distro/kubernetes/pause:3.9"}},
				},
			},
		},
	}
}
