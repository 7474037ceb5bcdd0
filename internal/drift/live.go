package drift

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/awsconf"
	"github.com/eksbg/eksbg/internal/awserr"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/upgrade/journal"
)

// awsGroup is what the environments of one account, region and set of
// credentials share: the SDK configuration, the region's cluster list,
// each cluster's DescribeCluster, and the capacity check (run once for all
// of them, as `eksbg capacity --all` does).
type awsGroup struct {
	c    *checker
	key  awsconf.Options
	envs []*config.Environment

	cfgOnce sync.Once
	cfg     aws.Config
	cfgErr  error

	namesOnce sync.Once
	names     map[string]bool
	namesErr  error

	described memo[string, *ekstypes.Cluster]
	lives     memo[string, *liveInfo]

	capOnce sync.Once
	capRes  map[string]*capResult
}

func newAWSGroup(c *checker, k awsconf.Options) *awsGroup {
	return &awsGroup{c: c, key: k}
}

// config returns the group's AWS configuration, loading it once.
func (g *awsGroup) config(ctx context.Context, env *config.Environment) (aws.Config, error) {
	g.cfgOnce.Do(func() {
		if g.c.o.AWS != nil {
			g.cfg, g.cfgErr = g.c.o.AWS(ctx, env)
			return
		}
		g.cfg, g.cfgErr = awsconf.Load(ctx, g.key)
	})
	return g.cfg, g.cfgErr
}

// clusterNames lists the region's EKS clusters once (paginated).
func (g *awsGroup) clusterNames(ctx context.Context, env *config.Environment) (map[string]bool, error) {
	g.namesOnce.Do(func() {
		cfg, err := g.config(ctx, env)
		if err != nil {
			g.namesErr = err
			return
		}
		names := map[string]bool{}
		p := eks.NewListClustersPaginator(eks.NewFromConfig(cfg), &eks.ListClustersInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				g.namesErr = fmt.Errorf("listing EKS clusters in %s: %w", g.key.Region, err)
				return
			}
			for _, n := range page.Clusters {
				names[n] = true
			}
		}
		g.names = names
	})
	return g.names, g.namesErr
}

// describe returns a cluster as DescribeCluster gives it, asking once per
// cluster however many checks and environments need it; nil with no error
// when the cluster does not exist.
func (g *awsGroup) describe(ctx context.Context, env *config.Environment, name string) (*ekstypes.Cluster, error) {
	return g.described.get(name, func() (*ekstypes.Cluster, error) {
		cfg, err := g.config(ctx, env)
		if err != nil {
			return nil, err
		}
		out, err := eks.NewFromConfig(cfg).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
		switch {
		case awserr.IsNotFound(err):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("describing cluster %s: %w", name, err)
		}
		return out.Cluster, nil
	})
}

// stateInfo is what the state backend holds of an environment.
type stateInfo struct {
	journal *journal.Journal
	lock    *journal.LockInfo
	live    *journal.Live
}

// state reads the environment's state once.
func (c *checker) state(ctx context.Context, env *config.Environment) (*stateInfo, error) {
	return c.states.get(env.Name, func() (*stateInfo, error) { return c.readState(ctx, env) })
}

// readState reads the environment's journal, lock and live color.
func (c *checker) readState(ctx context.Context, env *config.Environment) (*stateInfo, error) {
	b, err := c.openBackend(ctx, env)
	if err != nil {
		return nil, err
	}
	var st stateInfo
	if st.journal, err = b.Journal(ctx, env.Name); err != nil {
		return nil, fmt.Errorf("reading the journal: %w", err)
	}
	if st.lock, err = b.LockHolder(ctx, env.Name); err != nil {
		return nil, fmt.Errorf("reading the lock: %w", err)
	}
	if st.live, err = b.Live(ctx, env.Name); err != nil {
		return nil, fmt.Errorf("reading the live color: %w", err)
	}
	return &st, nil
}

// openBackend opens the environment's state backend; only the s3 backend
// needs the AWS configuration.
func (c *checker) openBackend(ctx context.Context, env *config.Environment) (journal.Backend, error) {
	var s3c journal.S3API
	if env.State.Backend == config.StateBackendS3 {
		cfg, err := c.groupFor(env).config(ctx, env)
		if err != nil {
			return nil, err
		}
		s3c = journal.NewS3Client(cfg)
	}
	b, err := journal.ForEnvironment(env.State, c.projectDir, s3c)
	if err != nil {
		return nil, fmt.Errorf("opening the state backend: %w", err)
	}
	return b, nil
}

// liveInfo is the environment's pair of clusters as it stands.
type liveInfo struct {
	// color is the live color and cluster its cluster's name; from is
	// "state" or "config" (EnvResult.LiveFrom).
	color, cluster, from string
	// exists says whether the live cluster exists.
	exists bool
	// other is the other color's cluster, and otherExists whether it exists.
	other       string
	otherExists bool
	// none is set when the state backend records no live color and
	// neither cluster exists: there is no live cluster to compare with.
	none bool
	// findings are what resolving found wrong (the live cluster missing).
	findings []findings.Finding
}

// Where the live color comes from (EnvResult.LiveFrom).
const (
	liveFromState  = "state"
	liveFromConfig = "config"
)

// live resolves the environment's live color once, as plan and upgrade
// do (config.Environment.LiveColor): the state backend's record, else the
// color of the cluster the environment's eksctl config names.
func (g *awsGroup) live(ctx context.Context, env *config.Environment, st *stateInfo, stErr error) (*liveInfo, error) {
	return g.lives.get(env.Name, func() (*liveInfo, error) { return g.resolveLive(ctx, env, st, stErr) })
}

func (g *awsGroup) resolveLive(ctx context.Context, env *config.Environment, st *stateInfo, stErr error) (*liveInfo, error) {
	if stErr != nil {
		return nil, fmt.Errorf("the live color is unknown: %w", stErr)
	}
	names, err := g.clusterNames(ctx, env)
	if err != nil {
		return nil, err
	}
	li := &liveInfo{from: liveFromState}
	recorded, configCluster := "", ""
	if st.live != nil {
		recorded = st.live.Color
	}
	// The eksctl config is read only when it decides, as journal.LiveColor
	// does: with a record, a config that does not load is the cluster
	// check's error alone.
	if !config.ValidColor(recorded) {
		li.from = liveFromConfig
		cfg, err := clusters.Load(env.Cluster.EksctlConfig)
		if err != nil {
			return nil, fmt.Errorf("the live color is unknown: loading the environment's eksctl config: %w", err)
		}
		configCluster = cfg.Name()
	}
	if li.color, err = env.LiveColor(recorded, configCluster); err != nil {
		return nil, fmt.Errorf("the live color is unknown: %w", err)
	}
	li.cluster, li.other = env.ClusterName(li.color), env.ClusterName(config.OtherColor(li.color))
	li.exists, li.otherExists = names[li.cluster], names[li.other]
	file := g.c.relDir(env.Cluster.EksctlConfig)
	switch {
	case !li.exists && !li.otherExists && li.from == liveFromConfig:
		li.none = true
		li.findings = append(li.findings, findings.Finding{Check: string(KindCluster), Resource: "cluster/" + li.cluster,
			Expected: fmt.Sprintf("%s or %s exists", env.ClusterName(config.Blue), env.ClusterName(config.Green)), Actual: "neither exists",
			Severity: findings.Fail, Fix: fmt.Sprintf("eksctl create cluster -f %s  # or fix cluster.nameTemplate of the environment in eksbg.yaml", file)})
	case !li.exists:
		fix := fmt.Sprintf("if %s serves the environment, record it in the state backend (eksbg upgrade does); otherwise recreate %s from %s",
			li.other, li.cluster, file)
		if li.from == liveFromConfig {
			fix = fmt.Sprintf("if %s serves the environment, record it in the state backend (eksbg upgrade does) or name it in %s; otherwise recreate %s from %s",
				li.other, file, li.cluster, file)
		}
		li.findings = append(li.findings, findings.Finding{Check: string(KindCluster), Resource: "cluster/" + li.cluster,
			Expected: fmt.Sprintf("exists: %s is the live color (%s)", li.color, liveSource(li.from)), Actual: "does not exist",
			Severity: findings.Fail, Fix: fix})
	}
	return li, nil
}

// liveSource says where the live color comes from, for findings.
func liveSource(from string) string {
	if from == liveFromState {
		return "the state backend's record"
	}
	return "the cluster the eksctl config names"
}
