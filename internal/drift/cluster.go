package drift

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/findings"
)

// EKSAPI is the part of the EKS API the cluster check reads, with the
// SDK's signatures (*eks.Client satisfies it, and the SDK's paginators
// take it).
type EKSAPI interface {
	eks.ListNodegroupsAPIClient
	eks.ListAddonsAPIClient
	DescribeNodegroup(ctx context.Context, in *eks.DescribeNodegroupInput, optFns ...func(*eks.Options)) (*eks.DescribeNodegroupOutput, error)
	DescribeAddon(ctx context.Context, in *eks.DescribeAddonInput, optFns ...func(*eks.Options)) (*eks.DescribeAddonOutput, error)
}

var _ EKSAPI = (*eks.Client)(nil)

// describeConcurrency bounds the DescribeNodegroup and DescribeAddon calls
// one cluster check keeps in flight.
const describeConcurrency = 8

// checkCluster compares the live cluster with the environment's eksctl
// config.
func (c *checker) checkCluster(ctx context.Context, run *envRun, g *awsGroup, live *liveInfo) {
	if !live.exists {
		run.skip(KindCluster, fmt.Sprintf("the live cluster %s does not exist", live.cluster))
		return
	}
	file := run.env.Cluster.EksctlConfig
	cc, err := clusters.Load(file)
	if err != nil {
		run.fail(KindCluster, fmt.Errorf("loading the environment's eksctl config: %w", err))
		return
	}
	spec, err := cc.Spec()
	if err != nil {
		run.fail(KindCluster, err)
		return
	}
	var extra extraSpec
	if err := yaml.Unmarshal(cc.Bytes(), &extra); err != nil {
		run.fail(KindCluster, fmt.Errorf("reading %s: %w", file, err))
		return
	}
	cl, err := g.describe(ctx, run.env, live.cluster)
	if err != nil {
		run.fail(KindCluster, err)
		return
	}
	if cl == nil {
		run.add(findings.Finding{Check: string(KindCluster), Resource: "cluster/" + live.cluster, Expected: "exists", Actual: "does not exist (deleted during the check)", Severity: findings.Fail,
			Fix: "run the check again"})
		return
	}
	cfg, err := g.config(ctx, run.env)
	if err != nil {
		run.fail(KindCluster, err)
		return
	}
	cmp := &clusterCompare{env: run.env.Name, file: c.relDir(file), cluster: live.cluster, spec: spec, extra: extra, strict: c.o.Strict}
	run.add(cmp.clusterFindings(cl)...)
	fs, err := cmp.remote(ctx, eks.NewFromConfig(cfg))
	run.add(fs...)
	run.fail(KindCluster, err)
}

// extraSpec are the fields of an eksctl ClusterConfig the drift check
// reads besides those of clusters.Spec.
type extraSpec struct {
	VPC struct {
		ClusterEndpoints *struct {
			PublicAccess  *bool `yaml:"publicAccess"`
			PrivateAccess *bool `yaml:"privateAccess"`
		} `yaml:"clusterEndpoints"`
		PublicAccessCIDRs []string `yaml:"publicAccessCIDRs"`
	} `yaml:"vpc"`
	CloudWatch struct {
		ClusterLogging struct {
			EnableTypes []string `yaml:"enableTypes"`
		} `yaml:"clusterLogging"`
	} `yaml:"cloudWatch"`
}

// logTypes are EKS's control plane log types
// (https://docs.aws.amazon.com/eks/latest/APIReference/API_LogSetup.html).
var logTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

// eksctlDefaultAddons are the add-ons eksctl installs as EKS add-ons on a
// cluster whose config lists none of them (vpc-cni, coredns and kube-proxy
// since eksctl 0.184.0, metrics-server since 0.201.0:
// https://docs.aws.amazon.com/eks/latest/eksctl/addons.html); they are not
// drift when the config does not name them.
var eksctlDefaultAddons = []string{"coredns", "kube-proxy", "metrics-server", "vpc-cni"}

// eksctlLabelPrefix marks the labels eksctl puts on managed node groups
// itself (alpha.eksctl.io/cluster-name, alpha.eksctl.io/nodegroup-name).
const eksctlLabelPrefix = "alpha.eksctl.io/"

// clusterCompare compares one cluster with its eksctl config.
type clusterCompare struct {
	env, file, cluster string
	spec               *clusters.Spec
	extra              extraSpec
	strict             bool
}

func (cc *clusterCompare) find(resource, field, expected, actual, fix string) findings.Finding {
	return findings.Finding{Check: string(KindCluster), Resource: resource, Field: field, Expected: expected, Actual: actual, Severity: findings.Fail, Fix: fix}
}

// cluster compares what DescribeCluster says.
func (cc *clusterCompare) clusterFindings(cl *ekstypes.Cluster) []findings.Finding {
	var out []findings.Finding
	res := "cluster/" + cc.cluster
	if cl.Status != ekstypes.ClusterStatusActive {
		out = append(out, findings.Finding{Check: string(KindCluster), Resource: res, Field: "status", Expected: string(ekstypes.ClusterStatusActive),
			Actual: string(cl.Status), Severity: findings.Warn, Fix: "wait for the cluster's update to finish, then run the check again"})
	}
	if want, got := cc.spec.Version, aws.ToString(cl.Version); want != "" && want != got {
		fix := fmt.Sprintf("set metadata.version: %q in %s: the cluster runs a newer version than it says", got, cc.file)
		if minorLess(got, want) {
			fix = fmt.Sprintf("eksbg upgrade --env %s --to %s  # blue/green; or set metadata.version: %q in %s", cc.env, want, got, cc.file)
		}
		out = append(out, cc.find(res, "version", want, got, fix))
	}
	vpcFix := fmt.Sprintf("eksctl utils update-cluster-vpc-config -f %s --approve", cc.file)
	// eksctl's defaults: public endpoint on, private off, open to
	// 0.0.0.0/0 (https://docs.aws.amazon.com/eks/latest/eksctl/vpc-cluster-access.html).
	wantPublic, wantPrivate := true, false
	if ce := cc.extra.VPC.ClusterEndpoints; ce != nil {
		if ce.PublicAccess != nil {
			wantPublic = *ce.PublicAccess
		}
		if ce.PrivateAccess != nil {
			wantPrivate = *ce.PrivateAccess
		}
	}
	var vc ekstypes.VpcConfigResponse
	if cl.ResourcesVpcConfig != nil {
		vc = *cl.ResourcesVpcConfig
	}
	if vc.EndpointPublicAccess != wantPublic {
		out = append(out, cc.find(res, "endpointPublicAccess", fmt.Sprint(wantPublic), fmt.Sprint(vc.EndpointPublicAccess), vpcFix))
	}
	if vc.EndpointPrivateAccess != wantPrivate {
		out = append(out, cc.find(res, "endpointPrivateAccess", fmt.Sprint(wantPrivate), fmt.Sprint(vc.EndpointPrivateAccess), vpcFix))
	}
	if vc.EndpointPublicAccess {
		want := cc.extra.VPC.PublicAccessCIDRs
		if len(want) == 0 {
			want = []string{"0.0.0.0/0"}
		}
		if !sameSet(want, vc.PublicAccessCidrs) {
			out = append(out, cc.find(res, "publicAccessCIDRs", list(want), list(vc.PublicAccessCidrs), vpcFix))
		}
	}
	wantLogs := expandLogTypes(cc.extra.CloudWatch.ClusterLogging.EnableTypes)
	var gotLogs []string
	if cl.Logging != nil {
		for _, ls := range cl.Logging.ClusterLogging {
			if aws.ToBool(ls.Enabled) {
				for _, t := range ls.Types {
					gotLogs = append(gotLogs, string(t))
				}
			}
		}
	}
	if !sameSet(wantLogs, gotLogs) {
		out = append(out, cc.find(res, "logging", list(wantLogs), list(gotLogs), fmt.Sprintf("eksctl utils update-cluster-logging -f %s --approve", cc.file)))
	}
	for _, k := range slices.Sorted(maps.Keys(cc.spec.Tags)) {
		want := cc.spec.Tags[k]
		got, ok := cl.Tags[k]
		if ok && got == want {
			continue
		}
		actual := got
		if !ok {
			actual = "(absent)"
		}
		out = append(out, cc.find(res, "tags."+k, want, actual,
			fmt.Sprintf("aws eks tag-resource --resource-arn %s --tags %s=%s", aws.ToString(cl.Arn), k, want)))
	}
	return out
}

// expandLogTypes resolves eksctl's enableTypes ("*" and "all" mean every
// type).
func expandLogTypes(types []string) []string {
	var out []string
	for _, t := range types {
		if t == "*" || t == "all" {
			return slices.Clone(logTypes)
		}
		out = append(out, t)
	}
	return out
}

// remote compares the node groups and add-ons.
func (cc *clusterCompare) remote(ctx context.Context, api EKSAPI) ([]findings.Finding, error) {
	var ngs []*ekstypes.Nodegroup
	var addons []*ekstypes.Addon
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		ngs, err = listNodegroups(gctx, api, cc.cluster)
		return err
	})
	g.Go(func() error {
		var err error
		addons, err = listAddons(gctx, api, cc.cluster)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return append(cc.nodegroups(ngs), cc.addons(addons)...), nil
}

// listNodegroups lists and describes the cluster's managed node groups.
func listNodegroups(ctx context.Context, api EKSAPI, cluster string) ([]*ekstypes.Nodegroup, error) {
	p := eks.NewListNodegroupsPaginator(api, &eks.ListNodegroupsInput{ClusterName: aws.String(cluster)})
	return listDescribe(ctx, "node groups", cluster,
		func(ctx context.Context) ([]string, bool, error) {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, false, err
			}
			return page.Nodegroups, p.HasMorePages(), nil
		},
		func(ctx context.Context, name string) (*ekstypes.Nodegroup, error) {
			d, err := api.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(cluster), NodegroupName: aws.String(name)})
			if err != nil {
				return nil, err
			}
			return d.Nodegroup, nil
		})
}

// listAddons lists and describes the cluster's EKS add-ons.
func listAddons(ctx context.Context, api EKSAPI, cluster string) ([]*ekstypes.Addon, error) {
	p := eks.NewListAddonsPaginator(api, &eks.ListAddonsInput{ClusterName: aws.String(cluster)})
	return listDescribe(ctx, "add-ons", cluster,
		func(ctx context.Context) ([]string, bool, error) {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, false, err
			}
			return page.Addons, p.HasMorePages(), nil
		},
		func(ctx context.Context, name string) (*ekstypes.Addon, error) {
			d, err := api.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String(cluster), AddonName: aws.String(name)})
			if err != nil {
				return nil, err
			}
			return d.Addon, nil
		})
}

// listDescribe lists names page by page with next (which says whether
// more pages follow), then describes each, describeConcurrency at a time.
func listDescribe[T any](ctx context.Context, what, cluster string, next func(context.Context) ([]string, bool, error),
	describe func(context.Context, string) (T, error)) ([]T, error) {
	var names []string
	for more := true; more; {
		page, m, err := next(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the %s of %s: %w", what, cluster, err)
		}
		names, more = append(names, page...), m
	}
	out := make([]T, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(describeConcurrency)
	for i, n := range names {
		g.Go(func() error {
			v, err := describe(gctx, n)
			if err != nil {
				return fmt.Errorf("describing %s %s of %s: %w", strings.TrimSuffix(what, "s"), n, cluster, err)
			}
			out[i] = v
			return nil
		})
	}
	return out, g.Wait()
}

// nodegroups compares the managed node groups. Self-managed node groups
// (nodeGroups) are Auto Scaling groups EKS does not list; they are not
// compared.
func (cc *clusterCompare) nodegroups(ngs []*ekstypes.Nodegroup) []findings.Finding {
	var out []findings.Finding
	byName := map[string]*ekstypes.Nodegroup{}
	for _, ng := range ngs {
		byName[aws.ToString(ng.NodegroupName)] = ng
	}
	inConfig := map[string]bool{}
	for _, want := range cc.spec.NodeGroups {
		if !want.Managed {
			continue
		}
		inConfig[want.Name] = true
		res := "nodegroup/" + cc.cluster + "/" + want.Name
		got := byName[want.Name]
		if got == nil {
			out = append(out, cc.find(res, "", "exists ("+want.Path()+" of "+cc.file+")", "does not exist",
				fmt.Sprintf("eksctl create nodegroup -f %s --include %s", cc.file, want.Name)))
			continue
		}
		out = append(out, cc.nodegroup(res, want, got)...)
	}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		if !inConfig[name] {
			out = append(out, cc.find("nodegroup/"+cc.cluster+"/"+name, "", "absent: "+cc.file+" has no such managed node group", "exists",
				fmt.Sprintf("eksctl delete nodegroup --cluster %s --name %s  # or add it to the managedNodeGroups of %s", cc.cluster, name, cc.file)))
		}
	}
	return out
}

func (cc *clusterCompare) nodegroup(res string, want clusters.NodeGroup, got *ekstypes.Nodegroup) []findings.Finding {
	var out []findings.Finding
	replace := fmt.Sprintf("make %s say what runs: a managed node group cannot change this in place (to change it, create a new node group and delete this one: eksctl create nodegroup -f %s, eksctl delete nodegroup --cluster %s --name %s)",
		cc.file, cc.file, cc.cluster, want.Name)
	wantTypes := want.InstanceTypes
	if len(wantTypes) == 0 && !want.InstanceSelector && !want.LaunchTemplate {
		wantTypes = []string{clusters.DefaultInstanceType}
	}
	// A node group made from a launch template reports no instance types
	// when the template sets them.
	if len(wantTypes) > 0 && len(got.InstanceTypes) > 0 && !sameSet(wantTypes, got.InstanceTypes) {
		out = append(out, cc.find(res, "instanceTypes", list(wantTypes), list(got.InstanceTypes), replace))
	}
	wantCap := string(ekstypes.CapacityTypesOnDemand)
	if want.Spot {
		wantCap = string(ekstypes.CapacityTypesSpot)
	}
	if gotCap := string(got.CapacityType); gotCap != "" && gotCap != wantCap {
		out = append(out, cc.find(res, "capacityType", wantCap, gotCap, replace))
	}
	var sc ekstypes.NodegroupScalingConfig
	if got.ScalingConfig != nil {
		sc = *got.ScalingConfig
	}
	out = append(out, cc.sizes(res, want, sc)...)
	wantLabels := want.Labels
	gotLabels := map[string]string{}
	for k, v := range got.Labels {
		if !strings.HasPrefix(k, eksctlLabelPrefix) {
			gotLabels[k] = v
		}
	}
	for _, k := range slices.Sorted(maps.Keys(union(wantLabels, gotLabels))) {
		w, wok := wantLabels[k]
		g, gok := gotLabels[k]
		if wok == gok && w == g {
			continue
		}
		fix := fmt.Sprintf("eksctl set labels --cluster %s --nodegroup %s --labels %s=%s", cc.cluster, want.Name, k, w)
		if !wok {
			w = "(absent)"
			fix = fmt.Sprintf("eksctl unset labels --cluster %s --nodegroup %s --labels %s  # or add the label to %s", cc.cluster, want.Name, k, cc.file)
		}
		if !gok {
			g = "(absent)"
		}
		out = append(out, cc.find(res, "labels."+k, w, g, fix))
	}
	var wantTaints, gotTaints []string
	for _, t := range want.Taints {
		wantTaints = append(wantTaints, taintString(t.Key, t.Value, eksTaintEffect(t.Effect)))
	}
	for _, t := range got.Taints {
		gotTaints = append(gotTaints, taintString(aws.ToString(t.Key), aws.ToString(t.Value), string(t.Effect)))
	}
	if !sameSet(wantTaints, gotTaints) {
		out = append(out, cc.find(res, "taints", list(wantTaints), list(gotTaints),
			fmt.Sprintf("set the taints %s lists: aws eks update-nodegroup-config --cluster-name %s --nodegroup-name %s --taints ...", cc.file, cc.cluster, want.Name)))
	}
	if fam := amiFamily(got.AmiType); want.AMIFamily != "" && fam != "" && fam != want.AMIFamily {
		out = append(out, cc.find(res, "amiFamily", want.AMIFamily, fmt.Sprintf("%s (AMI type %s)", fam, got.AmiType), replace))
	}
	return out
}

// sizes compares minSize and maxSize, and desiredCapacity with --strict
// (an autoscaler owns it otherwise). Sizes the config leaves out are not
// compared.
func (cc *clusterCompare) sizes(res string, want clusters.NodeGroup, sc ekstypes.NodegroupScalingConfig) []findings.Finding {
	type size struct {
		field string
		want  *int
		got   *int32
	}
	sizes := []size{{"minSize", want.MinSize, sc.MinSize}, {"maxSize", want.MaxSize, sc.MaxSize}}
	if cc.strict {
		sizes = append(sizes, size{"desiredCapacity", want.DesiredCapacity, sc.DesiredSize})
	}
	var differ []size
	for _, s := range sizes {
		if s.want != nil && s.got != nil && int32(*s.want) != *s.got {
			differ = append(differ, s)
		}
	}
	if len(differ) == 0 {
		return nil
	}
	// One command sets them all: the config's sizes where it has them,
	// the current ones elsewhere, and the desired size only when it is
	// compared or would fall outside the new bounds.
	minN, maxN, desired := aws.ToInt32(sc.MinSize), aws.ToInt32(sc.MaxSize), aws.ToInt32(sc.DesiredSize)
	if want.MinSize != nil {
		minN = int32(*want.MinSize)
	}
	if want.MaxSize != nil {
		maxN = int32(*want.MaxSize)
	}
	fix := fmt.Sprintf("eksctl scale nodegroup --cluster %s --name %s --nodes-min %d --nodes-max %d", cc.cluster, want.Name, minN, maxN)
	switch {
	case cc.strict && want.DesiredCapacity != nil:
		fix += fmt.Sprintf(" --nodes %d", *want.DesiredCapacity)
	case desired < minN:
		fix += fmt.Sprintf(" --nodes %d", minN)
	case desired > maxN:
		fix += fmt.Sprintf(" --nodes %d", maxN)
	}
	var out []findings.Finding
	for _, s := range differ {
		out = append(out, cc.find(res, s.field, fmt.Sprint(*s.want), fmt.Sprint(*s.got), fix))
	}
	return out
}

// addons compares the EKS add-ons.
func (cc *clusterCompare) addons(got []*ekstypes.Addon) []findings.Finding {
	var out []findings.Finding
	byName := map[string]*ekstypes.Addon{}
	for _, a := range got {
		byName[aws.ToString(a.AddonName)] = a
	}
	inConfig := map[string]bool{}
	for _, want := range cc.spec.Addons {
		inConfig[want.Name] = true
		res := "addon/" + cc.cluster + "/" + want.Name
		a := byName[want.Name]
		if a == nil {
			out = append(out, cc.find(res, "", "installed", "not installed", fmt.Sprintf("eksctl create addon -f %s", cc.file)))
			continue
		}
		if v := aws.ToString(a.AddonVersion); !addonVersionMatches(want.Version, v) {
			out = append(out, cc.find(res, "version", want.Version, v, fmt.Sprintf("eksctl update addon -f %s (or set its version to %s there)", cc.file, v)))
		}
		switch a.Status {
		case ekstypes.AddonStatusActive, ekstypes.AddonStatusCreating, ekstypes.AddonStatusUpdating, "":
		default:
			out = append(out, findings.Finding{Check: string(KindCluster), Resource: res, Field: "status", Expected: string(ekstypes.AddonStatusActive), Actual: string(a.Status),
				Severity: findings.Warn, Fix: fmt.Sprintf("aws eks describe-addon --cluster-name %s --addon-name %s  # shows its health issues", cc.cluster, want.Name)})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		if inConfig[name] || slices.Contains(eksctlDefaultAddons, name) {
			continue
		}
		out = append(out, cc.find("addon/"+cc.cluster+"/"+name, "", "absent: "+cc.file+" lists no such add-on", "installed",
			fmt.Sprintf("eksctl delete addon --cluster %s --name %s  # or add it to the addons of %s", cc.cluster, name, cc.file)))
	}
	return out
}

// addonVersionMatches compares a config's add-on version with the running
// one. "" and "latest" leave the choice to eksctl; a version without an
// eksbuild suffix ("v1.19.2") matches any build of it, as eksctl resolves
// it to one.
func addonVersionMatches(want, got string) bool {
	if want == "" || want == "latest" {
		return true
	}
	w, g := strings.TrimPrefix(want, "v"), strings.TrimPrefix(got, "v")
	if w == g {
		return true
	}
	return !strings.Contains(w, "-eksbuild.") && strings.HasPrefix(g, w+"-eksbuild.")
}

// amiFamily maps an EKS AMI type to eksctl's amiFamily ("" for CUSTOM and
// types eksctl has no family for).
// https://docs.aws.amazon.com/eks/latest/APIReference/API_Nodegroup.html#AmazonEKS-Type-Nodegroup-amiType
func amiFamily(t ekstypes.AMITypes) string {
	s := string(t)
	for _, m := range []struct{ prefix, family string }{
		{"AL2023_", "AmazonLinux2023"},
		{"AL2_", "AmazonLinux2"},
		{"BOTTLEROCKET_", "Bottlerocket"},
		{"WINDOWS_CORE_2019_", "WindowsServer2019CoreContainer"},
		{"WINDOWS_FULL_2019_", "WindowsServer2019FullContainer"},
		{"WINDOWS_CORE_2022_", "WindowsServer2022CoreContainer"},
		{"WINDOWS_FULL_2022_", "WindowsServer2022FullContainer"},
	} {
		if strings.HasPrefix(s, m.prefix) {
			return m.family
		}
	}
	return ""
}

// eksTaintEffect maps eksctl's taint effects (Kubernetes' spelling) to
// EKS's enum; EKS's own spelling passes through.
func eksTaintEffect(e string) string {
	switch e {
	case "NoSchedule":
		return string(ekstypes.TaintEffectNoSchedule)
	case "PreferNoSchedule":
		return string(ekstypes.TaintEffectPreferNoSchedule)
	case "NoExecute":
		return string(ekstypes.TaintEffectNoExecute)
	}
	return e
}

func taintString(key, value, effect string) string {
	if value == "" {
		return key + ":" + effect
	}
	return key + "=" + value + ":" + effect
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	return slices.Equal(sortedCopy(a), sortedCopy(b))
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return slices.Compact(c)
}

// list shows a set of strings, sorted; "(none)" when empty.
func list(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(sortedCopy(s), ", ")
}

func union(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}

// minorLess reports whether Kubernetes version a ("1.32") is older than b.
func minorLess(a, b string) bool {
	var am, bm int
	_, errA := fmt.Sscanf(strings.TrimPrefix(a, "1."), "%d", &am)
	_, errB := fmt.Sscanf(strings.TrimPrefix(b, "1."), "%d", &bm)
	return errA == nil && errB == nil && am < bm
}
