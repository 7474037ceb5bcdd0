package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/eksbg/eksbg/internal/output"
	"github.com/eksbg/eksbg/internal/version"
)

// VersionOptions are the parsed flags of `eksbg version`.
type VersionOptions struct {
	Format output.Format
	Print  func(version.Info, output.Format) error
}

// NewCmdVersion builds `eksbg version`.
func NewCmdVersion(f *Factory, runF func(*VersionOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print eksbg's version",
		Example: `  eksbg version
  eksbg version -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.OutputFormat()
			if err != nil {
				return err
			}
			opts := &VersionOptions{Format: fm, Print: func(i version.Info, fm output.Format) error {
				if fm == output.Table {
					_, err := fmt.Fprintf(f.IO.Out, "eksbg %s (commit %s, built %s, %s)\n", i.Version, orNone(i.Commit), orNone(i.BuildDate), i.GoVersion)
					return err
				}
				return output.Write(f.IO.Out, fm, i)
			}}
			if runF != nil {
				return runF(opts)
			}
			return opts.Print(version.Get(), opts.Format)
		},
	}
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
