package standin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"
)

// waitMax bounds every wait, as eksctl's --timeout (default 25m) does.
const waitMax = 25 * time.Minute

type createClusterFlags struct {
	file            string
	dryRun          bool
	writeKubeconfig bool
	region          string
	timeout         time.Duration
}

func (r *runner) createClusterCmd() *cobra.Command {
	f := &createClusterFlags{}
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Create a cluster",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.file == "" {
				return errors.New("the sandbox's eksctl creates clusters only from a config file: use --config-file/-f")
			}
			return r.createCluster(cmd.Context(), f)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.file, "config-file", "f", "", "load configuration from a file (or stdin if set to '-')")
	fs.BoolVar(&f.dryRun, "dry-run", false, "dry-run mode that skips cluster creation and outputs a ClusterConfig")
	fs.BoolVar(&f.writeKubeconfig, "write-kubeconfig", true, "toggle writing of kubeconfig")
	fs.StringVarP(&f.region, "region", "r", "", "AWS region")
	fs.DurationVar(&f.timeout, "timeout", waitMax, "maximum waiting time for any long-running operation")
	return cmd
}

// load reads, schema-validates and decodes a config file, and applies the
// checks eksctl's loader makes before it calls AWS.
func (r *runner) load(file string) (*clusterConfig, []byte, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading config file %q: %w", file, err)
	}
	if r.o.Validate != nil {
		if err := r.o.Validate(file, data); err != nil {
			return nil, nil, fmt.Errorf("loading config file %q: %w", file, err)
		}
	}
	c, err := parseConfig(data)
	if err != nil {
		return nil, nil, err
	}
	if c.APIVersion != "eksctl.io/v1alpha5" || c.Kind != "ClusterConfig" {
		return nil, nil, fmt.Errorf("loading config file %q: expected apiVersion eksctl.io/v1alpha5 and kind ClusterConfig, got %s %s", file, c.APIVersion, c.Kind)
	}
	if c.Metadata.Name == "" {
		return nil, nil, errors.New("metadata.name must be set")
	}
	if c.Metadata.Version == "" || c.Metadata.Version == "auto" || c.Metadata.Version == "default" {
		c.Metadata.Version = DefaultVersion
	}
	if c.Metadata.Version == "latest" {
		c.Metadata.Version = SupportedVersions[len(SupportedVersions)-1]
	}
	if !supported(c.Metadata.Version) {
		return nil, nil, versionError(c.Metadata.Version)
	}
	names := map[string]bool{}
	for _, ng := range slices.Concat(c.NodeGroups, c.ManagedNodeGroups) {
		if names[ng.Name] {
			return nil, nil, fmt.Errorf("node group %q defined more than once", ng.Name)
		}
		names[ng.Name] = true
		if ng.amiFamily() == "AmazonLinux2" {
			// eksctl's rules for Amazon Linux 2: a custom AMI needs the
			// bootstrap command, and EKS publishes no AL2 AMIs from 1.33.
			if ng.AMI != "" && ng.AMI != "auto" && ng.AMI != "auto-ssm" && ng.OverrideBootstrapCommand == "" {
				return nil, nil, fmt.Errorf("%q: overrideBootstrapCommand is required when using a custom AMI based on AmazonLinux2 (%s)", ng.Name, ng.AMI)
			}
			if (ng.AMI == "" || strings.HasPrefix(ng.AMI, "auto")) && minor(c.Metadata.Version) >= 33 {
				return nil, nil, fmt.Errorf("%q: AmazonLinux2 is not supported for Kubernetes %s; use amiFamily AmazonLinux2023", ng.Name, c.Metadata.Version)
			}
		}
	}
	if c.GitOps != nil {
		if _, err := r.o.LookPath("flux"); err != nil {
			return nil, nil, errors.New("flux binary is required for gitops.flux: install it from https://fluxcd.io/flux/installation/")
		}
	}
	return c, data, nil
}

func minor(v string) int {
	var maj, mi int
	if _, err := fmt.Sscanf(v, "%d.%d", &maj, &mi); err != nil {
		return -1
	}
	return mi
}

// unsupportedInSandbox names what eksctl would build with CloudFormation
// outside EKS's API, which the sandbox has no emulation of.
func unsupportedInSandbox(c *clusterConfig) error {
	var what []string
	if c.VPC == nil || (len(c.VPC.Subnets.Private) == 0 && len(c.VPC.Subnets.Public) == 0) {
		what = append(what, "a new VPC (give vpc.subnets of the sandbox's VPC)")
	}
	if c.Outpost != nil {
		what = append(what, "Outposts")
	}
	if c.RemoteNet != nil {
		what = append(what, "hybrid nodes (remoteNetworkConfig)")
	}
	if len(c.FargateProfiles) > 0 {
		what = append(what, "Fargate profiles")
	}
	if c.AutoMode != nil && c.AutoMode.Enabled != nil && *c.AutoMode.Enabled {
		what = append(what, "EKS Auto Mode")
	}
	for _, ng := range slices.Concat(c.NodeGroups, c.ManagedNodeGroups) {
		if strings.HasPrefix(ng.amiFamily(), "Windows") || ng.amiFamily() == "Ubuntu2004" || ng.amiFamily() == "Ubuntu2204" || ng.amiFamily() == "UbuntuPro2204" {
			what = append(what, fmt.Sprintf("node group %q's AMI family %s", ng.Name, ng.amiFamily()))
		}
		if ng.InstanceSelector != nil {
			what = append(what, fmt.Sprintf("node group %q's instanceSelector", ng.Name))
		}
	}
	if len(what) > 0 {
		return fmt.Errorf("the sandbox cannot create %s", strings.Join(what, ", "))
	}
	return nil
}

func (r *runner) createCluster(ctx context.Context, f *createClusterFlags) error {
	c, data, err := r.load(f.file)
	if err != nil {
		return err
	}
	r.info("eksctl version %s", Version)
	if f.dryRun {
		_, err := r.o.Out.Write(data)
		return err
	}
	if err := unsupportedInSandbox(c); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	cfg, err := r.o.AWS(ctx, firstNonEmpty(f.region, c.Metadata.Region))
	if err != nil {
		return err
	}
	r.info("using region %s", cfg.Region)
	acct, err := account(ctx, cfg)
	if err != nil {
		return err
	}
	eksc, ec2c := eks.NewFromConfig(cfg), ec2.NewFromConfig(cfg)
	subnets, err := resolveSubnets(ctx, ec2c, c)
	if err != nil {
		return err
	}
	r.info("using existing VPC (%s) and subnets (private:%s public:%s)", c.VPC.ID, subnetIDs(subnets.private), subnetIDs(subnets.public))
	for _, ng := range c.ManagedNodeGroups {
		r.info("nodegroup %q will use %q [%s/%s]", ng.Name, "", ng.amiFamily(), c.Metadata.Version)
	}
	r.info("using Kubernetes version %s", c.Metadata.Version)
	kind := "with managed nodes"
	if len(c.ManagedNodeGroups) == 0 && len(c.NodeGroups) > 0 {
		kind = "with un-managed nodes"
	}
	r.info("creating EKS cluster %q in %q region %s", c.Metadata.Name, cfg.Region, kind)
	stack := "eksctl-" + c.Metadata.Name + "-cluster"
	r.info("building cluster stack %q", stack)
	r.info("deploying stack %q", stack)

	in, err := createClusterInput(acct, c, subnets)
	if err != nil {
		return err
	}
	if _, err := eksc.CreateCluster(ctx, in); err != nil {
		return fmt.Errorf("creating CloudFormation stack %q: %w", stack, err)
	}
	r.info("waiting for CloudFormation stack %q", stack)
	if err := eks.NewClusterActiveWaiter(eksc, r.waiterOpts).Wait(ctx, &eks.DescribeClusterInput{Name: &c.Metadata.Name}, f.timeout); err != nil {
		return fmt.Errorf("waiting for CloudFormation stack %q: %w", stack, err)
	}
	if err := r.createAddons(ctx, eksc, c); err != nil {
		return err
	}
	if err := r.createNodegroups(ctx, eksc, acct, c, subnets, nil, f.timeout); err != nil {
		return err
	}
	r.info("waiting for the control plane to become ready")
	for _, a := range c.Addons {
		if err := eks.NewAddonActiveWaiter(eksc, r.addonWaiterOpts).Wait(ctx, &eks.DescribeAddonInput{ClusterName: &c.Metadata.Name, AddonName: aws.String(a.Name)}, f.timeout); err != nil {
			return fmt.Errorf("waiting for addon %q: %w", a.Name, err)
		}
	}
	r.success("all EKS cluster resources for %q have been created", c.Metadata.Name)
	if f.writeKubeconfig {
		r.warn("the sandbox's eksctl does not write kubeconfigs: run 'eksbg sandbox kubeconfig'")
	}
	r.success("EKS cluster %q in %q region is ready", c.Metadata.Name, cfg.Region)
	return nil
}

func (r *runner) waiterOpts(o *eks.ClusterActiveWaiterOptions) {
	o.MinDelay, o.MaxDelay = r.o.Poll, 4*r.o.Poll
}

func (r *runner) addonWaiterOpts(o *eks.AddonActiveWaiterOptions) {
	o.MinDelay, o.MaxDelay = r.o.Poll, 4*r.o.Poll
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

type subnet struct{ key, id, az string }

type subnetSet struct{ private, public []subnet }

func subnetIDs(s []subnet) string {
	m := make([]string, len(s))
	for i, sn := range s {
		m[i] = sn.key + ":" + sn.id
	}
	return "[" + strings.Join(m, " ") + "]"
}

// resolveSubnets gives every vpc.subnets entry its ID and AZ, looking up
// entries given by CIDR or AZ only, as eksctl does for an existing VPC.
func resolveSubnets(ctx context.Context, ec2c *ec2.Client, c *clusterConfig) (subnetSet, error) {
	out, err := ec2c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if err != nil {
		return subnetSet{}, fmt.Errorf("describing subnets: %w", err)
	}
	var set subnetSet
	resolve := func(specs map[string]subnetSpec) ([]subnet, error) {
		keys := make([]string, 0, len(specs))
		for k := range specs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var res []subnet
		for _, k := range keys {
			sp := specs[k]
			var found *ec2types.Subnet
			for i, sn := range out.Subnets {
				if (sp.ID != "" && aws.ToString(sn.SubnetId) == sp.ID) ||
					(sp.ID == "" && sp.CIDR != "" && aws.ToString(sn.CidrBlock) == sp.CIDR) {
					found = &out.Subnets[i]
					break
				}
			}
			if found == nil {
				return nil, fmt.Errorf("subnet %q (%s) not found in the VPC", k, firstNonEmpty(sp.ID, sp.CIDR, sp.AZ))
			}
			if c.VPC.ID != "" && aws.ToString(found.VpcId) != c.VPC.ID {
				return nil, fmt.Errorf("subnet %s is in %s, not in vpc.id %s", aws.ToString(found.SubnetId), aws.ToString(found.VpcId), c.VPC.ID)
			}
			c.VPC.ID = aws.ToString(found.VpcId)
			res = append(res, subnet{key: k, id: aws.ToString(found.SubnetId), az: aws.ToString(found.AvailabilityZone)})
		}
		return res, nil
	}
	if set.private, err = resolve(c.VPC.Subnets.Private); err != nil {
		return set, err
	}
	if set.public, err = resolve(c.VPC.Subnets.Public); err != nil {
		return set, err
	}
	return set, nil
}

func createClusterInput(acct string, c *clusterConfig, s subnetSet) (*eks.CreateClusterInput, error) {
	var ids []string
	if len(c.VPC.ControlPlaneSubnetIDs) > 0 {
		ids = c.VPC.ControlPlaneSubnetIDs
	} else {
		for _, sn := range slices.Concat(s.private, s.public) {
			ids = append(ids, sn.id)
		}
	}
	tags := map[string]string{
		"alpha.eksctl.io/cluster-name":                c.Metadata.Name,
		"eksctl.cluster.k8s.io/v1alpha1/cluster-name": c.Metadata.Name,
		"alpha.eksctl.io/eksctl-version":              Version,
	}
	for k, v := range c.Metadata.Tags {
		tags[k] = v
	}
	role := "arn:aws:iam::" + acct + ":role/eksctl-" + c.Metadata.Name + "-cluster-ServiceRole"
	if c.IAM != nil && c.IAM.ServiceRoleARN != "" {
		role = c.IAM.ServiceRoleARN
	}
	in := &eks.CreateClusterInput{
		Name:               aws.String(c.Metadata.Name),
		Version:            aws.String(c.Metadata.Version),
		RoleArn:            aws.String(role),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: ids},
		Tags:               tags,
	}
	if ep := c.VPC.ClusterEndpoints; ep != nil {
		in.ResourcesVpcConfig.EndpointPublicAccess = ep.PublicAccess
		in.ResourcesVpcConfig.EndpointPrivateAccess = ep.PrivateAccess
	}
	if k := c.KubernetesNetworkConfig; k != nil {
		in.KubernetesNetworkConfig = &ekstypes.KubernetesNetworkConfigRequest{IpFamily: ekstypes.IpFamily(strings.ToLower(k.IPFamily))}
		if k.ServiceIPv4CIDR != "" {
			in.KubernetesNetworkConfig.ServiceIpv4Cidr = aws.String(k.ServiceIPv4CIDR)
		}
		if k.IPFamily == "" {
			in.KubernetesNetworkConfig.IpFamily = ""
		}
	}
	if a := c.AccessConfig; a != nil {
		in.AccessConfig = &ekstypes.CreateAccessConfigRequest{
			AuthenticationMode:                      ekstypes.AuthenticationMode(a.AuthenticationMode),
			BootstrapClusterCreatorAdminPermissions: a.BootstrapClusterCreatorAdminPermissions,
		}
	}
	if cw := c.CloudWatch; cw != nil && cw.ClusterLogging != nil && len(cw.ClusterLogging.EnableTypes) > 0 {
		var types []ekstypes.LogType
		for _, t := range cw.ClusterLogging.EnableTypes {
			if t == "*" || t == "all" {
				types = []ekstypes.LogType{"api", "audit", "authenticator", "controllerManager", "scheduler"}
				break
			}
			types = append(types, ekstypes.LogType(t))
		}
		in.Logging = &ekstypes.Logging{ClusterLogging: []ekstypes.LogSetup{{Enabled: aws.Bool(true), Types: types}}}
	}
	return in, nil
}

// account asks STS who the caller is, as eksctl does before it acts; the
// IAM roles it names live in that account.
func account(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("checking AWS credentials: %w", err)
	}
	return aws.ToString(out.Account), nil
}

func (r *runner) createAddons(ctx context.Context, eksc *eks.Client, c *clusterConfig) error {
	for _, a := range c.Addons {
		in := &eks.CreateAddonInput{ClusterName: &c.Metadata.Name, AddonName: aws.String(a.Name)}
		switch a.Version {
		case "", "default":
		case "latest":
			out, err := eksc.DescribeAddonVersions(ctx, &eks.DescribeAddonVersionsInput{AddonName: aws.String(a.Name), KubernetesVersion: &c.Metadata.Version})
			if err != nil {
				return fmt.Errorf("describing versions of addon %q: %w", a.Name, err)
			}
			if len(out.Addons) > 0 && len(out.Addons[0].AddonVersions) > 0 {
				in.AddonVersion = out.Addons[0].AddonVersions[0].AddonVersion
			}
		default:
			in.AddonVersion = aws.String(a.Version)
		}
		if a.ConfigurationValues != "" {
			in.ConfigurationValues = aws.String(a.ConfigurationValues)
		}
		r.info("creating addon: %s", a.Name)
		if _, err := eksc.CreateAddon(ctx, in); err != nil {
			return fmt.Errorf("creating addon %q: %w", a.Name, err)
		}
		r.info("successfully created addon: %s", a.Name)
	}
	return nil
}

// createNodegroups creates the config's node groups (those include selects,
// all when nil) in parallel and waits for them, as eksctl's task tree does.
// Self-managed node groups (nodeGroups) are CloudFormation Auto Scaling
// groups in real eksctl; the sandbox has no CloudFormation, so it creates
// them as EKS node groups tagged alpha.eksctl.io/nodegroup-type=unmanaged.
func (r *runner) createNodegroups(ctx context.Context, eksc *eks.Client, acct string, c *clusterConfig, s subnetSet, include func(string) bool, timeout time.Duration) error {
	type job struct {
		ng      nodeGroupSpec
		managed bool
	}
	var jobs []job
	for _, ng := range c.NodeGroups {
		jobs = append(jobs, job{ng, false})
	}
	for _, ng := range c.ManagedNodeGroups {
		jobs = append(jobs, job{ng, true})
	}
	var g errgroup.Group
	for _, j := range jobs {
		if include != nil && !include(j.ng.Name) {
			continue
		}
		in, err := createNodegroupInput(acct, c, s, j.ng, j.managed)
		if err != nil {
			return err
		}
		kind := "managed nodegroup"
		if !j.managed {
			kind = "nodegroup"
		}
		stack := "eksctl-" + c.Metadata.Name + "-nodegroup-" + j.ng.Name
		r.info("building %s stack %q", kind, stack)
		r.info("deploying stack %q", stack)
		g.Go(func() error {
			if _, err := eksc.CreateNodegroup(ctx, in); err != nil {
				return fmt.Errorf("creating CloudFormation stack %q: %w", stack, err)
			}
			r.info("waiting for CloudFormation stack %q", stack)
			w := eks.NewNodegroupActiveWaiter(eksc, func(o *eks.NodegroupActiveWaiterOptions) { o.MinDelay, o.MaxDelay = r.o.Poll, 4*r.o.Poll })
			out, err := w.WaitForOutput(ctx, &eks.DescribeNodegroupInput{ClusterName: in.ClusterName, NodegroupName: in.NodegroupName}, timeout)
			if err != nil {
				return fmt.Errorf("waiting for CloudFormation stack %q: %w", stack, err)
			}
			r.info("nodegroup %q has %d node(s)", j.ng.Name, aws.ToInt32(out.Nodegroup.ScalingConfig.DesiredSize))
			return nil
		})
	}
	return g.Wait()
}

func createNodegroupInput(acct string, c *clusterConfig, s subnetSet, ng nodeGroupSpec, managed bool) (*eks.CreateNodegroupInput, error) {
	minSize, maxSize, desired := ng.sizes()
	subnets, err := nodegroupSubnets(s, ng)
	if err != nil {
		return nil, err
	}
	amiType, ok := amiTypes[ng.amiFamily()]
	if !ok {
		return nil, fmt.Errorf("node group %q: AMI family %s is not supported by the sandbox", ng.Name, ng.amiFamily())
	}
	if ng.AMI != "" && !strings.HasPrefix(ng.AMI, "auto") {
		amiType = ekstypes.AMITypesCustom
	}
	tags := map[string]string{"alpha.eksctl.io/nodegroup-name": ng.Name, "alpha.eksctl.io/cluster-name": c.Metadata.Name}
	if managed {
		tags["alpha.eksctl.io/nodegroup-type"] = "managed"
	} else {
		tags["alpha.eksctl.io/nodegroup-type"] = "unmanaged"
	}
	for k, v := range ng.Tags {
		tags[k] = v
	}
	in := &eks.CreateNodegroupInput{
		ClusterName:   aws.String(c.Metadata.Name),
		NodegroupName: aws.String(ng.Name),
		NodeRole:      aws.String("arn:aws:iam::" + acct + ":role/eksctl-" + c.Metadata.Name + "-nodegroup-" + ng.Name + "-NodeInstanceRole"),
		Subnets:       subnets,
		InstanceTypes: ng.instanceTypes(),
		ScalingConfig: &ekstypes.NodegroupScalingConfig{MinSize: aws.Int32(int32(minSize)), MaxSize: aws.Int32(int32(maxSize)), DesiredSize: aws.Int32(int32(desired))},
		AmiType:       amiType,
		Labels:        ng.Labels,
		Tags:          tags,
		DiskSize:      aws.Int32(80),
	}
	if ng.VolumeSize != nil {
		in.DiskSize = aws.Int32(int32(*ng.VolumeSize))
	}
	if ng.Spot || (ng.InstancesDistribution != nil && ng.InstancesDistribution.OnDemandPercentageAboveBaseCapacity != nil && *ng.InstancesDistribution.OnDemandPercentageAboveBaseCapacity == 0) {
		in.CapacityType = ekstypes.CapacityTypesSpot
	}
	if ng.ReleaseVersion != "" {
		in.ReleaseVersion = aws.String(ng.ReleaseVersion)
	}
	taints, err := decodeTaints(ng.Taints)
	if err != nil {
		return nil, fmt.Errorf("node group %q: %w", ng.Name, err)
	}
	in.Taints = taints
	return in, nil
}

// amiTypes maps eksctl's amiFamily to EKS's AMI type (x86_64).
var amiTypes = map[string]ekstypes.AMITypes{
	"AmazonLinux2023": ekstypes.AMITypesAl2023X8664Standard,
	"AmazonLinux2":    ekstypes.AMITypesAl2X8664,
	"Bottlerocket":    ekstypes.AMITypesBottlerocketX8664,
}

// nodegroupSubnets resolves a node group's subnets as eksctl does: entries
// are IDs or keys of vpc.subnets; none given means every private subnet
// (privateNetworking) or every public one; availabilityZones narrows.
func nodegroupSubnets(s subnetSet, ng nodeGroupSpec) ([]string, error) {
	pool := s.public
	kind := "public"
	if ng.PrivateNetworking {
		pool, kind = s.private, "private"
	}
	var ids []string
	if len(ng.Subnets) > 0 {
		for _, want := range ng.Subnets {
			i := slices.IndexFunc(slices.Concat(s.private, s.public), func(sn subnet) bool { return sn.id == want || sn.key == want })
			if i < 0 {
				if strings.HasPrefix(want, "subnet-") {
					ids = append(ids, want)
					continue
				}
				return nil, fmt.Errorf("node group %q: subnet %q is neither a subnet ID nor a key of vpc.subnets", ng.Name, want)
			}
			ids = append(ids, slices.Concat(s.private, s.public)[i].id)
		}
		return ids, nil
	}
	for _, sn := range pool {
		if len(ng.AvailabilityZones) == 0 || slices.Contains(ng.AvailabilityZones, sn.az) {
			ids = append(ids, sn.id)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("node group %q: no %s subnets to place it in (set privateNetworking, subnets or availabilityZones)", ng.Name, kind)
	}
	return ids, nil
}

// decodeTaints reads eksctl's taints: a list of {key, value, effect} or
// the older map form key: "value:Effect".
func decodeTaints(n yaml.Node) ([]ekstypes.Taint, error) {
	effects := map[string]ekstypes.TaintEffect{
		"NoSchedule": ekstypes.TaintEffectNoSchedule, "PreferNoSchedule": ekstypes.TaintEffectPreferNoSchedule, "NoExecute": ekstypes.TaintEffectNoExecute,
	}
	var out []ekstypes.Taint
	switch n.Kind {
	case 0:
		return nil, nil
	case yaml.SequenceNode:
		var ts []struct{ Key, Value, Effect string }
		if err := n.Decode(&ts); err != nil {
			return nil, fmt.Errorf("reading taints: %w", err)
		}
		for _, t := range ts {
			e, ok := effects[t.Effect]
			if !ok {
				return nil, fmt.Errorf("taint %q: unknown effect %q", t.Key, t.Effect)
			}
			out = append(out, ekstypes.Taint{Key: aws.String(t.Key), Value: aws.String(t.Value), Effect: e})
		}
	case yaml.MappingNode:
		var m map[string]string
		if err := n.Decode(&m); err != nil {
			return nil, fmt.Errorf("reading taints: %w", err)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, eff, _ := strings.Cut(m[k], ":")
			e, ok := effects[eff]
			if !ok {
				return nil, fmt.Errorf("taint %q: unknown effect %q", k, eff)
			}
			out = append(out, ekstypes.Taint{Key: aws.String(k), Value: aws.String(v), Effect: e})
		}
	}
	return out, nil
}

type createNodegroupFlags struct {
	file    string
	include []string
	region  string
	timeout time.Duration
}

func (r *runner) createNodegroupCmd() *cobra.Command {
	f := &createNodegroupFlags{}
	cmd := &cobra.Command{
		Use:     "nodegroup",
		Aliases: []string{"ng"},
		Short:   "Create a nodegroup",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.file == "" {
				return errors.New("the sandbox's eksctl creates node groups only from a config file: use --config-file/-f")
			}
			return r.createNodegroup(cmd.Context(), f)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.file, "config-file", "f", "", "load configuration from a file (or stdin if set to '-')")
	fs.StringSliceVar(&f.include, "include", nil, "nodegroups to include (list of globs)")
	fs.StringVarP(&f.region, "region", "r", "", "AWS region")
	fs.DurationVar(&f.timeout, "timeout", waitMax, "maximum waiting time for any long-running operation")
	return cmd
}

func (r *runner) createNodegroup(ctx context.Context, f *createNodegroupFlags) error {
	c, _, err := r.load(f.file)
	if err != nil {
		return err
	}
	if err := unsupportedInSandbox(c); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	cfg, err := r.o.AWS(ctx, firstNonEmpty(f.region, c.Metadata.Region))
	if err != nil {
		return err
	}
	acct, err := account(ctx, cfg)
	if err != nil {
		return err
	}
	eksc := eks.NewFromConfig(cfg)
	existing := map[string]bool{}
	p := eks.NewListNodegroupsPaginator(eksc, &eks.ListNodegroupsInput{ClusterName: &c.Metadata.Name})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing nodegroups of cluster %q: %w", c.Metadata.Name, err)
		}
		for _, n := range page.Nodegroups {
			existing[n] = true
		}
	}
	subnets, err := resolveSubnets(ctx, ec2.NewFromConfig(cfg), c)
	if err != nil {
		return err
	}
	include := func(name string) bool {
		if existing[name] {
			r.info("nodegroup %q already exists and will be skipped", name)
			return false
		}
		if len(f.include) == 0 {
			return true
		}
		for _, g := range f.include {
			if ok, _ := path.Match(g, name); ok {
				return true
			}
		}
		return false
	}
	if err := r.createNodegroups(ctx, eksc, acct, c, subnets, include, f.timeout); err != nil {
		return err
	}
	r.success("created nodegroup(s) in cluster %q", c.Metadata.Name)
	return nil
}
