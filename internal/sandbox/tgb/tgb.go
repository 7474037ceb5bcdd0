// Package tgb is the sandbox's TargetGroupBinding controller: it does for
// the sandbox's clusters what the AWS Load Balancer Controller does for a
// TargetGroupBinding (elbv2.k8s.aws/v1beta1) of targetType ip. It installs
// the CRD on every cluster it is given, registers the ready endpoints of
// the bound Service (pod IP and port, from its EndpointSlices) in the
// target group through the ELBv2 API (RegisterTargets), deregisters those
// that go away or stop being ready (DeregisterTargets), and, when a
// binding is deleted, deregisters every target before it removes the
// binding's finalizer elbv2.k8s.aws/resources. It also tells the emulator
// which pod addresses are ready, so that the emulator's health checks
// follow pod readiness (emulator.Server.SetPodReadiness).
//
// As the real controller without pod readiness gates, it registers only
// ready endpoints, and it treats the target group as the binding's own:
// targets that no ready endpoint backs are deregistered
// (aws-load-balancer-controller pkg/targetgroupbinding/resource_manager.go,
// pkg/backend/endpoint_resolver.go).
package tgb

import (
	"cmp"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/eksbg/eksbg/internal/sandbox/kubeapply"
)

// CRD is the TargetGroupBinding CustomResourceDefinition.
//
//go:embed crd.yaml
var CRD []byte

// Finalizer is the finalizer the AWS Load Balancer Controller puts on a
// TargetGroupBinding, removed once its targets are deregistered.
const Finalizer = "elbv2.k8s.aws/resources"

// GVR is the TargetGroupBinding resource.
var GVR = schema.GroupVersionResource{Group: "elbv2.k8s.aws", Version: "v1beta1", Resource: "targetgroupbindings"}

// ELBv2API is what the controller calls of Elastic Load Balancing v2;
// *elasticloadbalancingv2.Client satisfies it.
type ELBv2API interface {
	DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
	RegisterTargets(ctx context.Context, in *elbv2.RegisterTargetsInput, optFns ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error)
	DeregisterTargets(ctx context.Context, in *elbv2.DeregisterTargetsInput, optFns ...func(*elbv2.Options)) (*elbv2.DeregisterTargetsOutput, error)
}

// ReadinessReporter learns which pod addresses of a cluster are ready;
// *emulator.Server satisfies it.
type ReadinessReporter interface {
	SetPodReadiness(cluster string, ready map[string]bool)
}

// Options configure a Controller.
type Options struct {
	ELB ELBv2API
	// Readiness, when set, is told the readiness of every endpoint
	// address of each cluster.
	Readiness ReadinessReporter
	// Resync is how often every binding is reconciled besides events
	// (target groups change outside Kubernetes); default 10 s.
	Resync time.Duration
	Logger *slog.Logger
}

// Controller runs the TargetGroupBinding controller for a set of clusters.
type Controller struct {
	opts Options

	mu       sync.Mutex
	clusters map[string]*worker
}

// New returns a Controller with no clusters.
func New(opts Options) *Controller {
	if opts.Resync <= 0 {
		opts.Resync = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Controller{opts: opts, clusters: map[string]*worker{}}
}

// InstallCRD applies the TargetGroupBinding CRD to the cluster cfg reaches
// and waits until it is established.
func InstallCRD(ctx context.Context, cfg *rest.Config) error {
	a, err := kubeapply.New(cfg, "eksbg-sandbox")
	if err != nil {
		return err
	}
	objs, err := kubeapply.Decode(CRD)
	if err != nil {
		return err
	}
	if err := a.Apply(ctx, objs...); err != nil {
		return fmt.Errorf("installing the TargetGroupBinding CRD: %w", err)
	}
	return nil
}

// AddCluster installs the CRD on the named cluster and starts reconciling
// its bindings. Adding a cluster twice is a no-op.
func (c *Controller) AddCluster(ctx context.Context, name string, cfg *rest.Config) error {
	c.mu.Lock()
	_, dup := c.clusters[name]
	c.mu.Unlock()
	if dup {
		return nil
	}
	if err := InstallCRD(ctx, cfg); err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	w, err := newWorker(c.opts, name, cfg)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.clusters[name]; dup {
		return nil
	}
	c.clusters[name] = w
	w.start(ctx)
	return nil
}

// RemoveCluster stops reconciling a cluster (its API server is going
// away) and forgets its pods' readiness.
func (c *Controller) RemoveCluster(name string) {
	c.mu.Lock()
	w, ok := c.clusters[name]
	delete(c.clusters, name)
	c.mu.Unlock()
	if ok {
		w.stop()
		if c.opts.Readiness != nil {
			c.opts.Readiness.SetPodReadiness(name, nil)
		}
	}
}

// Clusters lists the clusters reconciled, sorted.
func (c *Controller) Clusters() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(maps.Keys(c.clusters))
}

// Close stops every cluster's worker.
func (c *Controller) Close() {
	for _, name := range c.Clusters() {
		c.RemoveCluster(name)
	}
}

// readinessKey is the queue key that recomputes the cluster's pod
// readiness; binding keys are namespace/name and never start with "!".
const readinessKey = "!readiness"

// worker reconciles one cluster's bindings.
type worker struct {
	opts    Options
	cluster string
	kube    kubernetes.Interface
	dyn     dynamic.Interface

	kinf   informers.SharedInformerFactory
	dinf   dynamicinformer.DynamicSharedInformerFactory
	tgbs   cache.GenericLister
	svcs   cache.Indexer
	slices cache.Indexer
	queue  workqueue.TypedRateLimitingInterface[string]

	cancel context.CancelFunc
	done   sync.WaitGroup
}

func newWorker(opts Options, cluster string, cfg *rest.Config) (*worker, error) {
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("building a client: %w", err)
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("building a dynamic client: %w", err)
	}
	w := &worker{opts: opts, cluster: cluster, kube: kc, dyn: dc,
		kinf:  informers.NewSharedInformerFactory(kc, opts.Resync),
		dinf:  dynamicinformer.NewDynamicSharedInformerFactory(dc, opts.Resync),
		queue: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())}
	ti := w.dinf.ForResource(GVR)
	w.tgbs = ti.Lister()
	si := w.kinf.Core().V1().Services().Informer()
	ei := w.kinf.Discovery().V1().EndpointSlices().Informer()
	w.svcs, w.slices = si.GetIndexer(), ei.GetIndexer()
	onBinding := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			w.queue.Add(key)
		}
	}
	if _, err := ti.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: onBinding, UpdateFunc: func(_, obj any) { onBinding(obj) }, DeleteFunc: onBinding,
	}); err != nil {
		return nil, err
	}
	onService := func(obj any) { w.enqueueForService(obj) }
	for _, inf := range []cache.SharedIndexInformer{si, ei} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: onService, UpdateFunc: func(_, obj any) { onService(obj) }, DeleteFunc: onService,
		}); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// enqueueForService queues the bindings of the Service an object (a
// Service or one of its EndpointSlices) belongs to, and the readiness
// report.
func (w *worker) enqueueForService(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	var ns, svc string
	switch o := obj.(type) {
	case *corev1.Service:
		ns, svc = o.Namespace, o.Name
	case *discoveryv1.EndpointSlice:
		ns, svc = o.Namespace, o.Labels[discoveryv1.LabelServiceName]
		w.queue.Add(readinessKey)
	default:
		return
	}
	objs, err := w.tgbs.ByNamespace(ns).List(labels.Everything())
	if err != nil {
		return
	}
	for _, o := range objs {
		u, ok := o.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		if name, _, _ := unstructured.NestedString(u.Object, "spec", "serviceRef", "name"); name == svc {
			w.queue.Add(u.GetNamespace() + "/" + u.GetName())
		}
	}
}

func (w *worker) start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	w.kinf.Start(ctx.Done())
	w.dinf.Start(ctx.Done())
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		w.kinf.WaitForCacheSync(ctx.Done())
		w.dinf.WaitForCacheSync(ctx.Done())
		w.queue.Add(readinessKey)
		for w.next(ctx) {
		}
	}()
}

func (w *worker) stop() {
	w.cancel()
	w.queue.ShutDown()
	w.done.Wait()
	w.kinf.Shutdown()
	w.dinf.Shutdown()
}

func (w *worker) next(ctx context.Context) bool {
	key, quit := w.queue.Get()
	if quit {
		return false
	}
	defer w.queue.Done(key)
	var err error
	if key == readinessKey {
		w.reportReadiness()
	} else {
		err = w.reconcile(ctx, key)
	}
	if err != nil && ctx.Err() == nil {
		w.opts.Logger.Warn("reconciling TargetGroupBinding", "cluster", w.cluster, "binding", key, "error", err)
		w.queue.AddRateLimited(key)
		return true
	}
	w.queue.Forget(key)
	return true
}

// reportReadiness tells the reporter whether each endpoint address of the
// cluster is ready.
func (w *worker) reportReadiness() {
	if w.opts.Readiness == nil {
		return
	}
	ready := map[string]bool{}
	for _, o := range w.slices.List() {
		s, ok := o.(*discoveryv1.EndpointSlice)
		if !ok {
			continue
		}
		for _, ep := range s.Endpoints {
			for _, a := range ep.Addresses {
				ready[a] = ready[a] || endpointReady(ep)
			}
		}
	}
	w.opts.Readiness.SetPodReadiness(w.cluster, ready)
}

// endpointReady follows the EndpointSlice API: a nil ready condition means
// ready.
func endpointReady(ep discoveryv1.Endpoint) bool {
	return ep.Conditions.Ready == nil || *ep.Conditions.Ready
}

// binding is the part of a TargetGroupBinding the controller reads.
type binding struct {
	TargetGroupARN string     `json:"targetGroupARN"`
	TargetType     string     `json:"targetType"`
	ServiceRef     serviceRef `json:"serviceRef"`
}

type serviceRef struct {
	Name string             `json:"name"`
	Port intstr.IntOrString `json:"port"`
}

// target is a registered or wanted target: an IP address and port.
type target struct {
	ip   string
	port int32
}

func (w *worker) reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	obj, err := w.tgbs.ByNamespace(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil
	}
	var spec binding
	if raw, ok := u.Object["spec"].(map[string]any); ok {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &spec); err != nil {
			return fmt.Errorf("reading the spec: %w", err)
		}
	}
	log := w.opts.Logger.With("cluster", w.cluster, "binding", key)
	if u.GetDeletionTimestamp() != nil {
		if !slices.Contains(u.GetFinalizers(), Finalizer) {
			return nil
		}
		if err := w.deregisterAll(ctx, spec.TargetGroupARN); err != nil {
			return err
		}
		log.Info("targets deregistered; removing the finalizer", "targetGroup", spec.TargetGroupARN)
		return w.setFinalizer(ctx, u, false)
	}
	if !slices.Contains(u.GetFinalizers(), Finalizer) {
		// The finalizer goes on before any target is registered, so a
		// deletion always finds it.
		return w.setFinalizer(ctx, u, true)
	}
	if spec.TargetType != "" && spec.TargetType != "ip" {
		return fmt.Errorf("targetType %q: the sandbox's controller binds ip targets only", spec.TargetType)
	}
	want, err := w.desiredTargets(ns, spec.ServiceRef)
	if err != nil {
		return err
	}
	have, err := w.registered(ctx, spec.TargetGroupARN)
	if err != nil {
		return err
	}
	var add, remove []target
	for t := range want {
		if !have[t] {
			add = append(add, t)
		}
	}
	for t := range have {
		if !want[t] {
			remove = append(remove, t)
		}
	}
	if len(add) > 0 {
		if _, err := w.opts.ELB.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{
			TargetGroupArn: aws.String(spec.TargetGroupARN), Targets: descriptions(add)}); err != nil {
			return fmt.Errorf("registering targets: %w", err)
		}
		log.Info("registered targets", "targets", render(add))
	}
	if len(remove) > 0 {
		if _, err := w.opts.ELB.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{
			TargetGroupArn: aws.String(spec.TargetGroupARN), Targets: descriptions(remove)}); err != nil {
			return fmt.Errorf("deregistering targets: %w", err)
		}
		log.Info("deregistered targets", "targets", render(remove))
	}
	if g, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration"); g != u.GetGeneration() {
		st := u.DeepCopy()
		if err := unstructured.SetNestedField(st.Object, st.GetGeneration(), "status", "observedGeneration"); err != nil {
			return err
		}
		if _, err := w.dyn.Resource(GVR).Namespace(ns).UpdateStatus(ctx, st, metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) {
			return fmt.Errorf("updating the status: %w", err)
		}
	}
	return nil
}

// desiredTargets are the ready endpoints of the Service's port the binding
// names: pod IP and the endpoint's port for that service port.
func (w *worker) desiredTargets(ns string, ref serviceRef) (map[target]bool, error) {
	obj, ok, err := w.svcs.GetByKey(ns + "/" + ref.Name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("service %s/%s not found", ns, ref.Name)
	}
	svc := obj.(*corev1.Service)
	var sp *corev1.ServicePort
	for i, p := range svc.Spec.Ports {
		if (ref.Port.Type == intstr.Int && p.Port == ref.Port.IntVal) || (ref.Port.Type == intstr.String && p.Name == ref.Port.StrVal) {
			sp = &svc.Spec.Ports[i]
			break
		}
	}
	if sp == nil {
		return nil, fmt.Errorf("service %s/%s has no port %s", ns, ref.Name, ref.Port.String())
	}
	objs, err := w.slices.ByIndex(cache.NamespaceIndex, ns)
	if err != nil {
		return nil, err
	}
	want := map[target]bool{}
	for _, o := range objs {
		s := o.(*discoveryv1.EndpointSlice)
		if s.Labels[discoveryv1.LabelServiceName] != svc.Name || s.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		var port *int32
		for _, p := range s.Ports {
			if p.Name != nil && *p.Name == sp.Name && p.Port != nil {
				port = p.Port
			}
		}
		if port == nil {
			continue
		}
		for _, ep := range s.Endpoints {
			if !endpointReady(ep) {
				continue
			}
			for _, a := range ep.Addresses {
				want[target{ip: a, port: *port}] = true
			}
		}
	}
	return want, nil
}

// registered are the target group's targets that are not on their way
// out (draining or no longer registered).
func (w *worker) registered(ctx context.Context, arn string) (map[target]bool, error) {
	out, err := w.opts.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("describing the health of target group %s: %w", arn, err)
	}
	have := map[target]bool{}
	for _, d := range out.TargetHealthDescriptions {
		if d.Target == nil || d.TargetHealth == nil {
			continue
		}
		switch d.TargetHealth.State {
		case elbtypes.TargetHealthStateEnumDraining:
			continue
		case elbtypes.TargetHealthStateEnumUnused:
			if d.TargetHealth.Reason == elbtypes.TargetHealthReasonEnumNotRegistered {
				continue
			}
		}
		have[target{ip: aws.ToString(d.Target.Id), port: aws.ToInt32(d.Target.Port)}] = true
	}
	return have, nil
}

// deregisterAll deregisters every target of the group and checks that
// none is left registered.
func (w *worker) deregisterAll(ctx context.Context, arn string) error {
	if arn == "" {
		return nil
	}
	have, err := w.registered(ctx, arn)
	if err != nil {
		var nf *elbtypes.TargetGroupNotFoundException
		if errors.As(err, &nf) {
			return nil // nothing is left to deregister from
		}
		return err
	}
	if len(have) == 0 {
		return nil
	}
	ts := slices.Collect(maps.Keys(have))
	if _, err := w.opts.ELB.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: descriptions(ts)}); err != nil {
		return fmt.Errorf("deregistering targets: %w", err)
	}
	left, err := w.registered(ctx, arn)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return fmt.Errorf("%d targets of %s are still registered after DeregisterTargets", len(left), arn)
	}
	return nil
}

// setFinalizer adds or removes the binding's finalizer.
func (w *worker) setFinalizer(ctx context.Context, u *unstructured.Unstructured, on bool) error {
	o := u.DeepCopy()
	fs := slices.DeleteFunc(o.GetFinalizers(), func(f string) bool { return f == Finalizer })
	if on {
		fs = append(fs, Finalizer)
	}
	o.SetFinalizers(fs)
	_, err := w.dyn.Resource(GVR).Namespace(o.GetNamespace()).Update(ctx, o, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("updating the finalizers: %w", err)
	}
	return nil
}

func descriptions(ts []target) []elbtypes.TargetDescription {
	slices.SortFunc(ts, func(a, b target) int { return cmp.Or(cmp.Compare(a.ip, b.ip), cmp.Compare(a.port, b.port)) })
	out := make([]elbtypes.TargetDescription, len(ts))
	for i, t := range ts {
		out[i] = elbtypes.TargetDescription{Id: aws.String(t.ip), Port: aws.Int32(t.port)}
	}
	return out
}

func render(ts []target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ip + ":" + strconv.Itoa(int(t.port))
	}
	return out
}
