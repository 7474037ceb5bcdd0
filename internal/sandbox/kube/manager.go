package kube

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/eksbg/eksbg/internal/sandbox/emulator"
)

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	// Emulator is the AWS API emulator whose EKS clusters get control planes.
	Emulator *emulator.Server
	// Dir holds etcd's data and one directory per cluster (certificates,
	// kubeconfigs, logs). What the Manager puts there is recreated on start.
	Dir string
	// Binaries are the executables; nil means LocateBinaries.
	Binaries *Binaries
	// TokenWebhookURL returns the URL of the TokenReview webhook that
	// checks a cluster's bearer tokens (EmulatorTokenWebhook serves the
	// emulator's); nil runs the API servers without one.
	TokenWebhookURL func(cluster string) string
	// TokenWebhookCA verifies an https webhook.
	TokenWebhookCA []byte
	// Resync is how often the Manager looks at the emulator besides its
	// events (moving time-driven transitions on); default one second.
	Resync time.Duration
	// Logger; default discards.
	Logger *slog.Logger
}

// EmulatorTokenWebhook returns the URLs of the emulator's TokenReview
// webhook (emulator.AuthnWebhookPath) for an emulator served at baseURL.
func EmulatorTokenWebhook(baseURL string) func(cluster string) string {
	return func(cluster string) string { return baseURL + emulator.AuthnWebhookPath(cluster) }
}

// Manager runs a control plane for every EKS cluster of the emulator:
// it starts one when a cluster is created (holding the cluster in
// CREATING until the API server is ready, bootstrapped and its endpoint
// published), registers a kwok node per instance of the cluster's node
// groups and removes them as instances go, and stops the control plane
// when the cluster is deleted (DELETING) or fails.
type Manager struct {
	opts   ManagerOptions
	bins   Binaries
	etcd   *Etcd
	cancel context.CancelFunc
	loop   sync.WaitGroup

	trigger     chan struct{}
	unsubscribe func()

	mu        sync.Mutex // guards workers, gen and closed
	workers   map[string]*clusterWorker
	closed    bool
	all       sync.WaitGroup // of every worker, stopped ones included
	reconcile sync.Mutex     // one reconciliation at a time
	gen       int
}

// StartManager locates the binaries, starts etcd, attaches to the
// emulator (HoldForControlPlanes, Subscribe) and begins starting control
// planes for its clusters, concurrently. WaitReady waits for them. ctx
// bounds the start only: the Manager runs until Close.
func StartManager(ctx context.Context, opts ManagerOptions) (*Manager, error) {
	if opts.Emulator == nil {
		return nil, errors.New("kube: ManagerOptions.Emulator is required")
	}
	if opts.Resync <= 0 {
		opts.Resync = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	bins := opts.Binaries
	if bins == nil {
		b, err := LocateBinaries()
		if err != nil {
			return nil, err
		}
		bins = &b
	}
	// The directories of the clusters of an earlier run go (their etcd
	// data does too: StartEtcd starts afresh).
	if err := os.RemoveAll(filepath.Join(opts.Dir, "clusters")); err != nil {
		return nil, fmt.Errorf("emptying the control planes' directory: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "clusters"), 0o700); err != nil {
		return nil, fmt.Errorf("creating the control planes' directory: %w", err)
	}
	etcd, err := StartEtcd(ctx, *bins, filepath.Join(opts.Dir, "etcd"))
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m := &Manager{opts: opts, bins: *bins, etcd: etcd, cancel: cancel, trigger: make(chan struct{}, 1),
		workers: map[string]*clusterWorker{}}
	opts.Emulator.HoldForControlPlanes(true)
	m.unsubscribe = opts.Emulator.Subscribe(func(emulator.Event) { m.poke() })
	m.sync(lctx)
	m.loop.Add(1)
	go func() {
		defer m.loop.Done()
		m.run(lctx)
	}()
	return m, nil
}

// poke asks the loop to look at the emulator now; it never blocks (the
// emulator calls it while answering an API call).
func (m *Manager) poke() {
	select {
	case m.trigger <- struct{}{}:
	default:
	}
}

func (m *Manager) run(ctx context.Context) {
	t := time.NewTicker(m.opts.Resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.trigger:
		case <-t.C:
		}
		m.sync(ctx)
	}
}

// wanted says whether a cluster in this state has a control plane: from
// creation (so that it is ready when EKS would be) until deletion starts.
func wanted(status string) bool {
	switch status {
	case emulator.StatusCreating, emulator.StatusActive, emulator.StatusUpdating:
		return true
	}
	return false
}

// sync hands each wanted cluster's state to its worker, starting workers
// for new clusters and stopping those of clusters gone.
func (m *Manager) sync(ctx context.Context) {
	m.reconcile.Lock()
	defer m.reconcile.Unlock()
	clusters := m.opts.Emulator.ControlPlaneClusters()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	seen := map[string]bool{}
	for _, c := range clusters {
		if !wanted(c.Status) {
			continue
		}
		seen[c.Name] = true
		w, ok := m.workers[c.Name]
		if !ok {
			m.gen++
			w = newClusterWorker(m, c.Name, filepath.Join(m.opts.Dir, "clusters", fmt.Sprintf("%s-%d", c.Name, m.gen)))
			m.workers[c.Name] = w
			m.all.Add(1)
			go func() {
				defer m.all.Done()
				w.run(ctx)
			}()
		}
		w.offer(c)
	}
	for name, w := range m.workers {
		if !seen[name] {
			w.retire()
			delete(m.workers, name)
		}
	}
}

// WaitReady waits until every cluster the emulator has (but those being
// deleted) has its control plane ready and bootstrapped, its nodes
// registered and Ready, and its endpoint published. It returns the
// clusters' start errors, joined.
func (m *Manager) WaitReady(ctx context.Context) error {
	m.sync(ctx)
	m.mu.Lock()
	workers := slices.Collect(maps.Values(m.workers))
	m.mu.Unlock()
	var errs []error
	for _, w := range workers {
		select {
		case <-w.ready:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the control plane of %s: %w", w.name, ctx.Err())
		}
		cp, err := w.state()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := cp.WaitNodesReady(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// WaitNodesReady waits until every node the sandbox registered reports Ready.
func (cp *ControlPlane) WaitNodesReady(ctx context.Context) error {
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := cp.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil // keep trying until the timeout
		}
		for _, n := range list.Items {
			if n.Annotations[kwokNodeAnnotation] == kwokNodeAnnotationValue && !nodeReady(&n) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the nodes of %s to be Ready: %w", cp.name, err)
	}
	return nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// ControlPlane returns a cluster's control plane once it runs.
func (m *Manager) ControlPlane(cluster string) (*ControlPlane, bool) {
	m.mu.Lock()
	w, ok := m.workers[cluster]
	m.mu.Unlock()
	if !ok {
		return nil, false
	}
	cp, err := w.state()
	return cp, err == nil && cp != nil
}

// ClusterStatus is what `sandbox status` shows of a control plane.
type ClusterStatus struct {
	Cluster  string
	Endpoint string
	Dir      string
	// PIDs maps each running component to its process id.
	PIDs map[string]int
	// Err is why the control plane did not start, or which of its
	// components exited.
	Err error
}

// Status lists the control planes, by cluster name.
func (m *Manager) Status() []ClusterStatus {
	m.mu.Lock()
	workers := slices.SortedFunc(maps.Values(m.workers), func(a, b *clusterWorker) int { return cmp.Compare(a.name, b.name) })
	m.mu.Unlock()
	var out []ClusterStatus
	for _, w := range workers {
		cp, err := w.state()
		st := ClusterStatus{Cluster: w.name, Dir: w.dir, Err: err}
		if cp != nil {
			st.Endpoint, st.PIDs = cp.Endpoint(), cp.PIDs()
			if err == nil {
				st.Err = errors.Join(cp.Exited()...)
			}
		}
		out = append(out, st)
	}
	return out
}

// PIDs lists the process ids of every process the Manager runs, etcd's included.
func (m *Manager) PIDs() []int {
	out := []int{m.etcd.PID()}
	for _, st := range m.Status() {
		for _, pid := range st.PIDs {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out
}

// Close stops every control plane, concurrently, then etcd, and detaches
// from the emulator. Nothing the Manager started is left running.
func (m *Manager) Close() error {
	m.cancel()
	m.loop.Wait()
	m.unsubscribe()
	m.mu.Lock()
	m.closed = true
	for name, w := range m.workers {
		w.retire()
		delete(m.workers, name)
	}
	m.mu.Unlock()
	m.all.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*stopGrace)
	defer cancel()
	err := m.etcd.Stop(ctx)
	m.opts.Emulator.HoldForControlPlanes(false)
	return err
}

// clusterWorker owns one cluster's control plane: it starts it, keeps its
// nodes in step with the emulator and stops it when retired.
type clusterWorker struct {
	m       *Manager
	name    string
	dir     string
	updates chan emulator.ControlPlaneCluster // latest state, capacity 1
	ready   chan struct{}                     // closed once started (or failed)
	once    sync.Once

	mu  sync.Mutex
	cp  *ControlPlane
	err error
}

func newClusterWorker(m *Manager, name, dir string) *clusterWorker {
	return &clusterWorker{m: m, name: name, dir: dir, updates: make(chan emulator.ControlPlaneCluster, 1), ready: make(chan struct{})}
}

// offer hands the worker the cluster's latest state, replacing one it has
// not taken yet. Only the Manager's sync, under its lock, calls it.
func (w *clusterWorker) offer(c emulator.ControlPlaneCluster) {
	for {
		select {
		case w.updates <- c:
			return
		default:
			select {
			case <-w.updates:
			default:
			}
		}
	}
}

// retire tells the worker to stop the control plane and end.
func (w *clusterWorker) retire() { close(w.updates) }

func (w *clusterWorker) state() (*ControlPlane, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cp, w.err
}

func (w *clusterWorker) markReady() { w.once.Do(func() { close(w.ready) }) }

func (w *clusterWorker) run(ctx context.Context) {
	logger := w.m.opts.Logger.With("cluster", w.name)
	defer w.markReady()
	var (
		cp           *ControlPlane
		failed       bool
		bootstrapped bool
		lastNodes    string
		published    bool
	)
	for c := range w.updates {
		if failed {
			continue
		}
		if cp == nil {
			start := time.Now()
			var err error
			cp, err = w.start(ctx, c)
			if err != nil {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
				failed = true
				if ctx.Err() == nil { // not the Manager closing
					logger.Error("starting the control plane", "error", err)
					w.m.opts.Emulator.FailControlPlane(w.name)
				}
				w.markReady()
				continue
			}
			logger.Info("control plane running", "endpoint", cp.Endpoint(), "seconds", time.Since(start).Seconds())
			w.mu.Lock()
			w.cp = cp
			w.mu.Unlock()
		}
		if !bootstrapped {
			err := cp.Bootstrap(ctx, BootstrapConfig{ClusterName: c.Name, Region: c.Region, VPCID: c.VPCID,
				ServiceCIDR: c.ServiceCIDR, CNI: c.CNI, Versions: c.SelfManaged})
			if err != nil {
				logger.Warn("bootstrapping the cluster's components (retrying)", "error", err)
			}
			bootstrapped = err == nil
		}
		nodes := NodesFor(c)
		fp, _ := json.Marshal(nodes)
		if string(fp) != lastNodes {
			if err := cp.SyncNodes(ctx, nodes); err != nil {
				logger.Warn("registering the cluster's nodes (retrying)", "error", err)
			} else if err := cp.SyncLoad(ctx, c, coreDNSReplicas); err != nil {
				logger.Warn("starting the scenario's pods (retrying)", "error", err)
			} else {
				lastNodes = string(fp)
			}
		}
		if !published && bootstrapped {
			if err := w.m.opts.Emulator.SetControlPlane(w.name, cp.Endpoint(), cp.CAPEM()); err != nil {
				logger.Warn("publishing the endpoint", "error", err)
			} else {
				published = true
				w.markReady()
			}
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*stopGrace)
	defer cancel()
	if cp != nil {
		if err := cp.Stop(sctx); err != nil {
			logger.Error("stopping the control plane", "error", err)
		}
	}
	// The cluster's objects go with it (the next cluster of the same name
	// gets a prefix of its own anyway).
	if err := w.m.etcd.DeletePrefix(sctx, w.etcdPrefix()); err != nil {
		logger.Warn("deleting the cluster's objects from etcd", "error", err)
	}
}

// etcdPrefix is the worker's own key prefix: /clusters/<name>-<generation>/.
func (w *clusterWorker) etcdPrefix() string { return "/clusters/" + filepath.Base(w.dir) + "/" }

func (w *clusterWorker) start(ctx context.Context, c emulator.ControlPlaneCluster) (*ControlPlane, error) {
	cfg := ClusterConfig{Name: c.Name, EtcdPrefix: w.etcdPrefix(), ServiceCIDR: c.ServiceCIDR, Issuer: c.OIDCIssuer, Logger: w.m.opts.Logger,
		TokenWebhookCA: w.m.opts.TokenWebhookCA}
	if len(c.ControlPlaneIPs) > 0 {
		cfg.AdvertiseIP = c.ControlPlaneIPs[0]
	}
	if w.m.opts.TokenWebhookURL != nil {
		cfg.TokenWebhookURL = w.m.opts.TokenWebhookURL(c.Name)
	}
	return StartControlPlane(ctx, w.m.bins, w.m.etcd, w.dir, cfg)
}

// RSS sums the resident memory of every process the Manager runs, as
// /proc/<pid>/status reports it (VmRSS).
func (m *Manager) RSS() (int64, error) {
	var total int64
	for _, pid := range m.PIDs() {
		n, err := ProcessRSS(pid)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// ProcessRSS reads a process's resident set size in bytes (Linux).
func ProcessRSS(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, fmt.Errorf("reading the memory of process %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("reading the memory of process %d: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("reading the memory of process %d: no VmRSS", pid)
}
