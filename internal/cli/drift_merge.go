package cli

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/eksbg/eksbg/internal/drift"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/output"
)

// DriftMergeOptions are the parsed flags of `eksbg drift merge`.
type DriftMergeOptions struct {
	// Files are the JSON reports to merge.
	Files []string
	// Format is -o: table, json, yaml, markdown or junit.
	Format output.Format
	// FailOn is the severity that makes the exit status 2.
	FailOn findings.Severity
}

// NewCmdDriftMerge builds `eksbg drift merge`.
func NewCmdDriftMerge(f *Factory, runF func(*DriftMergeOptions) error) *cobra.Command {
	o := &DriftMergeOptions{}
	var failOn string
	cmd := &cobra.Command{
		Use:   "merge FILE...",
		Short: "Combine the JSON reports of 'eksbg drift --shard' into one report",
		Long: `Read the JSON reports of the shards of one drift run ('eksbg drift --all
--shard I/N -o json') and write one report, as 'eksbg drift --all' would have:
every environment once, sorted, counted again, in any output format, with one
exit status (0 nothing found, 2 drift found or a warning with --fail-on
warning, 1 a check could not run in any shard). An environment in two reports
is an error. An ignore rule is reported unused only when no shard used it.`,
		Example: `  eksbg drift merge drift-*.json -o junit > drift.xml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("give the JSON reports to merge: eksbg drift merge FILE...")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = args
			var err error
			if o.Format, o.FailOn, err = driftReportFlags(f, failOn); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runDriftMerge(f, o)
		},
	}
	cmd.Flags().StringVar(&failOn, "fail-on", drift.SeverityDrift, "severity that makes the exit status 2: drift or warning")
	return cmd
}

func runDriftMerge(f *Factory, o *DriftMergeOptions) error {
	reps := make([]*drift.Report, 0, len(o.Files))
	for _, name := range o.Files {
		data, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("reading a drift report: %w", err)
		}
		rep := &drift.Report{}
		if err := json.Unmarshal(data, rep); err != nil {
			return fmt.Errorf("reading the drift report %s: %w", name, err)
		}
		reps = append(reps, rep)
	}
	rep, err := drift.Merge(reps...)
	if err != nil {
		return err
	}
	return writeDrift(f, rep, o.Format, o.FailOn)
}
