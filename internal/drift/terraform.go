package drift

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/terraform"
)

// checkTerraform plans the environment's network stack workspace: every
// resource or output the plan would change is drift.
func (c *checker) checkTerraform(ctx context.Context, run *envRun) {
	tf, err := c.terraform(ctx)
	if err != nil {
		run.fail(KindTerraform, err)
		return
	}
	w, err := tf.ForEnv(run.env)
	if err != nil {
		run.fail(KindTerraform, err)
		return
	}
	p, err := w.Plan(ctx)
	if err != nil {
		run.fail(KindTerraform, err)
		return
	}
	run.add(terraformFindings(p, c.terraformFix(w))...)
}

// terraformFix is the command that reviews and applies the workspace.
func (c *checker) terraformFix(w *terraform.Workspace) string {
	dir := c.relDir(w.Dir())
	return fmt.Sprintf("terraform -chdir=%s workspace select %s && terraform -chdir=%s apply  # review the plan before approving it", dir, w.Name(), dir)
}

// terraformFindings turns a plan into findings: one per changed resource
// and output. A resource the plan's refresh found changed outside
// Terraform says so.
func terraformFindings(p *terraform.Plan, fix string) []findings.Finding {
	outside := map[string]bool{}
	for _, d := range p.Drift {
		outside[d.Address] = true
	}
	var out []findings.Finding
	for _, ch := range slices.Concat(p.Changes, p.OutputChanges) {
		actual := "plan would " + planAction(ch)
		if outside[ch.Address] {
			actual += " (changed outside Terraform)"
		}
		out = append(out, findings.Finding{Check: string(KindTerraform), Resource: ch.Address, Field: "",
			Expected: "no change: the workspace's state matches its configuration", Actual: actual, Severity: findings.Fail, Fix: fix})
	}
	if len(out) == 0 && p.Changed {
		// terraform said "changes" but listed none eksbg reads (a change
		// of a kind newer than this code): still drift, never silent.
		out = append(out, findings.Finding{Check: string(KindTerraform), Resource: "(plan)", Expected: "no change",
			Actual: "terraform plan -detailed-exitcode exited 2", Severity: findings.Fail, Fix: fix})
	}
	return out
}

// planAction says what terraform would do, in words.
func planAction(ch terraform.Change) string {
	a := ch.Action()
	switch a {
	case "create", "update", "delete", "replace", "read":
	default:
		a = strings.ReplaceAll(a, ",", " and ")
	}
	switch {
	case ch.Importing && a == "no-op":
		a = "import"
	case ch.Importing:
		a = "import and " + a
	}
	return a
}
