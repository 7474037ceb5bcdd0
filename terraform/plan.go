package terraform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Plan is what terraform plan would do to a workspace: the drift check's
// input.
type Plan struct {
	// Changed is terraform's own verdict (-detailed-exitcode 2): the plan
	// changes resources or outputs.
	Changed bool `json:"changed"`
	// Changes are the resources the plan would create, update, replace,
	// delete or read, in terraform's order. Resources it leaves alone,
	// including ones only moved to a new address, are left out.
	Changes []Change `json:"changes"`
	// OutputChanges are the root module outputs the plan would change.
	// eksbg reads the network from outputs, so these matter even when no
	// resource changes.
	OutputChanges []Change `json:"outputChanges"`
	// Drift lists resources that changed outside Terraform since the last
	// apply, as the plan's refresh found them.
	Drift []Change `json:"drift"`
}

// Change is one planned change.
type Change struct {
	// Address is the resource address (module.net.aws_subnet.nodes["a"]),
	// or "output.<name>" for an output.
	Address string `json:"address"`
	// Actions are terraform's actions in order: ["create"], ["update"],
	// ["delete"], ["read"], ["forget"], ["delete","create"] (replace: the
	// machine-readable plan does not say which comes first), ["no-op"]
	// (an import only, or in Drift).
	Actions []string `json:"actions"`
	// Importing is set when the plan imports the resource.
	Importing bool `json:"importing,omitempty"`
}

// Action summarises Actions in one word: create, update, delete, read,
// replace, no-op.
func (c Change) Action() string {
	if len(c.Actions) == 2 {
		return "replace"
	}
	return strings.Join(c.Actions, ",")
}

// Plan runs terraform plan -detailed-exitcode -json in the workspace (with
// refresh, as a plan run by hand) and reads its machine-readable output:
// one terraform process, no plan file written. Nothing is applied. TF_VAR_*
// variables of the caller's environment reach the plan as they would reach
// a terraform plan run by hand.
//
// See https://developer.hashicorp.com/terraform/internals/machine-readable-ui
func (w *Workspace) Plan(ctx context.Context) (*Plan, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.init(ctx); err != nil {
		return nil, err
	}
	base, err := w.base(ctx)
	if err != nil {
		return nil, err
	}
	args := []string{"plan", "-json", "-detailed-exitcode", "-input=false", "-lock=true", "-no-color"}
	if w.r.lockTimeout != "" {
		args = append(args, "-lock-timeout="+w.r.lockTimeout)
	}
	vars, err := planVars(w.st.dir, os.Environ())
	if err != nil {
		return nil, fmt.Errorf("planning %s: %w", w, err)
	}
	if len(vars) > 0 {
		// The variables may hold secrets: a private directory, gone when
		// done.
		if err := os.MkdirAll(w.st.dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("creating terraform data directory: %w", err)
		}
		tmp, err := os.MkdirTemp(w.st.dataDir, "plan-")
		if err != nil {
			return nil, fmt.Errorf("creating a plan directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		varFile := filepath.Join(tmp, "environment.tfvars")
		if err := os.WriteFile(varFile, vars, 0o600); err != nil {
			return nil, fmt.Errorf("writing the variables file: %w", err)
		}
		args = append(args, "-var-file="+varFile)
	}
	if err := w.r.acquire(ctx); err != nil {
		return nil, err
	}
	defer w.r.release()
	stdout, code, err := w.r.run(ctx, w.r.command(ctx, w.st.dir, w.env(base), args...), 2)
	if err != nil {
		var ee *ExitError
		if errors.As(err, &ee) {
			// With -json, terraform's errors are diagnostics on stdout.
			ee.Stderr = strings.TrimSpace(strings.Join([]string{ee.Stderr, diagnostics(stdout)}, "\n"))
		}
		return nil, fmt.Errorf("planning %s: %w", w, err)
	}
	p, err := planFromStream(stdout, code == 2)
	if err != nil {
		return nil, fmt.Errorf("reading the plan of %s: %w", w, err)
	}
	return p, nil
}

// uiMessage is the part of a message of terraform's machine-readable UI
// that Plan reads.
type uiMessage struct {
	Level   string `json:"@level"`
	Message string `json:"@message"`
	Type    string `json:"type"`
	Change  *struct {
		Resource struct {
			Addr string `json:"addr"`
		} `json:"resource"`
		Action    string          `json:"action"`
		Importing json.RawMessage `json:"importing"`
	} `json:"change"`
	Outputs map[string]struct {
		Action string `json:"action"`
	} `json:"outputs"`
	Diagnostic *struct {
		Severity string `json:"severity"`
		Summary  string `json:"summary"`
		Detail   string `json:"detail"`
		Range    *struct {
			Filename string `json:"filename"`
			Start    struct {
				Line int `json:"line"`
			} `json:"start"`
		} `json:"range"`
	} `json:"diagnostic"`
}

// uiActions maps the machine-readable UI's actions to the JSON plan's
// (terraform's internal/command/views/json/change.go). The UI says
// "replace" without the order: it is reported as ["delete","create"].
var uiActions = map[string][]string{
	"create":  {"create"},
	"read":    {"read"},
	"update":  {"update"},
	"delete":  {"delete"},
	"replace": {"delete", "create"},
	"remove":  {"forget"},
	"noop":    {"no-op"},
	"import":  {"no-op"},
	"move":    {"no-op"},
}

// planFromStream keeps what the drift check needs of terraform plan
// -json's messages: planned changes (resources only moved left out),
// resources drifted outside Terraform, and changed outputs. Changes are
// sorted by address, as terraform show -json lists them.
func planFromStream(stream []byte, changed bool) (*Plan, error) {
	out := &Plan{Changed: changed}
	for line := range bytes.Lines(stream) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var m uiMessage
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, fmt.Errorf("decoding terraform's output %q: %w", line, err)
		}
		switch {
		case m.Type == "planned_change" && m.Change != nil:
			c := uiChange(m)
			if c.Action() != "no-op" || c.Importing {
				out.Changes = append(out.Changes, c)
			}
		case m.Type == "resource_drift" && m.Change != nil:
			out.Drift = append(out.Drift, uiChange(m))
		case m.Type == "outputs":
			for _, name := range slices.Sorted(maps.Keys(m.Outputs)) {
				a := m.Outputs[name].Action
				if a == "" || a == "noop" {
					continue
				}
				out.OutputChanges = append(out.OutputChanges, Change{Address: "output." + name, Actions: actionsOf(a)})
			}
		}
	}
	byAddr := func(a, b Change) int { return strings.Compare(a.Address, b.Address) }
	slices.SortStableFunc(out.Changes, byAddr)
	slices.SortStableFunc(out.Drift, byAddr)
	return out, nil
}

func uiChange(m uiMessage) Change {
	imp := len(m.Change.Importing) > 0 && string(m.Change.Importing) != "null"
	return Change{Address: m.Change.Resource.Addr, Actions: actionsOf(m.Change.Action), Importing: imp || m.Change.Action == "import"}
}

func actionsOf(a string) []string {
	if acts, ok := uiActions[a]; ok {
		return slices.Clone(acts)
	}
	return []string{a} // an action newer than this code: named as it is
}

// diagnostics are the error diagnostics of a -json command's output, as
// terraform would print them: summary, file and line, detail.
func diagnostics(stream []byte) string {
	var b strings.Builder
	for line := range bytes.Lines(stream) {
		var m uiMessage
		if json.Unmarshal(bytes.TrimSpace(line), &m) != nil || m.Type != "diagnostic" || m.Diagnostic == nil || m.Diagnostic.Severity != "error" {
			continue
		}
		d := m.Diagnostic
		fmt.Fprintf(&b, "Error: %s\n", d.Summary)
		if d.Range != nil {
			fmt.Fprintf(&b, "  on %s line %d\n", d.Range.Filename, d.Range.Start.Line)
		}
		if d.Detail != "" {
			fmt.Fprintf(&b, "%s\n", d.Detail)
		}
	}
	return b.String()
}
