package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/eksbg/eksbg/internal/output"
	"github.com/eksbg/eksbg/internal/sandbox"
	"github.com/eksbg/eksbg/internal/sandbox/scenarios"
)

// DefaultSandboxAddr is where the sandbox's AWS endpoint listens.
const DefaultSandboxAddr = "127.0.0.1:4566"

// NewCmdSandbox builds the `eksbg sandbox` group.
func NewCmdSandbox(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run eksbg's local AWS sandbox",
		Long: `The sandbox is a local stand-in for an AWS account: an emulator of the AWS APIs
eksbg calls (EC2, EKS, Elastic Load Balancing v2, Service Quotas, CloudWatch,
STS), speaking their real wire protocols, so eksbg, the AWS SDKs and the AWS
CLI talk to it with only an endpoint override. Its world comes from a scenario
file (docs/sandbox.md).`,
		Example: `  eksbg sandbox up && source sandbox/env
  eksbg sandbox status
  eksbg sandbox down`,
	}
	cmd.AddCommand(NewCmdSandboxUp(f, nil))
	cmd.AddCommand(NewCmdSandboxDown(f, nil))
	cmd.AddCommand(NewCmdSandboxServe(f, nil))
	cmd.AddCommand(NewCmdSandboxKubeconfig(f, nil))
	cmd.AddCommand(NewCmdSandboxStatus(f, nil))
	cmd.AddCommand(NewCmdSandboxEksctl(f))
	return cmd
}

// SandboxServeOptions are the parsed flags of `eksbg sandbox serve`.
type SandboxServeOptions struct {
	sandbox.ServeOptions
	Ctx context.Context
}

// NewCmdSandboxServe builds `eksbg sandbox serve`.
func NewCmdSandboxServe(f *Factory, runF func(*SandboxServeOptions) error) *cobra.Command {
	o := &SandboxServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the AWS API emulator in the foreground",
		Long: fmt.Sprintf(`Serve the AWS API emulator until interrupted.

The world is built from --scenario, a built-in scenario (%s) or a scenario
file, and saved to --state after every change, so a restart resumes where it
stopped and several eksbg processes share one world. --fresh starts over.`, strings.Join(scenarios.Names(), ", ")),
		Example: `  # the demo world on the default address
  eksbg sandbox serve

  # your own scenario, starting over, on another port
  eksbg sandbox serve --scenario ./my-scenario.yaml --fresh --addr 127.0.0.1:4600`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ctx, o.Out, o.Logger = cmd.Context(), f.IO.Out, f.Logger()
			if runF != nil {
				return runF(o)
			}
			return sandbox.Serve(o.Ctx, o.ServeOptions)
		},
	}
	cmd.Flags().StringVar(&o.Scenario, "scenario", "demo", "built-in scenario name or path to a scenario file")
	cmd.Flags().StringVar(&o.Addr, "addr", DefaultSandboxAddr, "address to listen on")
	cmd.Flags().StringVar(&o.StatePath, "state", sandbox.DefaultStatePath(), "file that persists the world (\"\" keeps it in memory)")
	cmd.Flags().BoolVar(&o.Fresh, "fresh", false, "discard saved state and start from the scenario")
	cmd.Flags().BoolVar(&o.ControlPlanes, "control-planes", false, "run a real Kubernetes control plane behind every EKS cluster (as 'sandbox up' does)")
	cmd.Flags().StringVar(&o.RuntimeFile, "runtime-file", "", "record process ids and readiness here (used by 'sandbox up' and 'down')")
	return cmd
}

// SandboxStatusOptions are the parsed flags of `eksbg sandbox status`.
type SandboxStatusOptions struct {
	Ctx       context.Context
	Addr      string
	StatePath string
	Format    output.Format
}

// NewCmdSandboxStatus builds `eksbg sandbox status`.
func NewCmdSandboxStatus(f *Factory, runF func(*SandboxStatusOptions) error) *cobra.Command {
	o := &SandboxStatusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the sandbox runs and what it serves",
		Long: `Show whether the sandbox's AWS endpoint answers, and what it serves: subnets and
their free addresses, EKS clusters and node groups, load-balancer rules and
their weights. Everything is read through the AWS APIs, as eksbg reads a real
account.`,
		Example: `  eksbg sandbox status
  eksbg sandbox status -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.OutputFormat()
			if err != nil {
				return err
			}
			o.Ctx, o.Format = cmd.Context(), fm
			if runF != nil {
				return runF(o)
			}
			return runSandboxStatus(f, o)
		},
	}
	cmd.Flags().StringVar(&o.Addr, "addr", DefaultSandboxAddr, "address of the sandbox's AWS endpoint")
	cmd.Flags().StringVar(&o.StatePath, "state", sandbox.DefaultStatePath(), "state file of the sandbox (its runtime file, listing its processes, is beside it)")
	return cmd
}

func runSandboxStatus(f *Factory, o *SandboxStatusOptions) error {
	url := "http://" + o.Addr
	ctx, cancel := context.WithTimeout(o.Ctx, 30*time.Second)
	defer cancel()
	cfg, err := sandbox.AWSConfig(ctx, url, f.Getenv("AWS_ACCESS_KEY_ID"), f.Getenv("AWS_SECRET_ACCESS_KEY"))
	if err != nil {
		return err
	}
	inv, err := sandbox.Inspect(ctx, cfg)
	if err != nil {
		return err
	}
	if rt, err := sandbox.ReadRuntime(sandbox.RuntimeFile(o.StatePath)); err == nil && rt != nil && rt.URL == url {
		inv.Runtime = rt
	}
	return output.Write(f.IO.Out, o.Format, inv)
}
