package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/eksbg/eksbg/internal/awsconf"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/upgrade/journal"
)

// ForceUnlockOptions are the parsed flags of `eksbg force-unlock`.
type ForceUnlockOptions struct {
	Ctx    context.Context
	LockID string
}

// NewCmdForceUnlock builds `eksbg force-unlock`.
func NewCmdForceUnlock(f *Factory, runF func(*ForceUnlockOptions) error) *cobra.Command {
	o := &ForceUnlockOptions{}
	cmd := &cobra.Command{
		Use:   "force-unlock --env NAME LOCK_ID",
		Short: "Remove an environment's upgrade lock left by a run that is gone",
		Long: `Remove the lock that lets one upgrade of an environment run at a time, when the
run that took it is gone (its machine died, its process was killed) and you
cannot wait for its lease to run out: a rerun takes over a lock whose lease
(state.lockLease, default 1m) has expired by itself. The lock ID is in the
message of the command that was refused ('locked by ... lock ID ...') and in
'eksbg status'; any other ID is refused, so an old command line cannot remove
a newer lock. Removing the lock of a run that is still going lets two runs act
at once (the other stops at its next lease renewal): make sure it is gone
first.`,
		Example: `  eksbg force-unlock --env prod 6f1c2a9d3e4b5a60`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.Globals.Env == "" {
				return usageErrorf("--env is required")
			}
			o.Ctx, o.LockID = cmd.Context(), args[0]
			if runF != nil {
				return runF(o)
			}
			p, err := config.Load(f.Globals.ConfigPath)
			if err != nil {
				return err
			}
			env, err := p.Env(f.Globals.Env)
			if err != nil {
				return usageError{err}
			}
			b, err := openState(o.Ctx, env, filepath.Dir(p.File))
			if err != nil {
				return err
			}
			if err := b.ForceUnlock(o.Ctx, env.Name, o.LockID); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "Lock %s of environment %s removed.\n", o.LockID, env.Name)
			return nil
		},
	}
	return cmd
}

// openState opens an environment's state backend. The s3 backend gets an
// S3 client from the environment's AWS configuration (its profile and
// role) in the bucket's region, state.region (aws.region by default).
func openState(ctx context.Context, env *config.Environment, projectDir string) (journal.Backend, error) {
	var s3c journal.S3API
	if env.State.Backend == config.StateBackendS3 {
		cfg, err := awsconf.Load(ctx, awsconf.Options{Region: env.State.Region, Profile: env.AWS.Profile, RoleARN: env.AWS.RoleARN})
		if err != nil {
			return nil, err
		}
		s3c = journal.NewS3Client(cfg)
	}
	return journal.ForEnvironment(env.State, projectDir, s3c)
}
