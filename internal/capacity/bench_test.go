package capacity_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eksbg/eksbg/internal/cli"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
	"github.com/eksbg/eksbg/internal/sandbox/scenarios"
)

// mainEnv makes the test binary run eksbg itself (the benchmark measures
// `eksbg capacity --all` as its own process, for its peak memory), and
// hwmEnv names a file it then writes its peak resident set size to, read
// from /proc/self/status. (The child's rusage cannot tell: Linux counts the
// parent's pages, shared until exec, in the child's ru_maxrss.)
const (
	mainEnv = "EKSBG_CAPACITY_TEST_MAIN"
	hwmEnv  = "EKSBG_CAPACITY_TEST_HWM"
)

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		code := cli.Main(context.Background(), os.Args[1:], cli.StdIO())
		if path := os.Getenv(hwmEnv); path != "" {
			status, err := os.ReadFile("/proc/self/status")
			for _, line := range strings.Split(string(status), "\n") {
				if strings.HasPrefix(line, "VmHWM:") {
					err = os.WriteFile(path, []byte(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))), 0o600)
				}
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				code = cli.ExitError
			}
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// benchLatency is the latency the benchmark injects into every AWS call.
const benchLatency = 20 * time.Millisecond

// BenchmarkCapacityAllLarge runs `eksbg capacity --all` over the 30
// clusters of the large scenario (one environment each, green = the
// cluster's own shape) with 20 ms injected per AWS call, as a separate
// process. It reports per run: wall time, AWS calls, the minimum calls a
// client with perfect knowledge would make, the lower bound (the longest
// chain of dependent calls in eksbg's plan, each costing the latency plus
// the emulator's mean service time for its operation), the same calls made
// one after another, and the process's peak RSS. The "half" size has half
// the nodes (and so about half the ENIs), to show calls and memory growing
// linearly. It also reports the CPU time of eksbg and of the emulator (this
// process): both share the machine's cores during the run.
func BenchmarkCapacityAllLarge(b *testing.B) {
	for _, size := range []struct {
		name  string
		nodes int
	}{{"half", 28}, {"full", 56}} {
		b.Run(size.name, func(b *testing.B) { benchLarge(b, size.nodes) })
	}
}

func benchLarge(b *testing.B, nodes int) {
	s, err := scenarios.Load("large")
	if err != nil {
		b.Fatal(err)
	}
	addTraffic(s, nodes)
	env := sandboxtest.Start(b, s)
	cfg := writeLargeProject(b, env, s)
	req, _ := http.NewRequest(http.MethodPut, env.URL+"/_sandbox/faults",
		strings.NewReader(fmt.Sprintf(`[{"service":"*","operation":"*","latencyMs":%d}]`, benchLatency.Milliseconds())))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("setting faults: %v %v", resp, err)
	}
	w := worldCounts(env)

	minCalls := pages(w.enis, 1000) + pages(w.instances, 1000) + w.vpcs + 1 + 8 + (8 - w.appliedQuotas) +
		pages(w.clusters, 100) + pages(w.targetGroups, 400) + 2*w.loadBalancers
	var sum struct{ wall, lower, ratio, sequential, calls, eksbgCPU, emulatorCPU float64 }
	var rss int64
	var last runFigures
	hwm := filepath.Join(b.TempDir(), "hwm")
	b.ResetTimer()
	for range b.N {
		env.Server.ResetStats()
		cmd := exec.Command(os.Args[0], "capacity", "--all", "--config", cfg, "-o", "json")
		cmd.Env = append(os.Environ(), mainEnv+"=1", hwmEnv+"="+hwm,
			"AWS_ENDPOINT_URL="+env.URL, "AWS_REGION="+env.Region,
			"AWS_ACCESS_KEY_ID="+emulator.DefaultCredential.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+emulator.DefaultCredential.SecretAccessKey,
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PROFILE=", "AWS_EC2_METADATA_DISABLED=true")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		before := selfCPU()
		start := time.Now()
		err := cmd.Run()
		wall := float64(time.Since(start).Microseconds()) / 1000
		sum.emulatorCPU += selfCPU() - before
		sum.eksbgCPU += float64((cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Microseconds()) / 1000
		if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == cli.ExitFindings) {
			b.Fatalf("eksbg capacity --all: %v\n%s", err, errb.String())
		}
		if !strings.Contains(out.String(), `"environments"`) {
			b.Fatalf("no report: %s", out.String())
		}
		var kb int64
		if data, err := os.ReadFile(hwm); err != nil || !strings.HasSuffix(string(data), " kB") {
			b.Fatalf("peak RSS: %q %v", data, err)
		} else if kb, err = strconv.ParseInt(strings.TrimSuffix(string(data), " kB"), 10, 64); err != nil {
			b.Fatal(err)
		}
		rss = max(rss, kb*1024)
		last = figures(env.Server.Stats(), w)
		sum.wall += wall
		sum.lower += last.lower
		sum.ratio += wall / last.lower
		sum.sequential += last.sequential
		sum.calls += float64(last.calls)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(sum.wall/n, "wall-ms")
	b.ReportMetric(sum.calls/n, "calls")
	b.ReportMetric(float64(minCalls), "min-calls")
	b.ReportMetric(sum.lower/n, "lowerbound-ms")
	b.ReportMetric(sum.ratio/n, "x-lowerbound")
	b.ReportMetric(sum.sequential/n, "sequential-ms")
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(sum.eksbgCPU/n, "eksbg-CPU-ms")
	b.ReportMetric(sum.emulatorCPU/n, "emulator-CPU-ms")
	b.ReportMetric(float64(w.enis), "ENIs")
	b.Logf("%d ENIs (%d pages in the biggest zone), %d instances, %d VPCs; last run: longest chain %q %.0f ms "+
		"(one ENI sequence would be %.0f ms), calls %d vs minimum %d, emulator service time %.0f ms in all",
		w.enis, w.maxENIPagesPerAZ, w.instances, w.vpcs, last.longest, last.lower, last.oneSequence, last.calls, minCalls, last.serviceMs)
}

// runFigures are one run's calls and bounds, from the emulator's call log.
type runFigures struct {
	calls                                     int
	serviceMs, lower, oneSequence, sequential float64
	longest                                   string
}

// figures computes the lower bound of one run: the longest chain of calls
// that depend on each other in eksbg's plan (internal/capacity/collect.go),
// each call costing the injected latency plus the emulator's mean service
// time for its operation; and the same calls made one after another.
func figures(stats []emulator.OpStats, w counts) runFigures {
	var f runFigures
	mean := map[string]float64{}
	for _, st := range stats {
		f.calls += st.Calls
		f.serviceMs += st.ServiceMs
		mean[st.Operation] = st.ServiceMs / float64(st.Calls)
	}
	lat := float64(benchLatency.Milliseconds())
	cost := func(op string, n int) float64 { return float64(n) * (lat + mean[op]) }
	chains := map[string]float64{
		"zones+ENIs":      cost("DescribeAvailabilityZones", 1) + cost("DescribeNetworkInterfaces", w.maxENIPagesPerAZ),
		"zones+instances": cost("DescribeAvailabilityZones", 1) + cost("DescribeInstances", w.maxInstancePagesPerAZ),
		"subnets":         cost("DescribeSubnets", 1),
		"quota+default":   cost("GetServiceQuota", 1) + cost("GetAWSDefaultServiceQuota", 1),
		"listeners+rules": cost("DescribeListeners", 1) + cost("DescribeRules", 1),
		"clusters":        cost("ListClusters", pages(w.clusters, 100)),
		"target groups":   cost("DescribeTargetGroups", pages(w.targetGroups, 400)),
		"instance types":  cost("DescribeInstanceTypes", 1),
	}
	for name, c := range chains {
		if c > f.lower {
			f.lower, f.longest = c, name
		}
	}
	f.oneSequence = cost("DescribeNetworkInterfaces", pages(w.enis, 1000))
	f.sequential = float64(f.calls)*lat + f.serviceMs
	return f
}

// selfCPU is the CPU time this process (the emulator) has used, in ms.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

func pages(n, size int) int { return max(1, int(math.Ceil(float64(n)/float64(size)))) }

// addTraffic gives each cluster of the large scenario its target groups and
// a listener rule on one ALB per VPC (eksbg.yaml needs them), and sets the
// node groups' size.
func addTraffic(s *scenario.Scenario, nodes int) {
	byVPC := map[string][]scenario.Rule{}
	for i := range s.Clusters {
		c := &s.Clusters[i]
		for j := range c.Nodegroups {
			c.Nodegroups[j].Desired, c.Nodegroups[j].Max = nodes, 2*nodes
		}
		vpc := vpcOfSubnet(s, c.Subnets[0])
		s.TargetGroups = append(s.TargetGroups,
			scenario.TargetGroup{Name: c.Name + "-blue", VPC: vpc, Port: 8080, Cluster: c.Name},
			scenario.TargetGroup{Name: c.Name + "-green", VPC: vpc, Port: 8080, Cluster: c.Name + "-green"})
		byVPC[vpc] = append(byVPC[vpc], scenario.Rule{Name: c.Name, Priority: 10 + len(byVPC[vpc]), HostHeader: []string{c.Name + ".example.com"},
			Forward: []scenario.Forward{{TargetGroup: c.Name + "-blue", Weight: 100}, {TargetGroup: c.Name + "-green", Weight: 0}}})
	}
	for _, v := range s.VPCs {
		var lbSubnets []string
		for _, sn := range v.Subnets {
			if sn.Tags["kubernetes.io/role/elb"] == "1" {
				lbSubnets = append(lbSubnets, sn.ID)
			}
		}
		rules := byVPC[v.ID]
		s.LoadBalancers = append(s.LoadBalancers, scenario.LoadBalancer{Name: v.Tags["Name"] + "-alb", Subnets: lbSubnets,
			Listeners: []scenario.Listener{{Port: 80, DefaultForward: rules[0].Forward[:1], Rules: rules}}})
	}
}

func vpcOfSubnet(s *scenario.Scenario, id string) string {
	for _, v := range s.VPCs {
		for _, sn := range v.Subnets {
			if sn.ID == id {
				return v.ID
			}
		}
	}
	return ""
}

// writeLargeProject writes an eksbg.yaml with one environment per cluster
// of the scenario and, for each, an eksctl config of the cluster's shape.
func writeLargeProject(b testing.TB, env *sandboxtest.Env, s *scenario.Scenario) string {
	dir := b.TempDir()
	rules, tgs := map[string]string{}, map[string]string{}
	env.Server.View(func(w *emulator.World) {
		for arn, r := range w.Rules {
			rules[r.Tags["Name"]] = arn
		}
		for arn, tg := range w.TargetGroups {
			tgs[tg.Name] = arn
		}
	})
	var p strings.Builder
	p.WriteString("apiVersion: eksbg.io/v1alpha1\nkind: Project\nenvironments:\n")
	for _, c := range s.Clusters {
		var e strings.Builder
		fmt.Fprintf(&e, "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: %s, region: %s, version: %q}\n", c.Name, s.Region, c.Version)
		fmt.Fprintf(&e, "vpc:\n  id: %s\n  controlPlaneSubnetIDs: [%s]\nmanagedNodeGroups:\n", vpcOfSubnet(s, c.Subnets[0]), strings.Join(c.Subnets, ", "))
		for _, ng := range c.Nodegroups {
			fmt.Fprintf(&e, "  - {name: %s, instanceType: %s, desiredCapacity: %d, minSize: %d, maxSize: %d, privateNetworking: true, subnets: [%s]}\n",
				ng.Name, ng.InstanceType, ng.Desired, ng.Min, ng.Max, strings.Join(ng.Subnets, ", "))
		}
		if err := os.WriteFile(filepath.Join(dir, c.Name+".yaml"), []byte(e.String()), 0o600); err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(&p, `  - name: %s
    aws: {region: %s, accountId: %q}
    network: {terraform: {dir: infra, outputs: {vpcId: vpc_id, subnetIds: {nodes: subnets}}}}
    cluster: {eksctlConfig: %s.yaml, nameTemplate: "{env}-{color}", podsPerNode: {ng-0: 14, ng-1: 14, ng-2: 14, ng-3: 14}}
    traffic:
      listenerRules:
        - {arn: %s, targetGroups: {blue: %s, green: %s}}
    argocd: {management: {eksCluster: mgmt}}
`, c.Name, s.Region, s.Account, c.Name, rules[c.Name], tgs[c.Name+"-blue"], tgs[c.Name+"-green"])
	}
	path := filepath.Join(dir, "eksbg.yaml")
	if err := os.WriteFile(path, []byte(p.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// counts are the world's sizes that set the minimum number of calls.
type counts struct {
	enis, maxENIPagesPerAZ, instances, maxInstancePagesPerAZ, vpcs, clusters, targetGroups, loadBalancers, appliedQuotas int
}

func worldCounts(env *sandboxtest.Env) counts {
	var c counts
	env.Server.View(func(w *emulator.World) {
		perAZ := map[string]int{}
		for _, e := range w.ENIs {
			perAZ[e.AZ]++
		}
		for _, n := range perAZ {
			c.maxENIPagesPerAZ = max(c.maxENIPagesPerAZ, pages(n, 1000))
		}
		instancesPerAZ := map[string]int{}
		for _, in := range w.Instances {
			if in.State == "running" || in.State == "pending" {
				c.instances++
				instancesPerAZ[in.AZ]++
			}
		}
		for _, n := range instancesPerAZ {
			c.maxInstancePagesPerAZ = max(c.maxInstancePagesPerAZ, pages(n, 1000))
		}
		c.enis, c.vpcs, c.clusters, c.targetGroups, c.loadBalancers = len(w.ENIs), len(w.VPCs), len(w.Clusters), len(w.TargetGroups), len(w.LoadBalancers)
		for _, k := range []string{"ec2/L-1216C47A", "ec2/L-34B43A08", "eks/L-1194D53C", "eks/L-6D54EA21", "eks/L-BD136A63",
			"vpc/L-DF5E4CA3", "elasticloadbalancing/L-B22855CB", "elasticloadbalancing/L-7EED9B64"} {
			if _, ok := w.Quotas[k]; ok {
				c.appliedQuotas++
			}
		}
	})
	return c
}
