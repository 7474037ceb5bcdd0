package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/eksbg/eksbg/internal/atomicfile"
)

// Runtime is what a running sandbox records about itself in its runtime
// file (next to its state, mode 0600): who runs, where, and whether it is
// ready. `sandbox up` waits on it, `down` stops what it lists, `status`
// shows it.
type Runtime struct {
	// PID is the `sandbox serve` process.
	PID int    `json:"pid"`
	URL string `json:"url"`
	// Scenario is the scenario the served world was built from, and
	// ScenarioSHA256 its digest (emulator.ScenarioDigest).
	Scenario       string    `json:"scenario"`
	ScenarioSHA256 string    `json:"scenarioSha256,omitempty"`
	StatePath      string    `json:"statePath,omitempty"`
	StartedAt      time.Time `json:"startedAt"`
	// Ready is true once the emulator serves and every control plane is up.
	Ready bool `json:"ready"`
	// Error says why the sandbox did not get ready.
	Error   string `json:"error,omitempty"`
	KubeDir string `json:"kubeDir,omitempty"`
	// Processes are the ids of every process the sandbox started (etcd,
	// API servers, controller managers, schedulers, kwok).
	Processes []int            `json:"processes,omitempty"`
	Clusters  []RuntimeCluster `json:"clusters,omitempty"`
}

// RuntimeCluster is a cluster's control plane.
type RuntimeCluster struct {
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"`
}

// RuntimeFile is the runtime file beside a state file.
func RuntimeFile(statePath string) string {
	return filepath.Join(filepath.Dir(statePath), "sandbox.json")
}

func (rt *Runtime) write(path string) error {
	data, err := json.MarshalIndent(rt, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("writing the sandbox's runtime file: %w", err)
	}
	return nil
}

// ReadRuntime reads a runtime file; a missing file gives (nil, nil).
func ReadRuntime(path string) (*Runtime, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rt Runtime
	if err := json.Unmarshal(data, &rt); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return &rt, nil
}

// alive reports whether pid runs and is not a zombie. Process ids are
// reused, so callers that act on a pid also check what runs (cmdline).
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no procfs: trust kill(0)
	}
	// The state follows the parenthesised command name.
	if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// cmdline is a process's command line, "" when unknown.
func cmdline(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return ""
	}
	return strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")
}

// sandboxProcess reports whether pid is still one of the sandbox's: alive,
// and running one of the binaries the sandbox starts.
func sandboxProcess(pid int) bool {
	if !alive(pid) {
		return false
	}
	cl := cmdline(pid)
	if cl == "" {
		return true
	}
	for _, name := range []string{"eksbg", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "argocd", "redis-server", "git-daemon", ".test"} {
		if strings.Contains(cl, name) {
			return true
		}
	}
	return false
}

// Health is what the emulator's /_sandbox/health answers.
type Health struct {
	Account string
	Region  string
}

// ReadHealth asks the sandbox at url whether it serves, and as whom.
func ReadHealth(ctx context.Context, url string) (Health, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/_sandbox/health", nil)
	if err != nil {
		return Health{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Health{}, fmt.Errorf("no sandbox answers at %s: start one with 'eksbg sandbox up' (%w)", url, err)
	}
	defer resp.Body.Close()
	var h Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || h.Region == "" {
		return Health{}, fmt.Errorf("%s answers but is not an eksbg sandbox", url)
	}
	return h, nil
}
