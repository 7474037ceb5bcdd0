package emulator_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// The differential test builds one small world twice, in the emulator (from
// a scenario) and in moto (through the API), asks both the same EC2 and
// ELBv2 questions, and compares the answers field by field after mapping
// each side's IDs to the resources' names.

const diffRegion = "us-east-1"

// The world: a VPC with four subnets in two AZs, a hand-made ENI with two
// secondary addresses and a /28 prefix, an ALB whose listener and rule
// forward to two weighted target groups.
const (
	diffVPCCIDR = "10.30.0.0/16"
	diffEmuVPC  = "vpc-0d1f0000000000001"
)

// diffSubnet is one subnet of the world.
type diffSubnet struct {
	name, emuID, az, cidr, role string
}

var diffSubnets = []diffSubnet{
	{"diff-nodes-a", "subnet-0d1f0000000000a01", "us-east-1a", "10.30.0.0/24", "nodes"},
	{"diff-nodes-b", "subnet-0d1f0000000000b01", "us-east-1b", "10.30.1.0/24", "nodes"},
	{"diff-lb-a", "subnet-0d1f0000000000a02", "us-east-1a", "10.30.10.0/24", "elb"},
	{"diff-lb-b", "subnet-0d1f0000000000b02", "us-east-1b", "10.30.11.0/24", "elb"},
}

// The hand-made ENI: CreateNetworkInterface in diff-nodes-a.
const (
	diffENIName        = "diff-eni"
	diffENIDescription = "differential test ENI"
	diffENISecondaries = 2
	diffENIPrefixes    = 1
)

// diffGreenTarget is diff-green's target, registered from the start: an
// address nothing in the VPC holds. diff-blue's targets are the ENI's
// secondary addresses, registered by the test on both sides.
const diffGreenTarget = "10.30.1.10"

const diffScenario = `
apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "123456789012"
region: us-east-1
# moto's zones of us-east-1
availabilityZones: [us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f]
vpcs:
  - id: vpc-0d1f0000000000001
    cidr: 10.30.0.0/16
    tags: {Name: diff-vpc}
    subnets:
      - id: subnet-0d1f0000000000a01
        az: us-east-1a
        cidr: 10.30.0.0/24
        tags: {Name: diff-nodes-a, eksbg.io/role: nodes}
        networkInterfaces:
          - {name: diff-eni, description: differential test ENI, secondaryIPs: 2, prefixes: 1}
      - {id: subnet-0d1f0000000000b01, az: us-east-1b, cidr: 10.30.1.0/24, tags: {Name: diff-nodes-b, eksbg.io/role: nodes}}
      - {id: subnet-0d1f0000000000a02, az: us-east-1a, cidr: 10.30.10.0/24, tags: {Name: diff-lb-a, eksbg.io/role: elb}}
      - {id: subnet-0d1f0000000000b02, az: us-east-1b, cidr: 10.30.11.0/24, tags: {Name: diff-lb-b, eksbg.io/role: elb}}
targetGroups:
  - {name: diff-blue, vpc: vpc-0d1f0000000000001, protocol: HTTP, port: 8080, targetType: ip, healthCheckPath: /healthz}
  - {name: diff-green, vpc: vpc-0d1f0000000000001, protocol: HTTP, port: 8080, targetType: ip, healthCheckPath: /healthz, targets: [10.30.1.10]}
loadBalancers:
  - name: diff-alb
    subnets: [subnet-0d1f0000000000a02, subnet-0d1f0000000000b02]
    listeners:
      - port: 80
        protocol: HTTP
        defaultForward: [{targetGroup: diff-blue, weight: 80}, {targetGroup: diff-green, weight: 20}]
        rules:
          - name: diff-web
            priority: 10
            pathPattern: ["/api/*"]
            forward: [{targetGroup: diff-blue, weight: 90}, {targetGroup: diff-green, weight: 10}]
`

// knownDifferences are the differences between the emulator and moto that
// AWS's documentation settles. The test fails on any other difference, and
// on an entry here that no longer occurs, so the list stays true. Where
// AWS's documentation backs moto, the emulator is fixed rather than listed.
var knownDifferences = []knownDifference{
	// EC2
	{
		Call: "DescribeSubnets", Path: "Subnets[⟨subnet:diff-nodes-a⟩].AvailableIpAddressCount",
		Emulator: "232", Moto: "248", Backed: "emulator",
		Doc: "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-prefix-eni.html",
		Why: "a /28 prefix assigned to an ENI is taken from the subnet's range, so its 16 addresses are no longer unused " +
			"(AvailableIpAddressCount is 'the number of unused private IPv4 addresses', API_Subnet): 256 - 5 reserved " +
			"(https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html) - 3 ENI addresses - 16 = 232; " +
			"moto ignores Ipv4PrefixCount and subtracts only the 3 addresses",
	},
	{
		Call: "DescribeSubnets", Path: "Subnets[⟨subnet:diff-lb-*⟩].AvailableIpAddressCount",
		Emulator: "250", Moto: "251", Backed: "emulator",
		Doc: "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#subnets-load-balancer",
		Why: "an Application Load Balancer places a node, with a requester-managed network interface and address, in each " +
			"of its subnets (which is why they need free addresses); moto's ALB holds no address",
	},
	{
		Call: "DescribeNetworkInterfaces", Path: "NetworkInterfaces[⟨eni:ELB diff-alb in diff-lb-*⟩]",
		Emulator: "*", Moto: absent, Backed: "emulator",
		Doc: "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/requester-managed-eni.html",
		Why: "Elastic Load Balancing creates a requester-managed network interface (description 'ELB app/<name>/<id>') " +
			"for each subnet of a load balancer; moto creates none",
	},
	{
		Call: "DescribeNetworkInterfaces", Path: "NetworkInterfaces[⟨eni:diff-eni⟩].Ipv4Prefixes",
		Emulator: `[{"Ipv4Prefix":"/28 prefix in diff-nodes-a"}]`, Moto: absent, Backed: "emulator",
		Doc: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkInterface.html",
		Why: "CreateNetworkInterface with Ipv4PrefixCount=1 assigns one /28 prefix; moto 5.2.1 ignores the parameter",
	},
	{
		Call: "DescribeAvailabilityZones", Path: "AvailabilityZones[*].GroupName",
		Emulator: `"us-east-1-zg-1"`, Moto: absent, Backed: "emulator",
		Doc: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AvailabilityZone.html",
		Why: "every zone belongs to a zone group; the reference gives us-east-1-zg-1 as an Availability Zone's; moto sends none",
	},
	{
		Call: "DescribeAvailabilityZones", Path: "AvailabilityZones[*].NetworkBorderGroup",
		Emulator: `"us-east-1"`, Moto: absent, Backed: "emulator",
		Doc: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AvailabilityZone.html",
		Why: "an Availability Zone's network border group is its Region (Local Zones have their own); moto sends none",
	},
	{
		Call: "DescribeAvailabilityZones", Path: "AvailabilityZones[*].OptInStatus",
		Emulator: `"opt-in-not-required"`, Moto: absent, Backed: "emulator",
		Doc: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AvailabilityZone.html",
		Why: "Availability Zones need no opt-in: their status is opt-in-not-required; moto sends an empty element",
	},
	// ELBv2
	{
		Call: "DescribeLoadBalancers", Path: "LoadBalancers[⟨lb:diff-alb⟩].CanonicalHostedZoneId",
		Emulator: `"Z35SXDOTRQ7X7K"`, Moto: `"Z2P70J7EXAMPLE"`, Backed: "emulator",
		Doc: "https://docs.aws.amazon.com/general/latest/gr/elb.html",
		Why: "Z35SXDOTRQ7X7K is the Route 53 hosted zone of Application Load Balancers in us-east-1; moto's is a placeholder",
	},
	{
		Call: "*", Path: "*Actions[forward].Order",
		Emulator: "1", Moto: absent, Backed: "emulator",
		Doc: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Action.html",
		Why: "ELBv2 numbers every action it returns (<Order>1</Order> for a lone forward action, as real responses show: " +
			"https://github.com/boto/boto3/issues/3536); moto leaves Order out when the request did",
	},
	{
		Call: "*Rule*", Path: "Rules[⟨rule:diff-web⟩].Conditions[path-pattern].PathPatternConfig",
		Emulator: `{"Values":["/api/*"]}`, Moto: absent, Backed: "emulator",
		Doc: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RuleCondition.html",
		Why: "DescribeRules answers a path-pattern condition with both Values and PathPatternConfig, whichever form " +
			"created it (the ELB team's answer in https://github.com/aws/aws-sdk/issues/439); moto echoes only the form sent",
	},
	{
		Call: "DescribeTargetGroups", Path: "TargetGroups[*].LoadBalancerArns",
		Emulator: `["⟨lb:diff-alb⟩"]`, Moto: `["⟨lb:diff-alb⟩","⟨lb:diff-alb⟩"]`, Backed: "emulator",
		Doc: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroup.html",
		Why: "LoadBalancerArns lists the load balancers that route to the group, each once; moto adds the load balancer " +
			"again for every listener or rule that forwards to the group",
	},
	{
		Call: "DescribeTargetHealth/*", Path: "TargetHealthDescriptions[*].HealthCheckPort",
		Emulator: `"8080"`, Moto: `"traffic-port"`, Backed: "emulator",
		Doc: "https://docs.aws.amazon.com/cli/latest/reference/elbv2/describe-target-health.html",
		Why: "HealthCheckPort is 'the port to use to connect with the target' (API_TargetHealthDescription): the resolved " +
			"port number, as in the documented examples (\"HealthCheckPort\": \"80\"); moto echoes the group's setting traffic-port",
	},
	{
		Call: "DescribeTargetHealth/diff-green", Path: "TargetHealthDescriptions[10.30.1.10].TargetHealth.State",
		Emulator: `"unhealthy"`, Moto: `"healthy"`, Backed: "emulator",
		Doc: "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html",
		Why: "a target is healthy only once it passes health checks; nothing holds 10.30.1.10, so nothing answers them; " +
			"moto reports every registered target healthy",
	},
	{
		Call: "DescribeTargetHealth/diff-green", Path: "TargetHealthDescriptions[10.30.1.10].TargetHealth.Reason",
		Emulator: `"Target.FailedHealthChecks"`, Moto: absent, Backed: "emulator",
		Doc: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html",
		Why: "an unhealthy target always comes with a reason code (only healthy targets have none); moto gives none",
	},
}

// diffIDs learns both sides' IDs of the world's resources.
func diffIDs(ctx context.Context, t *testing.T, emu, moto diffClients, motoWorld *motoWorld) *idTable {
	t.Helper()
	ids := newIDTable()
	ids.add("vpc:diff-vpc", diffEmuVPC, motoWorld.vpc)
	for _, sn := range diffSubnets {
		ids.add("subnet:"+sn.name, sn.emuID, motoWorld.subnets[sn.name])
	}
	// ENIs: the hand-made one by its Name tag, the load balancer's by their
	// description ("ELB app/<name>/<id>") and subnet.
	// The hand-made ENI's secondary addresses, in address order, are
	// "ip:diff-eni secondary <n>" (they become diff-blue's targets).
	eniNames := func(side string, c diffClients, subnetName map[string]string) (out map[string]string, secondaries []string) {
		out = map[string]string{}
		res, err := c.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
		if err != nil {
			t.Errorf("%s: learning ENI IDs: DescribeNetworkInterfaces: %v", side, err)
			return out, nil
		}
		for _, e := range res.NetworkInterfaces {
			for _, tag := range e.TagSet {
				if aws.ToString(tag.Key) == "Name" && aws.ToString(tag.Value) == diffENIName {
					out[aws.ToString(e.NetworkInterfaceId)] = "eni:" + diffENIName
					for _, a := range e.PrivateIpAddresses {
						if !aws.ToBool(a.Primary) {
							secondaries = append(secondaries, aws.ToString(a.PrivateIpAddress))
						}
					}
				}
			}
			if strings.HasPrefix(aws.ToString(e.Description), "ELB app/diff-alb/") {
				out[aws.ToString(e.NetworkInterfaceId)] = "eni:ELB diff-alb in " + subnetName[aws.ToString(e.SubnetId)]
			}
		}
		sort.Slice(secondaries, func(i, j int) bool {
			return netip.MustParseAddr(secondaries[i]).Less(netip.MustParseAddr(secondaries[j]))
		})
		return out, secondaries
	}
	emuSubnetNames, motoSubnetNames := map[string]string{}, map[string]string{}
	for _, sn := range diffSubnets {
		emuSubnetNames[sn.emuID] = sn.name
		motoSubnetNames[motoWorld.subnets[sn.name]] = sn.name
	}
	emuENIs, emuSecondaries := eniNames("emulator", emu, emuSubnetNames)
	motoENIs, motoSecondaries := eniNames("moto", moto, motoSubnetNames)
	for id, name := range emuENIs {
		ids.add(name, id, "")
	}
	for id, name := range motoENIs {
		ids.add(name, "", id)
	}
	for i := 0; i < diffENISecondaries; i++ {
		var e, m string
		if i < len(emuSecondaries) {
			e = emuSecondaries[i]
		}
		if i < len(motoSecondaries) {
			m = motoSecondaries[i]
		}
		ids.addExact(fmt.Sprintf("ip:diff-eni secondary %d", i+1), e, m)
	}
	// ELBv2 resources by name, port and priority.
	learn := func(side string, c diffClients) map[string]string {
		out := map[string]string{}
		lbs, err := c.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"diff-alb"}})
		if err != nil || len(lbs.LoadBalancers) != 1 {
			t.Errorf("%s: learning ELBv2 ARNs: DescribeLoadBalancers: %v", side, err)
			return out
		}
		lbARN := aws.ToString(lbs.LoadBalancers[0].LoadBalancerArn)
		out["lb:diff-alb"] = lbARN
		tgs, err := c.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"diff-blue", "diff-green"}})
		if err != nil {
			t.Errorf("%s: learning ELBv2 ARNs: DescribeTargetGroups: %v", side, err)
		} else {
			for _, tg := range tgs.TargetGroups {
				out["tg:"+aws.ToString(tg.TargetGroupName)] = aws.ToString(tg.TargetGroupArn)
			}
		}
		ls, err := c.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: &lbARN})
		if err != nil {
			t.Errorf("%s: learning ELBv2 ARNs: DescribeListeners: %v", side, err)
			return out
		}
		for _, l := range ls.Listeners {
			name := fmt.Sprintf("listener:diff-alb:%d", aws.ToInt32(l.Port))
			out[name] = aws.ToString(l.ListenerArn)
			rules, err := c.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: l.ListenerArn})
			if err != nil {
				t.Errorf("%s: learning ELBv2 ARNs: DescribeRules: %v", side, err)
				continue
			}
			for _, r := range rules.Rules {
				switch aws.ToString(r.Priority) {
				case "default":
					out["rule:diff-alb:80:default"] = aws.ToString(r.RuleArn)
				case "10":
					out["rule:diff-web"] = aws.ToString(r.RuleArn)
				}
			}
		}
		return out
	}
	emuARNs, motoARNs := learn("emulator", emu), learn("moto", moto)
	for _, name := range []string{"lb:diff-alb", "tg:diff-blue", "tg:diff-green", "listener:diff-alb:80",
		"rule:diff-alb:80:default", "rule:diff-web"} {
		ids.add(name, emuARNs[name], motoARNs[name])
	}
	return ids
}

// diffClients are the SDK clients of one side.
type diffClients struct {
	ec2 *ec2.Client
	elb *elbv2.Client
}

func newDiffClients(cfg aws.Config) diffClients {
	return diffClients{ec2: ec2.NewFromConfig(cfg), elb: elbv2.NewFromConfig(cfg)}
}

// motoWorld holds the IDs moto gave the world's resources.
type motoWorld struct {
	vpc     string
	subnets map[string]string // name -> ID
}

func tagSpec(rt ec2types.ResourceType, tags map[string]string) []ec2types.TagSpecification {
	ts := ec2types.TagSpecification{ResourceType: rt}
	for k, v := range tags {
		ts.Tags = append(ts.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return []ec2types.TagSpecification{ts}
}

// buildMotoWorld creates the scenario's world in moto through the API.
func buildMotoWorld(ctx context.Context, t *testing.T, c diffClients) *motoWorld {
	t.Helper()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("building the world in moto: %s: %v", what, err)
		}
	}
	w := &motoWorld{subnets: map[string]string{}}
	vpc, err := c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(diffVPCCIDR),
		TagSpecifications: tagSpec(ec2types.ResourceTypeVpc, map[string]string{"Name": "diff-vpc"})})
	must("CreateVpc", err)
	w.vpc = aws.ToString(vpc.Vpc.VpcId)
	for _, sn := range diffSubnets {
		out, err := c.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &w.vpc, CidrBlock: aws.String(sn.cidr),
			AvailabilityZone:  aws.String(sn.az),
			TagSpecifications: tagSpec(ec2types.ResourceTypeSubnet, map[string]string{"Name": sn.name, "eksbg.io/role": sn.role})})
		must("CreateSubnet "+sn.name, err)
		w.subnets[sn.name] = aws.ToString(out.Subnet.SubnetId)
	}
	// moto 5.2.1 draws secondary addresses at random without checking them
	// against each other, so SecondaryPrivateIpAddressCount sometimes hands
	// out one address twice (a CI run failed on it). The addresses are named
	// here instead; the comparison labels them by order, not by value.
	addrs := []ec2types.PrivateIpAddressSpecification{{PrivateIpAddress: aws.String("10.30.0.10"), Primary: aws.Bool(true)}}
	for i := range diffENISecondaries {
		addrs = append(addrs, ec2types.PrivateIpAddressSpecification{PrivateIpAddress: aws.String(fmt.Sprintf("10.30.0.%d", 11+i)), Primary: aws.Bool(false)})
	}
	_, err = c.ec2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(w.subnets["diff-nodes-a"]),
		Description: aws.String(diffENIDescription), PrivateIpAddresses: addrs,
		Ipv4PrefixCount:   aws.Int32(diffENIPrefixes),
		TagSpecifications: tagSpec(ec2types.ResourceTypeNetworkInterface, map[string]string{"Name": diffENIName})})
	must("CreateNetworkInterface", err)

	tgARN := map[string]*string{}
	for _, name := range []string{"diff-blue", "diff-green"} {
		out, err := c.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), VpcId: &w.vpc,
			Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), TargetType: elbtypes.TargetTypeEnumIp,
			HealthCheckPath: aws.String("/healthz")})
		must("CreateTargetGroup "+name, err)
		tgARN[name] = out.TargetGroups[0].TargetGroupArn
	}
	lb, err := c.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("diff-alb"),
		Subnets: []string{w.subnets["diff-lb-a"], w.subnets["diff-lb-b"]},
		Scheme:  elbtypes.LoadBalancerSchemeEnumInternetFacing, Type: elbtypes.LoadBalancerTypeEnumApplication})
	must("CreateLoadBalancer", err)
	forward := func(blue, green int32) []elbtypes.Action {
		return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{
				{TargetGroupArn: tgARN["diff-blue"], Weight: aws.Int32(blue)},
				{TargetGroupArn: tgARN["diff-green"], Weight: aws.Int32(green)},
			}}}}
	}
	l, err := c.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn,
		Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: forward(80, 20)})
	must("CreateListener", err)
	_, err = c.elb.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: l.Listeners[0].ListenerArn, Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/api/*"}}},
		Actions:    forward(90, 10), Tags: []elbtypes.Tag{{Key: aws.String("Name"), Value: aws.String("diff-web")}}})
	must("CreateRule", err)
	_, err = c.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tgARN["diff-green"],
		Targets: []elbtypes.TargetDescription{{Id: aws.String(diffGreenTarget), Port: aws.Int32(8080)}}})
	must("RegisterTargets diff-green", err)
	return w
}

var (
	reZoneID  = regexp.MustCompile(`^use1-az[1-6]$`)
	reMAC     = regexp.MustCompile(`^02(:[0-9a-f]{2}){5}$`)
	reIPv4    = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,3}){3}(/[0-9]{1,2})?$`)
	reDNSName = regexp.MustCompile(`^diff-alb-[0-9]+\.us-east-1\.elb\.amazonaws\.com$`)
)

// commonStrings rewrites values AWS draws at random: a zone's ID (the
// name-to-ID mapping differs between accounts,
// https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html),
// MAC addresses, the number in a load balancer's DNS name.
func commonStrings(_, s string) string {
	switch {
	case reZoneID.MatchString(s):
		return "use1-az<n>"
	case reMAC.MatchString(s):
		return "02:<mac>"
	case reDNSName.MatchString(s):
		return "diff-alb-<n>.us-east-1.elb.amazonaws.com"
	}
	return s
}

// eniStrings also rewrites addresses: EC2 picks an ENI's addresses and
// prefixes itself (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkInterface.html),
// so what compares is which subnet each lies in.
func eniStrings(side, s string) string {
	s = commonStrings(side, s)
	if !reIPv4.MatchString(s) {
		return s
	}
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return s
		}
		pfx = netip.PrefixFrom(a, 32)
	}
	for _, sn := range diffSubnets {
		c := netip.MustParsePrefix(sn.cidr)
		if pfx.Bits() > c.Bits() && c.Contains(pfx.Addr()) {
			if pfx.Bits() == 32 {
				return "address in " + sn.name
			}
			if pfx.Masked() != pfx {
				return s // not a prefix: leave it to differ
			}
			return fmt.Sprintf("/%d prefix in %s", pfx.Bits(), sn.name)
		}
	}
	return s
}

// diffRun compares calls and keeps the record of which known differences occurred.
type diffRun struct {
	ids      *idTable
	compared map[string]bool
	used     map[int]bool
}

// check compares the two answers of call and fails t on every difference
// that knownDifferences does not list.
func (r *diffRun) check(t *testing.T, call string, emu, moto any, o diffOptions) {
	t.Helper()
	if o.Strings == nil {
		o.Strings = commonStrings
	}
	diffs, err := compareOutputs(emu, moto, r.ids, o)
	if err != nil {
		t.Fatal(err)
	}
	// DIFF_DUMP=1 logs both normalised answers, to see what was compared.
	if os.Getenv("DIFF_DUMP") != "" {
		a, _ := normalise("emulator", emu, r.ids, o)
		b, _ := normalise("moto", moto, r.ids, o)
		t.Logf("emulator: %s\nmoto:     %s", render(a), render(b))
	}
	r.compared[call] = true
	for _, d := range diffs {
		known := false
		for i, k := range knownDifferences {
			if k.matches(call, d) {
				r.used[i], known = true, true
				t.Logf("known difference (AWS's documentation backs the %s: %s): %s", k.Backed, k.Doc, d)
			}
		}
		if !known {
			t.Errorf("%s", d)
		}
	}
}

// diffCall calls both sides; a failed call fails the subtest.
func diffCall[T any](t *testing.T, r *diffRun, call string, o diffOptions, emu, moto func() (T, error)) {
	t.Helper()
	eOut, eErr := emu()
	mOut, mErr := moto()
	if mErr != nil {
		t.Fatalf("moto: %v", mErr)
	}
	if eErr != nil {
		t.Fatalf("emulator: %v", eErr)
	}
	r.check(t, call, eOut, mOut, o)
}

// diffError calls both sides with a request both must refuse, and compares
// the status, code and message.
func diffError(t *testing.T, r *diffRun, call string, emu, moto func() error) {
	t.Helper()
	r.check(t, call, apiErrorTree(emu()), apiErrorTree(moto()), diffOptions{})
}

func TestDifferentialMoto(t *testing.T) {
	ctx := context.Background()
	motoCfg := startMoto(t, diffRegion)
	env := sandboxtest.StartYAML(t, diffScenario)
	emu, moto := newDiffClients(env.AWS), newDiffClients(motoCfg)
	mw := buildMotoWorld(ctx, t, moto)
	r := &diffRun{ids: diffIDs(ctx, t, emu, moto, mw), compared: map[string]bool{}, used: map[int]bool{}}
	id := func(side, name string) string { // the ID or ARN of a named resource on one side
		if v, ok := r.ids.lookup(side, name); ok {
			return v
		}
		return "unknown-" + name
	}
	// both runs call against each side as a subtest and compares the answers.
	both := func(call string, o diffOptions, f func(side string, c diffClients) (any, error)) {
		t.Run(call, func(t *testing.T) {
			diffCall(t, r, call, o,
				func() (any, error) { return f("emulator", emu) },
				func() (any, error) { return f("moto", moto) })
		})
	}

	both("DescribeVpcs", diffOptions{Fields: []string{"Vpcs.VpcId", "Vpcs.CidrBlock", "Vpcs.State", "Vpcs.IsDefault",
		"Vpcs.InstanceTenancy", "Vpcs.OwnerId", "Vpcs.Tags", "Vpcs.CidrBlockAssociationSet.CidrBlock",
		"Vpcs.CidrBlockAssociationSet.CidrBlockState.State"}},
		func(side string, c diffClients) (any, error) {
			return c.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id(side, "vpc:diff-vpc")}})
		})
	subnetFields := []string{"Subnets.SubnetId", "Subnets.VpcId", "Subnets.CidrBlock", "Subnets.AvailabilityZone",
		"Subnets.AvailabilityZoneId", "Subnets.AvailableIpAddressCount", "Subnets.Tags", "Subnets.State",
		"Subnets.DefaultForAz", "Subnets.MapPublicIpOnLaunch", "Subnets.OwnerId", "Subnets.SubnetArn",
		"Subnets.AssignIpv6AddressOnCreation"}
	both("DescribeSubnets", diffOptions{Fields: subnetFields},
		func(side string, c diffClients) (any, error) {
			return c.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{
				{Name: aws.String("vpc-id"), Values: []string{id(side, "vpc:diff-vpc")}}}})
		})
	both("DescribeSubnets/by-tag", diffOptions{Fields: []string{"Subnets.SubnetId"}},
		func(side string, c diffClients) (any, error) {
			return c.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{
				{Name: aws.String("tag:eksbg.io/role"), Values: []string{"elb"}},
				{Name: aws.String("availability-zone"), Values: []string{"us-east-1a", "us-east-1c"}}}})
		})
	both("DescribeNetworkInterfaces", diffOptions{Strings: eniStrings, Fields: []string{
		"NetworkInterfaces.NetworkInterfaceId", "NetworkInterfaces.SubnetId", "NetworkInterfaces.VpcId",
		"NetworkInterfaces.AvailabilityZone", "NetworkInterfaces.Description", "NetworkInterfaces.InterfaceType",
		"NetworkInterfaces.Status", "NetworkInterfaces.RequesterManaged", "NetworkInterfaces.SourceDestCheck",
		"NetworkInterfaces.OwnerId", "NetworkInterfaces.MacAddress", "NetworkInterfaces.PrivateIpAddress",
		"NetworkInterfaces.PrivateIpAddresses.PrivateIpAddress", "NetworkInterfaces.PrivateIpAddresses.Primary",
		"NetworkInterfaces.Ipv4Prefixes.Ipv4Prefix", "NetworkInterfaces.TagSet", "NetworkInterfaces.Groups.GroupName"}},
		func(side string, c diffClients) (any, error) {
			return c.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{
				{Name: aws.String("vpc-id"), Values: []string{id(side, "vpc:diff-vpc")}}}})
		})
	both("DescribeAvailabilityZones", diffOptions{Fields: []string{"AvailabilityZones.ZoneName", "AvailabilityZones.ZoneId",
		"AvailabilityZones.State", "AvailabilityZones.RegionName", "AvailabilityZones.ZoneType",
		"AvailabilityZones.OptInStatus", "AvailabilityZones.GroupName", "AvailabilityZones.NetworkBorderGroup"}},
		func(side string, c diffClients) (any, error) {
			return c.ec2.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
		})
	both("DescribeInstanceTypes", diffOptions{Fields: []string{"InstanceTypes.InstanceType", "InstanceTypes.VCpuInfo.DefaultVCpus",
		"InstanceTypes.MemoryInfo.SizeInMiB", "InstanceTypes.NetworkInfo.MaximumNetworkInterfaces",
		"InstanceTypes.NetworkInfo.Ipv4AddressesPerInterface", "InstanceTypes.Hypervisor",
		"InstanceTypes.ProcessorInfo.SupportedArchitectures"}},
		func(side string, c diffClients) (any, error) {
			return c.ec2.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{
				InstanceTypes: []ec2types.InstanceType{"m5.large", "t3.medium"}})
		})
	both("DescribeInstanceTypeOfferings", diffOptions{},
		func(side string, c diffClients) (any, error) {
			return c.ec2.DescribeInstanceTypeOfferings(ctx, &ec2.DescribeInstanceTypeOfferingsInput{
				LocationType: ec2types.LocationTypeAvailabilityZone, Filters: []ec2types.Filter{
					{Name: aws.String("location"), Values: []string{"us-east-1a"}},
					{Name: aws.String("instance-type"), Values: []string{"m5.large", "t3.medium"}}}})
		})

	both("DescribeLoadBalancers", diffOptions{Fields: []string{"LoadBalancers.LoadBalancerArn", "LoadBalancers.LoadBalancerName",
		"LoadBalancers.DNSName", "LoadBalancers.CanonicalHostedZoneId", "LoadBalancers.Scheme", "LoadBalancers.Type",
		"LoadBalancers.State.Code", "LoadBalancers.VpcId", "LoadBalancers.IpAddressType",
		"LoadBalancers.AvailabilityZones.ZoneName", "LoadBalancers.AvailabilityZones.SubnetId"}},
		func(side string, c diffClients) (any, error) {
			return c.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"diff-alb"}})
		})
	both("DescribeListeners", diffOptions{Fields: []string{"Listeners.ListenerArn", "Listeners.LoadBalancerArn",
		"Listeners.Port", "Listeners.Protocol", "Listeners.DefaultActions"}},
		func(side string, c diffClients) (any, error) {
			return c.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(id(side, "lb:diff-alb"))})
		})
	ruleFields := []string{"Rules.RuleArn", "Rules.Priority", "Rules.IsDefault", "Rules.Conditions", "Rules.Actions"}
	describeRules := func(side string, c diffClients) (any, error) {
		return c.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: aws.String(id(side, "listener:diff-alb:80"))})
	}
	both("DescribeRules", diffOptions{Fields: ruleFields}, describeRules)
	both("DescribeTargetGroups", diffOptions{Fields: []string{"TargetGroups.TargetGroupArn", "TargetGroups.TargetGroupName",
		"TargetGroups.Protocol", "TargetGroups.Port", "TargetGroups.VpcId", "TargetGroups.TargetType",
		"TargetGroups.HealthCheckProtocol", "TargetGroups.HealthCheckPort", "TargetGroups.HealthCheckEnabled",
		"TargetGroups.HealthCheckPath", "TargetGroups.HealthCheckIntervalSeconds", "TargetGroups.HealthCheckTimeoutSeconds",
		"TargetGroups.HealthyThresholdCount", "TargetGroups.UnhealthyThresholdCount", "TargetGroups.Matcher",
		"TargetGroups.LoadBalancerArns", "TargetGroups.IpAddressType", "TargetGroups.ProtocolVersion"}},
		func(side string, c diffClients) (any, error) {
			return c.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(id(side, "lb:diff-alb"))})
		})
	// diff-blue's targets: the ENI's secondary addresses, held, so healthy.
	both("RegisterTargets", diffOptions{},
		func(side string, c diffClients) (any, error) {
			return c.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(id(side, "tg:diff-blue")),
				Targets: []elbtypes.TargetDescription{
					{Id: aws.String(id(side, "ip:diff-eni secondary 1")), Port: aws.Int32(8080)},
					{Id: aws.String(id(side, "ip:diff-eni secondary 2")), Port: aws.Int32(8080)},
				}})
		})
	for _, tg := range []string{"diff-blue", "diff-green"} {
		both("DescribeTargetHealth/"+tg, diffOptions{Fields: []string{"TargetHealthDescriptions.Target.Id",
			"TargetHealthDescriptions.Target.Port", "TargetHealthDescriptions.HealthCheckPort",
			"TargetHealthDescriptions.TargetHealth.State", "TargetHealthDescriptions.TargetHealth.Reason"}},
			func(side string, c diffClients) (any, error) {
				return c.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(id(side, "tg:"+tg))})
			})
	}
	both("DescribeTags", diffOptions{},
		func(side string, c diffClients) (any, error) {
			return c.elb.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{id(side, "lb:diff-alb"),
				id(side, "tg:diff-blue"), id(side, "rule:diff-web")}})
		})
	both("ModifyRule", diffOptions{Fields: ruleFields},
		func(side string, c diffClients) (any, error) {
			return c.elb.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(id(side, "rule:diff-web")),
				Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
					TargetGroups: []elbtypes.TargetGroupTuple{
						{TargetGroupArn: aws.String(id(side, "tg:diff-blue")), Weight: aws.Int32(40)},
						{TargetGroupArn: aws.String(id(side, "tg:diff-green")), Weight: aws.Int32(60)},
					}}}}})
		})
	both("DescribeRules/after-ModifyRule", diffOptions{Fields: ruleFields}, describeRules)

	t.Run("Error/DescribeSubnets-unknown-id", func(t *testing.T) {
		call := func(c diffClients) func() error {
			return func() error {
				_, err := c.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0000000000000dead"}})
				return err
			}
		}
		diffError(t, r, "Error/DescribeSubnets-unknown-id", call(emu), call(moto))
	})
	t.Run("Error/DescribeRules-unknown-arn", func(t *testing.T) {
		call := func(side string, c diffClients) func() error {
			return func() error {
				// A rule ARN of the real listener whose rule ID names nothing.
				arn := strings.Replace(id(side, "listener:diff-alb:80"), ":listener/", ":listener-rule/", 1) + "/0123456789abcdef"
				_, err := c.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{arn}})
				return err
			}
		}
		diffError(t, r, "Error/DescribeRules-unknown-arn", call("emulator", emu), call("moto", moto))
	})

	for i, k := range knownDifferences {
		ran := false
		for call := range r.compared {
			ran = ran || globMatch(k.Call, call)
		}
		if ran && !r.used[i] {
			t.Errorf("knownDifferences[%d] (%s %s: emulator %s, moto %s) no longer occurs: remove it", i, k.Call, k.Path, k.Emulator, k.Moto)
		}
	}
}
