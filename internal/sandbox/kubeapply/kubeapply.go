// Package kubeapply applies YAML manifests to a sandbox cluster with
// server-side apply, as `kubectl apply --server-side` does: CRDs first,
// waiting until they are established, then the objects of the kinds they
// define. The sandbox uses it to install Argo CD's CRDs and configuration
// on the management cluster and the TargetGroupBinding CRD on workload
// clusters.
package kubeapply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// crdGVR is apiextensions.k8s.io/v1 CustomResourceDefinition.
var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Decode splits multi-document YAML (or JSON) into objects, skipping empty
// documents.
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("decoding manifests: %w", err)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// Applier applies objects to one cluster.
type Applier struct {
	dyn          dynamic.Interface
	mapper       *restmapper.DeferredDiscoveryRESTMapper
	fieldManager string
}

// New returns an Applier for the cluster cfg reaches, applying as
// fieldManager.
func New(cfg *rest.Config, fieldManager string) (*Applier, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("building a dynamic client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("building a discovery client: %w", err)
	}
	return &Applier{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), fieldManager: fieldManager}, nil
}

// Dynamic is the Applier's dynamic client.
func (a *Applier) Dynamic() dynamic.Interface { return a.dyn }

// Apply applies objs in order: CustomResourceDefinitions first (waiting
// until each is established), then the rest. Objects of a namespaced kind
// without a namespace go to "default".
func (a *Applier) Apply(ctx context.Context, objs ...*unstructured.Unstructured) error {
	var crds, others []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" && o.GroupVersionKind().Group == crdGVR.Group {
			crds = append(crds, o)
		} else {
			others = append(others, o)
		}
	}
	for _, o := range crds {
		if err := a.apply(ctx, crdGVR, "", o); err != nil {
			return err
		}
	}
	for _, o := range crds {
		if err := a.waitEstablished(ctx, o.GetName()); err != nil {
			return err
		}
	}
	if len(crds) > 0 {
		a.mapper.Reset()
	}
	for _, o := range others {
		gvk := o.GroupVersionKind()
		m, err := a.mapping(ctx, gvk)
		if err != nil {
			return fmt.Errorf("finding the resource of %s %s: %w", gvk.Kind, o.GetName(), err)
		}
		ns := ""
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ns = o.GetNamespace()
			if ns == "" {
				ns = metav1.NamespaceDefault
			}
		}
		if err := a.apply(ctx, m.Resource, ns, o); err != nil {
			return err
		}
	}
	return nil
}

// mapping finds gvk's resource. A CRD's kinds reach discovery a moment
// after the CRD is Established (the API server updates its discovery
// document asynchronously), so a kind not found yet is looked up again,
// from fresh discovery, for up to 30 seconds.
func (a *Applier) mapping(ctx context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	var m *meta.RESTMapping
	var last error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		m, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		switch {
		case err == nil:
			return true, nil
		case meta.IsNoMatchError(err):
			last = err
			a.mapper.Reset()
			return false, nil
		}
		return false, err
	})
	if err != nil && last != nil {
		return nil, last
	}
	return m, err
}

func (a *Applier) apply(ctx context.Context, gvr schema.GroupVersionResource, ns string, o *unstructured.Unstructured) error {
	data, err := o.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encoding %s %s: %w", o.GetKind(), o.GetName(), err)
	}
	force := true
	_, err = a.dyn.Resource(gvr).Namespace(ns).Patch(ctx, o.GetName(), types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: a.fieldManager, Force: &force})
	if err != nil {
		return fmt.Errorf("applying %s %s: %w", o.GetKind(), o.GetName(), err)
	}
	return nil
}

// waitEstablished waits until the API server serves the CRD's kinds.
func (a *Applier) waitEstablished(ctx context.Context, name string) error {
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		crd, err := a.dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for CRD %s to be established: %w", name, err)
	}
	return nil
}
