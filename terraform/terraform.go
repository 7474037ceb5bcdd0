package terraform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/eksbg/eksbg/internal/config"
)

// MinVersion is the oldest terraform eksbg runs. 1.5 is the first release
// whose JSON plan (format 1.2) reports planned imports, which the drift check
// must count as changes, and its modules use terraform_data (1.4) and output
// preconditions (1.2).
//
// See https://developer.hashicorp.com/terraform/internals/json-format
const MinVersion = "1.5.0"

// Runner runs terraform for the stacks of a project. It is safe for
// concurrent use: plans of different workspaces run in parallel (up to
// WithConcurrency), commands of the same workspace one after the other.
//
// Terraform's work is per stack, not per workspace: each stack directory
// is initialised once, in one data directory shared by its workspaces,
// with providers from one plugin cache; its workspaces are listed once;
// each workspace's commands choose it with TF_WORKSPACE. A plan of a
// workspace is then one terraform process.
type Runner struct {
	execPath    string
	version     *version.Version
	dataRoot    string
	pluginCache string
	lockTimeout string
	stderr      io.Writer
	environ     func(ctx context.Context, env *config.Environment) ([]string, error)

	// initMu serialises terraform init across the runner: concurrent inits
	// of one stack write its .terraform.lock.hcl at the same time, and a
	// shared TF_PLUGIN_CACHE_DIR is not safe for concurrent use
	// (https://developer.hashicorp.com/terraform/cli/config/config-file#provider-plugin-cache).
	initMu sync.Mutex
	// slots bounds the terraform plans and outputs running at once: they
	// are CPU-bound, so more than the cores only adds memory.
	slots chan struct{}

	mu         sync.Mutex
	stacks     map[string]*tfStack
	workspaces map[wsKey]*Workspace
}

type wsKey struct{ dir, name string }

// Option configures a Runner.
type Option func(*Runner)

// WithExecPath uses the terraform binary at path instead of looking
// "terraform" up on PATH.
func WithExecPath(path string) Option { return func(r *Runner) { r.execPath = path } }

// WithDataDir sets the directory under which each stack gets its
// TF_DATA_DIR, and the provider plugin cache its plugins/ directory (unless
// TF_PLUGIN_CACHE_DIR is set). The default is <user cache dir>/eksbg/terraform.
func WithDataDir(dir string) Option { return func(r *Runner) { r.dataRoot = dir } }

// WithConcurrency bounds the terraform plans (and outputs) running at once;
// the default, and any n < 1, is the number of CPUs (runtime.NumCPU).
// Callers bound it further by how many they ask for at once (eksbg drift
// --parallel).
func WithConcurrency(n int) Option {
	return func(r *Runner) {
		if n >= 1 {
			r.slots = make(chan struct{}, n)
		}
	}
}

// WithLockTimeout makes terraform wait up to d (a terraform duration such
// as "30s") for a state lock held by someone else, instead of failing at
// once.
func WithLockTimeout(d string) Option { return func(r *Runner) { r.lockTimeout = d } }

// WithStderr copies terraform's stderr to w as it runs (it is in the error
// of a failed run either way).
func WithStderr(w io.Writer) Option { return func(r *Runner) { r.stderr = w } }

// WithEnviron makes the workspaces of each environment (ForEnv) run
// terraform with the environment f returns for it, instead of the
// process's own: eksbg passes the environment's resolved AWS credentials
// and region (awsconf.ChildEnv), so that terraform reads state and plans
// in the environment's account whatever the shell's credentials are. f is
// called before each terraform command, so credentials stay fresh.
func WithEnviron(f func(ctx context.Context, env *config.Environment) ([]string, error)) Option {
	return func(r *Runner) { r.environ = f }
}

// New finds the terraform binary, checks that it is at least MinVersion
// and returns a Runner.
func New(ctx context.Context, opts ...Option) (*Runner, error) {
	r := &Runner{workspaces: map[wsKey]*Workspace{}, stacks: map[string]*tfStack{}}
	for _, o := range opts {
		o(r)
	}
	if r.slots == nil {
		r.slots = make(chan struct{}, runtime.NumCPU())
	}
	if r.execPath == "" {
		p, err := exec.LookPath("terraform")
		if err != nil {
			return nil, fmt.Errorf("finding terraform: %w: install terraform %s or newer (https://developer.hashicorp.com/terraform/install) or give its path", err, MinVersion)
		}
		r.execPath = p
	} else if _, err := os.Stat(r.execPath); err != nil {
		return nil, fmt.Errorf("finding terraform: %w", err)
	}
	if r.dataRoot == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("choosing a terraform data directory: %w", err)
		}
		r.dataRoot = filepath.Join(cache, "eksbg", "terraform")
	}
	r.pluginCache = filepath.Join(r.dataRoot, "plugins")
	// terraform version needs no configuration; any existing directory
	// will do as its working directory.
	tf, err := tfexec.NewTerraform(os.TempDir(), r.execPath)
	if err != nil {
		return nil, fmt.Errorf("running terraform: %w", err)
	}
	v, _, err := tf.Version(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("reading the version of %s: %w", r.execPath, err)
	}
	if v.LessThan(version.Must(version.NewVersion(MinVersion))) {
		return nil, &VersionError{Path: r.execPath, Found: v.String(), Min: MinVersion}
	}
	r.version = v
	return r, nil
}

// Version is the version of the terraform binary.
func (r *Runner) Version() string { return r.version.String() }

// ExecPath is the path of the terraform binary.
func (r *Runner) ExecPath() string { return r.execPath }

// VersionError says the terraform binary is too old.
type VersionError struct {
	Path  string
	Found string
	Min   string
}

// Error says which terraform was found and which version eksbg needs.
func (e *VersionError) Error() string {
	return fmt.Sprintf("terraform %s (%s) is too old: eksbg needs terraform %s or newer", e.Found, e.Path, e.Min)
}

// Workspace returns the handle of one workspace of the stack in dir. The
// same (dir, name) gives the same handle. An empty name is
// config.DefaultWorkspace. Nothing runs until a method of the handle is
// called.
func (r *Runner) Workspace(dir, name string) (*Workspace, error) {
	if name == "" {
		name = config.DefaultWorkspace
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving stack directory %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("reading stack directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("stack %s is not a directory", abs)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := wsKey{abs, name}
	if w, ok := r.workspaces[k]; ok {
		return w, nil
	}
	st := r.stacks[abs]
	if st == nil {
		st = &tfStack{r: r, dir: abs, dataDir: r.dataDirFor(abs)}
		r.stacks[abs] = st
	}
	w := &Workspace{r: r, st: st, name: name}
	r.workspaces[k] = w
	return w, nil
}

// ForEnv returns the workspace holding env's network; with WithEnviron,
// terraform runs there with env's environment.
func (r *Runner) ForEnv(env *config.Environment) (*Workspace, error) {
	w, err := r.Workspace(env.Network.Terraform.Dir, env.Network.Terraform.Workspace)
	if err != nil || r.environ == nil {
		return w, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.environ = func(ctx context.Context) ([]string, error) { return r.environ(ctx, env) }
	return w, nil
}

// dataDirFor is <root>/stacks/<stack base name>-<hash of its absolute
// path>: readable, and distinct for two stacks with the same base name.
// All workspaces of the stack share it (they choose theirs with
// TF_WORKSPACE, never with the data directory's environment file).
func (r *Runner) dataDirFor(absDir string) string {
	sum := sha256.Sum256([]byte(absDir))
	stack := filepath.Base(absDir) + "-" + hex.EncodeToString(sum[:6])
	return filepath.Join(r.dataRoot, "stacks", url.PathEscape(stack))
}

// acquire takes one of the runner's slots for a terraform process; release
// gives it back.
func (r *Runner) acquire(ctx context.Context) error {
	select {
	case r.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Runner) release() { <-r.slots }
