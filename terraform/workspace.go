package terraform

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// tfStack is one Terraform root module directory: its TF_DATA_DIR, shared by
// its workspaces, and the one tfexec.Terraform that initialises it and
// lists its workspaces.
type tfStack struct {
	r       *Runner
	dir     string
	dataDir string

	// mu is held through init and listing: the first workspace to need the
	// stack initialises it, the others wait.
	mu      sync.Mutex
	tf      *tfexec.Terraform
	initErr error
	// names are the stack's workspaces as last listed.
	names []string
}

// init runs terraform init (-input=false) once for the stack, in its data
// directory, with providers from the plugin cache, then lists its
// workspaces; s.mu is held. base is the environment of the workspace that
// asked first: the backend is the stack's, whichever workspace reads it. A
// failure other than cancellation is kept, so that a broken stack costs
// one init, not one per workspace.
func (s *tfStack) init(ctx context.Context, base []string) error {
	if s.initErr != nil {
		return s.initErr
	}
	// The data directory holds the backend configuration: owner only.
	if err := os.MkdirAll(s.dataDir, 0o700); err != nil {
		return fmt.Errorf("creating terraform data directory: %w", err)
	}
	tf, err := tfexec.NewTerraform(s.dir, s.r.execPath)
	if err != nil {
		return fmt.Errorf("running terraform in %s: %w", s.dir, err)
	}
	if s.r.stderr != nil {
		tf.SetStderr(s.r.stderr)
	}
	env := tfexec.CleanEnv(envMap(base))
	env["TF_DATA_DIR"] = s.dataDir
	if env["TF_PLUGIN_CACHE_DIR"] == "" {
		// Providers are downloaded once for all stacks; terraform needs
		// the directory to exist.
		if err := os.MkdirAll(s.r.pluginCache, 0o700); err != nil {
			return fmt.Errorf("creating the terraform plugin cache: %w", err)
		}
		env["TF_PLUGIN_CACHE_DIR"] = s.r.pluginCache
	}
	if err := tf.SetEnv(env); err != nil {
		return fmt.Errorf("setting terraform's environment: %w", err)
	}
	s.r.initMu.Lock()
	err = tf.Init(ctx)
	s.r.initMu.Unlock()
	if err != nil {
		err = fmt.Errorf("initialising terraform stack %s: %w", s.dir, err)
		if ctx.Err() == nil {
			s.initErr = err
		}
		return err
	}
	s.tf = tf
	return s.list(ctx)
}

// list reads the stack's workspaces (terraform workspace list), with the
// environment init had; s.mu is held.
func (s *tfStack) list(ctx context.Context) error {
	names, _, err := s.tf.WorkspaceList(ctx)
	if err != nil {
		return fmt.Errorf("listing the workspaces of %s: %w", s.dir, err)
	}
	s.names = names
	return nil
}

// has initialises the stack if needed and says whether it has the
// workspace. A name not in the list makes it list again: a workspace
// created since costs one process, a present one none.
func (s *tfStack) has(ctx context.Context, base []string, name string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tf == nil {
		if err := s.init(ctx, base); err != nil {
			return false, err
		}
	} else if !slices.Contains(s.names, name) {
		if err := s.list(ctx); err != nil {
			return false, err
		}
	}
	return slices.Contains(s.names, name), nil
}

func envMap(environ []string) map[string]string {
	env := make(map[string]string, len(environ)+2)
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}

// Workspace is one workspace of one Terraform stack. Its commands run in
// the stack's data directory and choose the workspace with TF_WORKSPACE,
// so that workspaces of one stack run at once without switching each
// other. Get one from Runner.Workspace or Runner.ForEnv.
type Workspace struct {
	r    *Runner
	st   *tfStack
	name string

	// mu serialises the commands of this workspace: they share one state
	// (and its lock).
	mu    sync.Mutex
	ready bool
	// environ, when set, gives the environment terraform runs with
	// instead of the process's (Runner.ForEnv with WithEnviron).
	environ func(ctx context.Context) ([]string, error)
}

// Dir is the stack's root module directory (absolute).
func (w *Workspace) Dir() string { return w.st.dir }

// Name is the workspace name.
func (w *Workspace) Name() string { return w.name }

// DataDir is the TF_DATA_DIR eksbg uses for this workspace: its stack's,
// shared by the stack's workspaces.
func (w *Workspace) DataDir() string { return w.st.dataDir }

// String names the workspace in messages.
func (w *Workspace) String() string {
	return fmt.Sprintf("terraform stack %s (workspace %q)", w.st.dir, w.name)
}

// Init initialises the workspace's stack (once per stack: terraform init
// and workspace list) and checks that the stack has the workspace, once:
// later calls return at once. A workspace that does not exist is a
// *WorkspaceNotFoundError; eksbg never creates one. The other methods call
// Init themselves.
func (w *Workspace) Init(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.init(ctx)
}

// init does Init's work with w.mu held.
func (w *Workspace) init(ctx context.Context) error {
	if w.ready {
		return nil
	}
	base, err := w.base(ctx)
	if err != nil {
		return err
	}
	ok, err := w.st.has(ctx, base, w.name)
	if err != nil {
		return err
	}
	if !ok {
		return &WorkspaceNotFoundError{Dir: w.st.dir, Workspace: w.name, Existing: w.st.existing()}
	}
	w.ready = true
	return nil
}

// existing are the stack's workspaces as last listed.
func (s *tfStack) existing() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.names)
}

// base is the environment the workspace's commands start from, fresh: the
// environ function's (its credentials resolved now), or the process's own.
func (w *Workspace) base(ctx context.Context) ([]string, error) {
	if w.environ == nil {
		return os.Environ(), nil
	}
	env, err := w.environ(ctx)
	if err != nil {
		return nil, fmt.Errorf("preparing terraform's environment for %s: %w", w, err)
	}
	return env, nil
}

// env is the environment of one command of the workspace: base, with
// TF_DATA_DIR set to the stack's directory and TF_WORKSPACE to the
// workspace.
func (w *Workspace) env(base []string) []string {
	return childEnv(base, map[string]string{"TF_DATA_DIR": w.st.dataDir, "TF_WORKSPACE": w.name})
}

// Outputs returns the root module outputs of the workspace's state, as
// terraform output -json gives them.
func (w *Workspace) Outputs(ctx context.Context) (map[string]tfexec.OutputMeta, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.init(ctx); err != nil {
		return nil, err
	}
	base, err := w.base(ctx)
	if err != nil {
		return nil, err
	}
	if err := w.r.acquire(ctx); err != nil {
		return nil, err
	}
	defer w.r.release()
	stdout, _, err := w.r.run(ctx, w.r.command(ctx, w.st.dir, w.env(base), "output", "-json", "-no-color"))
	if err != nil {
		return nil, fmt.Errorf("reading the outputs of %s: %w", w, err)
	}
	out := map[string]tfexec.OutputMeta{}
	if err := json.Unmarshal(stdout, &out); err != nil {
		return nil, fmt.Errorf("reading the outputs of %s: %w", w, err)
	}
	return out, nil
}

// WorkspaceNotFoundError is returned for a workspace the stack does not
// have. eksbg never creates workspaces: an environment pointing at a
// missing one is a mistake in eksbg.yaml or a stack not yet applied.
type WorkspaceNotFoundError struct {
	Dir       string
	Workspace string
	// Existing are the stack's workspaces.
	Existing []string
}

// Error names the workspace, the ones that exist, and how to create it.
func (e *WorkspaceNotFoundError) Error() string {
	return fmt.Sprintf("terraform stack %s has no workspace %q (it has: %s); eksbg does not create workspaces: "+
		"create it with \"terraform -chdir=%s workspace new %s\" and apply the stack, "+
		"or set network.terraform.workspace in eksbg.yaml to an existing one",
		e.Dir, e.Workspace, strings.Join(e.Existing, ", "), e.Dir, e.Workspace)
}
