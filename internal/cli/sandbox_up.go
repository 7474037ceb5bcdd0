package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/eksbg/eksbg/internal/sandbox"
	"github.com/eksbg/eksbg/internal/sandbox/scenarios"
)

// SandboxUpOptions are the parsed flags of `eksbg sandbox up`.
type SandboxUpOptions struct {
	sandbox.UpOptions
	Ctx context.Context
}

// NewCmdSandboxUp builds `eksbg sandbox up`.
func NewCmdSandboxUp(f *Factory, runF func(*SandboxUpOptions) error) *cobra.Command {
	o := &SandboxUpOptions{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the sandbox in the background and write its workspace",
		Long: fmt.Sprintf(`Start the sandbox in the background: the AWS API emulator over a scenario
(built in: %s, or a file), and a real Kubernetes control plane (etcd,
kube-apiserver, kube-controller-manager, kube-scheduler, with kwok playing the
kubelets) behind every EKS cluster. Then write the workspace, a directory with:

  eksbg.yaml      the project config for the sandbox's environments
  network/        a Terraform stack whose outputs describe the sandbox's VPC
                  (applied, one workspace per environment)
  clusters/       the eksctl config of each live cluster
  bin/eksctl      the sandbox's eksctl
  env             source it: AWS endpoint and credentials, PATH, EKSBG_CONFIG

The control-plane binaries come from 'make kube-bins' (cached). A sandbox
already running is reused and its workspace rewritten. Stop it with
'eksbg sandbox down'.`, strings.Join(scenarios.Names(), ", ")),
		Example: `  eksbg sandbox up
  source sandbox/env
  eksbg sandbox status
  eksbg sandbox kubeconfig > sandbox/kubeconfig && kubectl --kubeconfig sandbox/kubeconfig get nodes
  eksbg sandbox down`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ctx, o.Out = cmd.Context(), f.IO.Out
			if o.Eksbg == "" {
				self, err := os.Executable()
				if err != nil {
					return err
				}
				o.Eksbg = self
			}
			if o.EksctlSchema == "" {
				o.EksctlSchema = f.Getenv(EksctlSchemaEnv)
			}
			if o.EksctlSchema != "" {
				abs, err := filepath.Abs(o.EksctlSchema)
				if err != nil {
					return err
				}
				o.EksctlSchema = abs
			}
			if runF != nil {
				return runF(o)
			}
			res, err := sandbox.Up(o.Ctx, o.UpOptions)
			if err != nil {
				return err
			}
			rt := res.Runtime
			fmt.Fprintf(f.IO.Out, "\nSandbox ready in %.1fs: AWS endpoint %s, %d control plane(s), %d processes (pid %d).\n",
				res.Took.Seconds(), rt.URL, len(rt.Clusters), len(rt.Processes)+1, rt.PID)
			for _, c := range rt.Clusters {
				fmt.Fprintf(f.IO.Out, "  %-20s %s\n", c.Name, c.Endpoint)
			}
			if o.EksctlSchema == "" {
				fmt.Fprintf(f.IO.Out, "\nWarning: no eksctl schema (set %s): the sandbox's eksctl will refuse every config.\n", EksctlSchemaEnv)
			}
			fmt.Fprintf(f.IO.Out, "\nNext:\n  source %s\n  eksbg sandbox status\n", filepath.Join(o.Workspace, "env"))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Scenario, "scenario", "demo", "built-in scenario name or path to a scenario file")
	fl.StringVar(&o.Addr, "addr", DefaultSandboxAddr, "address of the AWS endpoint")
	fl.StringVar(&o.StatePath, "state", sandbox.DefaultStatePath(), "file that persists the world")
	fl.BoolVar(&o.Fresh, "fresh", false, "discard saved state and start from the scenario")
	fl.StringVar(&o.Workspace, "workspace", "sandbox", "directory to write the workspace to")
	fl.StringVar(&o.EksctlSchema, "eksctl-schema", "", "eksctl's ClusterConfig schema file for the sandbox's eksctl (default $"+EksctlSchemaEnv+")")
	fl.BoolVar(&o.NoControlPlanes, "no-control-planes", false, "run the AWS emulator only, without Kubernetes")
	fl.DurationVar(&o.Timeout, "timeout", 0, "how long to wait for the sandbox to be ready (default 3m)")
	return cmd
}

// SandboxDownOptions are the parsed flags of `eksbg sandbox down`.
type SandboxDownOptions struct {
	Ctx       context.Context
	StatePath string
}

// NewCmdSandboxDown builds `eksbg sandbox down`.
func NewCmdSandboxDown(f *Factory, runF func(*SandboxDownOptions) error) *cobra.Command {
	o := &SandboxDownOptions{}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop the sandbox and every process it started",
		Long: `Stop the sandbox started by 'eksbg sandbox up': its serve process stops the
control planes, and any process of the sandbox still alive after that is
killed, by process id. Nothing is left running. The world's state file is
kept: the next 'up' resumes it ('up --fresh' starts over).`,
		Example: `  eksbg sandbox down
  eksbg sandbox down --state /tmp/demo/state/world.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ctx = cmd.Context()
			if runF != nil {
				return runF(o)
			}
			res, err := sandbox.Down(o.Ctx, o.StatePath, f.IO.Out)
			if err != nil {
				return err
			}
			if !res.Running {
				fmt.Fprintln(f.IO.Out, "No sandbox is running.")
				return nil
			}
			fmt.Fprintf(f.IO.Out, "Sandbox stopped in %.1fs: %d processes ended", res.Took.Seconds(), res.Stopped)
			if len(res.Killed) > 0 {
				fmt.Fprintf(f.IO.Out, " (%d had to be killed: %v)", len(res.Killed), res.Killed)
			}
			fmt.Fprintln(f.IO.Out, "; nothing left running.")
			return nil
		},
	}
	cmd.Flags().StringVar(&o.StatePath, "state", sandbox.DefaultStatePath(), "state file of the sandbox to stop")
	return cmd
}
