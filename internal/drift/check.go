package drift

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/internal/awsconf"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/terraform"
)

// DefaultConcurrency is how many environments are checked at once. Most of
// a check is waiting for AWS and Kubernetes; each environment's checks run
// in parallel too, and terraform plans are the only CPU-heavy part.
const DefaultConcurrency = 16

// StaleAfter is how long an upgrade may stay open, or its lock held,
// before the journal check warns: a day.
const StaleAfter = 24 * time.Hour

// KubeTimeout bounds each Kubernetes API request, so that a cluster that
// does not answer fails its check instead of hanging the nightly job.
const KubeTimeout = 30 * time.Second

// Options say what to check and through what.
type Options struct {
	// Project is eksbg.yaml, as config.Load returns it.
	Project *config.Project
	// Environments names the environments to check; empty checks them all.
	Environments []string
	// Strict also compares node groups' desired sizes, which an autoscaler
	// usually owns.
	Strict bool
	// Skip names checks not to run (listed as skipped in the report): for
	// a job that plans Terraform on its own, say.
	Skip []Kind
	// Ignore suppresses findings; nil suppresses none.
	Ignore *IgnoreFile
	// Terraform plans the network stacks. Nil makes one with terraform.New
	// (terraform on PATH); if that fails, the terraform check of every
	// environment fails with its error.
	Terraform *terraform.Runner
	// AWS returns the AWS configuration of an environment; nil uses
	// awsconf.Load with the environment's region, profile and role.
	// Environments with the same settings share one configuration.
	AWS func(ctx context.Context, env *config.Environment) (aws.Config, error)
	// Management returns a client configuration for an environment's Argo
	// CD management cluster; nil uses kubeaccess.Management.
	Management func(ctx context.Context, env *config.Environment, cfg aws.Config) (*rest.Config, error)
	// ClusterREST returns a client configuration for a workload cluster
	// already described (the capacity check counts its pods); nil uses
	// kubeaccess.ForCluster.
	ClusterREST func(ctx context.Context, cfg aws.Config, c *ekstypes.Cluster) (*rest.Config, error)
	// Shard, when set, keeps only its part of the environments (those of
	// Environments, or else all of them): see Shard.Owns.
	Shard Shard
	// Concurrency bounds the environments checked at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// Now is the clock (journal age, expiry of ignore rules); nil is time.Now.
	Now func() time.Time
}

// Check runs every check on the chosen environments and returns the
// report, sorted. An error means nothing could be checked (an unknown
// environment name); a check that fails for an environment is in that
// environment's Errors instead.
func Check(ctx context.Context, o Options) (*Report, error) {
	if o.Project == nil {
		return nil, fmt.Errorf("drift: no project config")
	}
	envs := make([]*config.Environment, 0, len(o.Project.Environments))
	if len(o.Environments) == 0 {
		for i := range o.Project.Environments {
			envs = append(envs, &o.Project.Environments[i])
		}
	} else {
		for _, name := range o.Environments {
			if slices.ContainsFunc(envs, func(e *config.Environment) bool { return e.Name == name }) {
				continue
			}
			e, err := o.Project.Env(name)
			if err != nil {
				return nil, err
			}
			envs = append(envs, e)
		}
	}
	envs = slices.DeleteFunc(envs, func(e *config.Environment) bool { return !o.Shard.Owns(e.Name) })
	c := newChecker(o)
	now := c.now()
	r := &Report{APIVersion: APIVersion, Kind: ReportKind, CheckedAt: now.UTC(), Strict: o.Strict,
		Environments: make([]EnvResult, len(envs))}
	for _, e := range envs {
		g := c.groupFor(e)
		g.envs = append(g.envs, e)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.concurrency)
	for i, e := range envs {
		g.Go(func() error {
			r.Environments[i] = c.checkEnv(gctx, e)
			return nil
		})
	}
	_ = g.Wait() // checkEnv records its errors in its result
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o.Ignore.apply(r, now)
	r.finish()
	return r, nil
}

// checker holds what the environments of one Check share.
type checker struct {
	o           Options
	projectDir  string
	concurrency int

	tfOnce sync.Once
	tf     *terraform.Runner
	tfErr  error

	mu     sync.Mutex
	groups map[awsconf.Options]*awsGroup
	mgmts  memo[mgmtKey, *mgmtCluster]
	states memo[string, *stateInfo]
}

func newChecker(o Options) *checker {
	c := &checker{o: o, concurrency: o.Concurrency, groups: map[awsconf.Options]*awsGroup{}}
	if c.concurrency <= 0 {
		c.concurrency = DefaultConcurrency
	}
	c.projectDir = o.Project.Dir
	if c.projectDir == "" && o.Project.File != "" {
		c.projectDir = filepath.Dir(o.Project.File)
	}
	if o.Terraform != nil {
		c.tfOnce.Do(func() { c.tf = o.Terraform })
	}
	return c
}

func (c *checker) now() time.Time {
	if c.o.Now != nil {
		return c.o.Now()
	}
	return time.Now()
}

// terraform returns the runner, making it on first use.
func (c *checker) terraform(ctx context.Context) (*terraform.Runner, error) {
	c.tfOnce.Do(func() { c.tf, c.tfErr = terraform.New(ctx) })
	return c.tf, c.tfErr
}

// awsKey is what makes two environments' AWS configurations the same.
func awsKey(e *config.Environment) awsconf.Options {
	return awsconf.Options{Region: e.AWS.Region, Profile: e.AWS.Profile, RoleARN: e.AWS.RoleARN}
}

// groupFor returns the shared state of the environment's account, region
// and credentials.
func (c *checker) groupFor(e *config.Environment) *awsGroup {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := awsKey(e)
	g := c.groups[k]
	if g == nil {
		g = newAWSGroup(c, k)
		c.groups[k] = g
	}
	return g
}

// relDir names a path relative to the project directory when it is inside
// it, for fixes people can paste.
func (c *checker) relDir(p string) string {
	if c.projectDir == "" {
		return p
	}
	if rel, err := filepath.Rel(c.projectDir, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return rel
	}
	return p
}

// envRun collects one environment's results; checks run concurrently.
type envRun struct {
	env *config.Environment
	mu  sync.Mutex
	res EnvResult
}

func (r *envRun) add(fs ...findings.Finding) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range fs {
		f.Environment = r.env.Name
		r.res.Findings = append(r.res.Findings, f)
	}
}

func (r *envRun) fail(k Kind, err error) {
	if err == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Errors = append(r.res.Errors, CheckError{Kind: k, Error: err.Error()})
}

func (r *envRun) skip(k Kind, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Skipped = append(r.res.Skipped, Skipped{Kind: k, Reason: reason})
}

// checkEnv runs every check of one environment.
func (c *checker) checkEnv(ctx context.Context, env *config.Environment) EnvResult {
	run := &envRun{env: env, res: EnvResult{Environment: env.Name}}
	g := c.groupFor(env)
	st, stErr := c.state(ctx, env)
	live, liveErr := g.live(ctx, env, st, stErr)
	if live != nil {
		run.res.LiveColor, run.res.LiveCluster, run.res.LiveFrom = live.color, live.cluster, live.from
		run.add(live.findings...)
	}

	var wg sync.WaitGroup
	do := func(k Kind, f func()) {
		if slices.Contains(c.o.Skip, k) {
			run.skip(k, "not asked for (skipped)")
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	do(KindTerraform, func() { c.checkTerraform(ctx, run) })
	do(KindJournal, func() { c.checkJournal(run, st, stErr) })
	do(KindCapacity, func() { c.checkCapacity(ctx, run, g) })
	// The other checks judge against the live color.
	needLive := func(k Kind, f func()) {
		switch {
		case slices.Contains(c.o.Skip, k):
			run.skip(k, "not asked for (skipped)")
		case liveErr != nil:
			run.fail(k, liveErr)
		case live.none:
			run.skip(k, "no cluster of the environment exists and the state backend records no live color")
		default:
			do(k, f)
		}
	}
	needLive(KindCluster, func() { c.checkCluster(ctx, run, g, live) })
	needLive(KindTraffic, func() { c.checkTraffic(ctx, run, g, live, st) })
	needLive(KindArgoCD, func() { c.checkArgoCD(ctx, run, g, live, st) })
	wg.Wait()
	return run.res
}
