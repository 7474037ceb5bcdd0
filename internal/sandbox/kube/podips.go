package kube

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// podIPAM gives pods their IPs as the VPC CNI does: a pod on a node gets
// one of the secondary addresses (or prefix addresses) that the
// emulator's model holds on that node's ENIs, so every pod IP is an
// address DescribeNetworkInterfaces shows on the node's instance; a
// host-network pod gets the node's primary address. When a node has no
// free address left its new pods stay Pending, with the event the VPC CNI
// causes, until a pod there goes away. kwok's pod-ready stage waits for
// the IP (stages/pod-ready.yaml).
//
// The emulator's model holds the addresses the CNI converges to for the
// node group's pods-per-node; unlike ipamd it does not attach more when
// pods outgrow them.
type podIPAM struct {
	client kubernetes.Interface
	logger *slog.Logger
	queue  workqueue.TypedRateLimitingInterface[string]

	mu      sync.Mutex
	lister  corelisters.PodLister // set once the informer runs
	pools   map[string]*ipPool    // by node name
	holders map[types.UID]holding // pod UID -> its address
	warned  map[types.UID]bool    // pods told there is no address
}

// ipPool is one node's pod addresses.
type ipPool struct {
	hostIP string
	order  []string             // the addresses, in the order they are handed out
	used   map[string]types.UID // address -> pod
}

type holding struct{ node, ip string }

func newPodIPAM(client kubernetes.Interface, logger *slog.Logger) *podIPAM {
	return &podIPAM{client: client, logger: logger,
		queue:   workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
		pools:   map[string]*ipPool{},
		holders: map[types.UID]holding{}, warned: map[types.UID]bool{}}
}

// run watches the pods bound to nodes and assigns addresses until ctx ends.
func (m *podIPAM) run(ctx context.Context) {
	defer m.queue.ShutDown()
	factory := informers.NewSharedInformerFactoryWithOptions(m.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "spec.nodeName!=" }))
	inf := factory.Core().V1().Pods()
	enqueue := func(obj any) {
		if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
			m.queue.Add(key)
		}
	}
	_, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				m.release(pod.UID)
			}
		},
	})
	if err != nil {
		m.logger.Error("watching pods for IP assignment", "error", err)
		return
	}
	m.mu.Lock()
	m.lister = inf.Lister()
	m.mu.Unlock()
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
		return
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m.next(ctx) {
			}
		}()
	}
	<-ctx.Done()
	m.queue.ShutDown()
	wg.Wait()
}

func (m *podIPAM) next(ctx context.Context) bool {
	key, quit := m.queue.Get()
	if quit {
		return false
	}
	defer m.queue.Done(key)
	if err := m.sync(ctx, key); err != nil {
		m.logger.Warn("assigning a pod IP", "pod", key, "error", err)
		m.queue.AddRateLimited(key)
		return true
	}
	m.queue.Forget(key)
	return true
}

// sync brings one pod's address in line with its state.
func (m *podIPAM) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	m.mu.Lock()
	lister := m.lister
	m.mu.Unlock()
	pod, err := lister.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil // released by the delete handler
	}
	if err != nil {
		return err
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		m.release(pod.UID) // the CNI frees a finished pod's address
		return nil
	}
	if pod.Status.PodIP != "" {
		m.adopt(pod)
		return nil
	}
	if pod.DeletionTimestamp != nil {
		return nil
	}
	ip, ok, known := m.assign(pod)
	if !known {
		return nil // not a sandbox node (yet): setNodes requeues
	}
	if !ok {
		m.warnNoAddress(ctx, pod)
		return nil
	}
	patch := fmt.Sprintf(`{"status":{"podIP":%q,"podIPs":[{"ip":%q}]}}`, ip, ip)
	_, err = m.client.CoreV1().Pods(ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
	if err != nil {
		m.release(pod.UID)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("setting the IP of pod %s: %w", key, err)
	}
	return nil
}

// assign reserves an address for a pod: known is false if the pod's node
// is not one of the sandbox's, ok false if the node has none free.
func (m *podIPAM) assign(pod *corev1.Pod) (ip string, ok, known bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pool, known := m.pools[pod.Spec.NodeName]
	if !known {
		return "", false, false
	}
	if pod.Spec.HostNetwork {
		return pool.hostIP, true, true
	}
	if h, held := m.holders[pod.UID]; held && h.node == pod.Spec.NodeName {
		return h.ip, true, true
	}
	for _, a := range pool.order {
		if _, used := pool.used[a]; !used {
			pool.used[a] = pod.UID
			m.holders[pod.UID] = holding{node: pod.Spec.NodeName, ip: a}
			return a, true, true
		}
	}
	return "", false, true
}

// adopt records an address a pod already has (after a restart of the
// sandbox's controllers, or one assigned just before).
func (m *podIPAM) adopt(pod *corev1.Pod) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pool, ok := m.pools[pod.Spec.NodeName]
	if !ok || pod.Spec.HostNetwork {
		return
	}
	if _, mine := pool.used[pod.Status.PodIP]; mine {
		return
	}
	for _, a := range pool.order {
		if a == pod.Status.PodIP {
			pool.used[a] = pod.UID
			m.holders[pod.UID] = holding{node: pod.Spec.NodeName, ip: a}
			return
		}
	}
}

// release frees a pod's address and retries the pods waiting for one on
// that node.
func (m *podIPAM) release(uid types.UID) {
	m.mu.Lock()
	h, ok := m.holders[uid]
	delete(m.holders, uid)
	delete(m.warned, uid)
	if ok {
		if pool, exists := m.pools[h.node]; exists && pool.used[h.ip] == uid {
			delete(pool.used, h.ip)
		}
	}
	m.mu.Unlock()
	if ok {
		m.requeueWaiting(h.node)
	}
}

// setNodes replaces the nodes' address pools, keeping the addresses pods
// hold that their node still has.
func (m *podIPAM) setNodes(nodes []Node) {
	m.mu.Lock()
	pools := map[string]*ipPool{}
	for _, n := range nodes {
		p := &ipPool{hostIP: n.PrivateIP, order: n.PodIPs, used: map[string]types.UID{}}
		if old, ok := m.pools[n.Name]; ok {
			for _, a := range n.PodIPs {
				if uid, used := old.used[a]; used {
					p.used[a] = uid
				}
			}
		}
		pools[n.Name] = p
	}
	for uid, h := range m.holders {
		if p, ok := pools[h.node]; !ok || p.used[h.ip] != uid {
			delete(m.holders, uid)
		}
	}
	m.pools = pools
	m.mu.Unlock()
	m.requeueWaiting("")
}

// requeueWaiting queues the pods without an address, on node (or on every
// node when node is "").
func (m *podIPAM) requeueWaiting(node string) {
	m.mu.Lock()
	lister := m.lister
	m.mu.Unlock()
	if lister == nil {
		return
	}
	pods, err := lister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, p := range pods {
		if p.Status.PodIP == "" && (node == "" || p.Spec.NodeName == node) {
			if key, err := cache.MetaNamespaceKeyFunc(p); err == nil {
				m.queue.Add(key)
			}
		}
	}
}

// warnNoAddress records, once per pod, the event the kubelet reports when
// the VPC CNI has no address for a pod.
func (m *podIPAM) warnNoAddress(ctx context.Context, pod *corev1.Pod) {
	m.mu.Lock()
	done := m.warned[pod.UID]
	m.warned[pod.UID] = true
	m.mu.Unlock()
	if done {
		return
	}
	now := metav1.NewTime(time.Now())
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: pod.Name + ".", Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
			APIVersion: "v1", ResourceVersion: pod.ResourceVersion},
		Reason: "FailedCreatePodSandBox", Type: corev1.EventTypeWarning, Count: 1, FirstTimestamp: now, LastTimestamp: now,
		Source: corev1.EventSource{Component: "kubelet", Host: pod.Spec.NodeName},
		Message: `Failed to create pod sandbox: plugin type="aws-cni" name="aws-cni" failed (add): add cmd: ` +
			`failed to assign an IP address to container`,
	}
	if _, err := m.client.CoreV1().Events(pod.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		m.logger.Warn("recording a pod's missing IP", "pod", pod.Namespace+"/"+pod.Name, "error", err)
	}
}
