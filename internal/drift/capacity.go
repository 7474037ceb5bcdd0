package drift

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/internal/capacity"
	"github.com/eksbg/eksbg/internal/capacity/kubesource"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/kubeaccess"
)

// capResult is one environment's capacity report, or why there is none.
type capResult struct {
	rep *capacity.Report
	err error
	// skipped says why the check had nothing to do.
	skipped string
	// census is the live cluster's pod census failure, if any: the model
	// then assumed max pods per node.
	census error
	// live is the cluster whose pods were counted.
	live string
}

// checkCapacity runs the capacity model of a future green (the color that
// is not live) against today's subnets and quotas: green that would not
// fit tonight is a warning.
func (c *checker) checkCapacity(ctx context.Context, run *envRun, g *awsGroup) {
	res := g.capacity(ctx)[run.env.Name]
	switch {
	case res == nil:
		run.fail(KindCapacity, fmt.Errorf("no capacity result (internal error)"))
		return
	case res.err != nil:
		run.fail(KindCapacity, res.err)
		return
	case res.skipped != "":
		run.skip(KindCapacity, res.skipped)
		return
	}
	run.add(capacityFindings(res.rep)...)
	if res.census != nil {
		run.add(findings.Finding{Check: string(KindCapacity), Resource: "cluster/" + res.live, Field: "pods",
			Expected: "pods per node read from the live cluster", Actual: "not read (the model assumed max pods per node): " + res.census.Error(),
			Severity: findings.Warn, Fix: "check that eksbg can reach the cluster's Kubernetes API (its access entries, its endpoint access)"})
	}
}

// capacity runs the capacity check of every environment of the group once,
// with one capacity.CheckAll, so that what they share (the region's
// network interfaces, instances and quotas) is read once. If that fails,
// each environment is checked on its own, so that one broken environment
// does not fail the others.
func (g *awsGroup) capacity(ctx context.Context) map[string]*capResult {
	g.capOnce.Do(func() {
		g.capRes = map[string]*capResult{}
		var ins []capacity.Input
		var names []string
		var cfg aws.Config
		for _, env := range g.envs {
			res := &capResult{}
			g.capRes[env.Name] = res
			var err error
			if cfg, err = g.config(ctx, env); err != nil {
				res.err = err
				continue
			}
			in, skip, err := g.capacityInput(ctx, env)
			switch {
			case err != nil:
				res.err = err
			case skip != "":
				res.skipped = skip
			default:
				ins, names = append(ins, in), append(names, env.Name)
			}
		}
		if len(ins) == 0 {
			return
		}
		// kubesource reaches one cluster at a time (it holds its lock while
		// it builds a client): describe the live clusters, which their
		// cluster checks need anyway, all at once beforehand.
		var wg sync.WaitGroup
		for i, in := range ins {
			if in.BlueCluster == "" {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = g.describe(ctx, g.envs[0], ins[i].BlueCluster)
			}()
		}
		wg.Wait()
		cen := &census{src: &kubesource.Source{REST: g.clusterREST(cfg)}, failed: map[string]error{}}
		clients := capacity.NewClients(cfg)
		clients.Census, clients.CNIEnv = cen, cen
		reps, err := capacity.CheckAll(ctx, clients, ins)
		if err != nil {
			reps = make([]*capacity.Report, len(ins))
			for i, in := range ins {
				rep, err := capacity.Check(ctx, clients, in)
				if err != nil {
					g.capRes[names[i]].err = fmt.Errorf("checking capacity: %w", err)
					continue
				}
				reps[i] = rep
			}
		}
		for i, rep := range reps {
			if rep == nil {
				continue
			}
			res := g.capRes[names[i]]
			res.rep = rep
			res.live = ins[i].BlueCluster
			res.census = cen.failure(ins[i].BlueCluster)
		}
	})
	return g.capRes
}

// capacityInput is the capacity model's input for a future green of env:
// the environment's eksctl config, named as the color that is not live,
// beside the live cluster.
func (g *awsGroup) capacityInput(ctx context.Context, env *config.Environment) (in capacity.Input, skip string, err error) {
	st, stErr := g.c.state(ctx, env)
	live, err := g.live(ctx, env, st, stErr)
	if err != nil {
		return in, "", err
	}
	if live.exists && live.otherExists {
		return in, fmt.Sprintf("both %s and %s exist: the next color is already built", live.cluster, live.other), nil
	}
	in, err = capacity.FromEnvironment(env, "")
	if err != nil {
		return in, "", err
	}
	// FromEnvironment builds green beside blue; after an upgrade to green
	// the next one is blue.
	if live.color == config.Green {
		in.Cluster.Name, in.BlueCluster = env.ClusterName(config.Blue), live.cluster
		in.GreenTargetGroups = in.GreenTargetGroups[:0]
		for _, r := range env.Traffic.ListenerRules {
			in.GreenTargetGroups = append(in.GreenTargetGroups, r.TargetGroup(config.Blue))
		}
	}
	if !live.exists {
		in.BlueCluster = ""
	}
	return in, "", nil
}

// clusterREST reaches a workload cluster through the group's
// DescribeCluster cache.
func (g *awsGroup) clusterREST(cfg aws.Config) func(ctx context.Context, cluster string) (*rest.Config, error) {
	return func(ctx context.Context, cluster string) (*rest.Config, error) {
		env := g.envs[0]
		d, err := g.describe(ctx, env, cluster)
		if err != nil {
			return nil, err
		}
		if d == nil {
			// kubesource takes this code as "no such cluster".
			return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "no cluster " + cluster}
		}
		var rc *rest.Config
		if g.c.o.ClusterREST != nil {
			rc, err = g.c.o.ClusterREST(ctx, cfg, d)
		} else {
			rc, err = kubeaccess.ForCluster(d, cfg)
		}
		if err != nil {
			return nil, err
		}
		rc = rest.CopyConfig(rc)
		if rc.Timeout == 0 {
			rc.Timeout = KubeTimeout
		}
		return rc, nil
	}
}

// census is kubesource's pod census and aws-node reader, with failures
// recorded per cluster instead of failing the whole capacity check: a
// cluster that cannot be read is not read again, and the model falls back
// to max pods per node for it.
type census struct {
	src    *kubesource.Source
	mu     sync.Mutex
	failed map[string]error
}

var (
	_ capacity.PodCensus    = (*census)(nil)
	_ capacity.CNIEnvSource = (*census)(nil)
)

func (c *census) failure(cluster string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed[cluster]
}

func read[T any](c *census, cluster string, f func() (T, error)) (T, error) {
	var zero T
	if c.failure(cluster) != nil {
		return zero, nil
	}
	v, err := f()
	if err != nil {
		c.mu.Lock()
		c.failed[cluster] = err
		c.mu.Unlock()
		return zero, nil
	}
	return v, nil
}

// PodsPerNode is kubesource's, or nothing when the cluster cannot be read.
func (c *census) PodsPerNode(ctx context.Context, cluster string) (map[string]capacity.PodCount, error) {
	return read(c, cluster, func() (map[string]capacity.PodCount, error) { return c.src.PodsPerNode(ctx, cluster) })
}

// AWSNodeEnv is kubesource's, or nothing when the cluster cannot be read.
func (c *census) AWSNodeEnv(ctx context.Context, cluster string) (map[string]string, error) {
	return read(c, cluster, func() (map[string]string, error) { return c.src.AWSNodeEnv(ctx, cluster) })
}

// ENIConfigSubnets is kubesource's, or nothing when the cluster cannot be read.
func (c *census) ENIConfigSubnets(ctx context.Context, cluster string) (map[string]string, error) {
	return read(c, cluster, func() (map[string]string, error) { return c.src.ENIConfigSubnets(ctx, cluster) })
}

// capacityFindings are the FAIL lines of a capacity report, as
// capacity.Report.Findings makes them, as warnings of kind capacity: green
// would not fit tonight. WARN lines (it fits, with little to spare) are
// left to `eksbg capacity`. Quota findings, check "quota" in eksbg plan,
// are of kind capacity here too.
func capacityFindings(rep *capacity.Report) []findings.Finding {
	var out []findings.Finding
	for _, f := range rep.Findings() {
		if f.Severity != findings.Fail {
			continue
		}
		f.Check, f.Severity = string(KindCapacity), findings.Warn
		out = append(out, f)
	}
	return out
}
