package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
)

// The demo scenario's subnets and what the tests know of them.
var demoSubnets = map[string]struct{ az, cidr, name string }{
	"subnet-0de00000000000a01": {"us-east-1a", "10.20.0.0/22", "demo-nodes-a"},
	"subnet-0de00000000000b01": {"us-east-1b", "10.20.4.0/22", "demo-nodes-b"},
	"subnet-0de00000000000c01": {"us-east-1c", "10.20.8.0/23", "demo-nodes-c"},
	"subnet-0de00000000000a02": {"us-east-1a", "10.20.240.0/28", "demo-cp-a"},
	"subnet-0de00000000000b02": {"us-east-1b", "10.20.240.16/28", "demo-cp-b"},
	"subnet-0de00000000000c02": {"us-east-1c", "10.20.240.32/28", "demo-cp-c"},
	"subnet-0de00000000000a03": {"us-east-1a", "10.20.250.0/24", "demo-lb-a"},
	"subnet-0de00000000000b03": {"us-east-1b", "10.20.251.0/24", "demo-lb-b"},
	"subnet-0de00000000000c03": {"us-east-1c", "10.20.252.0/24", "demo-lb-c"},
	// The Argo CD management cluster's.
	"subnet-0de00000000000a04": {"us-east-1a", "10.20.16.0/24", "mgmt-nodes-a"},
	"subnet-0de00000000000b04": {"us-east-1b", "10.20.17.0/24", "mgmt-nodes-b"},
	"subnet-0de00000000000a05": {"us-east-1a", "10.20.241.0/28", "mgmt-cp-a"},
	"subnet-0de00000000000b05": {"us-east-1b", "10.20.241.16/28", "mgmt-cp-b"},
}

const demoVPC = "vpc-0de00000000000001"

// ec2CLI is one of the AWS CLIs the tests drive.
type ec2CLI struct {
	name string
	bin  string
	pre  []string
}

func ec2CLIs() []ec2CLI {
	return []ec2CLI{
		{"cli-v2", sandboxtest.CLIv2, nil},
		{"cli-v1", "python3", []string{"-m", "awscli"}},
	}
}

// run runs the CLI and decodes its JSON output into out.
func (c ec2CLI) run(t *testing.T, env *sandboxtest.Env, out any, args ...string) {
	t.Helper()
	stdout, stderr, err := env.RunCLI(t, c.bin, append(append([]string{}, c.pre...), args...)...)
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", c.name, args, err, stderr)
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("%s %v: decoding output: %v\n%s", c.name, args, err, stdout)
	}
}

// fail runs the CLI expecting an error and returns its stderr.
func (c ec2CLI) fail(t *testing.T, env *sandboxtest.Env, args ...string) string {
	t.Helper()
	stdout, stderr, err := env.RunCLI(t, c.bin, append(append([]string{}, c.pre...), args...)...)
	if err == nil {
		t.Fatalf("%s %v: succeeded, want an error\n%s", c.name, args, stdout)
	}
	return stderr
}

func wantAPIError(t *testing.T, err error, code, msgPart string) {
	t.Helper()
	if err == nil {
		t.Fatalf("call succeeded, want %s", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msgPart) {
		t.Fatalf("got %s %q, want %s containing %q", ae.ErrorCode(), ae.ErrorMessage(), code, msgPart)
	}
}

func tagValue(tags []types.Tag, key string) string {
	for _, tg := range tags {
		if aws.ToString(tg.Key) == key {
			return aws.ToString(tg.Value)
		}
	}
	return ""
}

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

func subnetIDs(subnets []types.Subnet) []string {
	out := make([]string, 0, len(subnets))
	for _, s := range subnets {
		out = append(out, aws.ToString(s.SubnetId))
	}
	return out
}

// addrIndex is an IPv4 address as a number.
func addrIndex(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// checkSubnetAddresses checks the ENIs of one subnet: every address and
// prefix inside the CIDR, none on the 5 addresses AWS reserves, none used
// twice; and returns the AvailableIpAddressCount that follows.
func checkSubnetAddresses(t *testing.T, cidr string, enis []types.NetworkInterface, used map[string]string) int {
	t.Helper()
	p := netip.MustParsePrefix(cidr)
	size := 1 << (32 - p.Bits())
	first := addrIndex(p.Addr())
	reserved := map[uint32]bool{first: true, first + 1: true, first + 2: true, first + 3: true, first + uint32(size) - 1: true}
	take := func(eni string, a netip.Addr) {
		if !p.Contains(a) {
			t.Errorf("ENI %s: address %s is outside its subnet %s", eni, a, cidr)
		}
		if reserved[addrIndex(a)] {
			t.Errorf("ENI %s: address %s is one AWS reserves in %s", eni, a, cidr)
		}
		if other, dup := used[a.String()]; dup {
			t.Errorf("address %s is used by both %s and %s", a, other, eni)
		}
		used[a.String()] = eni
	}
	held := 0
	for _, e := range enis {
		id := aws.ToString(e.NetworkInterfaceId)
		if len(e.PrivateIpAddresses) == 0 {
			t.Errorf("ENI %s has no PrivateIpAddresses", id)
			continue
		}
		for i, ip := range e.PrivateIpAddresses {
			if aws.ToBool(ip.Primary) != (i == 0) {
				t.Errorf("ENI %s: address %d Primary=%v", id, i, aws.ToBool(ip.Primary))
			}
			take(id, netip.MustParseAddr(aws.ToString(ip.PrivateIpAddress)))
			held++
		}
		if aws.ToString(e.PrivateIpAddress) != aws.ToString(e.PrivateIpAddresses[0].PrivateIpAddress) {
			t.Errorf("ENI %s: PrivateIpAddress %s is not its primary address", id, aws.ToString(e.PrivateIpAddress))
		}
		for _, pf := range e.Ipv4Prefixes {
			pp := netip.MustParsePrefix(aws.ToString(pf.Ipv4Prefix))
			if pp.Bits() != 28 || pp.Masked() != pp {
				t.Errorf("ENI %s: prefix %s is not an aligned /28", id, pp)
			}
			a := pp.Addr()
			for i := 0; i < 16; i++ {
				take(id, a)
				a = a.Next()
			}
			held += 16
		}
	}
	return size - 5 - held
}

func TestEC2DescribeSubnetsDemoSDK(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	ctx := context.Background()
	client := ec2.NewFromConfig(env.AWS)
	out, err := client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if out.NextToken != nil {
		t.Errorf("NextToken %q without MaxResults", *out.NextToken)
	}
	got := subnetIDs(out.Subnets)
	if len(got) != len(demoSubnets) || !sort.StringsAreSorted(got) {
		t.Fatalf("subnets %v, want the %d demo subnets in ID order", got, len(demoSubnets))
	}
	used := map[string]string{}
	zoneIDs := map[string]string{"us-east-1a": "use1-az1", "us-east-1b": "use1-az2", "us-east-1c": "use1-az3"}
	for _, s := range out.Subnets {
		id := aws.ToString(s.SubnetId)
		want := demoSubnets[id]
		if aws.ToString(s.AvailabilityZone) != want.az || aws.ToString(s.CidrBlock) != want.cidr || tagValue(s.Tags, "Name") != want.name {
			t.Errorf("%s: az %s cidr %s name %s, want %+v", id, aws.ToString(s.AvailabilityZone), aws.ToString(s.CidrBlock), tagValue(s.Tags, "Name"), want)
		}
		if aws.ToString(s.AvailabilityZoneId) != zoneIDs[want.az] || s.State != types.SubnetStateAvailable ||
			aws.ToString(s.VpcId) != demoVPC || aws.ToString(s.OwnerId) != "111122223333" ||
			aws.ToString(s.SubnetArn) != "arn:aws:ec2:us-east-1:111122223333:subnet/"+id {
			t.Errorf("%s: zone id %s state %s vpc %s owner %s arn %s", id, aws.ToString(s.AvailabilityZoneId), s.State,
				aws.ToString(s.VpcId), aws.ToString(s.OwnerId), aws.ToString(s.SubnetArn))
		}
		if s.DefaultForAz == nil || *s.DefaultForAz || s.MapPublicIpOnLaunch == nil || *s.MapPublicIpOnLaunch ||
			s.AssignIpv6AddressOnCreation == nil || *s.AssignIpv6AddressOnCreation {
			t.Errorf("%s: DefaultForAz %v MapPublicIpOnLaunch %v AssignIpv6AddressOnCreation %v, want present and false",
				id, s.DefaultForAz, s.MapPublicIpOnLaunch, s.AssignIpv6AddressOnCreation)
		}
		if s.Ipv6CidrBlockAssociationSet == nil || len(s.Ipv6CidrBlockAssociationSet) != 0 {
			t.Errorf("%s: Ipv6CidrBlockAssociationSet %v, want present and empty", id, s.Ipv6CidrBlockAssociationSet)
		}
		// AvailableIpAddressCount, computed independently from the CIDR,
		// the 5 reserved addresses and the subnet's ENIs.
		enis, err := client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{filter("subnet-id", id)}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range enis.NetworkInterfaces {
			if aws.ToString(e.SubnetId) != id {
				t.Errorf("subnet-id=%s returned ENI %s of %s", id, aws.ToString(e.NetworkInterfaceId), aws.ToString(e.SubnetId))
			}
		}
		wantFree := checkSubnetAddresses(t, want.cidr, enis.NetworkInterfaces, used)
		if got := aws.ToInt32(s.AvailableIpAddressCount); int(got) != wantFree {
			t.Errorf("%s: AvailableIpAddressCount %d, want %d (%d ENIs)", id, got, wantFree, len(enis.NetworkInterfaces))
		}
	}
	// The scenario's reservations show: 350 reserved addresses plus nodes in
	// the /23 of us-east-1c leave it nearly full, and the control-plane /28s
	// lose one address to each EKS ENI.
	free := map[string]int32{}
	for _, s := range out.Subnets {
		free[aws.ToString(s.SubnetId)] = aws.ToInt32(s.AvailableIpAddressCount)
	}
	if f := free["subnet-0de00000000000c01"]; f <= 0 || f > 512-5-350 {
		t.Errorf("us-east-1c node subnet has %d free addresses, want between 1 and %d", f, 512-5-350)
	}
	for _, id := range []string{"subnet-0de00000000000a02", "subnet-0de00000000000b02", "subnet-0de00000000000c02"} {
		if free[id] != 16-5-1 {
			t.Errorf("control-plane subnet %s has %d free addresses, want 10", id, free[id])
		}
	}
}

func TestEC2DescribeSubnetsFilters(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	ctx := context.Background()
	client := ec2.NewFromConfig(env.AWS)
	cases := []struct {
		name    string
		filters []types.Filter
		ids     []string
		want    []string
	}{
		{"vpc-id", []types.Filter{filter("vpc-id", demoVPC)}, nil, sortedDemo(func(string) bool { return true })},
		{"vpc-id unknown", []types.Filter{filter("vpc-id", "vpc-0123456789abcdef0")}, nil, nil},
		{"subnet-id OR", []types.Filter{filter("subnet-id", "subnet-0de00000000000a01", "subnet-0de00000000000c03")}, nil,
			[]string{"subnet-0de00000000000a01", "subnet-0de00000000000c03"}},
		{"availability-zone", []types.Filter{filter("availability-zone", "us-east-1b")}, nil,
			sortedDemo(func(id string) bool { return demoSubnets[id].az == "us-east-1b" })},
		{"availabilityZone alias", []types.Filter{filter("availabilityZone", "us-east-1b")}, nil,
			sortedDemo(func(id string) bool { return demoSubnets[id].az == "us-east-1b" })},
		{"availability-zone-id", []types.Filter{filter("availability-zone-id", "use1-az3")}, nil,
			sortedDemo(func(id string) bool { return demoSubnets[id].az == "us-east-1c" })},
		{"cidr-block", []types.Filter{filter("cidr-block", "10.20.4.0/22")}, nil, []string{"subnet-0de00000000000b01"}},
		{"cidrBlock alias", []types.Filter{filter("cidrBlock", "10.20.252.0/24")}, nil, []string{"subnet-0de00000000000c03"}},
		{"tag wildcard", []types.Filter{filter("tag:Name", "demo-nodes-*")}, nil,
			[]string{"subnet-0de00000000000a01", "subnet-0de00000000000b01", "subnet-0de00000000000c01"}},
		{"tag ? wildcard", []types.Filter{filter("tag:Name", "demo-cp-?")}, nil,
			[]string{"subnet-0de00000000000a02", "subnet-0de00000000000b02", "subnet-0de00000000000c02"}},
		{"tag-key", []types.Filter{filter("tag-key", "kubernetes.io/role/elb")}, nil,
			[]string{"subnet-0de00000000000a03", "subnet-0de00000000000b03", "subnet-0de00000000000c03"}},
		{"AND", []types.Filter{filter("tag:eksbg.io/role", "nodes", "control-plane"), filter("availability-zone", "us-east-1a")}, nil,
			[]string{"subnet-0de00000000000a01", "subnet-0de00000000000a02"}},
		{"ids and filter", []types.Filter{filter("availability-zone", "us-east-1a")},
			[]string{"subnet-0de00000000000c01", "subnet-0de00000000000a01"}, []string{"subnet-0de00000000000a01"}},
		{"state", []types.Filter{filter("state", "available"), filter("default-for-az", "false")}, nil, sortedDemo(func(string) bool { return true })},
	}
	for _, tc := range cases {
		out, err := client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: tc.filters, SubnetIds: tc.ids})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := subnetIDs(out.Subnets)
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	_, err := client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0de00000000000a01", "subnet-0123456789abcdef0"}})
	wantAPIError(t, err, "InvalidSubnetID.NotFound", "The subnet ID 'subnet-0123456789abcdef0' does not exist")
	_, err = client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("colour", "blue")}})
	wantAPIError(t, err, "InvalidParameterValue", "The filter 'colour' is invalid")
	_, err = client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{DryRun: aws.Bool(true)})
	wantAPIError(t, err, "DryRunOperation", "DryRun flag is set")
}

func sortedDemo(keep func(id string) bool) []string {
	var out []string
	for id := range demoSubnets {
		if keep(id) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func TestEC2DescribeSubnetsCLI(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	ctx := context.Background()
	sdk, err := ec2.NewFromConfig(env.AWS).DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int32{}
	for _, s := range sdk.Subnets {
		want[aws.ToString(s.SubnetId)] = aws.ToInt32(s.AvailableIpAddressCount)
	}
	for _, cli := range ec2CLIs() {
		var out struct {
			Subnets []struct {
				SubnetId, VpcId, AvailabilityZone, AvailabilityZoneId, CidrBlock, State, OwnerId, SubnetArn string
				AvailableIpAddressCount                                                                     int32
				DefaultForAz, MapPublicIpOnLaunch, AssignIpv6AddressOnCreation                              *bool
				Ipv6CidrBlockAssociationSet                                                                 []any
				Tags                                                                                        []struct{ Key, Value string }
			}
		}
		cli.run(t, env, &out, "ec2", "describe-subnets")
		if len(out.Subnets) != len(demoSubnets) {
			t.Fatalf("%s: %d subnets", cli.name, len(out.Subnets))
		}
		for _, s := range out.Subnets {
			d := demoSubnets[s.SubnetId]
			if s.AvailableIpAddressCount != want[s.SubnetId] || s.AvailabilityZone != d.az || s.CidrBlock != d.cidr ||
				s.VpcId != demoVPC || s.State != "available" || s.OwnerId != "111122223333" || !strings.HasSuffix(s.SubnetArn, ":subnet/"+s.SubnetId) ||
				!strings.HasPrefix(s.AvailabilityZoneId, "use1-az") || s.DefaultForAz == nil || *s.DefaultForAz ||
				s.MapPublicIpOnLaunch == nil || s.AssignIpv6AddressOnCreation == nil || s.Ipv6CidrBlockAssociationSet == nil {
				t.Errorf("%s: %+v", cli.name, s)
			}
			name := ""
			for _, tg := range s.Tags {
				if tg.Key == "Name" {
					name = tg.Value
				}
			}
			if name != d.name {
				t.Errorf("%s: %s Name tag %q, want %q", cli.name, s.SubnetId, name, d.name)
			}
		}
		// Filters through the CLI's shorthand syntax.
		cli.run(t, env, &out, "ec2", "describe-subnets", "--filters", "Name=tag:Name,Values=demo-lb-*", "Name=availability-zone,Values=us-east-1a,us-east-1c")
		var got []string
		for _, s := range out.Subnets {
			got = append(got, s.SubnetId)
		}
		sort.Strings(got)
		if strings.Join(got, ",") != "subnet-0de00000000000a03,subnet-0de00000000000c03" {
			t.Errorf("%s: filtered subnets %v", cli.name, got)
		}
		stderr := cli.fail(t, env, "ec2", "describe-subnets", "--subnet-ids", "subnet-0123456789abcdef0")
		if !strings.Contains(stderr, "InvalidSubnetID.NotFound") || !strings.Contains(stderr, "The subnet ID 'subnet-0123456789abcdef0' does not exist") {
			t.Errorf("%s: stderr %q", cli.name, stderr)
		}
		stderr = cli.fail(t, env, "ec2", "describe-subnets", "--filters", "Name=colour,Values=blue")
		if !strings.Contains(stderr, "InvalidParameterValue") {
			t.Errorf("%s: stderr %q", cli.name, stderr)
		}
	}
}

// pagingScenario has 12 subnets over three AZs, a prefix-delegation
// cluster with a SPOT node group and an on-demand one.
func pagingScenario() string {
	var b strings.Builder
	b.WriteString(`apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "123456789012"
region: eu-west-1
vpcs:
  - id: vpc-0aa00000000000001
    cidr: 10.1.0.0/16
    tags: {Name: paging}
    subnets:
`)
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&b, "      - {id: subnet-0aa000000000000%02d, az: eu-west-1%c, cidr: 10.1.%d.0/24, tags: {Name: paging-%02d}, reservedIPs: %d",
			i, 'a'+i%3, i, i, i*7)
		if i == 11 {
			b.WriteString(", networkInterfaces: [{name: by-hand, description: made by hand, secondaryIPs: 2, prefixes: 1}]")
		}
		b.WriteString("}\n")
	}
	b.WriteString(`  - id: vpc-0bb00000000000001
    cidr: 10.2.0.0/16
    subnets:
      - {id: subnet-0bb00000000000001, az: eu-west-1a, cidr: 10.2.0.0/24}
clusters:
  - name: pd
    version: "1.31"
    subnets: [subnet-0aa00000000000000, subnet-0aa00000000000001, subnet-0aa00000000000002]
    cni: {mode: prefix-delegation}
    nodegroups:
      - {name: spot, instanceType: m5.xlarge, capacityType: SPOT, desired: 3, min: 1, max: 5, subnets: [subnet-0aa00000000000003, subnet-0aa00000000000004, subnet-0aa00000000000005]}
      - {name: od, instanceType: c5.large, capacityType: ON_DEMAND, desired: 2, min: 1, max: 5, subnets: [subnet-0aa00000000000006, subnet-0aa00000000000007]}
`)
	return b.String()
}

func TestEC2Pagination(t *testing.T) {
	env := sandboxtest.StartYAML(t, pagingScenario())
	ctx := context.Background()
	client := ec2.NewFromConfig(env.AWS)

	// SDK paginator, 5 a page, over 13 subnets.
	p := ec2.NewDescribeSubnetsPaginator(client, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(5)})
	var all []string
	var sizes []int
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(page.Subnets))
		all = append(all, subnetIDs(page.Subnets)...)
	}
	if fmt.Sprint(sizes) != "[5 5 3]" || len(all) != 13 || !sort.StringsAreSorted(all) {
		t.Fatalf("pages %v, subnets %v: want 5+5+3 distinct subnets in order", sizes, all)
	}
	seen := map[string]bool{}
	for _, id := range all {
		if seen[id] {
			t.Fatalf("subnet %s on two pages", id)
		}
		seen[id] = true
	}
	// Paging within a filter: the VPC's 12 subnets.
	out, err := client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(10), Filters: []types.Filter{filter("vpc-id", "vpc-0aa00000000000001")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Subnets) != 10 || out.NextToken == nil {
		t.Fatalf("first page: %d subnets, token %v", len(out.Subnets), out.NextToken)
	}
	out2, err := client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(10), NextToken: out.NextToken,
		Filters: []types.Filter{filter("vpc-id", "vpc-0aa00000000000001")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out2.Subnets) != 2 || out2.NextToken != nil {
		t.Fatalf("second page: %d subnets, token %v", len(out2.Subnets), out2.NextToken)
	}

	// Every paginated operation through its SDK paginator.
	var enis, insts, types5, offers int
	ep := ec2.NewDescribeNetworkInterfacesPaginator(client, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5)})
	for ep.HasMorePages() {
		page, err := ep.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		enis += len(page.NetworkInterfaces)
	}
	allENIs, err := client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if enis != len(allENIs.NetworkInterfaces) || enis <= 5 {
		t.Errorf("paginated ENIs %d, unpaginated %d", enis, len(allENIs.NetworkInterfaces))
	}
	ip := ec2.NewDescribeInstancesPaginator(client, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Reservations {
			insts += len(r.Instances)
		}
	}
	if insts != 5 {
		t.Errorf("paginated instances %d, want 5", insts)
	}
	tp := ec2.NewDescribeInstanceTypesPaginator(client, &ec2.DescribeInstanceTypesInput{MaxResults: aws.Int32(5), Filters: []types.Filter{filter("instance-type", "m5.*")}})
	for tp.HasMorePages() {
		page, err := tp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.InstanceTypes) > 5 {
			t.Errorf("page of %d instance types", len(page.InstanceTypes))
		}
		types5 += len(page.InstanceTypes)
	}
	if types5 != 8 {
		t.Errorf("paginated m5 types %d, want 8", types5)
	}
	op := ec2.NewDescribeInstanceTypeOfferingsPaginator(client, &ec2.DescribeInstanceTypeOfferingsInput{MaxResults: aws.Int32(5),
		LocationType: types.LocationTypeAvailabilityZone, Filters: []types.Filter{filter("instance-type", "c5.*")}})
	for op.HasMorePages() {
		page, err := op.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		offers += len(page.InstanceTypeOfferings)
	}
	if offers != 8*3 {
		t.Errorf("paginated c5 offerings %d, want 24 (8 types in 3 AZs)", offers)
	}
	vp, err := client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{MaxResults: aws.Int32(5)})
	if err != nil || len(vp.Vpcs) != 2 || vp.NextToken != nil {
		t.Errorf("DescribeVpcs MaxResults 5: %v %v", vp, err)
	}

	// EC2's pagination errors.
	_, err = client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(4)})
	wantAPIError(t, err, "InvalidParameterValue", "maxResults")
	_, err = client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(1001)})
	wantAPIError(t, err, "InvalidParameterValue", "maxResults")
	_, err = client.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{MaxResults: aws.Int32(101)})
	wantAPIError(t, err, "InvalidParameterValue", "maxResults")
	_, err = client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(5), SubnetIds: []string{"subnet-0aa00000000000001"}})
	wantAPIError(t, err, "InvalidParameterCombination", "cannot be used with the parameter maxResults")
	_, err = client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{MaxResults: aws.Int32(5), VpcIds: []string{"vpc-0aa00000000000001"}})
	wantAPIError(t, err, "InvalidParameterCombination", "cannot be used with the parameter maxResults")
	_, err = client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5), NetworkInterfaceIds: []string{*allENIs.NetworkInterfaces[0].NetworkInterfaceId}})
	wantAPIError(t, err, "InvalidParameterCombination", "cannot be used with the parameter maxResults")
	_, err = client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), InstanceIds: []string{"i-0123456789abcdef0"}})
	wantAPIError(t, err, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
	_, err = client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{NextToken: aws.String("not-a-token")})
	wantAPIError(t, err, "InvalidPaginationToken", "pagination token")
	// A token of one operation is no good for another.
	_, err = client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NextToken: out.NextToken})
	wantAPIError(t, err, "InvalidPaginationToken", "pagination token")

	// The CLIs' auto-pagination with --page-size 5 makes 3 calls and merges them.
	for _, cli := range ec2CLIs() {
		before := callCount(env, "DescribeSubnets")
		var out struct {
			Subnets   []struct{ SubnetId string }
			NextToken string
		}
		cli.run(t, env, &out, "ec2", "describe-subnets", "--page-size", "5")
		if len(out.Subnets) != 13 || out.NextToken != "" {
			t.Errorf("%s: %d subnets, NextToken %q", cli.name, len(out.Subnets), out.NextToken)
		}
		if n := callCount(env, "DescribeSubnets") - before; n != 3 {
			t.Errorf("%s: %d DescribeSubnets calls, want 3 pages", cli.name, n)
		}
		var ids []string
		for _, s := range out.Subnets {
			ids = append(ids, s.SubnetId)
		}
		if strings.Join(ids, ",") != strings.Join(all, ",") {
			t.Errorf("%s: subnets %v, want %v", cli.name, ids, all)
		}
		// --max-items cuts the listing and hands back a resumable token.
		cli.run(t, env, &out, "ec2", "describe-subnets", "--page-size", "5", "--max-items", "7")
		if len(out.Subnets) != 7 || out.NextToken == "" {
			t.Errorf("%s: --max-items 7: %d subnets, NextToken %q", cli.name, len(out.Subnets), out.NextToken)
		}
		stderr := cli.fail(t, env, "ec2", "describe-subnets", "--subnet-ids", "subnet-0aa00000000000001", "--max-results", "5")
		if !strings.Contains(stderr, "InvalidParameterCombination") {
			t.Errorf("%s: stderr %q", cli.name, stderr)
		}
	}
}

func callCount(env *sandboxtest.Env, op string) int {
	for _, st := range env.Server.Stats() {
		if st.Service == "ec2" && st.Operation == op {
			return st.Calls
		}
	}
	return 0
}

func TestEC2DescribeNetworkInterfaces(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	ctx := context.Background()
	client := ec2.NewFromConfig(env.AWS)
	all, err := client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	insts, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]types.NetworkInterface{}
	var nodeENIs, requester int
	for _, e := range all.NetworkInterfaces {
		id := aws.ToString(e.NetworkInterfaceId)
		byID[id] = e
		if !strings.HasPrefix(id, "eni-") || aws.ToString(e.VpcId) != demoVPC || aws.ToString(e.OwnerId) != "111122223333" ||
			e.Status != types.NetworkInterfaceStatusInUse || aws.ToString(e.MacAddress) == "" || e.TagSet == nil ||
			aws.ToString(e.AvailabilityZone) != demoSubnets[aws.ToString(e.SubnetId)].az {
			t.Errorf("ENI %+v", e)
		}
		if aws.ToBool(e.RequesterManaged) {
			requester++
			continue
		}
		nodeENIs++
		a := e.Attachment
		if a == nil || !strings.HasPrefix(aws.ToString(a.InstanceId), "i-") || a.Status != types.AttachmentStatusAttached ||
			!strings.HasPrefix(aws.ToString(a.AttachmentId), "eni-attach-") || a.AttachTime == nil || a.DeviceIndex == nil {
			t.Errorf("node ENI %s attachment %+v", aws.ToString(e.NetworkInterfaceId), a)
		}
	}
	// 10 requester-managed ENIs for the scenario's reservations (40+60+350
	// addresses, up to 50 each), 3 for EKS's demo-blue and 2 for mgmt, 3
	// for the ALB.
	if requester != 1+2+7+3+2+3 {
		t.Errorf("%d requester-managed ENIs, want 18", requester)
	}
	// Every instance's ENIs exist, are attached to it at their index, and
	// no address is used twice across all ENIs.
	seenIP := map[string]string{}
	for _, e := range all.NetworkInterfaces {
		for _, ip := range e.PrivateIpAddresses {
			a := aws.ToString(ip.PrivateIpAddress)
			if other, dup := seenIP[a]; dup {
				t.Errorf("address %s on %s and %s", a, other, aws.ToString(e.NetworkInterfaceId))
			}
			seenIP[a] = aws.ToString(e.NetworkInterfaceId)
			if !netip.MustParsePrefix(demoSubnets[aws.ToString(e.SubnetId)].cidr).Contains(netip.MustParseAddr(a)) {
				t.Errorf("ENI %s address %s outside its subnet", aws.ToString(e.NetworkInterfaceId), a)
			}
		}
	}
	instENIs := 0
	for _, r := range insts.Reservations {
		for _, in := range r.Instances {
			for _, ie := range in.NetworkInterfaces {
				instENIs++
				e, ok := byID[aws.ToString(ie.NetworkInterfaceId)]
				if !ok {
					t.Errorf("instance %s ENI %s not in DescribeNetworkInterfaces", aws.ToString(in.InstanceId), aws.ToString(ie.NetworkInterfaceId))
					continue
				}
				if aws.ToString(e.Attachment.InstanceId) != aws.ToString(in.InstanceId) ||
					aws.ToInt32(e.Attachment.DeviceIndex) != aws.ToInt32(ie.Attachment.DeviceIndex) ||
					len(e.PrivateIpAddresses) != len(ie.PrivateIpAddresses) {
					t.Errorf("instance %s ENI %s disagrees with DescribeNetworkInterfaces", aws.ToString(in.InstanceId), aws.ToString(e.NetworkInterfaceId))
				}
			}
		}
	}
	if instENIs != nodeENIs || nodeENIs < 6 {
		t.Errorf("instances list %d ENIs, DescribeNetworkInterfaces %d node ENIs", instENIs, nodeENIs)
	}

	first := insts.Reservations[0].Instances[0]
	inst := aws.ToString(first.InstanceId)
	cases := []struct {
		name    string
		filters []types.Filter
		keep    func(types.NetworkInterface) bool
	}{
		{"subnet-id", []types.Filter{filter("subnet-id", "subnet-0de00000000000a01", "subnet-0de00000000000b03")}, func(e types.NetworkInterface) bool {
			return aws.ToString(e.SubnetId) == "subnet-0de00000000000a01" || aws.ToString(e.SubnetId) == "subnet-0de00000000000b03"
		}},
		{"vpc-id", []types.Filter{filter("vpc-id", demoVPC)}, func(types.NetworkInterface) bool { return true }},
		{"attachment.instance-id", []types.Filter{filter("attachment.instance-id", inst)}, func(e types.NetworkInterface) bool {
			return e.Attachment != nil && aws.ToString(e.Attachment.InstanceId) == inst
		}},
		{"tag", []types.Filter{filter("tag:node.k8s.amazonaws.com/instance_id", inst)}, func(e types.NetworkInterface) bool {
			return tagValue(e.TagSet, "node.k8s.amazonaws.com/instance_id") == inst
		}},
		{"tag-key", []types.Filter{filter("tag-key", "cluster.k8s.amazonaws.com/*")}, func(e types.NetworkInterface) bool {
			return tagValue(e.TagSet, "cluster.k8s.amazonaws.com/name") != ""
		}},
		{"requester-managed", []types.Filter{filter("requester-managed", "true"), filter("availability-zone", "us-east-1c")}, func(e types.NetworkInterface) bool {
			return aws.ToBool(e.RequesterManaged) && aws.ToString(e.AvailabilityZone) == "us-east-1c"
		}},
		{"description", []types.Filter{filter("description", "Amazon EKS *")}, func(e types.NetworkInterface) bool {
			return strings.HasPrefix(aws.ToString(e.Description), "Amazon EKS ")
		}},
		{"interface-type+status", []types.Filter{filter("interface-type", "interface"), filter("status", "in-use")}, func(e types.NetworkInterface) bool { return true }},
		{"network-interface-id", []types.Filter{filter("network-interface-id", aws.ToString(first.NetworkInterfaces[0].NetworkInterfaceId))}, func(e types.NetworkInterface) bool {
			return aws.ToString(e.NetworkInterfaceId) == aws.ToString(first.NetworkInterfaces[0].NetworkInterfaceId)
		}},
	}
	for _, tc := range cases {
		out, err := client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: tc.filters})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var want []string
		for _, e := range all.NetworkInterfaces {
			if tc.keep(e) {
				want = append(want, aws.ToString(e.NetworkInterfaceId))
			}
		}
		var got []string
		for _, e := range out.NetworkInterfaces {
			got = append(got, aws.ToString(e.NetworkInterfaceId))
		}
		if len(want) == 0 || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: got %d ENIs %v, want %d %v", tc.name, len(got), got, len(want), want)
		}
	}
	_, err = client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-0123456789abcdef0"}})
	wantAPIError(t, err, "InvalidNetworkInterfaceID.NotFound", "eni-0123456789abcdef0")
	_, err = client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{filter("subnet", "x")}})
	wantAPIError(t, err, "InvalidParameterValue", "The filter 'subnet' is invalid")

	for _, cli := range ec2CLIs() {
		var out struct {
			NetworkInterfaces []struct {
				NetworkInterfaceId, SubnetId, PrivateIpAddress string
				PrivateIpAddresses                             []struct {
					Primary          bool
					PrivateIpAddress string
				}
				Attachment *struct {
					InstanceId, Status, AttachmentId string
					DeviceIndex                      int
				}
			}
		}
		cli.run(t, env, &out, "ec2", "describe-network-interfaces", "--filters", "Name=attachment.instance-id,Values="+inst)
		if len(out.NetworkInterfaces) != len(first.NetworkInterfaces) || len(out.NetworkInterfaces) == 0 {
			t.Fatalf("%s: %d ENIs for %s, want %d", cli.name, len(out.NetworkInterfaces), inst, len(first.NetworkInterfaces))
		}
		for _, e := range out.NetworkInterfaces {
			sdk := byID[e.NetworkInterfaceId]
			if e.Attachment == nil || e.Attachment.InstanceId != inst || e.Attachment.Status != "attached" ||
				len(e.PrivateIpAddresses) != len(sdk.PrivateIpAddresses) || !e.PrivateIpAddresses[0].Primary ||
				e.PrivateIpAddresses[0].PrivateIpAddress != e.PrivateIpAddress {
				t.Errorf("%s: %+v", cli.name, e)
			}
		}
		stderr := cli.fail(t, env, "ec2", "describe-network-interfaces", "--network-interface-ids", "eni-0123456789abcdef0")
		if !strings.Contains(stderr, "InvalidNetworkInterfaceID.NotFound") {
			t.Errorf("%s: stderr %q", cli.name, stderr)
		}
	}
}

// TestEC2PrefixDelegation checks Ipv4Prefixes and that /28 prefixes count
// in AvailableIpAddressCount.
func TestEC2PrefixDelegation(t *testing.T) {
	env := sandboxtest.StartYAML(t, pagingScenario())
	ctx := context.Background()
	client := ec2.NewFromConfig(env.AWS)
	subnets, err := client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]string{}
	prefixes := 0
	for _, s := range subnets.Subnets {
		enis, err := client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{filter("subnet-id", aws.ToString(s.SubnetId))}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range enis.NetworkInterfaces {
			prefixes += len(e.Ipv4Prefixes)
		}
		if want := checkSubnetAddresses(t, aws.ToString(s.CidrBlock), enis.NetworkInterfaces, used); int(aws.ToInt32(s.AvailableIpAddressCount)) != want {
			t.Errorf("%s: AvailableIpAddressCount %d, want %d", aws.ToString(s.SubnetId), aws.ToInt32(s.AvailableIpAddressCount), want)
		}
	}
	if prefixes == 0 {
		t.Fatal("a prefix-delegation cluster's nodes hold no /28 prefix")
	}
	// The ENI made by hand: unattached, in the VPC's default security group.
	hand, err := client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{
		filter("status", "available"), filter("tag:Name", "by-hand")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(hand.NetworkInterfaces) != 1 {
		t.Fatalf("%d available ENIs named by-hand", len(hand.NetworkInterfaces))
	}
	if e := hand.NetworkInterfaces[0]; e.Attachment != nil || len(e.PrivateIpAddresses) != 3 || len(e.Ipv4Prefixes) != 1 ||
		len(e.Groups) != 1 || aws.ToString(e.Groups[0].GroupName) != "default" || !strings.HasPrefix(aws.ToString(e.Groups[0].GroupId), "sg-") ||
		aws.ToBool(e.RequesterManaged) || aws.ToString(e.Description) != "made by hand" {
		t.Errorf("hand-made ENI %+v", e)
	}
	var out struct {
		NetworkInterfaces []struct {
			Ipv4Prefixes []struct{ Ipv4Prefix string }
		}
	}
	ec2CLIs()[0].run(t, env, &out, "ec2", "describe-network-interfaces", "--filters", "Name=subnet-id,Values=subnet-0aa00000000000003")
	n := 0
	for _, e := range out.NetworkInterfaces {
		for _, p := range e.Ipv4Prefixes {
			if !strings.HasSuffix(p.Ipv4Prefix, "/28") {
				t.Errorf("prefix %q", p.Ipv4Prefix)
			}
			n++
		}
	}
	if n == 0 {
		t.Error("CLI shows no Ipv4Prefixes in the SPOT nodes' subnet")
	}
}

func TestEC2DescribeInstances(t *testing.T) {
	env := sandboxtest.StartYAML(t, pagingScenario())
	ctx := context.Background()
	client := ec2.NewFromConfig(env.AWS)
	out, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	subnets, err := client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	cidrs := map[string]netip.Prefix{}
	azs := map[string]string{}
	for _, s := range subnets.Subnets {
		cidrs[aws.ToString(s.SubnetId)] = netip.MustParsePrefix(aws.ToString(s.CidrBlock))
		azs[aws.ToString(s.SubnetId)] = aws.ToString(s.AvailabilityZone)
	}
	var spot, onDemand int
	var ids []string
	for _, r := range out.Reservations {
		if !strings.HasPrefix(aws.ToString(r.ReservationId), "r-") || aws.ToString(r.OwnerId) != "123456789012" || len(r.Instances) != 1 {
			t.Errorf("reservation %+v", r)
		}
		for _, in := range r.Instances {
			id := aws.ToString(in.InstanceId)
			ids = append(ids, id)
			sn := aws.ToString(in.SubnetId)
			if in.State == nil || aws.ToInt32(in.State.Code) != 16 || in.State.Name != types.InstanceStateNameRunning ||
				aws.ToString(in.VpcId) != "vpc-0aa00000000000001" || in.Placement == nil || aws.ToString(in.Placement.AvailabilityZone) != azs[sn] ||
				in.LaunchTime == nil || in.LaunchTime.IsZero() || !strings.HasPrefix(aws.ToString(in.ImageId), "ami-") ||
				!cidrs[sn].Contains(netip.MustParseAddr(aws.ToString(in.PrivateIpAddress))) ||
				!strings.HasSuffix(aws.ToString(in.PrivateDnsName), ".eu-west-1.compute.internal") {
				t.Errorf("instance %s: %+v", id, in)
			}
			switch tagValue(in.Tags, "eks:nodegroup-name") {
			case "spot":
				spot++
				if in.InstanceType != types.InstanceTypeM5Xlarge || in.InstanceLifecycle != types.InstanceLifecycleTypeSpot {
					t.Errorf("spot instance %s: type %s lifecycle %q", id, in.InstanceType, in.InstanceLifecycle)
				}
			case "od":
				onDemand++
				if in.InstanceType != types.InstanceTypeC5Large || in.InstanceLifecycle != "" {
					t.Errorf("on-demand instance %s: type %s lifecycle %q", id, in.InstanceType, in.InstanceLifecycle)
				}
			default:
				t.Errorf("instance %s tags %v", id, in.Tags)
			}
			if len(in.NetworkInterfaces) == 0 || aws.ToString(in.NetworkInterfaces[0].PrivateIpAddress) != aws.ToString(in.PrivateIpAddress) ||
				aws.ToInt32(in.NetworkInterfaces[0].Attachment.DeviceIndex) != 0 {
				t.Errorf("instance %s: primary ENI %+v", id, in.NetworkInterfaces)
			}
			// The instance's ENIs exist, are attached to it, and hold
			// addresses of their subnets.
			var eniIDs []string
			for _, ie := range in.NetworkInterfaces {
				eniIDs = append(eniIDs, aws.ToString(ie.NetworkInterfaceId))
			}
			enis, err := client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: eniIDs})
			if err != nil {
				t.Fatalf("instance %s ENIs %v: %v", id, eniIDs, err)
			}
			for _, e := range enis.NetworkInterfaces {
				if aws.ToString(e.Attachment.InstanceId) != id {
					t.Errorf("ENI %s attached to %s, want %s", aws.ToString(e.NetworkInterfaceId), aws.ToString(e.Attachment.InstanceId), id)
				}
				for _, ip := range e.PrivateIpAddresses {
					if !cidrs[aws.ToString(e.SubnetId)].Contains(netip.MustParseAddr(aws.ToString(ip.PrivateIpAddress))) {
						t.Errorf("ENI %s address %s outside %s", aws.ToString(e.NetworkInterfaceId), aws.ToString(ip.PrivateIpAddress), aws.ToString(e.SubnetId))
					}
				}
			}
		}
	}
	if spot != 3 || onDemand != 2 || !sort.StringsAreSorted(ids) {
		t.Fatalf("%d spot, %d on-demand instances (%v)", spot, onDemand, ids)
	}

	count := func(filters ...types.Filter) int {
		t.Helper()
		out, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: filters})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range out.Reservations {
			n += len(r.Instances)
		}
		return n
	}
	checks := []struct {
		name    string
		filters []types.Filter
		want    int
	}{
		{"instance-id", []types.Filter{filter("instance-id", ids[0], ids[1])}, 2},
		{"subnet-id", []types.Filter{filter("subnet-id", "subnet-0aa00000000000006", "subnet-0aa00000000000007")}, 2},
		{"vpc-id", []types.Filter{filter("vpc-id", "vpc-0aa00000000000001")}, 5},
		{"state", []types.Filter{filter("instance-state-name", "running")}, 5},
		{"state stopped", []types.Filter{filter("instance-state-name", "stopped")}, 0},
		{"type", []types.Filter{filter("instance-type", "m5.*")}, 3},
		{"tag", []types.Filter{filter("tag:eks:nodegroup-name", "od")}, 2},
		{"tag-key", []types.Filter{filter("tag-key", "kubernetes.io/cluster/pd")}, 5},
		{"az", []types.Filter{filter("availability-zone", "eu-west-1a"), filter("tag:eks:nodegroup-name", "spot")}, 1},
		{"lifecycle", []types.Filter{filter("instance-lifecycle", "spot")}, 3},
	}
	for _, c := range checks {
		if got := count(c.filters...); got != c.want {
			t.Errorf("%s: %d instances, want %d", c.name, got, c.want)
		}
	}
	_, err = client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{ids[0], "i-0123456789abcdef0"}})
	wantAPIError(t, err, "InvalidInstanceID.NotFound", "The instance ID 'i-0123456789abcdef0' does not exist")

	for _, cli := range ec2CLIs() {
		var out struct {
			Reservations []struct {
				Instances []struct {
					InstanceId, InstanceType, SubnetId, VpcId, PrivateIpAddress, InstanceLifecycle string
					State                                                                          struct {
						Code int
						Name string
					}
					Placement         struct{ AvailabilityZone string }
					LaunchTime        string
					NetworkInterfaces []struct{ NetworkInterfaceId string }
				}
			}
		}
		cli.run(t, env, &out, "ec2", "describe-instances", "--filters", "Name=instance-type,Values=m5.xlarge", "Name=instance-state-name,Values=running")
		n := 0
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				n++
				if in.State.Code != 16 || in.State.Name != "running" || in.InstanceLifecycle != "spot" || in.InstanceType != "m5.xlarge" ||
					azs[in.SubnetId] != in.Placement.AvailabilityZone || len(in.NetworkInterfaces) == 0 {
					t.Errorf("%s: %+v", cli.name, in)
				}
				if _, err := time.Parse(time.RFC3339, in.LaunchTime); err != nil {
					t.Errorf("%s: LaunchTime %q: %v", cli.name, in.LaunchTime, err)
				}
			}
		}
		if n != 3 {
			t.Errorf("%s: %d m5.xlarge instances, want 3", cli.name, n)
		}
		stderr := cli.fail(t, env, "ec2", "describe-instances", "--instance-ids", "i-0123456789abcdef0")
		if !strings.Contains(stderr, "InvalidInstanceID.NotFound") {
			t.Errorf("%s: stderr %q", cli.name, stderr)
		}
	}
}

func TestEC2DescribeInstanceTypes(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	ctx := context.Background()
	client := ec2.NewFromConfig(env.AWS)
	out, err := client.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{types.InstanceTypeM5Large, types.InstanceTypeT3Medium}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.InstanceTypes) != 2 {
		t.Fatalf("%d instance types", len(out.InstanceTypes))
	}
	want := map[types.InstanceType][4]int{types.InstanceTypeM5Large: {2, 8192, 3, 10}, types.InstanceTypeT3Medium: {2, 4096, 3, 6}}
	for _, it := range out.InstanceTypes {
		w := want[it.InstanceType]
		if aws.ToInt32(it.VCpuInfo.DefaultVCpus) != int32(w[0]) || aws.ToInt64(it.MemoryInfo.SizeInMiB) != int64(w[1]) ||
			aws.ToInt32(it.NetworkInfo.MaximumNetworkInterfaces) != int32(w[2]) || aws.ToInt32(it.NetworkInfo.Ipv4AddressesPerInterface) != int32(w[3]) ||
			!aws.ToBool(it.NetworkInfo.Ipv6Supported) || it.Hypervisor != types.InstanceTypeHypervisorNitro ||
			len(it.NetworkInfo.NetworkCards) != 1 || aws.ToInt32(it.NetworkInfo.NetworkCards[0].MaximumNetworkInterfaces) != int32(w[2]) ||
			len(it.ProcessorInfo.SupportedArchitectures) != 1 || it.ProcessorInfo.SupportedArchitectures[0] != types.ArchitectureTypeX8664 {
			t.Errorf("%s: %+v", it.InstanceType, it)
		}
	}
	m5, err := client.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{Filters: []types.Filter{filter("instance-type", "m5.*")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m5.InstanceTypes) != 8 {
		t.Errorf("m5.* matched %d types, want 8", len(m5.InstanceTypes))
	}
	for _, it := range m5.InstanceTypes {
		if !strings.HasPrefix(string(it.InstanceType), "m5.") {
			t.Errorf("m5.* matched %s", it.InstanceType)
		}
	}
	// Without MaxResults EC2 answers 100 types a page; the built-in table
	// holds more.
	all, err := client.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.InstanceTypes) != 100 || all.NextToken == nil {
		t.Fatalf("first page of instance types: %d, token %v", len(all.InstanceTypes), all.NextToken)
	}
	rest, err := client.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{NextToken: all.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.InstanceTypes) == 0 || rest.NextToken != nil || rest.InstanceTypes[0].InstanceType <= all.InstanceTypes[99].InstanceType {
		t.Errorf("second page of instance types: %d, token %v", len(rest.InstanceTypes), rest.NextToken)
	}
	arm, err := client.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{Filters: []types.Filter{
		filter("processor-info.supported-architecture", "arm64"), filter("instance-type", "m7g.large", "m5.large")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(arm.InstanceTypes) != 1 || arm.InstanceTypes[0].InstanceType != types.InstanceTypeM7gLarge ||
		aws.ToInt32(arm.InstanceTypes[0].VCpuInfo.DefaultVCpus) != 2 || aws.ToInt32(arm.InstanceTypes[0].VCpuInfo.DefaultThreadsPerCore) != 1 ||
		aws.ToInt32(arm.InstanceTypes[0].NetworkInfo.Ipv4AddressesPerInterface) != 10 {
		t.Errorf("arm64 filter: %+v", arm.InstanceTypes)
	}
	_, err = client.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"m5.huge"}})
	wantAPIError(t, err, "InvalidInstanceType", "m5.huge")

	for _, cli := range ec2CLIs() {
		var out struct {
			InstanceTypes []struct {
				InstanceType string
				Hypervisor   string
				VCpuInfo     struct{ DefaultVCpus int }
				MemoryInfo   struct{ SizeInMiB int }
				NetworkInfo  struct {
					MaximumNetworkInterfaces, Ipv4AddressesPerInterface int
					Ipv6Supported                                       bool
				}
				ProcessorInfo struct{ SupportedArchitectures []string }
			}
		}
		cli.run(t, env, &out, "ec2", "describe-instance-types", "--instance-types", "m5.4xlarge", "c5.9xlarge")
		got := map[string]string{}
		for _, it := range out.InstanceTypes {
			got[it.InstanceType] = fmt.Sprintf("%d %d %d %d %v %s %v", it.VCpuInfo.DefaultVCpus, it.MemoryInfo.SizeInMiB, it.NetworkInfo.MaximumNetworkInterfaces,
				it.NetworkInfo.Ipv4AddressesPerInterface, it.NetworkInfo.Ipv6Supported, it.Hypervisor, it.ProcessorInfo.SupportedArchitectures)
		}
		if got["m5.4xlarge"] != "16 65536 8 30 true nitro [x86_64]" || got["c5.9xlarge"] != "36 73728 8 30 true nitro [x86_64]" {
			t.Errorf("%s: %v", cli.name, got)
		}
		stderr := cli.fail(t, env, "ec2", "describe-instance-types", "--instance-types", "m5.huge")
		if !strings.Contains(stderr, "InvalidInstanceType") {
			t.Errorf("%s: stderr %q", cli.name, stderr)
		}
	}
}

func TestEC2DescribeAvailabilityZones(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	ctx := context.Background()
	client := ec2.NewFromConfig(env.AWS)
	out, err := client.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, z := range out.AvailabilityZones {
		got = append(got, aws.ToString(z.ZoneName)+"="+aws.ToString(z.ZoneId))
		if z.State != types.AvailabilityZoneStateAvailable || aws.ToString(z.ZoneType) != "availability-zone" ||
			z.OptInStatus != types.AvailabilityZoneOptInStatusOptInNotRequired || aws.ToString(z.RegionName) != "us-east-1" ||
			aws.ToString(z.NetworkBorderGroup) != "us-east-1" || aws.ToString(z.GroupName) == "" {
			t.Errorf("zone %+v", z)
		}
	}
	if strings.Join(got, " ") != "us-east-1a=use1-az1 us-east-1b=use1-az2 us-east-1c=use1-az3" {
		t.Errorf("zones %v", got)
	}
	zones := func(in *ec2.DescribeAvailabilityZonesInput) []string {
		t.Helper()
		out, err := client.DescribeAvailabilityZones(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, z := range out.AvailabilityZones {
			names = append(names, aws.ToString(z.ZoneName))
		}
		return names
	}
	if z := zones(&ec2.DescribeAvailabilityZonesInput{ZoneNames: []string{"us-east-1b"}}); fmt.Sprint(z) != "[us-east-1b]" {
		t.Errorf("ZoneNames: %v", z)
	}
	if z := zones(&ec2.DescribeAvailabilityZonesInput{ZoneIds: []string{"use1-az3"}}); fmt.Sprint(z) != "[us-east-1c]" {
		t.Errorf("ZoneIds: %v", z)
	}
	if z := zones(&ec2.DescribeAvailabilityZonesInput{Filters: []types.Filter{filter("region-name", "us-east-1"), filter("state", "available"),
		filter("zone-type", "availability-zone"), filter("zone-name", "*a", "*c")}}); fmt.Sprint(z) != "[us-east-1a us-east-1c]" {
		t.Errorf("filters: %v", z)
	}
	if z := zones(&ec2.DescribeAvailabilityZonesInput{Filters: []types.Filter{filter("region-name", "eu-west-1")}}); len(z) != 0 {
		t.Errorf("region-name eu-west-1: %v", z)
	}
	_, err = client.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{ZoneNames: []string{"us-east-1z"}})
	wantAPIError(t, err, "InvalidParameterValue", "us-east-1z")

	for _, cli := range ec2CLIs() {
		var out struct {
			AvailabilityZones []struct{ ZoneName, ZoneId, State, ZoneType, OptInStatus, RegionName string }
		}
		cli.run(t, env, &out, "ec2", "describe-availability-zones", "--filters", "Name=zone-type,Values=availability-zone")
		if len(out.AvailabilityZones) != 3 || out.AvailabilityZones[1].ZoneId != "use1-az2" || out.AvailabilityZones[1].State != "available" ||
			out.AvailabilityZones[1].OptInStatus != "opt-in-not-required" {
			t.Errorf("%s: %+v", cli.name, out.AvailabilityZones)
		}
	}
}

func TestEC2DescribeInstanceTypeOfferings(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	ctx := context.Background()
	client := ec2.NewFromConfig(env.AWS)
	region, err := client.DescribeInstanceTypeOfferings(ctx, &ec2.DescribeInstanceTypeOfferingsInput{Filters: []types.Filter{filter("instance-type", "m5.large", "c5.large")}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range region.InstanceTypeOfferings {
		got = append(got, fmt.Sprintf("%s@%s:%s", o.InstanceType, o.LocationType, aws.ToString(o.Location)))
	}
	if fmt.Sprint(got) != "[c5.large@region:us-east-1 m5.large@region:us-east-1]" {
		t.Errorf("region offerings %v", got)
	}
	az, err := client.DescribeInstanceTypeOfferings(ctx, &ec2.DescribeInstanceTypeOfferingsInput{LocationType: types.LocationTypeAvailabilityZone,
		Filters: []types.Filter{filter("instance-type", "m5.large"), filter("location", "us-east-1a", "us-east-1b")}})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, o := range az.InstanceTypeOfferings {
		got = append(got, fmt.Sprintf("%s@%s:%s", o.InstanceType, o.LocationType, aws.ToString(o.Location)))
	}
	if fmt.Sprint(got) != "[m5.large@availability-zone:us-east-1a m5.large@availability-zone:us-east-1b]" {
		t.Errorf("AZ offerings %v", got)
	}
	all, err := client.DescribeInstanceTypeOfferings(ctx, &ec2.DescribeInstanceTypeOfferingsInput{LocationType: types.LocationTypeAvailabilityZone})
	if err != nil {
		t.Fatal(err)
	}
	ntypes := 0
	for p := ec2.NewDescribeInstanceTypesPaginator(client, &ec2.DescribeInstanceTypesInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ntypes += len(page.InstanceTypes)
	}
	if len(all.InstanceTypeOfferings) != 3*ntypes || all.NextToken != nil {
		t.Errorf("%d AZ offerings for %d types in 3 AZs", len(all.InstanceTypeOfferings), ntypes)
	}
	for _, cli := range ec2CLIs() {
		var out struct {
			InstanceTypeOfferings []struct{ InstanceType, LocationType, Location string }
		}
		cli.run(t, env, &out, "ec2", "describe-instance-type-offerings", "--location-type", "availability-zone",
			"--filters", "Name=instance-type,Values=r5.*", "--page-size", "5")
		if len(out.InstanceTypeOfferings) != 8*3 {
			t.Errorf("%s: %d r5 offerings, want 24", cli.name, len(out.InstanceTypeOfferings))
		}
		for _, o := range out.InstanceTypeOfferings {
			if o.LocationType != "availability-zone" || !strings.HasPrefix(o.Location, "us-east-1") || !strings.HasPrefix(o.InstanceType, "r5.") {
				t.Errorf("%s: %+v", cli.name, o)
			}
		}
	}
}

func TestEC2DescribeVpcs(t *testing.T) {
	env := sandboxtest.StartYAML(t, pagingScenario())
	ctx := context.Background()
	client := ec2.NewFromConfig(env.AWS)
	out, err := client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Vpcs) != 2 {
		t.Fatalf("%d VPCs", len(out.Vpcs))
	}
	v := out.Vpcs[0]
	if aws.ToString(v.VpcId) != "vpc-0aa00000000000001" || aws.ToString(v.CidrBlock) != "10.1.0.0/16" || v.State != types.VpcStateAvailable ||
		aws.ToBool(v.IsDefault) || aws.ToString(v.OwnerId) != "123456789012" || tagValue(v.Tags, "Name") != "paging" ||
		len(v.CidrBlockAssociationSet) != 1 || aws.ToString(v.CidrBlockAssociationSet[0].CidrBlock) != "10.1.0.0/16" ||
		!strings.HasPrefix(aws.ToString(v.DhcpOptionsId), "dopt-") || v.InstanceTenancy != types.TenancyDefault {
		t.Errorf("VPC %+v", v)
	}
	if out.Vpcs[1].Tags != nil {
		t.Errorf("untagged VPC has a tagSet: %v", out.Vpcs[1].Tags)
	}
	sn, err := client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0bb00000000000001"}})
	if err != nil || len(sn.Subnets) != 1 || sn.Subnets[0].Tags != nil || aws.ToInt32(sn.Subnets[0].AvailableIpAddressCount) != 251 {
		t.Errorf("untagged empty subnet: %+v %v", sn, err)
	}
	vpcs := func(in *ec2.DescribeVpcsInput) string {
		t.Helper()
		out, err := client.DescribeVpcs(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, v := range out.Vpcs {
			ids = append(ids, aws.ToString(v.VpcId))
		}
		return strings.Join(ids, ",")
	}
	for _, c := range []struct {
		in   *ec2.DescribeVpcsInput
		want string
	}{
		{&ec2.DescribeVpcsInput{Filters: []types.Filter{filter("vpc-id", "vpc-0bb00000000000001")}}, "vpc-0bb00000000000001"},
		{&ec2.DescribeVpcsInput{Filters: []types.Filter{filter("cidr", "10.2.0.0/16")}}, "vpc-0bb00000000000001"},
		{&ec2.DescribeVpcsInput{Filters: []types.Filter{filter("tag:Name", "pag*")}}, "vpc-0aa00000000000001"},
		{&ec2.DescribeVpcsInput{Filters: []types.Filter{filter("tag-key", "Name")}}, "vpc-0aa00000000000001"},
		{&ec2.DescribeVpcsInput{Filters: []types.Filter{filter("is-default", "false")}}, "vpc-0aa00000000000001,vpc-0bb00000000000001"},
		{&ec2.DescribeVpcsInput{Filters: []types.Filter{filter("is-default", "true")}}, ""},
		{&ec2.DescribeVpcsInput{VpcIds: []string{"vpc-0bb00000000000001"}}, "vpc-0bb00000000000001"},
	} {
		if got := vpcs(c.in); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.in, got, c.want)
		}
	}
	_, err = client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-0123456789abcdef0"}})
	wantAPIError(t, err, "InvalidVpcID.NotFound", "vpc-0123456789abcdef0")
	for _, cli := range ec2CLIs() {
		var out struct {
			Vpcs []struct {
				VpcId, CidrBlock, State string
				IsDefault               bool
			}
		}
		cli.run(t, env, &out, "ec2", "describe-vpcs", "--vpc-ids", "vpc-0aa00000000000001")
		if len(out.Vpcs) != 1 || out.Vpcs[0].CidrBlock != "10.1.0.0/16" || out.Vpcs[0].State != "available" || out.Vpcs[0].IsDefault {
			t.Errorf("%s: %+v", cli.name, out.Vpcs)
		}
	}
}

// largeScenario is a world of 1,000 subnets (20 VPCs of 50 /22s) holding
// 20,000 ENIs: 20 per subnet, of 50 addresses each.
func largeScenario() *scenario.Scenario {
	s := &scenario.Scenario{APIVersion: scenario.APIVersion, Kind: scenario.Kind, Account: "111122223333", Region: "us-east-1"}
	for v := 0; v < 20; v++ {
		vpc := scenario.VPC{ID: fmt.Sprintf("vpc-%017x", v+1), CIDR: fmt.Sprintf("10.%d.0.0/16", v)}
		for i := 0; i < 50; i++ {
			vpc.Subnets = append(vpc.Subnets, scenario.Subnet{ID: fmt.Sprintf("subnet-%017x", v*50+i+1),
				AZ: fmt.Sprintf("us-east-1%c", 'a'+i%3), CIDR: fmt.Sprintf("10.%d.%d.0/22", v, i*4), ReservedIPs: 1000,
				Tags: map[string]string{"Name": fmt.Sprintf("large-%d-%d", v, i)}})
		}
		s.VPCs = append(s.VPCs, vpc)
	}
	return s
}

// BenchmarkDescribeNetworkInterfacesBySubnet measures what the capacity
// report does on a large world: DescribeNetworkInterfaces filtered by
// subnet-id for a batch of subnets. "generated" is a world of 1,000
// subnets and 20,000 ENIs of 50 addresses each; "large" the built-in
// large scenario (about 20,000 node ENIs of 10 addresses). "server" drives
// the emulator's handler directly (filtering plus XML encoding); "sdk"
// goes through aws-sdk-go-v2 and HTTP, XML decoding included.
func BenchmarkDescribeNetworkInterfacesBySubnet(b *testing.B) {
	b.Run("generated", func(b *testing.B) {
		var ids []string
		for i := 0; i < 1000; i++ {
			ids = append(ids, fmt.Sprintf("subnet-%017x", i+1))
		}
		benchENIsBySubnet(b, sandboxtest.Start(b, largeScenario()), ids)
	})
	b.Run("large", func(b *testing.B) {
		env := sandboxtest.StartScenario(b, "large")
		var ids []string
		env.Server.View(func(w *emulator.World) {
			for id, sn := range w.Subnets {
				if strings.Contains(sn.Tags["Name"], "-nodes-") {
					ids = append(ids, id)
				}
			}
		})
		sort.Strings(ids)
		benchENIsBySubnet(b, env, ids)
	})
}

func benchENIsBySubnet(b *testing.B, env *sandboxtest.Env, subnets []string) {
	ctx := context.Background()
	client := ec2.NewFromConfig(env.AWS, func(o *ec2.Options) {
		o.RetryMaxAttempts = 1 // a retry would hide a failure in the figures
	})
	batch := func(start, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = subnets[(start+i)%len(subnets)]
		}
		return out
	}
	serve := func(b *testing.B, form url.Values) int {
		body := form.Encode()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		signedDefault(b, req, []byte(body), "ec2", env.Region)
		rec := httptest.NewRecorder()
		env.Server.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		return rec.Body.Len()
	}
	for _, n := range []int{1, 20, 100} {
		b.Run(fmt.Sprintf("server/subnets=%d", n), func(b *testing.B) {
			var bytes int
			for i := 0; b.Loop(); i++ {
				form := url.Values{"Action": {"DescribeNetworkInterfaces"}, "Version": {"2016-11-15"}, "Filter.1.Name": {"subnet-id"}}
				for j, id := range batch(i*n, n) {
					form.Set(fmt.Sprintf("Filter.1.Value.%d", j+1), id)
				}
				bytes = serve(b, form)
			}
			b.ReportMetric(float64(bytes), "bytes/response")
		})
		b.Run(fmt.Sprintf("sdk/subnets=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				out, err := client.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{filter("subnet-id", batch(i*n, n)...)}})
				if err != nil {
					b.Fatal(err)
				}
				if len(out.NetworkInterfaces) == 0 {
					b.Fatalf("no ENIs in %d subnets", n)
				}
			}
		})
	}
	b.Run("server/page=1000", func(b *testing.B) {
		var bytes int
		for b.Loop() {
			bytes = serve(b, url.Values{"Action": {"DescribeNetworkInterfaces"}, "Version": {"2016-11-15"}, "MaxResults": {"1000"}})
		}
		b.ReportMetric(float64(bytes), "bytes/response")
	})
}
