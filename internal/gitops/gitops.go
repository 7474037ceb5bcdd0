package gitops

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// Package gitops is Argo CD as eksbg drives it, through the Kubernetes API
// of the management cluster: cluster secrets (register green, flip
// singletons, unregister blue) and Applications (wait for sync, compare
// the two colors).
// https://argo-cd.readthedocs.io/en/stable/operator-manual/declarative-setup/#clusters

// Labels and annotations eksbg puts on cluster secrets. ApplicationSets
// read them through their cluster generator (docs/singletons.md).
const (
	// LabelColor is the cluster's color (blue, green).
	LabelColor = "eksbg.io/color"
	// LabelSingletons is SingletonsActive on the one cluster of an
	// environment that runs singletons (its CronJobs are not suspended)
	// and SingletonsSuspended elsewhere.
	LabelSingletons = "eksbg.io/singletons"
	// AnnotationTargetGroupARN is the ARN of the target group the
	// cluster's pods are registered in (its TargetGroupBinding), when the
	// environment has one listener rule; AnnotationTargetGroupARNs lists
	// them all, comma-separated, in the order of the rules.
	AnnotationTargetGroupARN  = "eksbg.io/target-group-arn"
	AnnotationTargetGroupARNs = "eksbg.io/target-group-arns"
)

// Values of LabelSingletons.
const (
	SingletonsActive    = "active"
	SingletonsSuspended = "suspended"
)

// Labels Argo CD itself reads.
const (
	// LabelSecretType marks a secret as a cluster secret (value "cluster").
	LabelSecretType = "argocd.argoproj.io/secret-type"
	// ResourcesFinalizer makes deleting an Application delete its
	// resources on the destination cluster first.
	ResourcesFinalizer = "resources-finalizer.argocd.argoproj.io"
)

// ApplicationGVR is argoproj.io/v1alpha1 Application.
var ApplicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// Cluster is an EKS cluster as Argo CD knows it.
type Cluster struct {
	// Name is the EKS cluster's name: the secret's "name" field and the
	// awsAuthConfig clusterName.
	Name string
	// Server is the API server's URL and CAData its CA (PEM), both from
	// DescribeCluster.
	Server string
	CAData []byte
	// Labels go on the secret: the environment's clusterSecretLabels,
	// LabelColor and LabelSingletons.
	Labels map[string]string
	// Annotations go on the secret (AnnotationTargetGroupARN).
	Annotations map[string]string
	// RoleARN, when set, is assumed by argocd-k8s-auth.
	RoleARN string
}

// SecretName is the name of a cluster's secret.
func SecretName(cluster string) string { return "cluster-" + cluster }

// clusterConfig is the secret's "config" field: Argo CD's ClusterConfig
// with awsAuthConfig, so that Argo CD signs EKS tokens itself
// (pkg/apis/application/v1alpha1/types.go, ClusterConfig).
type clusterConfig struct {
	AWSAuthConfig struct {
		ClusterName string `json:"clusterName"`
		RoleARN     string `json:"roleARN,omitempty"`
	} `json:"awsAuthConfig"`
	TLSClientConfig struct {
		CAData []byte `json:"caData"`
	} `json:"tlsClientConfig"`
}

// ClusterSecret is the cluster secret for c in namespace.
func ClusterSecret(namespace string, c Cluster) (*corev1.Secret, error) {
	var cfg clusterConfig
	cfg.AWSAuthConfig.ClusterName, cfg.AWSAuthConfig.RoleARN = c.Name, c.RoleARN
	cfg.TLSClientConfig.CAData = c.CAData
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding the cluster config: %w", err)
	}
	labels := maps.Clone(c.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelSecretType] = "cluster"
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: SecretName(c.Name), Namespace: namespace, Labels: labels, Annotations: maps.Clone(c.Annotations)},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"name": []byte(c.Name), "server": []byte(c.Server), "config": raw},
	}, nil
}

// RegisterCluster creates the cluster's secret, or replaces its data,
// labels and annotations if it exists.
func RegisterCluster(ctx context.Context, kc kubernetes.Interface, namespace string, c Cluster) error {
	s, err := ClusterSecret(namespace, c)
	if err != nil {
		return err
	}
	secrets := kc.CoreV1().Secrets(namespace)
	_, err = secrets.Create(ctx, s, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		cur, gerr := secrets.Get(ctx, s.Name, metav1.GetOptions{})
		if gerr != nil {
			return fmt.Errorf("reading cluster secret %s: %w", s.Name, gerr)
		}
		cur.Labels, cur.Annotations, cur.Data, cur.Type = s.Labels, s.Annotations, s.Data, s.Type
		_, err = secrets.Update(ctx, cur, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("registering cluster %s with Argo CD: %w", c.Name, err)
	}
	return nil
}

// SetClusterLabels sets the given labels on a cluster's secret with a
// merge patch, leaving its other labels alone. Argo CD's ApplicationSet controller sees
// the change at once and regenerates the cluster's Applications, which
// the application controller then syncs.
func SetClusterLabels(ctx context.Context, kc kubernetes.Interface, namespace, cluster string, labels map[string]string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
	if err != nil {
		return err
	}
	if _, err := kc.CoreV1().Secrets(namespace).Patch(ctx, SecretName(cluster), types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("labelling cluster secret of %s: %w", cluster, err)
	}
	return nil
}

// SetSingletons sets a cluster's LabelSingletons label to
// SingletonsActive or SingletonsSuspended.
func SetSingletons(ctx context.Context, kc kubernetes.Interface, namespace, cluster string, active bool) error {
	v := SingletonsSuspended
	if active {
		v = SingletonsActive
	}
	return SetClusterLabels(ctx, kc, namespace, cluster, map[string]string{LabelSingletons: v})
}

// UnregisterCluster deletes a cluster's secret; a missing secret is not
// an error. The ApplicationSets then delete the cluster's Applications,
// and Argo CD, finding no cluster for their destination, drops their
// resources finalizer instead of trying to reach the cluster (argo-cd
// controller/appcontroller.go, finalizeApplicationDeletion: "Resource
// entries removed from undefined cluster"). docs/sandbox.md says in which
// order eksbg must do it.
func UnregisterCluster(ctx context.Context, kc kubernetes.Interface, namespace, cluster string) error {
	err := kc.CoreV1().Secrets(namespace).Delete(ctx, SecretName(cluster), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("unregistering cluster %s from Argo CD: %w", cluster, err)
	}
	return nil
}

// Application is what eksbg reads of an Argo CD Application.
type Application struct {
	Name string
	// Server is the destination cluster's API server URL.
	Server string
	// Sync is status.sync.status (Synced, OutOfSync, Unknown) and Health
	// status.health.status (Healthy, Progressing, Degraded, Missing, ...).
	Sync, Health string
	// Revision is the git revision last synced (status.sync.revision).
	Revision string
	// Current is true when the sync status was computed for the
	// Application's current source and destination
	// (status.sync.comparedTo equals spec): after a spec change (the
	// ApplicationSet regenerated it), Synced means something only once
	// Current is true.
	Current bool
	// OperationPhase is status.operationState.phase of the last sync
	// (Running, Succeeded, Failed, Error), "" if none ran.
	OperationPhase string
	// Message is the last sync's or the health's message, if any.
	Message    string
	Finalizers []string
	Deleting   bool
	// Spec fingerprints the spec: it changes when the ApplicationSet
	// regenerates the Application from a changed cluster secret.
	// (metadata.generation would not do: the Application CRD has no status
	// subresource, so status updates bump it too.)
	Spec string
}

// SyncedHealthy reports whether the Application is Synced and Healthy
// for its current spec, and not being deleted.
func (a Application) SyncedHealthy() bool {
	return a.Current && !a.Deleting && a.Sync == "Synced" && a.Health == "Healthy" && a.OperationPhase != "Running"
}

// applicationOf reads an Application object.
func applicationOf(u *unstructured.Unstructured) Application {
	str := func(path ...string) string { s, _, _ := unstructured.NestedString(u.Object, path...); return s }
	a := Application{Name: u.GetName(), Server: str("spec", "destination", "server"),
		Sync: str("status", "sync", "status"), Health: str("status", "health", "status"),
		Revision: str("status", "sync", "revision"), OperationPhase: str("status", "operationState", "phase"),
		Message:    str("status", "operationState", "message"),
		Finalizers: u.GetFinalizers(), Deleting: u.GetDeletionTimestamp() != nil}
	if spec, ok := u.Object["spec"]; ok {
		if b, err := json.Marshal(spec); err == nil {
			sum := sha256.Sum256(b)
			a.Spec = hex.EncodeToString(sum[:8])
		}
	}
	if a.Message == "" || a.OperationPhase == "Succeeded" {
		if m := str("status", "health", "message"); m != "" {
			a.Message = m
		}
	}
	specSrc, _, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "source")
	cmpSrc, _, _ := unstructured.NestedFieldNoCopy(u.Object, "status", "sync", "comparedTo", "source")
	specDst, _, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "destination")
	cmpDst, _, _ := unstructured.NestedFieldNoCopy(u.Object, "status", "sync", "comparedTo", "destination")
	a.Current = specSrc != nil && reflect.DeepEqual(specSrc, cmpSrc) && reflect.DeepEqual(specDst, cmpDst)
	return a
}

// ListApplications lists the Applications in namespace whose destination
// is the cluster at server ("" lists all), sorted by name.
func ListApplications(ctx context.Context, dyn dynamic.Interface, namespace, server string) ([]Application, error) {
	list, err := dyn.Resource(ApplicationGVR).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing Argo CD applications: %w", err)
	}
	var out []Application
	for i := range list.Items {
		a := applicationOf(&list.Items[i])
		if server == "" || a.Server == server {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(x, y Application) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}

// WaitApplications watches the Applications of the cluster at server
// until done says so, and returns them; ctx bounds the wait. done sees
// the whole set (possibly empty) after the first list and after every
// change. A watch that ends (the API server closes watches every few
// minutes) is resumed from the last resource version, or from a new list
// when that version has expired.
func WaitApplications(ctx context.Context, dyn dynamic.Interface, namespace, server string, done func([]Application) bool) ([]Application, error) {
	res := dyn.Resource(ApplicationGVR).Namespace(namespace)
	byName := map[string]Application{}
	current := func() []Application {
		out := make([]Application, 0, len(byName))
		for _, a := range byName {
			if server == "" || a.Server == server {
				out = append(out, a)
			}
		}
		slices.SortFunc(out, func(x, y Application) int { return strings.Compare(x.Name, y.Name) })
		return out
	}
	fail := func(err error) ([]Application, error) {
		return current(), fmt.Errorf("waiting for the applications of %s: %w", server, err)
	}
	rv := ""
	for {
		if rv == "" {
			list, err := res.List(ctx, metav1.ListOptions{})
			if err != nil {
				return fail(err)
			}
			clear(byName)
			for i := range list.Items {
				byName[list.Items[i].GetName()] = applicationOf(&list.Items[i])
			}
			rv = list.GetResourceVersion()
			if apps := current(); done(apps) {
				return apps, nil
			}
		}
		w, err := res.Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			return fail(err)
		}
		rv, err = drainWatch(ctx, w, rv, byName)
		w.Stop()
		switch {
		case errors.Is(err, errDone):
		case err != nil:
			return fail(err)
		}
		if apps := current(); done(apps) {
			return apps, nil
		}
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
	}
}

// errDone ends drainWatch after one change, so that the caller evaluates.
var errDone = errors.New("changed")

// drainWatch applies the next change from w to byName and returns the new
// resource version ("" when the watch expired and a list must follow).
func drainWatch(ctx context.Context, w watch.Interface, rv string, byName map[string]Application) (string, error) {
	for {
		select {
		case <-ctx.Done():
			return rv, ctx.Err()
		case ev, ok := <-w.ResultChan():
			if !ok {
				return rv, nil
			}
			switch ev.Type {
			case watch.Error:
				// Most often 410 Gone (the version expired); whatever it
				// is, a fresh list recovers.
				return "", nil
			case watch.Bookmark:
				if u, ok := ev.Object.(*unstructured.Unstructured); ok {
					rv = u.GetResourceVersion()
				}
				continue
			}
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			rv = u.GetResourceVersion()
			if ev.Type == watch.Deleted {
				delete(byName, u.GetName())
			} else {
				byName[u.GetName()] = applicationOf(u)
			}
			return rv, errDone
		}
	}
}

// NotReady describes the Applications done is waiting for, for an error
// message after a timeout: each one's name and states.
func NotReady(apps []Application) string {
	var parts []string
	for _, a := range apps {
		if a.SyncedHealthy() {
			continue
		}
		s := fmt.Sprintf("%s (%s/%s", a.Name, orUnknown(a.Sync), orUnknown(a.Health))
		if a.OperationPhase != "" {
			s += ", last sync " + a.OperationPhase
		}
		if a.Message != "" {
			s += ": " + a.Message
		}
		parts = append(parts, s+")")
	}
	return strings.Join(parts, "; ")
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}

// AllSyncedHealthy is a WaitApplications condition: at least want
// Applications, each Synced and Healthy for its current spec.
func AllSyncedHealthy(want int) func([]Application) bool {
	return func(apps []Application) bool {
		if len(apps) < want {
			return false
		}
		for _, a := range apps {
			if !a.SyncedHealthy() {
				return false
			}
		}
		return true
	}
}
