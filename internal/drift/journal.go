package drift

import (
	"fmt"
	"time"

	"github.com/eksbg/eksbg/internal/findings"
)

// checkJournal warns about an upgrade left open, and an upgrade lock held,
// for more than StaleAfter.
func (c *checker) checkJournal(run *envRun, st *stateInfo, stErr error) {
	if stErr != nil {
		run.fail(KindJournal, stErr)
		return
	}
	now := c.now()
	env := run.env.Name
	if j := st.journal; j.Open() && now.Sub(j.StartedAt) > StaleAfter {
		run.add(findings.Finding{Check: string(KindJournal), Resource: "journal/" + env, Field: "endedAt",
			Expected: fmt.Sprintf("no upgrade open for more than %s", humanDuration(StaleAfter)),
			Actual: fmt.Sprintf("upgrade %s from %s (%s) to %s (%s) open since %s (%s)", j.ID, j.From.Name, j.From.Version,
				j.To.Name, j.To.Version, j.StartedAt.UTC().Format(time.RFC3339), humanDuration(now.Sub(j.StartedAt))),
			Severity: findings.Warn,
			Fix:      fmt.Sprintf("eksbg upgrade --env %s --to %s  # resumes it from the journal; or end it: eksbg rollback --env %s", env, j.To.Version, env)})
	}
	if l := st.lock; l != nil && now.Sub(l.Created) > StaleAfter {
		run.add(findings.Finding{Check: string(KindJournal), Resource: "lock/" + env, Field: "created",
			Expected: fmt.Sprintf("no upgrade lock held for more than %s", humanDuration(StaleAfter)),
			Actual: fmt.Sprintf("held by %s on %s (pid %d, %s) since %s (%s)", l.Who, l.Host, l.PID, l.Operation,
				l.Created.UTC().Format(time.RFC3339), humanDuration(now.Sub(l.Created))),
			Severity: findings.Warn,
			Fix:      fmt.Sprintf("eksbg force-unlock --env %s %s  # only if that run is gone", env, l.ID)})
	}
}

// humanDuration rounds d for people: "26h", "3d4h", "45m".
func humanDuration(d time.Duration) string {
	switch {
	case d >= 72*time.Hour:
		days := d / (24 * time.Hour)
		if h := (d % (24 * time.Hour)) / time.Hour; h > 0 {
			return fmt.Sprintf("%dd%dh", days, h)
		}
		return fmt.Sprintf("%dd", days)
	case d >= time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	default:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
}
