// Package cli is eksbg's command tree. Commands are thin: each parses its
// flags into an options struct and calls a run function over the domain
// packages (clusters, terraform, upgrade, tui, internal/sandbox). Every
// NewCmdX takes the Factory and an optional runF so tests can capture the
// parsed options without running anything (the shape of cli/cli).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/eksbg/eksbg/internal/output"
)

// IO is where commands read and write.
type IO struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// IsTerminal reports whether Out is a terminal.
	IsTerminal bool
}

// StdIO is the process's standard streams.
func StdIO() IO {
	return IO{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, IsTerminal: term.IsTerminal(int(os.Stdout.Fd()))}
}

// GlobalOptions are the flags every command has.
type GlobalOptions struct {
	// ConfigPath is the project config, eksbg.yaml.
	ConfigPath string
	// Env selects an environment of the project config.
	Env string
	// Output is the -o format of commands with tabular output.
	Output string
	// NoColor turns colour off (also NO_COLOR in the environment).
	NoColor  bool
	LogLevel string
}

// Factory hands commands what they share: streams, global options, the
// logger. It is built once per process by Main.
type Factory struct {
	IO      IO
	Globals *GlobalOptions
	// Getenv reads the environment (injectable for tests).
	Getenv func(string) string
	logger *slog.Logger
}

// Logger logs to stderr at the --log-level.
func (f *Factory) Logger() *slog.Logger {
	if f.logger == nil {
		var lvl slog.Level
		_ = lvl.UnmarshalText([]byte(f.Globals.LogLevel))
		f.logger = slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: lvl}))
	}
	return f.logger
}

// Color reports whether output may use colour: a terminal, no --no-color,
// and no NO_COLOR (https://no-color.org).
func (f *Factory) Color() bool {
	return f.IO.IsTerminal && !f.Globals.NoColor && f.Getenv("NO_COLOR") == ""
}

// OutputFormat parses --output.
func (f *Factory) OutputFormat() (output.Format, error) {
	fm, err := output.ParseFormat(f.Globals.Output)
	if err != nil {
		return "", usageError{err}
	}
	return fm, nil
}

// NewRootCmd builds the command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "eksbg",
		Short: "Blue/green lifecycle for Amazon EKS clusters",
		Long: `eksbg upgrades Amazon EKS clusters the blue/green way: it builds a green
cluster beside the blue one from the same eksctl config and Terraform network,
moves the apps with Argo CD and the traffic with weighted ALB listener rules,
gated on health and CloudWatch metrics, and tears blue down.

AWS settings come from the standard SDK chain (AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>). To try eksbg without an AWS
account, run it against the local sandbox: see 'eksbg sandbox --help'.`,
		Example: `  eksbg sandbox up && source sandbox/env     # try it without an AWS account
  eksbg plan --env demo --to 1.34
  eksbg upgrade --env demo --to 1.34
  eksbg                                      # the terminal UI`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       "",
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			switch strings.ToLower(f.Globals.LogLevel) {
			case "debug", "info", "warn", "error":
				return nil
			}
			return usageErrorf("unknown --log-level %q: use debug, info, warn or error", f.Globals.LogLevel)
		},
	}
	pf := root.PersistentFlags()
	defConfig := "./eksbg.yaml"
	if p := f.Getenv("EKSBG_CONFIG"); p != "" {
		defConfig = p // the sandbox workspace's env file sets it
	}
	pf.StringVar(&f.Globals.ConfigPath, "config", defConfig, "project config file (default from $EKSBG_CONFIG)")
	pf.StringVar(&f.Globals.Env, "env", "", "environment of the project config to act on")
	pf.StringVarP(&f.Globals.Output, "output", "o", "table", "output format of tabular results: table, json, yaml, markdown")
	pf.BoolVar(&f.Globals.NoColor, "no-color", false, "disable colour (also honoured: NO_COLOR)")
	pf.StringVar(&f.Globals.LogLevel, "log-level", "warn", "log level on stderr: debug, info, warn, error")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })

	root.AddCommand(NewCmdVersion(f, nil))
	root.AddCommand(NewCmdSandbox(f))
	root.AddCommand(NewCmdToken(f, nil))
	root.AddCommand(NewCmdPlan(f, nil))
	root.AddCommand(NewCmdForceUnlock(f, nil))
	root.AddCommand(NewCmdCapacity(f, nil))
	root.AddCommand(NewCmdDrift(f, nil))
	root.AddCommand(NewCmdUpgrade(f, nil))
	root.AddCommand(NewCmdRollback(f, nil))
	root.AddCommand(NewCmdShift(f, nil))
	root.AddCommand(NewCmdStatus(f, nil))
	tuiCmd := NewCmdTUI(f, nil)
	root.AddCommand(tuiCmd)
	root.RunE = rootRunE(f, tuiCmd) // no arguments: the TUI in a terminal, the help elsewhere
	return root
}

// Main runs eksbg with args and returns the exit code.
func Main(ctx context.Context, args []string, io IO) int {
	f := &Factory{IO: io, Globals: &GlobalOptions{}, Getenv: os.Getenv}
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	err := root.ExecuteContext(ctx)
	if err != nil {
		var fe *FindingsError
		var ue usageError
		var se *silentExit
		switch {
		case errors.As(err, &fe), errors.As(err, &se):
			// the command printed its report
		case errors.As(err, &ue):
			fmt.Fprintf(io.ErrOut, "Error: %v\nRun '%s --help' for usage.\n", err, commandPath(root, args))
		case errors.Is(err, context.Canceled):
			fmt.Fprintln(io.ErrOut, "Interrupted.")
			return ExitInterrupted
		default:
			fmt.Fprintf(io.ErrOut, "Error: %v\n", err)
		}
	}
	return exitCode(err)
}

// commandPath names the subcommand args selected, for the usage hint.
func commandPath(root *cobra.Command, args []string) string {
	if c, _, err := root.Find(args); err == nil && c != nil {
		return c.CommandPath()
	}
	return root.Name()
}
