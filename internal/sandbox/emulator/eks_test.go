package emulator_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/smithy-go"

	"github.com/eksbg/eksbg/internal/cni"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// eksScenario is a small world for the EKS tests: one VPC over three AZs
// with node and control-plane subnets, a subnet of another VPC, and slow
// enough timings that every intermediate state is observable.
const eksScenario = `
apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: us-east-1
timing: {clusterCreate: 60, clusterDelete: 30, nodegroupCreate: 40, nodegroupDelete: 20, nodegroupUpdate: 10, addonCreate: 5, addonDelete: 5}
vpcs:
  - id: vpc-0e1500000000000a1
    cidr: 10.30.0.0/16
    subnets:
      - {id: subnet-0e150000000000a01, az: us-east-1a, cidr: 10.30.0.0/24}
      - {id: subnet-0e150000000000b01, az: us-east-1b, cidr: 10.30.1.0/24}
      - {id: subnet-0e150000000000c01, az: us-east-1c, cidr: 10.30.2.0/24}
      - {id: subnet-0e150000000000a02, az: us-east-1a, cidr: 10.30.240.0/28}
      - {id: subnet-0e150000000000b02, az: us-east-1b, cidr: 10.30.240.16/28}
      - {id: subnet-0e150000000000c02, az: us-east-1c, cidr: 10.30.240.32/28}
      - {id: subnet-0e150000000000a03, az: us-east-1a, cidr: 10.30.241.0/28}
  - id: vpc-0e1500000000000b1
    cidr: 192.168.0.0/16
    subnets:
      - {id: subnet-0e150000000000f01, az: us-east-1b, cidr: 192.168.0.0/24}
`

var (
	eksNodeSubnets = []string{"subnet-0e150000000000a01", "subnet-0e150000000000b01", "subnet-0e150000000000c01"}
	eksCPSubnets   = []string{"subnet-0e150000000000a02", "subnet-0e150000000000b02", "subnet-0e150000000000c02"}
)

// eksStart is the emulator's starting time in the EKS tests: 1 June 2025,
// when 1.33 was the newest version, 1.30 to 1.33 were in standard support
// and 1.28 and 1.29 in extended support.
var eksStart = time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)

type eksEnv struct {
	*sandboxtest.Env
	clock *sandboxtest.Clock
	eks   *eks.Client
	ec2   *ec2.Client
}

func startEKS(t *testing.T) *eksEnv {
	t.Helper()
	clock := sandboxtest.NewClock(eksStart)
	env := sandboxtest.StartYAML(t, eksScenario, sandboxtest.WithClock(clock.Now))
	return &eksEnv{Env: env, clock: clock, eks: eks.NewFromConfig(env.AWS), ec2: ec2.NewFromConfig(env.AWS)}
}

// cli runs an AWS CLI (bin: sandboxtest.CLIv2, or "python3" for the v1 CLI)
// and decodes its JSON output.
func (e *eksEnv) cli(t *testing.T, out any, bin string, args ...string) {
	t.Helper()
	if bin == "python3" {
		args = append([]string{"-m", "awscli"}, args...)
	}
	stdout, stderr, err := e.RunCLI(t, bin, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr)
	}
	if out != nil {
		if err := json.Unmarshal(stdout, out); err != nil {
			t.Fatalf("%s %s: decoding %q: %v", bin, strings.Join(args, " "), stdout, err)
		}
	}
}

// cliFails runs a CLI that must fail and returns its stderr.
func (e *eksEnv) cliFails(t *testing.T, bin string, args ...string) string {
	t.Helper()
	if bin == "python3" {
		args = append([]string{"-m", "awscli"}, args...)
	}
	stdout, stderr, err := e.RunCLI(t, bin, args...)
	if err == nil {
		t.Fatalf("%s %s succeeded: %s", bin, strings.Join(args, " "), stdout)
	}
	return stderr
}

func (e *eksEnv) createCluster(t *testing.T, name, version string) *types.Cluster {
	t.Helper()
	out, err := e.eks.CreateCluster(context.Background(), &eks.CreateClusterInput{
		Name: aws.String(name), Version: aws.String(version),
		RoleArn:            aws.String("arn:aws:iam::111122223333:role/eks-cluster"),
		ResourcesVpcConfig: &types.VpcConfigRequest{SubnetIds: eksCPSubnets},
	})
	if err != nil {
		t.Fatalf("CreateCluster %s: %v", name, err)
	}
	return out.Cluster
}

// activeCluster creates a cluster and moves the clock past its creation.
func (e *eksEnv) activeCluster(t *testing.T, name, version string) {
	t.Helper()
	e.createCluster(t, name, version)
	e.clock.Advance(61 * time.Second)
	if st := e.describeCluster(t, name).Status; st != types.ClusterStatusActive {
		t.Fatalf("cluster %s is %s after its creation time", name, st)
	}
}

func (e *eksEnv) describeCluster(t *testing.T, name string) *types.Cluster {
	t.Helper()
	out, err := e.eks.DescribeCluster(context.Background(), &eks.DescribeClusterInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeCluster %s: %v", name, err)
	}
	return out.Cluster
}

func (e *eksEnv) describeNodegroup(t *testing.T, cluster, name string) *types.Nodegroup {
	t.Helper()
	out, err := e.eks.DescribeNodegroup(context.Background(), &eks.DescribeNodegroupInput{
		ClusterName: aws.String(cluster), NodegroupName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeNodegroup %s/%s: %v", cluster, name, err)
	}
	return out.Nodegroup
}

// available returns each subnet's AvailableIpAddressCount, through EC2.
func (e *eksEnv) available(t *testing.T, ids []string) map[string]int {
	t.Helper()
	out, err := e.ec2.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{SubnetIds: ids})
	if err != nil {
		t.Fatalf("DescribeSubnets: %v", err)
	}
	m := map[string]int{}
	for _, sn := range out.Subnets {
		m[aws.ToString(sn.SubnetId)] = int(aws.ToInt32(sn.AvailableIpAddressCount))
	}
	return m
}

// eksNodes is what EC2 shows of a node group: its running instances, their
// vCPUs, their ENIs and the addresses those hold, per subnet.
type eksNodes struct {
	instances, vcpus, enis int
	perAZ                  map[string]int
	addrsBySubnet          map[string]int
}

func (e *eksEnv) nodes(t *testing.T, nodegroup string) eksNodes {
	t.Helper()
	ctx := context.Background()
	out, err := e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:eks:nodegroup-name"), Values: []string{nodegroup}},
		{Name: aws.String("instance-state-name"), Values: []string{"running"}},
	}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	n := eksNodes{perAZ: map[string]int{}, addrsBySubnet: map[string]int{}}
	var ids []string
	for _, r := range out.Reservations {
		for _, inst := range r.Instances {
			n.instances++
			ids = append(ids, aws.ToString(inst.InstanceId))
			n.perAZ[aws.ToString(inst.Placement.AvailabilityZone)]++
			if inst.InstanceType != ec2types.InstanceTypeM5Large {
				t.Errorf("instance %s is a %s, want m5.large", aws.ToString(inst.InstanceId), inst.InstanceType)
			}
			n.vcpus += int(aws.ToInt32(inst.CpuOptions.CoreCount) * aws.ToInt32(inst.CpuOptions.ThreadsPerCore))
		}
	}
	if len(ids) == 0 {
		return n
	}
	enis, err := e.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{
		{Name: aws.String("attachment.instance-id"), Values: ids},
	}})
	if err != nil {
		t.Fatalf("DescribeNetworkInterfaces: %v", err)
	}
	for _, eni := range enis.NetworkInterfaces {
		n.enis++
		n.addrsBySubnet[aws.ToString(eni.SubnetId)] += len(eni.PrivateIpAddresses) + cni.IPsPerPrefix*len(eni.Ipv4Prefixes)
	}
	return n
}

// eksM5LargeNode is what the VPC CNI model (internal/cni) says one m5.large
// node with default settings and max pods holds: attached ENIs and addresses.
func eksM5LargeNode(t *testing.T) (enis, addrs int) {
	t.Helper()
	shape := cni.InstanceShape{Name: "m5.large", VCPUs: 2, MaxENIs: 3, IPv4PerENI: 10, Nitro: true}
	s := cni.DefaultSettings()
	alloc, err := cni.Allocate(cni.Node{Shape: shape, Pods: cni.MaxPods(shape, s, 0)}, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range alloc.ENIs {
		if e.Role != cni.RoleBranch {
			addrs += e.Addresses()
		}
	}
	return alloc.AttachedENIs(), addrs
}

func eksSum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// eksAPIError asserts err is an EKS error with the given code and HTTP status.
func eksAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("got error %v, want %s", err, code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("%s: got HTTP status %v, want %d", code, err, status)
	}
}

// TestEKSLifecycle drives a cluster and a node group through their whole
// life on a fake clock, and checks what EC2 shows of them at each step:
// instances, ENIs, running vCPUs and free addresses per subnet.
func TestEKSLifecycle(t *testing.T) {
	e := startEKS(t)
	ctx := context.Background()
	baseCP := e.available(t, eksCPSubnets)
	baseNodes := e.available(t, eksNodeSubnets)

	created, err := e.eks.CreateCluster(ctx, &eks.CreateClusterInput{
		Name: aws.String("blue"), Version: aws.String("1.31"),
		RoleArn: aws.String("arn:aws:iam::111122223333:role/eks-cluster"),
		ResourcesVpcConfig: &types.VpcConfigRequest{SubnetIds: eksCPSubnets, SecurityGroupIds: []string{"sg-0123456789abcdef0"},
			EndpointPrivateAccess: aws.Bool(true)},
		Logging: &types.Logging{ClusterLogging: []types.LogSetup{{Enabled: aws.Bool(true),
			Types: []types.LogType{types.LogTypeAudit, types.LogTypeApi}}}},
		Tags:          map[string]string{"team": "platform"},
		AccessConfig:  &types.CreateAccessConfigRequest{AuthenticationMode: types.AuthenticationModeApi},
		UpgradePolicy: &types.UpgradePolicyRequest{SupportType: types.SupportTypeStandard},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := created.Cluster
	if c.Status != types.ClusterStatusCreating || c.Endpoint != nil || (c.CertificateAuthority != nil && c.CertificateAuthority.Data != nil) {
		t.Fatalf("new cluster: status %s endpoint %v ca %v; want CREATING without endpoint or CA", c.Status, c.Endpoint, c.CertificateAuthority)
	}
	if got := aws.ToString(c.Arn); got != "arn:aws:eks:us-east-1:111122223333:cluster/blue" {
		t.Errorf("arn %s", got)
	}
	vc := c.ResourcesVpcConfig
	if aws.ToString(vc.VpcId) != "vpc-0e1500000000000a1" || len(vc.SubnetIds) != 3 || !vc.EndpointPrivateAccess || !vc.EndpointPublicAccess ||
		!strings.HasPrefix(aws.ToString(vc.ClusterSecurityGroupId), "sg-") || len(vc.SecurityGroupIds) != 1 ||
		len(vc.PublicAccessCidrs) != 1 || vc.PublicAccessCidrs[0] != "0.0.0.0/0" {
		t.Errorf("resourcesVpcConfig %+v", vc)
	}
	// The VPC is in 10.0.0.0/8, so EKS's default service range is 172.20.0.0/16.
	if knc := c.KubernetesNetworkConfig; aws.ToString(knc.ServiceIpv4Cidr) != "172.20.0.0/16" || knc.IpFamily != types.IpFamilyIpv4 {
		t.Errorf("kubernetesNetworkConfig %+v", knc)
	}
	if ls := c.Logging.ClusterLogging; len(ls) != 2 || !aws.ToBool(ls[0].Enabled) || len(ls[0].Types) != 2 ||
		ls[0].Types[0] != types.LogTypeApi || ls[0].Types[1] != types.LogTypeAudit || aws.ToBool(ls[1].Enabled) || len(ls[1].Types) != 3 {
		t.Errorf("logging %+v", ls)
	}
	if c.AccessConfig.AuthenticationMode != types.AuthenticationModeApi || c.UpgradePolicy.SupportType != types.SupportTypeStandard ||
		c.Tags["team"] != "platform" || aws.ToString(c.PlatformVersion) == "" ||
		!strings.HasPrefix(aws.ToString(c.Identity.Oidc.Issuer), "https://oidc.eks.us-east-1.amazonaws.com/id/") {
		t.Errorf("cluster %+v", c)
	}

	// The control plane's ENIs: one per AZ, requester-managed, one address each.
	cpENIs := func() []ec2types.NetworkInterface {
		out, err := e.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{
			{Name: aws.String("description"), Values: []string{"Amazon EKS blue"}}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.NetworkInterfaces
	}
	azs := map[string]bool{}
	for _, eni := range cpENIs() {
		azs[aws.ToString(eni.AvailabilityZone)] = true
		if !aws.ToBool(eni.RequesterManaged) {
			t.Errorf("control-plane ENI %s is not requester-managed", aws.ToString(eni.NetworkInterfaceId))
		}
	}
	if len(cpENIs()) != 3 || len(azs) != 3 {
		t.Fatalf("control-plane ENIs: %d in AZs %v, want 3 in 3 AZs", len(cpENIs()), azs)
	}
	for id, n := range e.available(t, eksCPSubnets) {
		if n != baseCP[id]-1 {
			t.Errorf("subnet %s: %d free addresses, want %d", id, n, baseCP[id]-1)
		}
	}

	// Refusals while the cluster is being created.
	_, err = e.eks.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String("blue"), RoleArn: aws.String("arn:aws:iam::111122223333:role/r"),
		ResourcesVpcConfig: &types.VpcConfigRequest{SubnetIds: eksCPSubnets}})
	var inUse *types.ResourceInUseException
	if !errors.As(err, &inUse) || aws.ToString(inUse.ClusterName) != "blue" {
		t.Fatalf("duplicate CreateCluster: %v", err)
	}
	eksAPIError(t, err, "ResourceInUseException", 409)
	_, err = e.eks.CreateNodegroup(ctx, &eks.CreateNodegroupInput{ClusterName: aws.String("blue"), NodegroupName: aws.String("ng"),
		NodeRole: aws.String("arn:aws:iam::111122223333:role/node"), Subnets: eksNodeSubnets})
	eksAPIError(t, err, "InvalidRequestException", 400)

	// The SDK's waiter sees the cluster become ACTIVE as the clock moves 5 s a reading.
	e.clock.SetStep(5 * time.Second)
	active, err := eks.NewClusterActiveWaiter(e.eks, func(o *eks.ClusterActiveWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	}).WaitForOutput(ctx, &eks.DescribeClusterInput{Name: aws.String("blue")}, 30*time.Second)
	e.clock.SetStep(0)
	if err != nil {
		t.Fatalf("ClusterActive waiter: %v", err)
	}
	c = active.Cluster
	if c.Status != types.ClusterStatusActive || !strings.HasSuffix(aws.ToString(c.Endpoint), ".gr7.us-east-1.eks.amazonaws.com") {
		t.Fatalf("active cluster: status %s endpoint %s", c.Status, aws.ToString(c.Endpoint))
	}
	pemBytes, err := base64.StdEncoding.DecodeString(aws.ToString(c.CertificateAuthority.Data))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("certificateAuthority.data is not a PEM certificate: %q", pemBytes)
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !ca.IsCA || ca.Subject.CommonName != "kubernetes" || ca.CheckSignatureFrom(ca) != nil {
		t.Errorf("cluster CA: IsCA %v CN %q", ca.IsCA, ca.Subject.CommonName)
	}

	// A node group: CREATING, then ACTIVE with its instances.
	ngOut, err := e.eks.CreateNodegroup(ctx, &eks.CreateNodegroupInput{
		ClusterName: aws.String("blue"), NodegroupName: aws.String("general"),
		NodeRole: aws.String("arn:aws:iam::111122223333:role/node"), Subnets: eksNodeSubnets,
		InstanceTypes: []string{"m5.large"},
		ScalingConfig: &types.NodegroupScalingConfig{MinSize: aws.Int32(1), MaxSize: aws.Int32(6), DesiredSize: aws.Int32(2)},
		Labels:        map[string]string{"role": "general"},
		Taints:        []types.Taint{{Key: aws.String("dedicated"), Value: aws.String("web"), Effect: types.TaintEffectNoSchedule}},
		Tags:          map[string]string{"team": "platform"},
		UpdateConfig:  &types.NodegroupUpdateConfig{MaxUnavailable: aws.Int32(1)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ng := ngOut.Nodegroup
	if ng.Status != types.NodegroupStatusCreating || aws.ToString(ng.Version) != "1.31" || ng.AmiType != types.AMITypesAl2023X8664Standard ||
		ng.CapacityType != types.CapacityTypesOnDemand || aws.ToInt32(ng.DiskSize) != 20 ||
		!strings.HasPrefix(aws.ToString(ng.NodegroupArn), "arn:aws:eks:us-east-1:111122223333:nodegroup/blue/general/") {
		t.Fatalf("new nodegroup %+v", ng)
	}
	if n := e.nodes(t, "general"); n.instances != 0 {
		t.Fatalf("%d instances before the node group is ACTIVE", n.instances)
	}
	e.clock.Advance(40 * time.Second)
	ng = e.describeNodegroup(t, "blue", "general")
	if ng.Status != types.NodegroupStatusActive || aws.ToInt32(ng.ScalingConfig.DesiredSize) != 2 ||
		ng.Labels["role"] != "general" || len(ng.Taints) != 1 || ng.Taints[0].Effect != types.TaintEffectNoSchedule ||
		aws.ToInt32(ng.UpdateConfig.MaxUnavailable) != 1 || len(ng.Resources.AutoScalingGroups) != 1 ||
		!strings.HasPrefix(aws.ToString(ng.Resources.AutoScalingGroups[0].Name), "eks-general-") || ng.Health == nil ||
		len(ng.Health.Issues) != 0 || ng.Tags["team"] != "platform" || ng.InstanceTypes[0] != "m5.large" {
		t.Fatalf("active nodegroup %+v", ng)
	}

	perNodeENIs, perNodeAddrs := eksM5LargeNode(t)
	check := func(stage string, want int, wantPerAZ map[string]int) {
		t.Helper()
		n := e.nodes(t, "general")
		if n.instances != want || n.vcpus != 2*want || n.enis != want*perNodeENIs || eksSum(n.addrsBySubnet) != want*perNodeAddrs {
			t.Fatalf("%s: %d instances, %d vCPUs, %d ENIs, %d addresses; want %d, %d, %d, %d", stage,
				n.instances, n.vcpus, n.enis, eksSum(n.addrsBySubnet), want, 2*want, want*perNodeENIs, want*perNodeAddrs)
		}
		for az, k := range wantPerAZ {
			if n.perAZ[az] != k {
				t.Errorf("%s: %d instances in %s, want %d (%v)", stage, n.perAZ[az], az, k, n.perAZ)
			}
		}
		// Every address the nodes hold is gone from its subnet's free count.
		for id, free := range e.available(t, eksNodeSubnets) {
			if free != baseNodes[id]-n.addrsBySubnet[id] {
				t.Errorf("%s: subnet %s has %d free addresses, want %d - %d", stage, id, free, baseNodes[id], n.addrsBySubnet[id])
			}
		}
	}
	check("created with 2", 2, map[string]int{"us-east-1a": 1, "us-east-1b": 1})

	// Scale 2 -> 4 through the SDK.
	up, err := e.eks.UpdateNodegroupConfig(ctx, &eks.UpdateNodegroupConfigInput{ClusterName: aws.String("blue"),
		NodegroupName: aws.String("general"), ScalingConfig: &types.NodegroupScalingConfig{DesiredSize: aws.Int32(4)}})
	if err != nil {
		t.Fatal(err)
	}
	u := up.Update
	if u.Status != types.UpdateStatusInProgress || u.Type != types.UpdateTypeConfigUpdate || len(u.Params) != 1 ||
		!regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(aws.ToString(u.Id)) ||
		u.Params[0].Type != types.UpdateParamTypeDesiredSize || aws.ToString(u.Params[0].Value) != "4" {
		t.Fatalf("update %+v", u)
	}
	if st := e.describeNodegroup(t, "blue", "general").Status; st != types.NodegroupStatusUpdating {
		t.Fatalf("nodegroup is %s during its update", st)
	}
	_, err = e.eks.UpdateNodegroupConfig(ctx, &eks.UpdateNodegroupConfigInput{ClusterName: aws.String("blue"),
		NodegroupName: aws.String("general"), ScalingConfig: &types.NodegroupScalingConfig{DesiredSize: aws.Int32(3)}})
	eksAPIError(t, err, "ResourceInUseException", 409)
	check("while updating", 2, nil)
	e.clock.Advance(10 * time.Second)
	du, err := e.eks.DescribeUpdate(ctx, &eks.DescribeUpdateInput{Name: aws.String("blue"), UpdateId: u.Id, NodegroupName: aws.String("general")})
	if err != nil {
		t.Fatal(err)
	}
	if du.Update.Status != types.UpdateStatusSuccessful {
		t.Fatalf("update is %s after its time", du.Update.Status)
	}
	// An update is only found under its node group.
	_, err = e.eks.DescribeUpdate(ctx, &eks.DescribeUpdateInput{Name: aws.String("blue"), UpdateId: u.Id})
	eksAPIError(t, err, "ResourceNotFoundException", 404)
	check("scaled to 4", 4, map[string]int{"us-east-1a": 2, "us-east-1b": 1, "us-east-1c": 1})

	// Validation: desired above max.
	_, err = e.eks.UpdateNodegroupConfig(ctx, &eks.UpdateNodegroupConfigInput{ClusterName: aws.String("blue"),
		NodegroupName: aws.String("general"), ScalingConfig: &types.NodegroupScalingConfig{DesiredSize: aws.Int32(7)}})
	var invalid *types.InvalidParameterException
	if !errors.As(err, &invalid) || aws.ToString(invalid.NodegroupName) != "general" || aws.ToString(invalid.ClusterName) != "blue" {
		t.Fatalf("desired above max: %v", err)
	}

	// Scale 4 -> 1 through the CLI v2, relabelling on the way.
	var cliUpdate struct {
		Update struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Params []struct{ Type, Value string }
		} `json:"update"`
	}
	e.cli(t, &cliUpdate, sandboxtest.CLIv2, "eks", "update-nodegroup-config", "--cluster-name", "blue", "--nodegroup-name", "general",
		"--scaling-config", "minSize=1,maxSize=6,desiredSize=1", "--labels", "addOrUpdateLabels={team=web},removeLabels=role")
	if cliUpdate.Update.Status != "InProgress" || len(cliUpdate.Update.Params) != 5 {
		t.Fatalf("CLI update: %+v", cliUpdate)
	}
	e.clock.Advance(10 * time.Second)
	var cliDescribe struct {
		Update struct{ Status string } `json:"update"`
	}
	e.cli(t, &cliDescribe, sandboxtest.CLIv2, "eks", "describe-update", "--name", "blue", "--update-id", cliUpdate.Update.ID,
		"--nodegroup-name", "general")
	if cliDescribe.Update.Status != "Successful" {
		t.Fatalf("CLI describe-update: %+v", cliDescribe)
	}
	var cliNG struct {
		Nodegroup struct {
			Status        string
			ScalingConfig struct{ MinSize, MaxSize, DesiredSize int }
			Labels        map[string]string
		}
	}
	e.cli(t, &cliNG, sandboxtest.CLIv2, "eks", "describe-nodegroup", "--cluster-name", "blue", "--nodegroup-name", "general")
	if ng := cliNG.Nodegroup; ng.Status != "ACTIVE" || ng.ScalingConfig.DesiredSize != 1 || ng.Labels["team"] != "web" || ng.Labels["role"] != "" {
		t.Fatalf("CLI describe-nodegroup: %+v", ng)
	}
	check("scaled to 1", 1, nil)

	// The cluster cannot go while it has node groups.
	_, err = e.eks.DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String("blue")})
	if !errors.As(err, &inUse) || aws.ToString(inUse.ClusterName) != "blue" || !strings.Contains(aws.ToString(inUse.Message), "nodegroups") {
		t.Fatalf("DeleteCluster with node groups: %v", err)
	}

	// DeleteNodegroup: DELETING, then gone with its instances and addresses.
	del, err := e.eks.DeleteNodegroup(ctx, &eks.DeleteNodegroupInput{ClusterName: aws.String("blue"), NodegroupName: aws.String("general")})
	if err != nil || del.Nodegroup.Status != types.NodegroupStatusDeleting {
		t.Fatalf("DeleteNodegroup: %v %+v", err, del)
	}
	e.clock.Advance(20 * time.Second)
	_, err = e.eks.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String("blue"), NodegroupName: aws.String("general")})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) || aws.ToString(notFound.NodegroupName) != "general" || aws.ToString(notFound.ClusterName) != "blue" {
		t.Fatalf("deleted nodegroup: %v", err)
	}
	check("deleted", 0, nil)
	for id, free := range e.available(t, eksNodeSubnets) {
		if free != baseNodes[id] {
			t.Errorf("subnet %s: %d free addresses after the node group's deletion, want %d", id, free, baseNodes[id])
		}
	}

	// DeleteCluster: DELETING, then ResourceNotFoundException, and its ENIs are gone.
	dc, err := e.eks.DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String("blue")})
	if err != nil || dc.Cluster.Status != types.ClusterStatusDeleting {
		t.Fatalf("DeleteCluster: %v", err)
	}
	if st := e.describeCluster(t, "blue").Status; st != types.ClusterStatusDeleting {
		t.Fatalf("cluster is %s while being deleted", st)
	}
	e.clock.Advance(30 * time.Second)
	_, err = e.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("blue")})
	if !errors.As(err, &notFound) || aws.ToString(notFound.ClusterName) != "blue" ||
		aws.ToString(notFound.Message) != "No cluster found for name: blue." {
		t.Fatalf("deleted cluster: %v", err)
	}
	eksAPIError(t, err, "ResourceNotFoundException", 404)
	if n := len(cpENIs()); n != 0 {
		t.Errorf("%d control-plane ENIs left after the cluster's deletion", n)
	}
	for id, free := range e.available(t, eksCPSubnets) {
		if free != baseCP[id] {
			t.Errorf("subnet %s: %d free addresses after the cluster's deletion, want %d", id, free, baseCP[id])
		}
	}
	stderr := e.cliFails(t, sandboxtest.CLIv2, "eks", "describe-cluster", "--name", "blue")
	if !strings.Contains(stderr, "An error occurred (ResourceNotFoundException) when calling the DescribeCluster operation") ||
		!strings.HasSuffix(strings.TrimSpace(stderr), ": No cluster found for name: blue.") {
		t.Errorf("CLI v2 stderr: %s", stderr)
	}
}

// TestEKSCreateValidation checks CreateCluster and CreateNodegroup refuse
// what EKS refuses, with EKS's error codes and members.
func TestEKSCreateValidation(t *testing.T) {
	e := startEKS(t)
	ctx := context.Background()
	role := aws.String("arn:aws:iam::111122223333:role/eks-cluster")
	for _, tc := range []struct {
		name, version string
		subnets       []string
		code, msg     string
	}{
		{"one-az", "1.31", []string{"subnet-0e150000000000a02", "subnet-0e150000000000a03"}, "InvalidParameterException", "Subnets specified must be in at least two different AZs"},
		{"unknown-subnet", "1.31", []string{"subnet-0e150000000000a02", "subnet-0e15000000000dead"}, "InvalidParameterException", "The subnet ID 'subnet-0e15000000000dead' does not exist"},
		{"two-vpcs", "1.31", []string{"subnet-0e150000000000a02", "subnet-0e150000000000f01"}, "InvalidParameterException", "same VPC"},
		{"too-old", "1.27", eksCPSubnets, "InvalidParameterException", "unsupported Kubernetes version 1.27"},
		{"unreleased", "1.34", eksCPSubnets, "InvalidParameterException", "unsupported Kubernetes version 1.34"},
	} {
		_, err := e.eks.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String(tc.name), Version: aws.String(tc.version), RoleArn: role,
			ResourcesVpcConfig: &types.VpcConfigRequest{SubnetIds: tc.subnets}})
		eksAPIError(t, err, tc.code, 400)
		var ip *types.InvalidParameterException
		if !errors.As(err, &ip) || aws.ToString(ip.ClusterName) != tc.name || !strings.Contains(aws.ToString(ip.Message), tc.msg) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// Nothing was created, and no address was taken.
	list, err := e.eks.ListClusters(ctx, &eks.ListClustersInput{})
	if err != nil || len(list.Clusters) != 0 {
		t.Fatalf("ListClusters after refusals: %v %v", err, list)
	}
	// No version: the default (the newest released, 1.33 on 1 June 2025).
	if c := e.createCluster(t, "default-version", ""); aws.ToString(c.Version) != "1.33" {
		t.Errorf("default version %s", aws.ToString(c.Version))
	}
	// EKS refuses to delete a cluster it is still creating.
	_, err = e.eks.DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String("default-version")})
	eksAPIError(t, err, "ResourceInUseException", 409)
	e.clock.Advance(61 * time.Second)

	ng := func(name string, mod func(*eks.CreateNodegroupInput)) error {
		in := &eks.CreateNodegroupInput{ClusterName: aws.String("default-version"), NodegroupName: aws.String(name),
			NodeRole: aws.String("arn:aws:iam::111122223333:role/node"), Subnets: eksNodeSubnets, InstanceTypes: []string{"m5.large"}}
		mod(in)
		_, err := e.eks.CreateNodegroup(ctx, in)
		return err
	}
	for _, tc := range []struct {
		name string
		mod  func(*eks.CreateNodegroupInput)
		code string
	}{
		{"unknown-type", func(in *eks.CreateNodegroupInput) { in.InstanceTypes = []string{"m5.huge"} }, "InvalidParameterException"},
		{"desired-above-max", func(in *eks.CreateNodegroupInput) {
			in.ScalingConfig = &types.NodegroupScalingConfig{MinSize: aws.Int32(1), MaxSize: aws.Int32(2), DesiredSize: aws.Int32(3)}
		}, "InvalidParameterException"},
		{"other-vpc", func(in *eks.CreateNodegroupInput) { in.Subnets = []string{"subnet-0e150000000000f01"} }, "InvalidParameterException"},
		{"al2-on-133", func(in *eks.CreateNodegroupInput) { in.AmiType = types.AMITypesAl2X8664 }, "InvalidParameterException"},
		{"arm-ami-x86-type", func(in *eks.CreateNodegroupInput) { in.AmiType = types.AMITypesAl2023Arm64Standard }, "InvalidParameterException"},
		{"newer-than-cluster", func(in *eks.CreateNodegroupInput) { in.Version = aws.String("1.34") }, "InvalidParameterException"},
	} {
		err := ng(tc.name, tc.mod)
		eksAPIError(t, err, tc.code, 400)
		var ip *types.InvalidParameterException
		if !errors.As(err, &ip) || aws.ToString(ip.NodegroupName) != tc.name {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if err := ng("ok", func(*eks.CreateNodegroupInput) {}); err != nil {
		t.Fatal(err)
	}
	err = ng("ok", func(*eks.CreateNodegroupInput) {})
	eksAPIError(t, err, "ResourceInUseException", 409)
	// EKS's defaults: 1/2/2 nodes.
	got := e.describeNodegroup(t, "default-version", "ok").ScalingConfig
	if aws.ToInt32(got.MinSize) != 1 || aws.ToInt32(got.MaxSize) != 2 || aws.ToInt32(got.DesiredSize) != 2 {
		t.Errorf("default scaling %+v", got)
	}
}

// TestEKSErrorShapes checks EKS's error shapes through the SDK, the HTTP
// layer and both CLIs.
func TestEKSErrorShapes(t *testing.T) {
	e := startEKS(t)
	ctx := context.Background()
	_, err := e.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.ClusterName) != "nope" || aws.ToString(nf.Message) != "No cluster found for name: nope." {
		t.Fatalf("DescribeCluster nope: %v", err)
	}
	eksAPIError(t, err, "ResourceNotFoundException", 404)
	e.activeCluster(t, "c1", "1.31")
	_, err = e.eks.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String("c1"), NodegroupName: aws.String("ng")})
	if !errors.As(err, &nf) || aws.ToString(nf.NodegroupName) != "ng" || aws.ToString(nf.ClusterName) != "c1" {
		t.Fatalf("DescribeNodegroup: %v", err)
	}
	_, err = e.eks.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String("c1"), AddonName: aws.String("vpc-cni")})
	if !errors.As(err, &nf) || aws.ToString(nf.AddonName) != "vpc-cni" {
		t.Fatalf("DescribeAddon: %v", err)
	}
	_, err = e.eks.ListNodegroups(ctx, &eks.ListNodegroupsInput{ClusterName: aws.String("nope")})
	eksAPIError(t, err, "ResourceNotFoundException", 404)
	for _, bin := range []string{sandboxtest.CLIv2, "python3"} {
		stderr := e.cliFails(t, bin, "eks", "describe-nodegroup", "--cluster-name", "c1", "--nodegroup-name", "ng")
		if !strings.Contains(stderr, "An error occurred (ResourceNotFoundException) when calling the DescribeNodegroup operation") ||
			!strings.HasSuffix(strings.TrimSpace(stderr), ": No node group found for name: ng.") {
			t.Errorf("%s stderr: %s", bin, stderr)
		}
	}
}

// TestEKSListClustersPagination pages through three clusters one at a time
// with the SDK's paginator and both CLIs, and checks paging errors.
func TestEKSListClustersPagination(t *testing.T) {
	e := startEKS(t)
	ctx := context.Background()
	for _, n := range []string{"gamma", "alpha", "beta"} {
		e.createCluster(t, n, "1.31")
	}
	want := []string{"alpha", "beta", "gamma"}
	var got []string
	pages := 0
	p := eks.NewListClustersPaginator(e.eks, &eks.ListClustersInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Clusters) != 1 {
			t.Fatalf("page %d has %d clusters", pages, len(page.Clusters))
		}
		got = append(got, page.Clusters...)
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%d pages: %v", pages, got)
	}
	for _, n := range []int32{0, 101} {
		_, err := e.eks.ListClusters(ctx, &eks.ListClustersInput{MaxResults: aws.Int32(n)})
		eksAPIError(t, err, "InvalidParameterException", 400)
	}
	_, err := e.eks.ListClusters(ctx, &eks.ListClustersInput{NextToken: aws.String("forged")})
	eksAPIError(t, err, "InvalidParameterException", 400)

	for _, bin := range []string{sandboxtest.CLIv2, "python3"} {
		// --page-size makes the CLI send maxResults=1 and follow nextToken.
		var all struct{ Clusters []string }
		e.cli(t, &all, bin, "eks", "list-clusters", "--page-size", "1")
		if strings.Join(all.Clusters, ",") != strings.Join(want, ",") {
			t.Errorf("%s --page-size 1: %v", bin, all.Clusters)
		}
		var first struct {
			Clusters  []string
			NextToken string
		}
		e.cli(t, &first, bin, "eks", "list-clusters", "--max-items", "1")
		if len(first.Clusters) != 1 || first.Clusters[0] != "alpha" || first.NextToken == "" {
			t.Fatalf("%s --max-items 1: %+v", bin, first)
		}
		var rest struct{ Clusters []string }
		e.cli(t, &rest, bin, "eks", "list-clusters", "--starting-token", first.NextToken)
		if strings.Join(rest.Clusters, ",") != "beta,gamma" {
			t.Errorf("%s --starting-token: %v", bin, rest.Clusters)
		}
	}
}

// TestEKSClusterVersions checks DescribeClusterVersions against the EKS
// calendar as the emulator's clock moves, through the SDK and the CLI v1
// (the Debian CLI v2 predates the operation).
func TestEKSClusterVersions(t *testing.T) {
	e := startEKS(t)
	ctx := context.Background()
	list := func(in *eks.DescribeClusterVersionsInput) []types.ClusterVersionInformation {
		t.Helper()
		var out []types.ClusterVersionInformation
		p := eks.NewDescribeClusterVersionsPaginator(e.eks, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, page.ClusterVersions...)
		}
		return out
	}
	summary := func(vs []types.ClusterVersionInformation) string {
		var s []string
		for _, v := range vs {
			s = append(s, aws.ToString(v.ClusterVersion)+":"+string(v.VersionStatus))
		}
		return strings.Join(s, " ")
	}
	// 1 June 2025.
	all := list(&eks.DescribeClusterVersionsInput{MaxResults: aws.Int32(2)})
	if got := summary(all); got != "1.33:STANDARD_SUPPORT 1.32:STANDARD_SUPPORT 1.31:STANDARD_SUPPORT 1.30:STANDARD_SUPPORT 1.29:EXTENDED_SUPPORT 1.28:EXTENDED_SUPPORT" {
		t.Fatalf("versions on 2025-06-01: %s", got)
	}
	for _, v := range all {
		isDefault := aws.ToString(v.ClusterVersion) == "1.33"
		if v.DefaultVersion != isDefault || aws.ToString(v.ClusterType) != "eks" || aws.ToString(v.KubernetesPatchVersion) == "" {
			t.Errorf("%s: %+v", aws.ToString(v.ClusterVersion), v)
		}
		if aws.ToString(v.ClusterVersion) == "1.31" {
			if !v.ReleaseDate.Equal(time.Date(2024, 9, 26, 0, 0, 0, 0, time.UTC)) ||
				!v.EndOfStandardSupportDate.Equal(time.Date(2025, 11, 26, 0, 0, 0, 0, time.UTC)) ||
				!v.EndOfExtendedSupportDate.Equal(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)) ||
				v.Status != types.ClusterVersionStatusStandardSupport {
				t.Errorf("1.31: %+v", v)
			}
		}
	}
	if got := summary(list(&eks.DescribeClusterVersionsInput{DefaultOnly: aws.Bool(true)})); got != "1.33:STANDARD_SUPPORT" {
		t.Errorf("defaultOnly: %s", got)
	}
	if got := summary(list(&eks.DescribeClusterVersionsInput{VersionStatus: types.VersionStatusExtendedSupport})); got != "1.29:EXTENDED_SUPPORT 1.28:EXTENDED_SUPPORT" {
		t.Errorf("versionStatus EXTENDED_SUPPORT: %s", got)
	}

	// 1 January 2026: 1.34 is out (1.35 is not yet), 1.30 and 1.31 are in extended support, 1.28 is unsupported.
	e.clock.Advance(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).Sub(eksStart))
	if got := summary(list(&eks.DescribeClusterVersionsInput{})); got != "1.34:STANDARD_SUPPORT 1.33:STANDARD_SUPPORT 1.32:STANDARD_SUPPORT 1.31:EXTENDED_SUPPORT 1.30:EXTENDED_SUPPORT 1.29:EXTENDED_SUPPORT" {
		t.Errorf("versions on 2026-01-01: %s", got)
	}
	var cli struct {
		ClusterVersions []struct {
			ClusterVersion, VersionStatus, Status string
			DefaultVersion                        bool
		}
	}
	e.cli(t, &cli, "python3", "eks", "describe-cluster-versions", "--include-all")
	var got []string
	for _, v := range cli.ClusterVersions {
		got = append(got, v.ClusterVersion+":"+v.VersionStatus+":"+v.Status)
	}
	if strings.Join(got, " ") != "1.34:STANDARD_SUPPORT:standard-support 1.33:STANDARD_SUPPORT:standard-support 1.32:STANDARD_SUPPORT:standard-support "+
		"1.31:EXTENDED_SUPPORT:extended-support 1.30:EXTENDED_SUPPORT:extended-support 1.29:EXTENDED_SUPPORT:extended-support 1.28:UNSUPPORTED:unsupported" {
		t.Errorf("CLI v1 --include-all: %v", got)
	}
	if !cli.ClusterVersions[0].DefaultVersion {
		t.Errorf("1.34 is not the default on 2026-01-01")
	}
	// An unsupported version cannot be created any more.
	_, err := e.eks.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String("old"), Version: aws.String("1.28"),
		RoleArn: aws.String("arn:aws:iam::111122223333:role/r"), ResourcesVpcConfig: &types.VpcConfigRequest{SubnetIds: eksCPSubnets}})
	eksAPIError(t, err, "InvalidParameterException", 400)
	_, err = e.eks.DescribeClusterVersions(ctx, &eks.DescribeClusterVersionsInput{MaxResults: aws.Int32(200)})
	eksAPIError(t, err, "InvalidParameterException", 400)
}

// TestEKSAddons runs add-ons through their life and checks
// DescribeAddonVersions' catalog and paging.
func TestEKSAddons(t *testing.T) {
	e := startEKS(t)
	ctx := context.Background()
	e.activeCluster(t, "c1", "1.31")

	out, err := e.eks.DescribeAddonVersions(ctx, &eks.DescribeAddonVersionsInput{KubernetesVersion: aws.String("1.31"), AddonName: aws.String("vpc-cni")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Addons) != 1 || aws.ToString(out.Addons[0].AddonName) != "vpc-cni" {
		t.Fatalf("addons %+v", out.Addons)
	}
	defaults := 0
	for _, v := range out.Addons[0].AddonVersions {
		if len(v.Compatibilities) != 1 || aws.ToString(v.Compatibilities[0].ClusterVersion) != "1.31" {
			t.Errorf("%s: compatibilities %+v", aws.ToString(v.AddonVersion), v.Compatibilities)
		}
		if v.Compatibilities[0].DefaultVersion {
			defaults++
			if aws.ToString(v.AddonVersion) != "v1.19.2-eksbuild.1" {
				t.Errorf("default vpc-cni for 1.31: %s", aws.ToString(v.AddonVersion))
			}
		}
	}
	if defaults != 1 {
		t.Errorf("%d default vpc-cni versions for 1.31", defaults)
	}
	// Paging over the five add-ons, two at a time.
	var names []string
	pages := 0
	p := eks.NewDescribeAddonVersionsPaginator(e.eks, &eks.DescribeAddonVersionsInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range page.Addons {
			names = append(names, aws.ToString(a.AddonName))
		}
	}
	if pages != 3 || strings.Join(names, ",") != "aws-ebs-csi-driver,coredns,eks-pod-identity-agent,kube-proxy,vpc-cni" {
		t.Errorf("%d pages: %v", pages, names)
	}
	var cli struct {
		Addons []struct {
			AddonName     string
			AddonVersions []struct{ AddonVersion string }
		}
	}
	e.cli(t, &cli, sandboxtest.CLIv2, "eks", "describe-addon-versions", "--kubernetes-version", "1.31", "--addon-name", "kube-proxy")
	if len(cli.Addons) != 1 || len(cli.Addons[0].AddonVersions) != 2 || cli.Addons[0].AddonVersions[0].AddonVersion != "v1.31.10-eksbuild.2" {
		t.Errorf("CLI describe-addon-versions kube-proxy 1.31: %+v", cli)
	}

	created, err := e.eks.CreateAddon(ctx, &eks.CreateAddonInput{ClusterName: aws.String("c1"), AddonName: aws.String("vpc-cni")})
	if err != nil {
		t.Fatal(err)
	}
	if a := created.Addon; a.Status != types.AddonStatusCreating || aws.ToString(a.AddonVersion) != "v1.19.2-eksbuild.1" ||
		!strings.HasPrefix(aws.ToString(a.AddonArn), "arn:aws:eks:us-east-1:111122223333:addon/c1/vpc-cni/") {
		t.Fatalf("created addon %+v", a)
	}
	_, err = e.eks.CreateAddon(ctx, &eks.CreateAddonInput{ClusterName: aws.String("c1"), AddonName: aws.String("vpc-cni")})
	eksAPIError(t, err, "ResourceInUseException", 409)
	_, err = e.eks.CreateAddon(ctx, &eks.CreateAddonInput{ClusterName: aws.String("c1"), AddonName: aws.String("not-an-addon")})
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) || aws.ToString(ip.AddonName) != "not-an-addon" {
		t.Errorf("unknown add-on: %v", err)
	}
	_, err = e.eks.CreateAddon(ctx, &eks.CreateAddonInput{ClusterName: aws.String("c1"), AddonName: aws.String("kube-proxy"),
		AddonVersion: aws.String("v1.32.6-eksbuild.2")})
	eksAPIError(t, err, "InvalidParameterException", 400)
	if _, err := e.eks.CreateAddon(ctx, &eks.CreateAddonInput{ClusterName: aws.String("c1"), AddonName: aws.String("coredns"),
		AddonVersion: aws.String("v1.11.4-eksbuild.2")}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Second)
	da, err := e.eks.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String("c1"), AddonName: aws.String("vpc-cni")})
	if err != nil || da.Addon.Status != types.AddonStatusActive {
		t.Fatalf("DescribeAddon: %v %+v", err, da)
	}
	var addons []string
	lp := eks.NewListAddonsPaginator(e.eks, &eks.ListAddonsInput{ClusterName: aws.String("c1"), MaxResults: aws.Int32(1)})
	for lp.HasMorePages() {
		page, err := lp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		addons = append(addons, page.Addons...)
	}
	if strings.Join(addons, ",") != "coredns,vpc-cni" {
		t.Errorf("ListAddons: %v", addons)
	}
	deleted, err := e.eks.DeleteAddon(ctx, &eks.DeleteAddonInput{ClusterName: aws.String("c1"), AddonName: aws.String("vpc-cni")})
	if err != nil || deleted.Addon.Status != types.AddonStatusDeleting {
		t.Fatalf("DeleteAddon: %v", err)
	}
	e.clock.Advance(5 * time.Second)
	_, err = e.eks.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String("c1"), AddonName: aws.String("vpc-cni")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.AddonName) != "vpc-cni" {
		t.Errorf("deleted add-on: %v", err)
	}
}

// TestEKSInsights checks the upgrade insights the emulator derives from a
// cluster's node groups and add-ons, through the SDK and the CLI v1.
func TestEKSInsights(t *testing.T) {
	e := startEKS(t)
	ctx := context.Background()
	e.activeCluster(t, "c1", "1.31")
	for name, version := range map[string]string{"vpc-cni": "v1.18.6-eksbuild.1", "coredns": "v1.11.4-eksbuild.2", "kube-proxy": "v1.31.3-eksbuild.2"} {
		if _, err := e.eks.CreateAddon(ctx, &eks.CreateAddonInput{ClusterName: aws.String("c1"), AddonName: aws.String(name),
			AddonVersion: aws.String(version)}); err != nil {
			t.Fatal(err)
		}
	}
	// A node group three minors behind: upgrading the control plane to 1.32 breaks the skew policy.
	if _, err := e.eks.CreateNodegroup(ctx, &eks.CreateNodegroupInput{ClusterName: aws.String("c1"), NodegroupName: aws.String("old"),
		Version: aws.String("1.28"), NodeRole: aws.String("arn:aws:iam::111122223333:role/node"), Subnets: eksNodeSubnets,
		InstanceTypes: []string{"m5.large"},
		ScalingConfig: &types.NodegroupScalingConfig{MinSize: aws.Int32(1), MaxSize: aws.Int32(1), DesiredSize: aws.Int32(1)}}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(40 * time.Second)

	list := func(in *eks.ListInsightsInput) map[string]types.InsightSummary {
		t.Helper()
		in.ClusterName = aws.String("c1")
		out := map[string]types.InsightSummary{}
		p := eks.NewListInsightsPaginator(e.eks, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range page.Insights {
				out[aws.ToString(i.Name)] = i
			}
		}
		return out
	}
	ins := list(&eks.ListInsightsInput{MaxResults: aws.Int32(2)})
	want := map[string]types.InsightStatusValue{
		"Deprecated APIs removed in Kubernetes v1.32": types.InsightStatusValuePassing,
		"Kubelet version skew":                        types.InsightStatusValueError,
		"EKS add-on version compatibility":            types.InsightStatusValueError,
		"kube-proxy version skew":                     types.InsightStatusValuePassing,
		"Cluster health issues":                       types.InsightStatusValuePassing,
	}
	if len(ins) != len(want) {
		t.Fatalf("insights: %v", ins)
	}
	for name, st := range want {
		i, ok := ins[name]
		if !ok || i.InsightStatus.Status != st || aws.ToString(i.KubernetesVersion) != "1.32" || i.Category != types.CategoryUpgradeReadiness ||
			aws.ToString(i.Description) == "" || aws.ToString(i.Id) == "" {
			t.Errorf("%s: %+v", name, i)
		}
	}
	if r := aws.ToString(ins["EKS add-on version compatibility"].InsightStatus.Reason); !strings.Contains(r, "vpc-cni") || strings.Contains(r, "coredns") {
		t.Errorf("add-on compatibility reason: %s", r)
	}
	errorsOnly := list(&eks.ListInsightsInput{Filter: &types.InsightsFilter{Statuses: []types.InsightStatusValue{types.InsightStatusValueError}}})
	if len(errorsOnly) != 2 {
		t.Errorf("ERROR filter: %v", errorsOnly)
	}
	if n := len(list(&eks.ListInsightsInput{Filter: &types.InsightsFilter{Categories: []types.Category{types.CategoryMisconfiguration}}})); n != 0 {
		t.Errorf("MISCONFIGURATION filter: %d insights", n)
	}

	addonID := aws.ToString(ins["EKS add-on version compatibility"].Id)
	d, err := e.eks.DescribeInsight(ctx, &eks.DescribeInsightInput{ClusterName: aws.String("c1"), Id: aws.String(addonID)})
	if err != nil {
		t.Fatal(err)
	}
	details := d.Insight.CategorySpecificSummary.AddonCompatibilityDetails
	sort.Slice(details, func(i, j int) bool { return aws.ToString(details[i].Name) < aws.ToString(details[j].Name) })
	if len(details) != 2 || aws.ToString(details[1].Name) != "vpc-cni" || !eksContains(details[1].CompatibleVersions, "v1.19.2-eksbuild.1") ||
		eksContains(details[1].CompatibleVersions, "v1.18.6-eksbuild.1") || len(d.Insight.Resources) != 2 {
		t.Errorf("add-on insight details %+v resources %+v", details, d.Insight.Resources)
	}

	// The CLI v1 (the Debian CLI v2 predates the insights API) sees the same, by the same stable IDs.
	var cliList struct {
		Insights []struct {
			ID, Name      string
			InsightStatus struct{ Status string }
		}
	}
	e.cli(t, &cliList, "python3", "eks", "list-insights", "--cluster-name", "c1", "--filter", "statuses=ERROR")
	if len(cliList.Insights) != 2 {
		t.Fatalf("CLI list-insights ERROR: %+v", cliList)
	}
	var kubeletID string
	for _, i := range cliList.Insights {
		if i.ID != aws.ToString(ins[i.Name].Id) {
			t.Errorf("%s: ID %s, earlier %s", i.Name, i.ID, aws.ToString(ins[i.Name].Id))
		}
		if i.Name == "Kubelet version skew" {
			kubeletID = i.ID
		}
	}
	var cliDescribe struct {
		Insight struct {
			Recommendation string
			Resources      []struct {
				Arn           string
				InsightStatus struct{ Status string }
			}
		}
	}
	e.cli(t, &cliDescribe, "python3", "eks", "describe-insight", "--cluster-name", "c1", "--id", kubeletID)
	if r := cliDescribe.Insight.Resources; len(r) != 1 || r[0].InsightStatus.Status != "ERROR" || !strings.Contains(r[0].Arn, ":nodegroup/c1/old/") {
		t.Errorf("CLI describe-insight kubelet: %+v", cliDescribe)
	}
	depID := aws.ToString(ins["Deprecated APIs removed in Kubernetes v1.32"].Id)
	dep, err := e.eks.DescribeInsight(ctx, &eks.DescribeInsightInput{ClusterName: aws.String("c1"), Id: aws.String(depID)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(aws.ToString(dep.Insight.Recommendation), "no API usage data") ||
		len(dep.Insight.CategorySpecificSummary.DeprecationDetails) == 0 ||
		aws.ToString(dep.Insight.CategorySpecificSummary.DeprecationDetails[0].StopServingVersion) != "1.32" {
		t.Errorf("deprecated APIs insight %+v", dep.Insight)
	}

	// Fix both: the old node group goes, vpc-cni moves to a compatible version.
	if _, err := e.eks.DeleteNodegroup(ctx, &eks.DeleteNodegroupInput{ClusterName: aws.String("c1"), NodegroupName: aws.String("old")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eks.DeleteAddon(ctx, &eks.DeleteAddonInput{ClusterName: aws.String("c1"), AddonName: aws.String("vpc-cni")}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(20 * time.Second)
	if _, err := e.eks.CreateAddon(ctx, &eks.CreateAddonInput{ClusterName: aws.String("c1"), AddonName: aws.String("vpc-cni"),
		AddonVersion: aws.String("v1.19.2-eksbuild.1")}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Second)
	for name, i := range list(&eks.ListInsightsInput{}) {
		if i.InsightStatus.Status != types.InsightStatusValuePassing {
			t.Errorf("after the fixes, %s is %s: %s", name, i.InsightStatus.Status, aws.ToString(i.InsightStatus.Reason))
		}
		if aws.ToString(i.Id) != aws.ToString(ins[name].Id) {
			t.Errorf("%s changed ID", name)
		}
	}
	_, err = e.eks.DescribeInsight(ctx, &eks.DescribeInsightInput{ClusterName: aws.String("c1"), Id: aws.String("00000000-0000-0000-0000-000000000000")})
	eksAPIError(t, err, "ResourceNotFoundException", 404)
}

func eksContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestEKSCLIv2 drives the cluster, node group and add-on operations the
// Debian CLI v2 knows through it, so botocore's serialisation of every
// request body and its parsing of every response are exercised.
func TestEKSCLIv2(t *testing.T) {
	e := startEKS(t)
	cli := sandboxtest.CLIv2
	var created struct{ Cluster map[string]any }
	e.cli(t, &created, cli, "eks", "create-cluster", "--name", "web", "--kubernetes-version", "1.32",
		"--role-arn", "arn:aws:iam::111122223333:role/eks-cluster",
		"--resources-vpc-config", "subnetIds="+strings.Join(eksCPSubnets, ",")+",endpointPublicAccess=true,endpointPrivateAccess=false",
		"--kubernetes-network-config", "serviceIpv4Cidr=10.96.0.0/16",
		"--tags", "env=test")
	if created.Cluster["status"] != "CREATING" || created.Cluster["version"] != "1.32" {
		t.Fatalf("create-cluster: %v", created.Cluster)
	}
	if _, ok := created.Cluster["endpoint"]; ok {
		t.Errorf("a CREATING cluster has an endpoint: %v", created.Cluster["endpoint"])
	}
	if knc, _ := created.Cluster["kubernetesNetworkConfig"].(map[string]any); knc["serviceIpv4Cidr"] != "10.96.0.0/16" {
		t.Errorf("kubernetesNetworkConfig %v", knc)
	}
	// The CLI renders epoch-second timestamps as ISO 8601 in the emulator's time.
	if ts, _ := created.Cluster["createdAt"].(string); !strings.HasPrefix(ts, "2025-06-01T12:00:00") {
		t.Errorf("createdAt %v", created.Cluster["createdAt"])
	}
	e.clock.Advance(61 * time.Second)

	var ng struct {
		Nodegroup struct {
			Status        string
			ScalingConfig struct{ MinSize, MaxSize, DesiredSize int }
			Labels        map[string]string
			Taints        []struct{ Key, Value, Effect string }
			CapacityType  string
			InstanceTypes []string
		}
	}
	e.cli(t, &ng, cli, "eks", "create-nodegroup", "--cluster-name", "web", "--nodegroup-name", "spot",
		"--node-role", "arn:aws:iam::111122223333:role/node", "--subnets", eksNodeSubnets[0], eksNodeSubnets[1],
		"--instance-types", "m5.large", "m5.xlarge", "--capacity-type", "SPOT",
		"--scaling-config", "minSize=0,maxSize=3,desiredSize=1", "--labels", "pool=spot",
		"--taints", "key=spot,value=true,effect=NO_EXECUTE")
	if n := ng.Nodegroup; n.Status != "CREATING" || n.ScalingConfig.DesiredSize != 1 || n.ScalingConfig.MinSize != 0 ||
		n.Labels["pool"] != "spot" || len(n.Taints) != 1 || n.Taints[0].Effect != "NO_EXECUTE" || n.CapacityType != "SPOT" ||
		len(n.InstanceTypes) != 2 {
		t.Fatalf("create-nodegroup: %+v", n)
	}
	var ngs struct{ Nodegroups []string }
	e.cli(t, &ngs, cli, "eks", "list-nodegroups", "--cluster-name", "web")
	if strings.Join(ngs.Nodegroups, ",") != "spot" {
		t.Errorf("list-nodegroups: %v", ngs.Nodegroups)
	}
	var addon struct {
		Addon struct{ AddonName, AddonVersion, Status string }
	}
	e.cli(t, &addon, cli, "eks", "create-addon", "--cluster-name", "web", "--addon-name", "kube-proxy")
	if addon.Addon.AddonVersion != "v1.32.6-eksbuild.2" || addon.Addon.Status != "CREATING" {
		t.Errorf("create-addon: %+v", addon.Addon)
	}
	e.clock.Advance(40 * time.Second)
	if n := e.nodes(t, "spot"); n.instances != 1 {
		t.Errorf("%d spot instances, want 1", n.instances)
	}
	var addons struct{ Addons []string }
	e.cli(t, &addons, cli, "eks", "list-addons", "--cluster-name", "web")
	if strings.Join(addons.Addons, ",") != "kube-proxy" {
		t.Errorf("list-addons: %v", addons.Addons)
	}
	e.cli(t, &ng, cli, "eks", "delete-nodegroup", "--cluster-name", "web", "--nodegroup-name", "spot")
	if ng.Nodegroup.Status != "DELETING" {
		t.Errorf("delete-nodegroup: %s", ng.Nodegroup.Status)
	}
	stderr := e.cliFails(t, cli, "eks", "delete-cluster", "--name", "web")
	if !strings.Contains(stderr, "ResourceInUseException") {
		t.Errorf("delete-cluster with a node group: %s", stderr)
	}
	e.clock.Advance(20 * time.Second)
	var deleted struct{ Cluster struct{ Status string } }
	e.cli(t, &deleted, cli, "eks", "delete-cluster", "--name", "web")
	if deleted.Cluster.Status != "DELETING" {
		t.Errorf("delete-cluster: %s", deleted.Cluster.Status)
	}
	e.clock.Advance(30 * time.Second)
	var clusters struct{ Clusters []string }
	e.cli(t, &clusters, cli, "eks", "list-clusters")
	if len(clusters.Clusters) != 0 {
		t.Errorf("list-clusters after deletion: %v", clusters.Clusters)
	}
}
