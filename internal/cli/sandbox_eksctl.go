package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/awsconf"
	"github.com/eksbg/eksbg/internal/sandbox/standin"
)

// EksctlSchemaEnv names the file holding eksctl's ClusterConfig JSON schema
// for the sandbox's eksctl (`eksctl utils schema` of a real eksctl prints
// it). `eksbg sandbox up` sets it in the workspace's env file.
const EksctlSchemaEnv = "EKSBG_EKSCTL_SCHEMA"

// NewCmdSandboxEksctl builds `eksbg sandbox eksctl`, the sandbox's eksctl.
// Every argument goes to it untouched, as they would to eksctl.
func NewCmdSandboxEksctl(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "eksctl [eksctl arguments]",
		Short: "The sandbox's eksctl (the workspace's PATH runs it as 'eksctl')",
		Long: `The sandbox's stand-in for eksctl. The 'eksctl' on the sandbox workspace's PATH
runs this command, so eksbg drives it exactly as it drives the real eksctl.

It covers what eksbg calls: version, utils schema, create cluster -f,
delete cluster --name [--wait] or -f, get cluster [--name] -o json|yaml|table,
create nodegroup -f and delete nodegroup. It validates every ClusterConfig
against eksctl's own JSON schema (the file named by $` + EksctlSchemaEnv + `),
refuses what eksctl 0.231 refuses, and creates clusters, node groups and
add-ons through the sandbox's EKS API, printing eksctl's progress lines.`,
		Example: `  eksctl create cluster -f demo-green.yaml
  eksbg sandbox eksctl get cluster --name demo-blue -o json`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := standinOptions(f)
			if err != nil {
				return err
			}
			if code := standin.Run(cmd.Context(), args, o); code != 0 {
				return &silentExit{code}
			}
			return nil
		},
	}
}

// standinOptions wires the stand-in to the SDK's configuration chain (the
// workspace's env file points it at the sandbox) and to eksctl's schema.
func standinOptions(f *Factory) (standin.Options, error) {
	o := standin.Options{
		Out: f.IO.Out, ErrOut: f.IO.ErrOut,
		AWS: func(ctx context.Context, region string) (aws.Config, error) {
			return awsconf.Load(ctx, awsconf.Options{Region: region})
		},
		LookPath: exec.LookPath,
	}
	path := f.Getenv(EksctlSchemaEnv)
	if path == "" {
		// No schema: the stand-in refuses every config rather than accept
		// one real eksctl might not.
		o.Validate = func(string, []byte) error {
			return fmt.Errorf("cannot validate: eksctl's ClusterConfig schema is not available to the sandbox's eksctl; set %s to a schema file ('eksctl utils schema' prints one)", EksctlSchemaEnv)
		}
		return o, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return o, fmt.Errorf("reading eksctl's schema (%s): %w", EksctlSchemaEnv, err)
	}
	schema, err := clusters.CompileSchema(data)
	if err != nil {
		return o, fmt.Errorf("compiling eksctl's schema %s: %w", path, err)
	}
	o.Schema = data
	o.Validate = func(file string, data []byte) error {
		c, err := clusters.Parse(file, data)
		if err != nil {
			return err
		}
		return schema.Validate(c)
	}
	return o, nil
}
