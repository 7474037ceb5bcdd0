package terraform

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
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
	// ["delete"], ["read"], ["delete","create"] or ["create","delete"]
	// (replace), ["no-op"] (only in Drift).
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

// Plan runs terraform plan -detailed-exitcode in the workspace, saves the
// plan and reads it back with terraform show -json. Nothing is applied.
// TF_VAR_* variables of the caller's environment reach the plan as they
// would reach a terraform plan run by hand.
func (w *Workspace) Plan(ctx context.Context) (*Plan, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.init(ctx); err != nil {
		return nil, err
	}
	if err := w.setEnv(ctx, w.tf); err != nil {
		return nil, err
	}
	// The saved plan holds state values, secrets included: it lives in a
	// private directory under the data directory and goes when done.
	tmp, err := os.MkdirTemp(w.dataDir, "plan-")
	if err != nil {
		return nil, fmt.Errorf("creating a plan directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	planFile := filepath.Join(tmp, "eksbg.tfplan")
	opts := []tfexec.PlanOption{tfexec.Out(planFile)}
	if w.r.lockTimeout != "" {
		opts = append(opts, tfexec.LockTimeout(w.r.lockTimeout))
	}
	vars, err := planVars(w.dir, os.Environ())
	if err != nil {
		return nil, fmt.Errorf("planning %s: %w", w, err)
	}
	if len(vars) > 0 {
		varFile := filepath.Join(tmp, "environment.tfvars")
		if err := os.WriteFile(varFile, vars, 0o600); err != nil {
			return nil, fmt.Errorf("writing the variables file: %w", err)
		}
		opts = append(opts, tfexec.VarFile(varFile))
	}
	changed, err := w.tf.Plan(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("planning %s: %w", w, err)
	}
	p, err := w.tf.ShowPlanFile(ctx, planFile)
	if err != nil {
		return nil, fmt.Errorf("reading the plan of %s: %w", w, err)
	}
	return planFromJSON(p, changed), nil
}

// planFromJSON keeps what the drift check needs of terraform's JSON plan.
//
// See https://developer.hashicorp.com/terraform/internals/json-format#plan-representation
func planFromJSON(p *tfjson.Plan, changed bool) *Plan {
	out := &Plan{Changed: changed}
	for _, rc := range p.ResourceChanges {
		if c, ok := resourceChange(rc); ok && (!rc.Change.Actions.NoOp() || c.Importing) {
			out.Changes = append(out.Changes, c)
		}
	}
	for _, rc := range p.ResourceDrift {
		if c, ok := resourceChange(rc); ok {
			out.Drift = append(out.Drift, c)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.OutputChanges)) {
		oc := p.OutputChanges[name]
		if oc == nil || oc.Actions.NoOp() {
			continue
		}
		out.OutputChanges = append(out.OutputChanges, Change{Address: "output." + name, Actions: actionStrings(oc.Actions)})
	}
	return out
}

func resourceChange(rc *tfjson.ResourceChange) (Change, bool) {
	if rc == nil || rc.Change == nil {
		return Change{}, false
	}
	return Change{
		Address:   rc.Address,
		Actions:   actionStrings(rc.Change.Actions),
		Importing: rc.Change.Importing != nil,
	}, true
}

func actionStrings(a tfjson.Actions) []string {
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = string(x)
	}
	return s
}
