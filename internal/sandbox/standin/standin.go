// Package standin is the sandbox's eksctl: the executable `eksctl` on the
// sandbox's PATH runs `eksbg sandbox eksctl`, which is this package. It
// covers what eksbg calls (version, utils schema, create/delete/get
// cluster, create/delete nodegroup), takes the same flags and files real
// eksctl takes, refuses what real eksctl would refuse, acts through the
// EKS API of the sandbox's emulator (as eksctl acts through
// CloudFormation), and prints progress lines shaped like eksctl's, so that
// eksbg cannot tell it from the real one.
package standin

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"
)

// Version is the eksctl release the stand-in plays: the one whose
// behaviour on the published examples it was checked against (0.231).
const Version = "0.231.0"

// SupportedVersions are the Kubernetes versions eksctl 0.231 creates
// clusters with; older ones are refused as no longer supported.
var SupportedVersions = []string{"1.30", "1.31", "1.32", "1.33", "1.34", "1.35"}

// DefaultVersion is eksctl 0.231's default Kubernetes version.
const DefaultVersion = "1.34"

// Options are what the stand-in needs from its host process.
type Options struct {
	Out, ErrOut io.Writer
	// AWS loads the AWS configuration for a region ("" for the default);
	// in the sandbox it points at the emulator.
	AWS func(ctx context.Context, region string) (aws.Config, error)
	// Schema is eksctl's ClusterConfig JSON schema, printed by
	// `utils schema`; empty when the schema file is not available.
	Schema []byte
	// Validate checks a ClusterConfig against the schema, as eksctl's
	// loader does, and returns an error naming the offending field.
	Validate func(file string, data []byte) error
	// LookPath finds helper binaries eksctl shells out to (flux).
	LookPath func(string) (string, error)
	// Now and Poll pace progress and waiting (tests shorten them).
	Now  func() time.Time
	Poll time.Duration
}

// NewCommand builds the `eksctl` command tree.
func NewCommand(o Options) *cobra.Command {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Poll == 0 {
		o.Poll = time.Second
	}
	if o.LookPath == nil {
		o.LookPath = func(string) (string, error) { return "", os.ErrNotExist }
	}
	root := &cobra.Command{
		Use:           "eksctl",
		Short:         "The official CLI for Amazon EKS (sandbox stand-in)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(o.Out)
	root.SetErr(o.ErrOut)
	r := &runner{o: o}
	root.AddCommand(&cobra.Command{
		Use: "version", Short: "Output the version of eksctl", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { fmt.Fprintln(o.Out, Version); return nil },
	})
	utils := &cobra.Command{Use: "utils", Short: "Various utils"}
	utils.AddCommand(&cobra.Command{
		Use: "schema", Short: "Output the ClusterConfig JSON Schema", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(o.Schema) == 0 {
				return fmt.Errorf("the ClusterConfig schema is not available to the sandbox's eksctl")
			}
			_, err := o.Out.Write(o.Schema)
			return err
		},
	})
	root.AddCommand(utils)
	create := &cobra.Command{Use: "create", Short: "Create resource(s)"}
	create.AddCommand(r.createClusterCmd(), r.createNodegroupCmd())
	del := &cobra.Command{Use: "delete", Short: "Delete resource(s)"}
	del.AddCommand(r.deleteClusterCmd(), r.deleteNodegroupCmd())
	get := &cobra.Command{Use: "get", Short: "Get resource(s)"}
	get.AddCommand(r.getClusterCmd())
	root.AddCommand(create, del, get)
	return root
}

// Run runs the stand-in with args and returns eksctl's exit code, printing
// errors as eksctl does ("Error: ...").
func Run(ctx context.Context, args []string, o Options) int {
	cmd := NewCommand(o)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(o.ErrOut, "Error: %v\n", err)
		return 1
	}
	return 0
}

type runner struct{ o Options }

// logf prints one eksctl log line: "2006-01-02 15:04:05 [ℹ]  message".
func (r *runner) logf(icon, format string, args ...any) {
	fmt.Fprintf(r.o.Out, "%s [%s]  %s\n", r.o.Now().Format("2006-01-02 15:04:05"), icon, fmt.Sprintf(format, args...))
}

func (r *runner) info(format string, args ...any)    { r.logf("ℹ", format, args...) }
func (r *runner) success(format string, args ...any) { r.logf("✔", format, args...) }
func (r *runner) warn(format string, args ...any)    { r.logf("!", format, args...) }

func supported(v string) bool {
	for _, s := range SupportedVersions {
		if s == v {
			return true
		}
	}
	return false
}

func versionError(v string) error {
	return fmt.Errorf("invalid version, %s is no longer supported, supported values: %s\nsee also: https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html",
		v, strings.Join(SupportedVersions, ", "))
}
