package terraform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/eksbg/eksbg/internal/awsconf"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// fakeVersionEnv makes the test binary act as a terraform that only
// answers "terraform version -json", with the version in the variable.
const fakeVersionEnv = "EKSBG_TEST_FAKE_TERRAFORM_VERSION"

// fakeEnvDumpEnv makes the test binary a terraform that appends the AWS
// variables of its environment to the named file for every command, and
// answers init, workspace list and output as for an empty default
// workspace.
const fakeEnvDumpEnv = "EKSBG_TEST_FAKE_TERRAFORM_ENV_DUMP"

// fakeLogEnv makes the test binary a terraform that appends one line per
// command to the named file: its arguments, then TF_WORKSPACE, TF_DATA_DIR,
// TF_PLUGIN_CACHE_DIR and AWS_ACCESS_KEY_ID. Its stack has the workspaces
// default, a and b, and plans without changes.
const fakeLogEnv = "EKSBG_TEST_FAKE_TERRAFORM_LOG"

func TestMain(m *testing.M) {
	if log := os.Getenv(fakeLogEnv); log != "" {
		f, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			os.Exit(3)
		}
		fmt.Fprintf(f, "%s|TF_WORKSPACE=%s|TF_DATA_DIR=%s|TF_PLUGIN_CACHE_DIR=%s|AWS_ACCESS_KEY_ID=%s\n", strings.Join(os.Args[1:], " "),
			os.Getenv("TF_WORKSPACE"), os.Getenv("TF_DATA_DIR"), os.Getenv("TF_PLUGIN_CACHE_DIR"), os.Getenv("AWS_ACCESS_KEY_ID"))
		f.Close()
		switch os.Args[1] {
		case "version":
			fmt.Println(`{"terraform_version":"1.11.4","platform":"linux_amd64","provider_selections":{},"terraform_outdated":false}`)
		case "workspace":
			fmt.Println("* default\n  a\n  b")
		case "output":
			fmt.Println("{}")
		case "plan":
			fmt.Println(`{"@level":"info","@message":"Terraform 1.11.4","type":"version","terraform":"1.11.4","ui":"1.2"}`)
			fmt.Println(`{"@level":"info","@message":"No changes.","type":"change_summary","changes":{"add":0,"change":0,"import":0,"remove":0,"operation":"plan"}}`)
		}
		os.Exit(0)
	}
	if dump := os.Getenv(fakeEnvDumpEnv); dump != "" {
		f, err := os.OpenFile(dump, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			os.Exit(3)
		}
		for _, kv := range os.Environ() {
			if strings.HasPrefix(kv, "AWS_") {
				fmt.Fprintf(f, "%s %s\n", os.Args[1], kv)
			}
		}
		f.Close()
		switch os.Args[1] {
		case "version":
			fmt.Println(`{"terraform_version":"1.11.4","platform":"linux_amd64","provider_selections":{},"terraform_outdated":false}`)
		case "workspace":
			fmt.Println("* default")
		case "output":
			fmt.Println("{}")
		}
		os.Exit(0)
	}
	if v := os.Getenv(fakeVersionEnv); v != "" {
		if len(os.Args) < 2 || os.Args[1] != "version" {
			fmt.Fprintf(os.Stderr, "fake terraform %s: unexpected arguments %q\n", v, os.Args[1:])
			os.Exit(1)
		}
		fmt.Printf(`{"terraform_version":%q,"platform":"linux_amd64","provider_selections":{},"terraform_outdated":false}`+"\n", v)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestNewVersion(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		version string
		wantErr string
	}{
		{"too old", "1.4.7", "terraform 1.4.7 (" + self + ") is too old: eksbg needs terraform 1.5.0 or newer"},
		{"minimum", "1.5.0", ""},
		{"newer", "1.11.4", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(fakeVersionEnv, tt.version)
			r, err := New(t.Context(), WithExecPath(self), WithDataDir(t.TempDir()))
			if tt.wantErr != "" {
				var ve *VersionError
				if !errors.As(err, &ve) || err.Error() != tt.wantErr {
					t.Fatalf("New() error = %v, want a *VersionError %q", err, tt.wantErr)
				}
				if ve.Found != tt.version || ve.Min != MinVersion {
					t.Errorf("VersionError = %+v", ve)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(): %v", err)
			}
			if r.Version() != tt.version || r.ExecPath() != self {
				t.Errorf("Version(), ExecPath() = %s, %s; want %s, %s", r.Version(), r.ExecPath(), tt.version, self)
			}
		})
	}
}

func TestNewFindsBinary(t *testing.T) {
	sandboxtest.SkipShort(t, "terraform")
	real, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatalf("terraform must be on PATH for these tests: %v", err)
	}
	r, err := New(t.Context(), WithDataDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if r.ExecPath() != real {
		t.Errorf("ExecPath() = %s, want %s from PATH", r.ExecPath(), real)
	}

	t.Run("missing explicit path", func(t *testing.T) {
		_, err := New(t.Context(), WithExecPath(filepath.Join(t.TempDir(), "terraform")))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("New() error = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("not on PATH", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		_, err := New(t.Context())
		if !errors.Is(err, exec.ErrNotFound) || !strings.Contains(err.Error(), "install terraform "+MinVersion) {
			t.Errorf("New() error = %v, want exec.ErrNotFound saying what to install", err)
		}
	})
}

// stack copies testdata/stacks/<name> into a temporary directory and, as a
// team would with its own terraform, creates and applies the given
// workspaces there (in the stack's own .terraform, not eksbg's).
func stack(t *testing.T, name string, workspaces ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "stacks", name))); err != nil {
		t.Fatal(err)
	}
	if len(workspaces) == 0 {
		return dir
	}
	sandboxtest.SkipShort(t, "terraform")
	bin, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal(err)
	}
	tf, err := tfexec.NewTerraform(dir, bin)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := tf.Init(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ws := range workspaces {
		if ws != "default" {
			if err := tf.WorkspaceNew(ctx, ws); err != nil {
				t.Fatal(err)
			}
		}
		if err := tf.Apply(ctx); err != nil {
			t.Fatalf("applying workspace %s: %v", ws, err)
		}
	}
	return dir
}

func newRunner(t *testing.T) *Runner {
	t.Helper()
	sandboxtest.SkipShort(t, "terraform")
	r, err := New(t.Context(), WithDataDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWorkspaceMissing(t *testing.T) {
	dir := stack(t, "network", "staging", "prod")
	r := newRunner(t)
	w, err := r.Workspace(dir, "qa")
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Outputs(t.Context())
	var nf *WorkspaceNotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("Outputs() error = %v, want *WorkspaceNotFoundError", err)
	}
	if nf.Workspace != "qa" || !slices.Equal(nf.Existing, []string{"default", "prod", "staging"}) {
		t.Errorf("error = %+v", nf)
	}
	for _, want := range []string{`no workspace "qa"`, "default, prod, staging", "terraform -chdir=" + dir + " workspace new qa"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// Nothing was created behind the user's back.
	if _, err := os.Stat(filepath.Join(dir, "terraform.tfstate.d", "qa")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("workspace qa was created: %v", err)
	}
}

func TestWorkspaceHandles(t *testing.T) {
	dir := stack(t, "drift")
	r := newRunner(t)
	a, err := r.Workspace(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.Workspace(dir+"/.", "default")
	if a != b {
		t.Error("the same stack and workspace gave two handles")
	}
	c, _ := r.Workspace(dir, "prod")
	if c.DataDir() != a.DataDir() {
		t.Errorf("data dirs %s and %s: want one per stack, shared by its workspaces", a.DataDir(), c.DataDir())
	}
	other := stack(t, "drift") // same base name, other directory
	d, _ := r.Workspace(other, "default")
	if d.DataDir() == a.DataDir() {
		t.Errorf("two stacks share data dir %s", a.DataDir())
	}
	if _, err := r.Workspace(filepath.Join(dir, "main.tf"), ""); err == nil {
		t.Error("Workspace(file) succeeded")
	}
}

func TestPlan(t *testing.T) {
	dir := stack(t, "drift", "default")
	r := newRunner(t)
	w, err := r.Workspace(dir, "default")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		env         map[string]string
		tfvars      string // written to terraform.tfvars when set
		wantChanged bool
		want        []Change
		wantOutputs []Change
	}{
		{name: "clean", env: map[string]string{"TF_VAR_undeclared": "ignored"}},
		{
			name:        "number from the environment",
			env:         map[string]string{"TF_VAR_size": "3"},
			wantChanged: true,
			want:        []Change{{Address: "terraform_data.subnet", Actions: []string{"update"}}},
			wantOutputs: []Change{{Address: "output.size", Actions: []string{"update"}}},
		},
		{
			// An untyped variable takes the value as a literal string:
			// quotes and template sequences must survive the variables file.
			name:        "map as HCL, untyped as literal",
			env:         map[string]string{"TF_VAR_labels": `{ team = "platform" }`, "TF_VAR_note": `say "hi" to ${var.size} %{if true}`},
			wantChanged: true,
			want:        []Change{{Address: "terraform_data.subnet", Actions: []string{"update"}}},
		},
		{
			name:   "terraform.tfvars wins over the environment",
			env:    map[string]string{"TF_VAR_size": "3"},
			tfvars: "size = 1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if tt.tfvars != "" {
				p := filepath.Join(dir, "terraform.tfvars")
				if err := os.WriteFile(p, []byte(tt.tfvars), 0o600); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Remove(p) })
			}
			p, err := w.Plan(t.Context())
			if err != nil {
				t.Fatalf("Plan(): %v", err)
			}
			if p.Changed != tt.wantChanged || !slices.EqualFunc(p.Changes, tt.want, changeEqual) ||
				!slices.EqualFunc(p.OutputChanges, tt.wantOutputs, changeEqual) {
				t.Errorf("Plan() = %+v, want changed=%v changes %v outputs %v", p, tt.wantChanged, tt.want, tt.wantOutputs)
			}
		})
	}
	entries, err := os.ReadDir(w.DataDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "plan-") {
			t.Errorf("plan directory %s left behind", e.Name())
		}
	}
	fi, err := os.Stat(w.DataDir())
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode = %v (%v), want 0700", fi.Mode(), err)
	}
}

func TestPlanReplaceAndCreate(t *testing.T) {
	dir := stack(t, "drift", "default")
	// Replace one resource, add another: the plan lists both in address
	// order with terraform's actions.
	extra := `
resource "terraform_data" "added" {
  input = 1
}
`
	if err := os.WriteFile(filepath.Join(dir, "extra.tf"), []byte(extra), 0o600); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "main.tf")
	b, _ := os.ReadFile(main)
	b = []byte(strings.Replace(string(b), "input = terraform.workspace", "input            = terraform.workspace\n  triggers_replace = 2", 1))
	if err := os.WriteFile(main, b, 0o600); err != nil {
		t.Fatal(err)
	}
	w, _ := newRunner(t).Workspace(dir, "")
	p, err := w.Plan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{Address: "terraform_data.added", Actions: []string{"create"}},
		{Address: "terraform_data.vpc", Actions: []string{"delete", "create"}},
	}
	if !p.Changed || !slices.EqualFunc(p.Changes, want, changeEqual) {
		t.Fatalf("Plan() = %+v, want %v", p, want)
	}
	if got := p.Changes[1].Action(); got != "replace" {
		t.Errorf("Action() = %q, want replace", got)
	}
}

func TestBrokenConfiguration(t *testing.T) {
	tests := []struct {
		stack string
		want  []string // in the error: terraform's stderr reaches the user
	}{
		{"broken-syntax", []string{"initialising terraform stack", "Invalid expression", "main.tf line 3"}},
		{"broken-plan", []string{"planning terraform stack", "Unsupported argument", `An argument named "cidr_block" is not expected here`}},
	}
	r := newRunner(t)
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			w, err := r.Workspace(stack(t, tt.stack), "")
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.Plan(t.Context())
			if err == nil {
				t.Fatal("Plan() succeeded")
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error does not contain %q:\n%v", s, err)
				}
			}
		})
	}
}

// TestConcurrentWorkspaces plans two workspaces of one stack at once. With
// one shared data directory the second handle's workspace select would
// switch the first one's workspace; the first check catches that without
// depending on timing, the concurrent rounds catch races.
func TestConcurrentWorkspaces(t *testing.T) {
	dir := stack(t, "drift", "staging", "prod")
	main := filepath.Join(dir, "main.tf")
	b, _ := os.ReadFile(main)
	if err := os.WriteFile(main, []byte(strings.Replace(string(b), "prod    = 1 # GENERATION", "prod    = 2", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newRunner(t)
	staging, _ := r.Workspace(dir, "staging")
	prod, _ := r.Workspace(dir, "prod")
	ctx := t.Context()
	for _, w := range []*Workspace{staging, prod} {
		if err := w.Init(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := map[*Workspace][]Change{
		staging: nil,
		prod:    {{Address: "terraform_data.subnet", Actions: []string{"update"}}},
	}
	check := func(w *Workspace) error {
		p, err := w.Plan(ctx)
		if err != nil {
			return err
		}
		if !slices.EqualFunc(p.Changes, want[w], changeEqual) || p.Changed != (want[w] != nil) {
			return fmt.Errorf("%s: plan %+v, want %v", w.Name(), p, want[w])
		}
		return nil
	}
	if err := check(staging); err != nil {
		t.Fatalf("after selecting prod in its own handle: %v", err)
	}
	for round := range 2 {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i, w := range []*Workspace{staging, prod, staging, prod} {
			wg.Go(func() { errs[i] = check(w) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	// The team's own checkout is untouched: its selected workspace is
	// still the last one it used.
	env, err := os.ReadFile(filepath.Join(dir, ".terraform", "environment"))
	if err != nil || string(env) != "prod" {
		t.Errorf("stack's .terraform/environment = %q, %v; want prod", env, err)
	}
}

func changeEqual(a, b Change) bool {
	return a.Address == b.Address && slices.Equal(a.Actions, b.Actions) && a.Importing == b.Importing
}

func TestPlanCanceled(t *testing.T) {
	dir := stack(t, "drift")
	w, _ := newRunner(t).Workspace(dir, "")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := w.Plan(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Plan(canceled) error = %v, want context.Canceled", err)
	}
}

// TestWorkspaceRunsWithTheEnvironmentsCredentials: the shell holds another
// account's credentials; terraform runs with the environment's only.
func TestWorkspaceRunsWithTheEnvironmentsCredentials(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(t.TempDir(), "env")
	t.Setenv(fakeEnvDumpEnv, dump)
	t.Setenv("AWS_PROFILE", "management")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAMANAGEMENT")
	workload := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIAWORKLOAD", "s3cr3t", "")}
	r, err := New(t.Context(), WithExecPath(self), WithDataDir(t.TempDir()), WithEnviron(func(ctx context.Context, env *config.Environment) ([]string, error) {
		if env.Name != "prod" {
			t.Errorf("environ asked for %s", env.Name)
		}
		return awsconf.ChildEnv(ctx, workload, os.Environ(), time.Minute)
	}))
	if err != nil {
		t.Fatal(err)
	}
	env := &config.Environment{Name: "prod"}
	env.Network.Terraform.Dir, env.Network.Terraform.Workspace = t.TempDir(), "default"
	w, err := r.ForEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Outputs(t.Context()); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	got := string(raw)
	for _, cmd := range []string{"init", "output"} {
		if !strings.Contains(got, cmd+" AWS_ACCESS_KEY_ID=AKIAWORKLOAD") || !strings.Contains(got, cmd+" AWS_REGION=eu-west-1") {
			t.Errorf("terraform %s ran without the environment's credentials and region:\n%s", cmd, got)
		}
	}
	// New's own 'terraform version' runs before any environment is known
	// and reads nothing remote; every command of the workspace must not
	// see the shell's credentials.
	for _, line := range strings.Split(got, "\n") {
		if !strings.HasPrefix(line, "version ") && (strings.Contains(line, "AKIAMANAGEMENT") || strings.Contains(line, "AWS_PROFILE=management")) {
			t.Errorf("the shell's credentials reached terraform: %s", line)
		}
	}
}

// TestTerraformWorkPerStack: a stack is initialised and listed once for
// all its workspaces, with providers from the runner's plugin cache; each
// plan is one process choosing its workspace with TF_WORKSPACE and
// running with its own environment's credentials, also when plans of two
// workspaces of the stack run at once (go test -race catches a shared
// environment); a missing workspace is still a *WorkspaceNotFoundError.
func TestTerraformWorkPerStack(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "log")
	t.Setenv(fakeLogEnv, log)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIASHELL")
	root := t.TempDir()
	r, err := New(t.Context(), WithExecPath(self), WithDataDir(root), WithConcurrency(4),
		WithEnviron(func(ctx context.Context, env *config.Environment) ([]string, error) {
			return append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIA"+strings.ToUpper(env.Name)), nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ws := map[string]*Workspace{}
	for _, name := range []string{"a", "b", "missing"} {
		env := &config.Environment{Name: name}
		env.Network.Terraform.Dir, env.Network.Terraform.Workspace = dir, name
		if ws[name], err = r.ForEnv(env); err != nil {
			t.Fatal(err)
		}
	}
	const rounds = 3
	var wg sync.WaitGroup
	errs := make(chan error, 2*rounds)
	for range rounds {
		for _, name := range []string{"a", "b"} {
			wg.Go(func() {
				if p, err := ws[name].Plan(t.Context()); err != nil || p.Changed || len(p.Changes) != 0 {
					errs <- fmt.Errorf("Plan(%s) = %+v, %v", name, p, err)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var nf *WorkspaceNotFoundError
	if _, err := ws["missing"].Plan(t.Context()); !errors.As(err, &nf) || !slices.Equal(nf.Existing, []string{"default", "a", "b"}) {
		t.Errorf("Plan(missing) error = %v, want *WorkspaceNotFoundError listing default, a, b", err)
	}

	raw, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	dataDir := ws["a"].DataDir()
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		fields := strings.Split(line, "|")
		cmd := strings.Fields(fields[0])[0]
		if cmd == "version" {
			continue // New's, before any stack
		}
		count[cmd]++
		if fields[2] != "TF_DATA_DIR="+dataDir {
			t.Errorf("%s ran with %s, want the stack's %s", cmd, fields[2], dataDir)
		}
		switch cmd {
		case "init":
			if fields[3] != "TF_PLUGIN_CACHE_DIR="+filepath.Join(root, "plugins") {
				t.Errorf("init ran with %s, want the runner's plugin cache", fields[3])
			}
		case "plan":
			ws := strings.TrimPrefix(fields[1], "TF_WORKSPACE=")
			if fields[4] != "AWS_ACCESS_KEY_ID=AKIA"+strings.ToUpper(ws) {
				t.Errorf("plan of workspace %q ran with %s", ws, fields[4])
			}
			for _, arg := range []string{"-json", "-detailed-exitcode", "-input=false"} {
				if !strings.Contains(fields[0], arg) {
					t.Errorf("plan without %s: %s", arg, fields[0])
				}
			}
			if strings.Contains(fields[0], "-refresh=false") {
				t.Errorf("plan without refresh: %s", fields[0])
			}
		}
	}
	// One init and one list for the stack, one more list for the missing
	// workspace (it may have been created since), one process per plan.
	want := map[string]int{"init": 1, "workspace": 2, "plan": 2 * rounds}
	if !maps.Equal(count, want) {
		t.Errorf("terraform commands = %v, want %v:\n%s", count, want, raw)
	}
}
