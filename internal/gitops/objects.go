package gitops

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/findings"
)

// TargetGroupBindingGVR is the AWS Load Balancer Controller's
// TargetGroupBinding (elbv2.k8s.aws/v1beta1), which binds a Service to a
// target group: how Argo CD's apps receive a colour's traffic.
var TargetGroupBindingGVR = schema.GroupVersionResource{Group: "elbv2.k8s.aws", Version: "v1beta1", Resource: "targetgroupbindings"}

// AppObjects lists the objects Argo CD renders for the Applications whose
// destination is the named cluster (by name, or by server URL), from each
// Application's status.resources: Argo CD records there the group, version
// and kind of every object of the app's rendered manifests, so the
// removed-API check sees what the manifests say, even for an object the
// cluster refused to take.
func AppObjects(ctx context.Context, mgmt dynamic.Interface, namespace, cluster, server string) ([]clusters.Object, error) {
	list, err := mgmt.Resource(ApplicationGVR).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("no Argo CD Applications API on the management cluster (namespace %s): is Argo CD installed there?", namespace)
		}
		return nil, fmt.Errorf("listing Argo CD Applications: %w", err)
	}
	var objs []clusters.Object
	for _, app := range list.Items {
		name, _, _ := unstructured.NestedString(app.Object, "spec", "destination", "name")
		srv, _, _ := unstructured.NestedString(app.Object, "spec", "destination", "server")
		if name != cluster && (server == "" || srv != server) {
			continue
		}
		repo, _, _ := unstructured.NestedString(app.Object, "spec", "source", "repoURL")
		path, _, _ := unstructured.NestedString(app.Object, "spec", "source", "path")
		res, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
		for _, r := range res {
			m, ok := r.(map[string]any)
			if !ok {
				continue
			}
			group, _ := m["group"].(string)
			version, _ := m["version"].(string)
			kind, _ := m["kind"].(string)
			gv := version
			if group != "" {
				gv = group + "/" + version
			}
			n, _ := m["name"].(string)
			ns, _ := m["namespace"].(string)
			file := repo
			if path != "" {
				file += "//" + path
			}
			objs = append(objs, clusters.Object{APIVersion: gv, Kind: kind, Name: n, Namespace: ns,
				Source: findings.Where{App: app.GetName(), File: file}})
		}
	}
	return objs, nil
}
