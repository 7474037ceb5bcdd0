package preflight

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"gopkg.in/yaml.v3"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/capacity"
	"github.com/eksbg/eksbg/internal/capacity/kubesource"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/findings"
)

// CheckCapacity is the capacity check of the derived green config, in the
// form Options.Capacity takes: the report, and its FAIL and WARN lines
// as findings (capacity.Report.Findings: check "capacity" for zones and
// subnets, "quota" for service quotas) with their remedies as fixes.
//
// The colour being built is the one whose cluster green's config names;
// the live cluster whose pods and aws-node settings the model reads, and
// whose target groups green's take over from, is the other colour's.
func CheckCapacity(cfg aws.Config, env *config.Environment) func(context.Context, *clusters.Config) (any, []findings.Finding, error) {
	return func(ctx context.Context, green *clusters.Config) (any, []findings.Finding, error) {
		next := config.Green
		if green.Name() == env.ClusterName(config.Blue) {
			next = config.Blue
		}
		blue := env.ClusterName(config.OtherColor(next))
		c, err := capacity.FromConfig(green, capacity.ConfigOptions{PodsPerNode: env.Cluster.PodsPerNode})
		if err != nil {
			return nil, nil, err
		}
		c.Region = env.AWS.Region
		in := capacity.Input{Name: env.Name, Cluster: c, BlueCluster: blue}
		for _, r := range env.Traffic.ListenerRules {
			in.ListenerRules = append(in.ListenerRules, r.ARN)
			in.GreenTargetGroups = append(in.GreenTargetGroups, r.TargetGroup(next))
		}
		rep, err := capacity.Check(ctx, kubesource.Clients(cfg), in)
		if err != nil {
			return nil, nil, err
		}
		return rep, rep.Findings(), nil
	}
}

// ScaledConfig returns a copy of cfg whose node groups are the ones named
// in nodes, each sized to exactly that many nodes; the others are left
// out. The capacity model run on it gives the demand of adding those nodes
// to a running cluster (a scale-up before a traffic step).
func ScaledConfig(cfg *clusters.Config, nodes map[string]int) (*clusters.Config, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(cfg.Bytes(), &doc); err != nil {
		return nil, fmt.Errorf("reading %s: %w", cfg.File, err)
	}
	for _, key := range []string{"managedNodeGroups", "nodeGroups"} {
		list, _ := doc[key].([]any)
		var kept []any
		for _, item := range list {
			ng, ok := item.(map[string]any)
			if !ok {
				continue
			}
			name, _ := ng["name"].(string)
			n, ok := nodes[name]
			if !ok || n <= 0 {
				continue
			}
			ng["desiredCapacity"], ng["minSize"], ng["maxSize"] = n, n, n
			kept = append(kept, ng)
		}
		if list != nil {
			doc[key] = kept
		}
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return clusters.Parse(cfg.File+" (scaled)", out)
}
