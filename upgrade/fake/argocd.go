package fake

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/eksbg/eksbg/internal/gitops"
)

// NewDynamic returns a fake dynamic client that knows the list kinds of
// the resources eksbg lists: Argo CD Applications and the AWS Load
// Balancer Controller's TargetGroupBindings.
func NewDynamic(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		gitops.ApplicationGVR:        "ApplicationList",
		gitops.TargetGroupBindingGVR: "TargetGroupBindingList",
	}, objs...)
}

// ArgoCD plays Argo CD and its ApplicationSet controller on a management
// cluster made of client-go fakes. For every cluster secret it keeps one
// Application per name in Apps, called APP-CLUSTER, whose destination is
// the secret's server, Synced and Healthy, and whose spec carries the
// secret's singletons label: a label change regenerates the spec, as an
// ApplicationSet that templates the label does. Deleting the secret
// deletes the cluster's Applications.
type ArgoCD struct {
	Namespace string
	Apps      []string
	Core      *k8sfake.Clientset
	Dynamic   *dynamicfake.FakeDynamicClient

	// OnLabel, if set, is called with each singletons label a cluster
	// secret is written with, before the Applications are regenerated.
	OnLabel func(cluster, value string)

	mu sync.Mutex
	// labels records each singletons label a cluster secret was written
	// with, as "CLUSTER=VALUE", in order.
	labels []string
}

// NewArgoCD returns a management cluster with Argo CD in namespace ns
// generating the named apps for every registered cluster.
func NewArgoCD(ns string, apps ...string) *ArgoCD {
	a := &ArgoCD{Namespace: ns, Apps: apps, Core: k8sfake.NewClientset(), Dynamic: NewDynamic()}
	a.Core.PrependReactor("*", "secrets", a.react)
	return a
}

// SingletonLabels returns each singletons label written to a cluster
// secret, as "CLUSTER=VALUE", in order.
func (a *ArgoCD) SingletonLabels() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.labels...)
}

// Register adds a cluster secret as eksbg would (for a cluster that
// exists before the test starts).
func (a *ArgoCD) Register(c gitops.Cluster) error {
	return gitops.RegisterCluster(context.Background(), a.Core, a.Namespace, c)
}

func (a *ArgoCD) react(action k8stesting.Action) (bool, runtime.Object, error) {
	switch act := action.(type) {
	case k8stesting.CreateAction:
		if s, ok := act.GetObject().(*corev1.Secret); ok {
			a.generate(s)
		}
	case k8stesting.UpdateAction:
		if s, ok := act.GetObject().(*corev1.Secret); ok {
			a.generate(s)
		}
	case k8stesting.PatchAction:
		// The change is in the patch: let the tracker apply it, then
		// regenerate from the result.
		handled, obj, err := k8stesting.ObjectReaction(a.Core.Tracker())(action)
		if s, ok := obj.(*corev1.Secret); ok && err == nil {
			a.generate(s)
		}
		return handled, obj, err
	case k8stesting.DeleteAction:
		a.remove(act.GetName())
	}
	return false, nil, nil // the tracker stores the change
}

func (a *ArgoCD) generate(s *corev1.Secret) {
	if s.Labels[gitops.LabelSecretType] != "cluster" {
		return
	}
	cluster, server := string(s.Data["name"]), string(s.Data["server"])
	singletons := s.Labels[gitops.LabelSingletons]
	a.mu.Lock()
	a.labels = append(a.labels, cluster+"="+singletons)
	a.mu.Unlock()
	if a.OnLabel != nil {
		a.OnLabel(cluster, singletons)
	}
	res := a.Dynamic.Resource(gitops.ApplicationGVR).Namespace(a.Namespace)
	for _, app := range a.Apps {
		src := map[string]any{"repoURL": "https://git.example/apps", "path": app, "helm": map[string]any{"parameters": []any{
			map[string]any{"name": "singletons", "value": singletons}}}}
		dst := map[string]any{"server": server, "name": cluster}
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
			"metadata": map[string]any{"name": app + "-" + cluster, "namespace": a.Namespace},
			"spec":     map[string]any{"source": src, "destination": dst},
			"status": map[string]any{
				"sync":   map[string]any{"status": "Synced", "revision": "abc123", "comparedTo": map[string]any{"source": runtime.DeepCopyJSONValue(src), "destination": runtime.DeepCopyJSONValue(dst)}},
				"health": map[string]any{"status": "Healthy"},
			},
		}}
		cur, err := res.Get(context.Background(), u.GetName(), metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, _ = res.Create(context.Background(), u, metav1.CreateOptions{})
		case err == nil:
			u.SetResourceVersion(cur.GetResourceVersion())
			_, _ = res.Update(context.Background(), u, metav1.UpdateOptions{})
		}
	}
}

func (a *ArgoCD) remove(secret string) {
	cur, err := a.Core.Tracker().Get(corev1.SchemeGroupVersion.WithResource("secrets"), a.Namespace, secret)
	if err != nil {
		return
	}
	s, ok := cur.(*corev1.Secret)
	if !ok {
		return
	}
	cluster := string(s.Data["name"])
	res := a.Dynamic.Resource(gitops.ApplicationGVR).Namespace(a.Namespace)
	for _, app := range a.Apps {
		_ = res.Delete(context.Background(), app+"-"+cluster, metav1.DeleteOptions{})
	}
}
