// Package sandbox runs eksbg's local sandbox: the AWS API emulator (package
// emulator) over a scenario, and what eksbg shows of it.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/argocd"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/kube"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
	"github.com/eksbg/eksbg/internal/sandbox/scenarios"
)

// ServeOptions configure `eksbg sandbox serve`.
type ServeOptions struct {
	// Scenario is a built-in scenario name or a path to a scenario file.
	Scenario string
	// Addr to listen on; loopback only unless the user says otherwise.
	Addr string
	// StatePath persists the world; an existing file is resumed.
	StatePath string
	// Fresh discards existing state and starts from the scenario.
	Fresh  bool
	Out    io.Writer
	Logger *slog.Logger
	// Ready, when set, receives the endpoint URL once the server listens
	// (and, with ControlPlanes, once every control plane is ready).
	Ready func(url string)
	// ControlPlanes runs a real Kubernetes control plane behind every EKS
	// cluster (package kube), as `sandbox up` does.
	ControlPlanes bool
	// RuntimeFile, when set, is where the running sandbox records its
	// process ids and readiness for `sandbox up`, `down` and `status`.
	RuntimeFile string
}

// LoadScenario resolves a built-in name ("demo") or a file path.
func LoadScenario(nameOrPath string) (*scenario.Scenario, error) {
	if !strings.ContainsAny(nameOrPath, "/.") {
		return scenarios.Load(nameOrPath)
	}
	return scenario.Load(nameOrPath)
}

// DefaultStatePath is where `sandbox serve` keeps its world by default.
func DefaultStatePath() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return filepath.Join(os.TempDir(), "eksbg-sandbox", "world.json")
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "eksbg", "sandbox", "world.json")
}

// Serve runs the emulator until ctx ends.
func Serve(ctx context.Context, o ServeOptions) error {
	sc, err := LoadScenario(o.Scenario)
	if err != nil {
		return err
	}
	resumed := false
	if o.StatePath != "" {
		if err := os.MkdirAll(filepath.Dir(o.StatePath), 0o700); err != nil {
			return fmt.Errorf("creating state directory: %w", err)
		}
		if o.Fresh {
			if err := os.Remove(o.StatePath); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("discarding old state: %w", err)
			}
		}
		_, err := os.Stat(o.StatePath)
		resumed = err == nil
	}
	srv, err := emulator.New(emulator.Options{Scenario: sc, ScenarioName: o.Scenario, StatePath: o.StatePath, Logger: o.Logger})
	if err != nil {
		return err
	}
	// The banner and the runtime file describe the world served, which
	// is the saved one when the state file was resumed.
	served := srv.Served()
	scenarioName, scenarioSHA := o.Scenario, ""
	if served.Scenario != nil {
		scenarioName, scenarioSHA = served.Scenario.Name, served.Scenario.SHA256
	}
	l, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (is another sandbox running? see 'eksbg sandbox status')", o.Addr, err)
	}
	url := "http://" + l.Addr().String()
	cred := served.Credential
	state := o.StatePath
	switch {
	case state == "":
		state = "(in memory)"
	case resumed:
		state += " (resumed)"
	default:
		state += " (new)"
	}
	fmt.Fprintf(o.Out, `AWS API emulator serving account %s in %s (scenario %s) at %s
state: %s

Point AWS clients at it with:
  export AWS_ENDPOINT_URL=%s
  export AWS_REGION=%s
  export AWS_ACCESS_KEY_ID=%s
  export AWS_SECRET_ACCESS_KEY=%s

Admin API: %s/_sandbox/ (docs/sandbox.md). Ctrl-C stops it.
`, served.Account, served.Region, scenarioName, url, state, url, served.Region, cred.AccessKeyID, cred.SecretAccessKey, url)
	rt := &Runtime{PID: os.Getpid(), URL: url, Scenario: scenarioName, ScenarioSHA256: scenarioSHA, StatePath: o.StatePath,
		StartedAt: time.Now().UTC()}
	if o.RuntimeFile != "" {
		if err := rt.write(o.RuntimeFile); err != nil {
			return err
		}
		defer os.Remove(o.RuntimeFile)
	}
	if !o.ControlPlanes {
		rt.Ready = true
		if o.RuntimeFile != "" {
			if err := rt.write(o.RuntimeFile); err != nil {
				return err
			}
		}
		if o.Ready != nil {
			o.Ready(url)
		}
		return srv.Serve(ctx, l)
	}
	return serveWithControlPlanes(ctx, o, srv, l, rt)
}

// serveWithControlPlanes serves the emulator with a control plane per EKS
// cluster, records readiness in the runtime file, and stops every process
// it started when ctx ends.
func serveWithControlPlanes(ctx context.Context, o ServeOptions, srv *emulator.Server, l net.Listener, rt *Runtime) error {
	dir := filepath.Join(filepath.Dir(o.StatePath), "kube")
	if o.StatePath == "" {
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("eksbg-sandbox-%d", os.Getpid()), "kube")
	}
	rt.KubeDir = dir
	served := make(chan error, 1)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { served <- srv.Serve(sctx, l) }()
	m, err := kube.StartManager(ctx, kube.ManagerOptions{
		Emulator: srv, Dir: dir, TokenWebhookURL: kube.EmulatorTokenWebhook(rt.URL), Logger: o.Logger,
	})
	if err != nil {
		stop()
		<-served
		return fmt.Errorf("starting the control planes: %w", err)
	}
	defer func() {
		fmt.Fprintln(o.Out, "stopping the control planes")
		if err := m.Close(); err != nil {
			fmt.Fprintf(o.Out, "stopping the control planes: %v\n", err)
		}
	}()
	ready := make(chan error, 1)
	go func() { ready <- m.WaitReady(ctx) }()
	// Control planes come and go with clusters (green is created, blue
	// deleted): keep the runtime file's process list current for 'down'.
	refresh := time.NewTicker(2 * time.Second)
	defer refresh.Stop()
	var gitops *argocd.Sandbox // Argo CD and the TargetGroupBinding controller, once the control planes are ready
	record := func() error {
		rt.Processes, rt.Clusters = m.PIDs(), nil
		if gitops != nil {
			rt.Processes = append(rt.Processes, gitops.PIDs()...)
		}
		for _, st := range m.Status() {
			rt.Clusters = append(rt.Clusters, RuntimeCluster{Name: st.Cluster, Endpoint: st.Endpoint})
		}
		if o.RuntimeFile == "" {
			return nil
		}
		return rt.write(o.RuntimeFile)
	}
	for {
		select {
		case err := <-served:
			return err
		case <-refresh.C:
			if ready == nil {
				if err := record(); err != nil {
					return err
				}
			}
		case err := <-ready:
			ready = nil
			// GitOps (issue 4; package argocd): Argo CD on the management
			// cluster with the workload clusters registered, and the
			// TargetGroupBinding controller; stopped before the control planes.
			if err == nil {
				if gitops, err = argocd.StartSandbox(ctx, argocd.SandboxOptions{Emulator: srv, URL: rt.URL, Manager: m,
					Dir: argocd.DefaultSandboxDir(dir), Logger: o.Logger}); err != nil {
					err = fmt.Errorf("starting Argo CD and the TargetGroupBinding controller: %w", err)
				} else {
					defer gitops.Close()
					if gitops.ArgoCD != nil {
						fmt.Fprintf(o.Out, "Argo CD ready on cluster %s (catalog %s)\n", gitops.Management, gitops.ArgoCD.RepoURL())
					}
				}
			}
			if err != nil {
				rt.Error = err.Error()
			} else {
				rt.Ready = true
			}
			if werr := record(); werr != nil {
				return werr
			}
			if err != nil {
				return fmt.Errorf("waiting for the control planes: %w", err)
			}
			fmt.Fprintf(o.Out, "control planes ready: %d cluster(s)\n", len(rt.Clusters))
			if o.Ready != nil {
				o.Ready(rt.URL)
			}
		}
	}
}
