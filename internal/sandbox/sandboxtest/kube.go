package sandboxtest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eks"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/internal/kubeaccess"
	"github.com/eksbg/eksbg/internal/sandbox/kube"
)

// World is an emulator with a real control plane (etcd, kube-apiserver,
// controller manager, scheduler, kwok nodes) for each of its EKS clusters.
type World struct {
	*Env
	// Manager runs the control planes; World.Close stops it.
	Manager *kube.Manager
	// Dir is the Manager's directory (etcd's data, one directory per cluster).
	Dir string

	closeOnce sync.Once
	closeErr  error
}

// KubeOption adjusts the Manager's options before it starts.
type KubeOption func(*kubeOptions)

type kubeOptions struct {
	mgr     kube.ManagerOptions
	timeout time.Duration
}

// WithKubeDir puts the Manager's files in dir instead of a fresh
// temporary directory (a test that looks there, or keeps Argo CD's
// directory beside it).
func WithKubeDir(dir string) KubeOption { return func(o *kubeOptions) { o.mgr.Dir = dir } }

// WithResync sets how often the Manager looks at the emulator besides its
// events (kube.ManagerOptions.Resync).
func WithResync(d time.Duration) KubeOption { return func(o *kubeOptions) { o.mgr.Resync = d } }

// WithLogger sets the Manager's logger (Logger(t) logs to the test).
func WithLogger(l *slog.Logger) KubeOption { return func(o *kubeOptions) { o.mgr.Logger = l } }

// WithReadyTimeout bounds the wait for the control planes (default 5 minutes).
func WithReadyTimeout(d time.Duration) KubeOption { return func(o *kubeOptions) { o.timeout = d } }

// StartKube starts a control plane for each of env's EKS clusters, with
// the emulator's TokenReview webhook (so EKS tokens work), and waits until
// they are ready. The control planes stop when the test ends, or at
// World.Close. Under -short the test is skipped (SkipShort).
func StartKube(t testing.TB, env *Env, opts ...KubeOption) *World {
	t.Helper()
	SkipShort(t, "kube-apiserver")
	o := kubeOptions{timeout: 5 * time.Minute,
		mgr: kube.ManagerOptions{Emulator: env.Server, TokenWebhookURL: kube.EmulatorTokenWebhook(env.URL)}}
	for _, f := range opts {
		f(&o)
	}
	if o.mgr.Dir == "" {
		o.mgr.Dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(t.Context(), o.timeout)
	defer cancel()
	m, err := kube.StartManager(ctx, o.mgr)
	if err != nil {
		t.Fatalf("starting the control planes: %v", err)
	}
	w := &World{Env: env, Manager: m, Dir: o.mgr.Dir}
	t.Cleanup(func() { _ = w.Close() })
	if err := m.WaitReady(ctx); err != nil {
		t.Fatalf("waiting for the control planes: %v", err)
	}
	return w
}

// Close stops the control planes and etcd; it returns the Manager's Close
// error the first time and does nothing after.
func (w *World) Close() error {
	w.closeOnce.Do(func() { w.closeErr = w.Manager.Close() })
	return w.closeErr
}

// REST is a REST configuration for cluster as eksbg builds one: the
// endpoint and CA from EKS DescribeCluster, and an EKS token.
func (w *World) REST(ctx context.Context, cluster string) (*rest.Config, error) {
	return kubeaccess.RESTConfig(ctx, eks.NewFromConfig(w.AWS), w.AWS, cluster)
}

// ControlPlane is cluster's control plane, failing the test if it has none.
func (w *World) ControlPlane(t testing.TB, cluster string) *kube.ControlPlane {
	t.Helper()
	cp, ok := w.Manager.ControlPlane(cluster)
	if !ok {
		t.Fatalf("no control plane for %s", cluster)
	}
	return cp
}

// Logger is a logger whose records go to t.Log (shown when the test fails
// or with -v), at Info and above.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
