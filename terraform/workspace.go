package terraform

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// Workspace is one workspace of one Terraform stack, with its own
// TF_DATA_DIR. Get one from Runner.Workspace or Runner.ForEnv.
type Workspace struct {
	r       *Runner
	dir     string
	name    string
	dataDir string

	// mu serialises the commands of this workspace: they share one data
	// directory and one state (and its lock).
	mu    sync.Mutex
	tf    *tfexec.Terraform
	ready bool
	// environ, when set, gives the environment terraform runs with
	// instead of the process's (Runner.ForEnv with WithEnviron).
	environ func(ctx context.Context) ([]string, error)
}

// Dir is the stack's root module directory (absolute).
func (w *Workspace) Dir() string { return w.dir }

// Name is the workspace name.
func (w *Workspace) Name() string { return w.name }

// DataDir is the TF_DATA_DIR eksbg uses for this workspace.
func (w *Workspace) DataDir() string { return w.dataDir }

// String names the workspace in messages.
func (w *Workspace) String() string {
	return fmt.Sprintf("terraform stack %s (workspace %q)", w.dir, w.name)
}

// Init runs terraform init (-input=false) in the workspace's data
// directory and selects the workspace, once: later calls return at once.
// A workspace that does not exist is a *WorkspaceNotFoundError; eksbg never
// creates one. The other methods call Init themselves.
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
	// The data directory holds the backend configuration and, for plans,
	// saved plan files with state values in them: owner only.
	if err := os.MkdirAll(w.dataDir, 0o700); err != nil {
		return fmt.Errorf("creating terraform data directory: %w", err)
	}
	tf, err := tfexec.NewTerraform(w.dir, w.r.execPath)
	if err != nil {
		return fmt.Errorf("running terraform in %s: %w", w.dir, err)
	}
	if err := w.setEnv(ctx, tf); err != nil {
		return err
	}
	if w.r.stderr != nil {
		tf.SetStderr(w.r.stderr)
	}
	w.r.initMu.Lock()
	err = tf.Init(ctx)
	w.r.initMu.Unlock()
	if err != nil {
		return fmt.Errorf("initialising %s: %w", w, err)
	}
	names, current, err := tf.WorkspaceList(ctx)
	if err != nil {
		return fmt.Errorf("listing the workspaces of %s: %w", w.dir, err)
	}
	if !slices.Contains(names, w.name) {
		return &WorkspaceNotFoundError{Dir: w.dir, Workspace: w.name, Existing: names}
	}
	if current != w.name {
		if err := tf.WorkspaceSelect(ctx, w.name); err != nil {
			return fmt.Errorf("selecting %s: %w", w, err)
		}
	}
	w.tf, w.ready = tf, true
	return nil
}

// setEnv gives tf the workspace's environment, fresh: the environ
// function's (its credentials resolved now), or the process's own.
func (w *Workspace) setEnv(ctx context.Context, tf *tfexec.Terraform) error {
	base := os.Environ()
	if w.environ != nil {
		var err error
		if base, err = w.environ(ctx); err != nil {
			return fmt.Errorf("preparing terraform's environment for %s: %w", w, err)
		}
	}
	if err := tf.SetEnv(w.env(base)); err != nil {
		return fmt.Errorf("setting terraform's environment: %w", err)
	}
	return nil
}

// env is the environment terraform runs with: the caller's, with
// TF_DATA_DIR set to the workspace's own directory.
//
// tfexec refuses an explicit environment holding TF_VAR_*, TF_CLI_ARGS* or
// the TF_LOG* variables it manages, so those are dropped here; Plan passes
// the TF_VAR_* values of declared variables back through a variables file
// (see planVars). https://github.com/hashicorp/terraform-exec/issues/584
func (w *Workspace) env(environ []string) map[string]string {
	env := make(map[string]string, len(environ)+1)
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	env = tfexec.CleanEnv(env)
	env["TF_DATA_DIR"] = w.dataDir
	return env
}

// Outputs returns the root module outputs of the workspace's state, as
// terraform output -json gives them.
func (w *Workspace) Outputs(ctx context.Context) (map[string]tfexec.OutputMeta, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.init(ctx); err != nil {
		return nil, err
	}
	if err := w.setEnv(ctx, w.tf); err != nil {
		return nil, err
	}
	out, err := w.tf.Output(ctx)
	if err != nil {
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
