package clusters

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/eksbg/eksbg/internal/findings"
)

// Tag keys eksbg puts on the clusters it creates.
const (
	TagEnvironment = "eksbg.io/environment"
	TagColor       = "eksbg.io/color"
)

// AMI families eksbg reasons about (eksctl's NodeImageFamily names,
// pkg/apis/eksctl.io/v1alpha5/types.go).
const (
	FamilyAL2    = "AmazonLinux2"
	FamilyAL2023 = "AmazonLinux2023"
)

// al2LastMinor is the last Kubernetes minor Amazon Linux 2 EKS AMIs exist
// for: there are none from 1.33 (AmazonLinux2EOLVersion in eksctl's
// pkg/apis/eksctl.io/v1alpha5/types.go, which refuses AL2 from there;
// https://docs.aws.amazon.com/eks/latest/userguide/eks-ami-deprecation-faqs.html).
const al2LastMinor = 32

// Features eksbg refuses to derive a green config for, as Refusal.Feature
// names them.
const (
	FeatureOutposts         = "AWS Outposts"
	FeatureHybridNodes      = "EKS Hybrid Nodes (remoteNetworkConfig)"
	FeatureLocalZones       = "AWS Local Zones"
	FeatureIPv6             = "IPv6 cluster networking"
	FeatureVPCOnlyForNew    = "VPC settings eksctl accepts only for a VPC it creates"
	FeatureAL2Bootstrap     = "Amazon Linux 2 bootstrap customisation"
	FeatureCustomAMI        = "custom AMI with overrideBootstrapCommand"
	FeatureNetwork          = "subnets the network does not have"
	FeatureForeignSGs       = "security groups of another VPC"
	FeatureUnplacedSubnet   = "subnets of unknown availability zone"
	FeatureVersionDowngrade = "Kubernetes version downgrade"
)

// Network is the network green goes into: the environment's VPC and its
// subnets by role, as Terraform's outputs name them and DescribeSubnets
// describes them.
type Network struct {
	VPCID string
	// CIDR is the VPC's primary CIDR; "" when unknown.
	CIDR string
	// Nodes are the private subnets nodes and pods run in: green's
	// vpc.subnets.private.
	Nodes []NetworkSubnet
	// ControlPlane are the subnets for the EKS control plane's network
	// interfaces: green's vpc.controlPlaneSubnetIDs. Empty lets EKS use
	// every subnet of vpc.subnets.
	ControlPlane []NetworkSubnet
	// LoadBalancers are the public subnets: green's vpc.subnets.public,
	// where eksctl puts node groups without privateNetworking.
	LoadBalancers []NetworkSubnet
}

// NetworkSubnet is one subnet of a Network.
type NetworkSubnet struct {
	ID, AZ, CIDR string
}

// DeriveOptions are what Derive needs besides the blue config.
type DeriveOptions struct {
	// Name is green's metadata.name.
	Name string
	// Version is green's Kubernetes version, "1.N"; any number of minor
	// versions after blue's.
	Version string
	// BlueVersion is blue's Kubernetes version, used when blue's config
	// leaves metadata.version unset (take it from DescribeCluster).
	BlueVersion string
	Network     Network
	// Tags are added to metadata.tags, replacing values of the same keys:
	// TagEnvironment and TagColor.
	Tags map[string]string
	// Addons answers DescribeAddonVersions (*eks.Client does). Nil leaves
	// addon versions unchecked, which Derive reports.
	Addons eks.DescribeAddonVersionsAPIClient
	// BlueSubnets describes subnets that blue's config names by ID only
	// (from DescribeSubnets), so that node groups pinned to them can be
	// placed in the same zones in green. Optional.
	BlueSubnets []NetworkSubnet
	// Schema, when set, validates blue before anything else and green
	// after: a blue config eksctl would refuse is an error, and so is a
	// green one (which would be a defect of eksbg).
	Schema *Schema
}

// Refusal is one reason eksbg cannot derive a green config.
type Refusal struct {
	// Feature names what eksbg cannot manage (one of the Feature
	// constants).
	Feature string
	Where   findings.Where
	// Reason says why, and what to do about it.
	Reason string
}

// RefusedError is Derive's error when the blue config uses something
// eksbg cannot carry to green correctly.
type RefusedError struct {
	File     string
	Refusals []Refusal
}

// Error lists every refusal.
func (e *RefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "eksbg cannot derive a green cluster config from %s:", e.File)
	for _, r := range e.Refusals {
		fmt.Fprintf(&b, "\n  %s: ", r.Feature)
		if w := r.Where.String(); w != "" {
			fmt.Fprintf(&b, "%s: ", w)
		}
		b.WriteString(r.Reason)
	}
	return b.String()
}

// Findings returns the refusals as findings that block the upgrade.
func (e *RefusedError) Findings() []findings.Finding {
	out := make([]findings.Finding, 0, len(e.Refusals))
	for _, r := range e.Refusals {
		out = append(out, findings.Finding{Severity: findings.Fail, Check: "green-config",
			What: r.Feature + ": " + r.Reason, Where: r.Where})
	}
	return out
}

// Derive writes green's ClusterConfig from blue's. It changes only what
// eksbg owns and leaves every other byte of blue's file as written:
//
//   - metadata.name, metadata.version, and the eksbg tags in metadata.tags;
//   - the network: vpc.id, vpc.cidr (when blue has one), vpc.subnets,
//     vpc.controlPlaneSubnetIDs, the top-level availabilityZones (which
//     eksctl refuses beside vpc.subnets), and the subnets of node groups and
//     Fargate profiles, moved to the network's subnets in the same zones;
//   - node groups: amiFamily moved from AmazonLinux2 to AmazonLinux2023 when
//     the target has no Amazon Linux 2 AMIs, pinned AMI IDs (ami: ami-...)
//     and releaseVersion removed;
//   - addons[].version, when the pinned version does not run on the target.
//
// It returns green and findings about what it changed or what needs a
// person's eye. When blue uses something eksbg cannot carry over correctly
// it returns a *RefusedError listing every such thing instead.
func Derive(ctx context.Context, blue *Config, opts DeriveOptions) (*Config, []findings.Finding, error) {
	targetMinor, err := minorOf(opts.Version)
	if err != nil {
		return nil, nil, fmt.Errorf("deriving green config: target version: %w", err)
	}
	if opts.Name == "" {
		return nil, nil, errors.New("deriving green config: no name for green")
	}
	if err := opts.Network.check(); err != nil {
		return nil, nil, fmt.Errorf("deriving green config: %w", err)
	}
	if opts.Schema != nil {
		if err := opts.Schema.Validate(blue); err != nil {
			return nil, nil, fmt.Errorf("deriving green config: blue's config does not validate against eksctl's schema:\n%w", err)
		}
	}
	spec, err := blue.Spec()
	if err != nil {
		return nil, nil, fmt.Errorf("deriving green config: %w", err)
	}
	d := &deriver{blue: blue, spec: spec, opts: opts, target: targetMinor, green: blue.Clone()}
	d.checkVersion()
	d.checkUnsupported()
	d.checkRegion()
	if len(d.refusals) == 0 {
		d.edit(ctx)
	}
	if len(d.refusals) > 0 {
		return nil, nil, &RefusedError{File: blue.File, Refusals: d.refusals}
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	if opts.Schema != nil {
		if err := opts.Schema.Validate(d.green); err != nil {
			return nil, nil, fmt.Errorf("deriving green config: green's config does not validate against eksctl's schema (a defect of eksbg; please report it):\n%w", err)
		}
	}
	findings.Sort(d.findings)
	return d.green, d.findings, nil
}

// check reports a network Derive cannot use.
func (n Network) check() error {
	if n.VPCID == "" {
		return errors.New("the network has no VPC ID")
	}
	if len(n.Nodes) == 0 {
		return errors.New("the network has no node subnets")
	}
	for _, s := range slices.Concat(n.Nodes, n.ControlPlane, n.LoadBalancers) {
		if s.ID == "" || s.AZ == "" {
			return fmt.Errorf("network subnet %q has no ID or availability zone", s.ID)
		}
	}
	return nil
}

// deriver holds one derivation's state.
type deriver struct {
	blue     *Config
	spec     *Spec
	opts     DeriveOptions
	target   int
	green    *Config
	findings []findings.Finding
	refusals []Refusal
	err      error // the first failed edit
	// private and public are green's vpc.subnets.
	private, public []Subnet
}

// where locates a path of blue's document.
func (d *deriver) where(path ...step) findings.Where {
	w := findings.Where{File: d.blue.File, Object: displaySteps(path)}
	if n := nodeAt(d.blue.root, path); n != nil {
		w.File = fmt.Sprintf("%s:%d", d.blue.File, n.Line)
	}
	return w
}

func (d *deriver) refuse(feature, reason string, path ...step) {
	d.refusals = append(d.refusals, Refusal{Feature: feature, Where: d.where(path...), Reason: reason})
}

func (d *deriver) find(sev findings.Severity, check, what, fix string, path ...step) {
	d.findings = append(d.findings, findings.Finding{Severity: sev, Check: check, What: what, Fix: fix, Where: d.where(path...)})
}

// set and remove edit green, keeping the first error.
func (d *deriver) set(path []step, key string, v *yaml.Node, after string) {
	if d.err == nil {
		d.err = d.green.setKey(path, key, v, after)
	}
}

func (d *deriver) remove(path []step, key string) {
	if d.err == nil {
		d.err = d.green.removeKey(path, key)
	}
}

// blueMinor is blue's Kubernetes minor, or -1 when unknown.
func (d *deriver) blueMinor() int {
	v := d.spec.Version
	if v == "" {
		v = d.opts.BlueVersion
	}
	m, err := minorOf(v)
	if err != nil {
		return -1
	}
	return m
}

func (d *deriver) checkVersion() {
	if b := d.blueMinor(); b > d.target {
		d.refuse(FeatureVersionDowngrade, fmt.Sprintf("blue runs Kubernetes 1.%d and the target is %s; EKS clusters cannot go back a version, and a green cluster older than blue would break workloads written for blue", b, d.opts.Version), "metadata", "version")
	}
}

// checkUnsupported refuses what eksbg cannot manage at all.
func (d *deriver) checkUnsupported() {
	root := d.blue.root
	if present(lookup(root, "outpost")) {
		d.refuse(FeatureOutposts, "the control plane runs on an Outpost, whose capacity and subnets eksbg does not model; upgrade it in place with eksctl", "outpost")
	}
	if present(lookup(root, "remoteNetworkConfig")) {
		d.refuse(FeatureHybridNodes, "hybrid nodes join from on-premises networks that eksbg cannot move from blue to green; upgrade the cluster in place", "remoteNetworkConfig")
	}
	if present(lookup(root, "localZones")) {
		d.refuse(FeatureLocalZones, "eksctl accepts localZones only for a VPC it creates (\"localZones are not supported with a pre-existing VPC\"), and green goes into the Terraform network", "localZones")
	}
	if fam := scalarAt(root, "kubernetesNetworkConfig", "ipFamily"); strings.EqualFold(fam, "IPv6") {
		d.refuse(FeatureIPv6, "eksbg's network model has no IPv6 CIDRs to give green; keep IPv6 clusters out of eksbg", "kubernetesNetworkConfig", "ipFamily")
	}
	for _, k := range []string{"hostnameType", "ipv6Cidr", "ipv6Pool"} {
		if present(lookup(lookup(root, "vpc"), k)) {
			d.refuse(FeatureVPCOnlyForNew, fmt.Sprintf("eksctl accepts vpc.%s only for a VPC it creates, and green goes into the Terraform network; set it in the network module and remove it from the config", k), "vpc", k)
		}
	}
	for _, ng := range d.spec.NodeGroups {
		path := ngPath(ng)
		item := nodeAt(root, path)
		if present(lookup(item, "outpostARN")) {
			d.refuse(FeatureOutposts, "the node group runs on an Outpost, which eksbg does not model", append(path, "outpostARN")...)
		}
		if present(lookup(item, "localZones")) {
			d.refuse(FeatureLocalZones, "eksctl accepts node groups in Local Zones only in a VPC it creates", append(path, "localZones")...)
		}
	}
}

// checkRegion refuses a network whose zones are not in blue's region.
func (d *deriver) checkRegion() {
	n := d.opts.Network
	for _, s := range slices.Concat(n.Nodes, n.ControlPlane, n.LoadBalancers) {
		if d.spec.Region != "" && !strings.HasPrefix(s.AZ, d.spec.Region) {
			d.refuse(FeatureNetwork, fmt.Sprintf("network subnet %s is in %s, outside the cluster's region %s", s.ID, s.AZ, d.spec.Region), "metadata", "region")
			return
		}
	}
}

// edit makes every change, recording refusals for what cannot be carried.
func (d *deriver) edit(ctx context.Context) {
	meta := []step{"metadata"}
	d.set(meta, "name", strNode(d.opts.Name), "")
	d.set(meta, "version", strNode(d.opts.Version), "region")
	keys := make([]string, 0, len(d.opts.Tags))
	for k := range d.opts.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if cur, ok := d.spec.Tags[k]; !ok || cur != d.opts.Tags[k] {
			d.set([]step{"metadata", "tags"}, k, strNode(d.opts.Tags[k]), "")
		}
	}
	d.editVPC()
	for _, ng := range d.spec.NodeGroups {
		d.editNodeGroup(ng)
	}
	d.editFargate()
	d.editAddons(ctx)
}

// editVPC points green at the network.
func (d *deriver) editVPC() {
	n := d.opts.Network
	zones := d.spec.AvailabilityZones
	pick := func(subnets []NetworkSubnet, role string) []Subnet {
		var out []Subnet
		for _, s := range subnets {
			if len(zones) == 0 || slices.Contains(zones, s.AZ) {
				out = append(out, Subnet{ID: s.ID, AZ: s.AZ, CIDR: s.CIDR})
			}
		}
		for _, z := range zones {
			if !slices.ContainsFunc(out, func(s Subnet) bool { return s.AZ == z }) && (role == "private" || len(subnets) > 0) {
				d.refuse(FeatureNetwork, fmt.Sprintf("blue's availabilityZones lists %s, where the network has no %s subnet", z, role), "availabilityZones")
			}
		}
		return keyByZone(out)
	}
	d.private = pick(n.Nodes, "private")
	// Public subnets only where blue has them or a node group needs them,
	// so that green's diff stays small.
	needPublic := len(d.spec.VPC.Public) > 0
	for _, ng := range d.spec.NodeGroups {
		needPublic = needPublic || !ng.PrivateNetworking
	}
	if needPublic {
		d.public = pick(n.LoadBalancers, "public")
	}

	if d.spec.VPC.ID == "" {
		d.find(findings.Warn, "green-config", fmt.Sprintf("blue's config lets eksctl create a VPC; green goes into the environment's network, VPC %s", n.VPCID), "check that blue's workloads need nothing from blue's own VPC", "vpc")
		for _, k := range []string{"securityGroup", "sharedNodeSecurityGroup", "controlPlaneSecurityGroupIDs"} {
			if present(lookup(lookup(d.blue.root, "vpc"), k)) {
				d.find(findings.Warn, "green-config", fmt.Sprintf("vpc.%s names security groups, which must belong to VPC %s", k, n.VPCID), "", "vpc", k)
			}
		}
	} else if d.spec.VPC.ID != n.VPCID {
		d.find(findings.Warn, "green-config", fmt.Sprintf("blue runs in VPC %s and green goes into the environment's network, VPC %s", d.spec.VPC.ID, n.VPCID), "", "vpc", "id")
		d.checkForeignSecurityGroups()
	}
	d.setVPC()

	for _, k := range []string{"nat", "extraCIDRs", "extraIPv6CIDRs", "autoAllocateIPv6"} {
		if present(lookup(lookup(d.blue.root, "vpc"), k)) {
			d.find(findings.Info, "green-config", fmt.Sprintf("vpc.%s has no effect in a VPC eksctl does not create", k), "manage it in the network module", "vpc", k)
		}
	}
	if len(zones) > 0 {
		d.remove(nil, "availabilityZones")
		d.find(findings.Info, "green-config", fmt.Sprintf("availabilityZones removed: eksctl refuses it beside vpc.subnets; green's subnets are the network's in %s", strings.Join(zones, ", ")), "", "availabilityZones")
	}
	if d.private == nil {
		d.refuse(FeatureNetwork, "the network has no node subnet in blue's availability zones", "vpc")
	}
}

// setVPC writes vpc.id, vpc.cidr, vpc.subnets and vpc.controlPlaneSubnetIDs.
func (d *deriver) setVPC() {
	n := d.opts.Network
	vpc := []step{"vpc"}
	d.set(vpc, "id", strNode(n.VPCID), "^")
	if present(lookup(lookup(d.blue.root, "vpc"), "cidr")) {
		if n.CIDR != "" {
			d.set(vpc, "cidr", strNode(n.CIDR), "id")
		} else {
			d.remove(vpc, "cidr")
		}
	}
	// Keep blue's subnets as written when they already are the network's.
	if !sameIDs(d.spec.VPC.Private, d.private) || !sameIDs(d.spec.VPC.Public, d.public) || !subnetsDescribed(d.spec) {
		subnets := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, role := range []struct {
			name string
			list []Subnet
		}{{"private", d.private}, {"public", d.public}} {
			if len(role.list) > 0 {
				subnets.Content = append(subnets.Content, strNode(role.name), subnetMapping(role.list))
			}
		}
		d.set(vpc, "subnets", subnets, "cidr")
	} else {
		// Same IDs: name them by blue's keys so node group references hold.
		d.private, d.public = d.spec.VPC.Private, d.spec.VPC.Public
	}
	cpOnPrivate := scalarAt(d.blue.root, "vpc", "controlPlaneOnPrivateSubnets") == "true"
	switch {
	case cpOnPrivate:
		if len(n.ControlPlane) > 0 {
			d.find(findings.Info, "green-config", "vpc.controlPlaneOnPrivateSubnets is set, so green's control plane uses the node subnets, not the network's control-plane subnets", "", "vpc", "controlPlaneOnPrivateSubnets")
		}
	case len(n.ControlPlane) > 0:
		ids := make([]string, 0, len(n.ControlPlane))
		for _, s := range n.ControlPlane {
			ids = append(ids, s.ID)
		}
		if !slices.Equal(ids, d.spec.VPC.ControlPlaneSubnetIDs) {
			d.set(vpc, "controlPlaneSubnetIDs", styledSeq(ids, nodeAt(d.blue.root, []step{"vpc", "controlPlaneSubnetIDs"})), "")
		}
	default:
		d.remove(vpc, "controlPlaneSubnetIDs")
	}
}

// subnetsDescribed reports whether every subnet of blue's vpc.subnets
// has an ID and a zone, so that keeping them as written is safe.
func subnetsDescribed(s *Spec) bool {
	for _, sn := range slices.Concat(s.VPC.Private, s.VPC.Public) {
		if sn.ID == "" || sn.AZ == "" {
			return false
		}
	}
	return true
}

// sameIDs reports whether a and b hold the same subnet IDs.
func sameIDs(a, b []Subnet) bool {
	ids := func(l []Subnet) []string {
		var out []string
		for _, s := range l {
			out = append(out, s.ID)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(ids(a), ids(b))
}

// keyByZone names subnets by zone, as eksctl's own configs do, adding
// "-2", "-3"... when a zone has more than one.
func keyByZone(l []Subnet) []Subnet {
	count := map[string]int{}
	for i := range l {
		count[l[i].AZ]++
		l[i].Key = l[i].AZ
		if n := count[l[i].AZ]; n > 1 {
			l[i].Key = l[i].AZ + "-" + strconv.Itoa(n)
		}
	}
	return l
}

// subnetMapping renders subnets as an AZSubnetMapping.
func subnetMapping(l []Subnet) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, s := range l {
		spec := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{strNode("id"), strNode(s.ID), strNode("az"), strNode(s.AZ)}}
		if s.CIDR != "" {
			spec.Content = append(spec.Content, strNode("cidr"), strNode(s.CIDR))
		}
		m.Content = append(m.Content, strNode(s.Key), spec)
	}
	return m
}

// styledSeq is a sequence of strings in the style (flow or block) of like.
func styledSeq(items []string, like *yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	if like != nil && like.Style&yaml.FlowStyle != 0 {
		n.Style = yaml.FlowStyle
	}
	for _, i := range items {
		n.Content = append(n.Content, strNode(i))
	}
	return n
}

// checkForeignSecurityGroups refuses security groups of blue's VPC when
// green goes into another one: a security group belongs to one VPC.
func (d *deriver) checkForeignSecurityGroups() {
	root := d.blue.root
	for _, k := range []string{"securityGroup", "sharedNodeSecurityGroup", "controlPlaneSecurityGroupIDs"} {
		if present(lookup(lookup(root, "vpc"), k)) {
			d.refuse(FeatureForeignSGs, fmt.Sprintf("vpc.%s names security groups of blue's VPC %s, and green goes into VPC %s", k, d.spec.VPC.ID, d.opts.Network.VPCID), "vpc", k)
		}
	}
	for _, ng := range d.spec.NodeGroups {
		path := append(ngPath(ng), "securityGroups", "attachIDs")
		if present(nodeAt(root, path)) {
			d.refuse(FeatureForeignSGs, fmt.Sprintf("node group %s attaches security groups of blue's VPC %s, and green goes into VPC %s", ng.Name, d.spec.VPC.ID, d.opts.Network.VPCID), path...)
		}
	}
}

// ngPath is the document path of a node group.
func ngPath(ng NodeGroup) []step {
	list, idx, _ := strings.Cut(strings.TrimSuffix(ng.path, "]"), "[")
	i, _ := strconv.Atoi(idx)
	return []step{list, i}
}

// editNodeGroup moves one node group to green's subnets and AMIs.
func (d *deriver) editNodeGroup(ng NodeGroup) {
	path := ngPath(ng)
	item := nodeAt(d.blue.root, path)
	role, own := "public", d.public
	if ng.PrivateNetworking {
		role, own = "private", d.private
	}
	if len(own) == 0 {
		d.refuse(FeatureNetwork, fmt.Sprintf("node group %s runs in %s subnets (privateNetworking is %v) and the network has none", ng.Name, role, ng.PrivateNetworking), path...)
		return
	}
	if !ng.PrivateNetworking {
		d.find(findings.Warn, "green-config", fmt.Sprintf("node group %s runs in public subnets (privateNetworking is not set), so green's goes into the network's load-balancer subnets", ng.Name), "set privateNetworking: true so nodes use the node subnets sized for them", path...)
	}
	for _, az := range ng.AvailabilityZones {
		if !slices.ContainsFunc(own, func(s Subnet) bool { return s.AZ == az }) {
			d.refuse(FeatureNetwork, fmt.Sprintf("node group %s runs in %s, where the network has no %s subnet", ng.Name, az, role), append(path, "availabilityZones")...)
		}
	}
	if len(ng.Subnets) > 0 {
		refs := d.mapSubnetRefs(ng.Name, ng.Subnets, own, role, append(path, "subnets"))
		if refs != nil && !slices.Equal(refs, ng.Subnets) {
			d.set(path, "subnets", styledSeq(refs, lookup(item, "subnets")), "")
		}
	}
	d.editAMI(ng, path, item)
	for _, k := range []string{"targetGroupARNs", "classicLoadBalancerNames"} {
		if present(lookup(item, k)) {
			d.find(findings.Warn, "traffic", fmt.Sprintf("node group %s registers its nodes in %s itself, so green's nodes take traffic as soon as they start, before eksbg shifts any", ng.Name, k),
				"let eksbg's target groups carry the traffic, or check that these load balancers can take green early", append(path, k)...)
		}
	}
	if ng.LaunchTemplate {
		d.find(findings.Warn, "ami-family", fmt.Sprintf("node group %s uses a launch template; the AMI and user data in it are not eksbg's to change", ng.Name),
			fmt.Sprintf("check that the launch template version works with Kubernetes %s", d.opts.Version), append(path, "launchTemplate")...)
	}
	if d.spec.VPC.ID == "" && present(nodeAt(item, []step{"securityGroups", "attachIDs"})) {
		d.find(findings.Warn, "green-config", fmt.Sprintf("node group %s attaches security groups that must belong to VPC %s", ng.Name, d.opts.Network.VPCID), "", append(path, "securityGroups", "attachIDs")...)
	}
}

// mapSubnetRefs maps subnet references (keys of vpc.subnets or IDs) of
// blue to green's subnets of role in the same zones. It returns nil after
// recording a refusal.
func (d *deriver) mapSubnetRefs(owner string, refs []string, own []Subnet, role string, path []step) []string {
	var out []string
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, ref := range refs {
		if sn, ok := findSubnet(own, ref); ok {
			add(refName(sn, ref))
			continue
		}
		az := d.blueZone(ref)
		if az == "" {
			d.refuse(FeatureUnplacedSubnet, fmt.Sprintf("%s names subnet %s, whose availability zone eksbg cannot tell, so it cannot pick green's subnet in the same zone", owner, ref), path...)
			return nil
		}
		found := false
		for _, sn := range own {
			if sn.AZ == az {
				add(sn.Key)
				found = true
			}
		}
		if !found {
			d.refuse(FeatureNetwork, fmt.Sprintf("%s runs in subnet %s in %s, where the network has no %s subnet", owner, ref, az, role), path...)
			return nil
		}
	}
	return out
}

// refName is how green's config refers to sn: as blue did when blue's
// reference still names it.
func refName(sn Subnet, ref string) string {
	if ref == sn.Key || ref == sn.ID {
		return ref
	}
	return sn.Key
}

// blueZone finds the zone of a subnet blue refers to (a key of blue's
// vpc.subnets or an ID): from blue's config, or else by ID or CIDR among
// the network's subnets and DeriveOptions.BlueSubnets, as eksctl finds
// subnets it is given by ID or CIDR only (pkg/vpc/vpc.go).
func (d *deriver) blueZone(ref string) string {
	id, cidr := ref, ""
	for _, l := range [][]Subnet{d.spec.VPC.Private, d.spec.VPC.Public} {
		if sn, ok := findSubnet(l, ref); ok {
			if sn.AZ != "" {
				return sn.AZ
			}
			id, cidr = sn.ID, sn.CIDR
			break
		}
	}
	n := d.opts.Network
	for _, s := range slices.Concat(n.Nodes, n.LoadBalancers, n.ControlPlane, d.opts.BlueSubnets) {
		if id != "" && s.ID == id || cidr != "" && s.CIDR == cidr {
			return s.AZ
		}
	}
	return ""
}

// editAMI handles amiFamily, ami and releaseVersion of one node group.
func (d *deriver) editAMI(ng NodeGroup, path []step, item *yaml.Node) {
	pinnedAMI := strings.HasPrefix(ng.AMI, "ami-")
	override := ng.OverrideBootstrapCommand != ""
	family := ng.AMIFamily
	if pinnedAMI {
		if override && ng.Managed && !strings.EqualFold(family, FamilyAL2023) {
			// Self-managed groups may keep the override on the
			// EKS-optimized AMI; managed ones may not.
			d.refuse(FeatureCustomAMI, fmt.Sprintf("managed node group %s pins AMI %s, built for blue's Kubernetes version, with an overrideBootstrapCommand; eksbg drops pinned AMIs, and eksctl accepts overrideBootstrapCommand on managed %s node groups only with a custom AMI (ValidateManagedNodeGroup in pkg/apis/eksctl.io/v1alpha5/validation.go)", ng.Name, ng.AMI, family),
				append(path, "ami")...)
			return
		}
		d.remove(path, "ami")
		d.find(findings.Warn, "ami-family", fmt.Sprintf("node group %s pinned AMI %s, built for blue's Kubernetes version; green uses the EKS-optimized AMI for %s", ng.Name, ng.AMI, d.opts.Version),
			"pin an AMI built for the target version in the green config if you need one", append(path, "ami")...)
	}
	if ng.ReleaseVersion != "" {
		d.remove(path, "releaseVersion")
		d.find(findings.Warn, "ami-family", fmt.Sprintf("node group %s pinned AMI release %s, which is for blue's Kubernetes version; green gets the latest release for %s", ng.Name, ng.ReleaseVersion, d.opts.Version), "", append(path, "releaseVersion")...)
	}
	greenFamily := family
	switch {
	case strings.EqualFold(family, FamilyAL2) && d.target > al2LastMinor:
		greenFamily = FamilyAL2023
		d.set(path, "amiFamily", strNode(FamilyAL2023), "")
		d.find(findings.Warn, "ami-family", fmt.Sprintf("node group %s moves from Amazon Linux 2 to Amazon Linux 2023: there are no Amazon Linux 2 EKS AMIs from Kubernetes 1.%d", ng.Name, al2LastMinor+1),
			"check that software on the nodes works on Amazon Linux 2023 (https://docs.aws.amazon.com/eks/latest/userguide/al2023.html)", append(path, "amiFamily")...)
	case strings.EqualFold(family, FamilyAL2):
		d.find(findings.Info, "ami-family", fmt.Sprintf("node group %s stays on Amazon Linux 2, which has no EKS AMIs from Kubernetes 1.%d", ng.Name, al2LastMinor+1), "move it to AmazonLinux2023 before an upgrade past 1.32", append(path, "amiFamily")...)
	case family == "":
		// eksctl gives node groups without amiFamily Amazon Linux 2023 at
		// every version (DefaultNodeImageFamily, since
		// https://github.com/eksctl-io/eksctl/pull/8593), while blue may
		// have got Amazon Linux 2 from an older eksctl.
		greenFamily = FamilyAL2023
	}
	if !strings.EqualFold(greenFamily, FamilyAL2023) {
		return
	}
	fromAL2 := family == "" || strings.EqualFold(family, FamilyAL2)
	if !fromAL2 {
		return
	}
	if override && !isNodeConfig(ng.OverrideBootstrapCommand) {
		d.refuse(FeatureAL2Bootstrap, fmt.Sprintf("node group %s overrides the Amazon Linux 2 bootstrap script; on Amazon Linux 2023 eksctl reads overrideBootstrapCommand as a nodeadm NodeConfig, and eksbg cannot translate a shell script into one", ng.Name),
			append(path, "overrideBootstrapCommand")...)
	}
	for i, cmd := range ng.PreBootstrapCommands {
		if what := al2Specific(cmd); what != "" {
			d.refuse(FeatureAL2Bootstrap, fmt.Sprintf("node group %s runs a preBootstrapCommand that %s, which Amazon Linux 2023 nodes do not have", ng.Name, what),
				append(path, "preBootstrapCommands", i)...)
		}
	}
	if rt := scalarAt(item, "containerRuntime"); rt != "" && rt != "containerd" {
		d.refuse(FeatureAL2Bootstrap, fmt.Sprintf("node group %s uses container runtime %s; Amazon Linux 2023 runs containerd only", ng.Name, rt), append(path, "containerRuntime")...)
	}
}

// al2Markers are what, in a preBootstrapCommand, exists on Amazon Linux 2
// EKS nodes but not on Amazon Linux 2023 ones, which bootstrap with nodeadm
// and run containerd without Docker
// (https://docs.aws.amazon.com/eks/latest/userguide/al2023.html).
var al2Markers = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`/etc/eks/bootstrap\.sh`), "calls /etc/eks/bootstrap.sh"},
	{regexp.MustCompile(`bootstrap\.helper\.sh`), "uses eksctl's Amazon Linux 2 bootstrap helper"},
	{regexp.MustCompile(`/etc/docker/|/etc/sysconfig/docker|\bdockerd\b|systemctl\s+\S*\s*docker\b`), "configures Docker"},
	{regexp.MustCompile(`\bamazon-linux-extras\b`), "uses amazon-linux-extras"},
	{regexp.MustCompile(`/etc/kubernetes/kubelet/kubelet-config\.json`), "edits the Amazon Linux 2 kubelet config file"},
}

// al2Specific says what makes cmd Amazon Linux 2 specific, or "".
func al2Specific(cmd string) string {
	for _, m := range al2Markers {
		if m.re.MatchString(cmd) {
			return m.what
		}
	}
	return ""
}

// isNodeConfig reports whether s is a nodeadm NodeConfig document, the
// form overrideBootstrapCommand takes on Amazon Linux 2023.
func isNodeConfig(s string) bool {
	var doc struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
	}
	return yaml.Unmarshal([]byte(s), &doc) == nil && doc.Kind == "NodeConfig" && strings.HasPrefix(doc.APIVersion, "node.eks.aws/")
}

// editFargate moves Fargate profiles' subnets to green's private subnets.
func (d *deriver) editFargate() {
	seq := lookup(d.blue.root, "fargateProfiles")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return
	}
	for i, fp := range seq.Content {
		sub := lookup(fp, "subnets")
		if !present(sub) {
			continue
		}
		var refs []string
		if err := sub.Decode(&refs); err != nil {
			d.err = fmt.Errorf("reading fargateProfiles[%d].subnets: %w", i, err)
			return
		}
		path := []step{"fargateProfiles", i}
		out := d.mapSubnetRefs("Fargate profile "+scalarAt(fp, "name"), refs, d.private, "private", append(path, "subnets"))
		if out == nil {
			continue
		}
		// Fargate profiles take subnet IDs, not keys of vpc.subnets.
		for j, r := range out {
			if sn, ok := findSubnet(d.private, r); ok && sn.ID != "" {
				out[j] = sn.ID
			}
		}
		if !slices.Equal(out, refs) {
			d.set(path, "subnets", styledSeq(out, sub), "")
		}
	}
}

// present reports whether n holds a value (not missing, not null).
func present(n *yaml.Node) bool { return n != nil && !isNull(n) }

// minorOf parses "1.N" (or "1.N.x") into N.
// ParseVersion checks that v is an EKS cluster version, "1.N" (EKS
// versions name a minor release, never a patch), and returns N.
func ParseVersion(v string) (int, error) {
	n, err := minorOf(v)
	if err != nil || v != "1."+strconv.Itoa(n) {
		return 0, fmt.Errorf("%q is not an EKS Kubernetes version: use the minor version, such as 1.34", v)
	}
	return n, nil
}

func minorOf(v string) (int, error) {
	major, rest, ok := strings.Cut(v, ".")
	if !ok || major != "1" {
		return 0, fmt.Errorf("%q is not a Kubernetes version 1.N", v)
	}
	minor, _, _ := strings.Cut(rest, ".")
	n, err := strconv.Atoi(minor)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a Kubernetes version 1.N", v)
	}
	return n, nil
}
