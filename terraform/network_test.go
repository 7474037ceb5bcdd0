package terraform

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// outputNames are the output names of docs/config.md's examples and of
// the network module.
var outputNames = config.TerraformOutputs{
	VPCID: "vpc_id",
	SubnetIDs: config.SubnetOutputs{
		Nodes: "private_subnet_ids", ControlPlane: "control_plane_subnet_ids",
		Pods: "pod_subnet_ids", LoadBalancers: "public_subnet_ids",
	},
}

func outputs(t *testing.T, kv map[string]string) map[string]tfexec.OutputMeta {
	t.Helper()
	m := map[string]tfexec.OutputMeta{}
	for k, v := range kv {
		if !json.Valid([]byte(v)) {
			t.Fatalf("output %s: invalid JSON %s", k, v)
		}
		m[k] = tfexec.OutputMeta{Value: json.RawMessage(v)}
	}
	return m
}

func TestNetworkFromOutputs(t *testing.T) {
	base := map[string]string{
		"vpc_id":                   `"vpc-1"`,
		"private_subnet_ids":       `["subnet-a1","subnet-b1"]`,
		"control_plane_subnet_ids": `{"us-east-1b":"subnet-b2","us-east-1a":"subnet-a2"}`,
		"pod_subnet_ids":           `{"us-east-1a":{"id":"subnet-a4","cidr_block":"100.64.0.0/18"}}`,
		"public_subnet_ids":        `"subnet-a3"`,
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	want := &Network{VpcID: "vpc-1", Subnets: Subnets{
		Nodes:         []string{"subnet-a1", "subnet-b1"},
		ControlPlane:  []string{"subnet-a2", "subnet-b2"},
		Pods:          []string{"subnet-a4"},
		LoadBalancers: []string{"subnet-a3"},
	}}
	tests := []struct {
		name    string
		outs    map[string]string
		names   config.TerraformOutputs
		want    *Network
		wantErr string
	}{
		{name: "every shape", outs: base, names: outputNames, want: want},
		{
			name: "list of objects, VPC object, account",
			outs: with("public_subnet_ids", `[{"id":"subnet-a3","arn":"arn:aws:ec2:..."}]`, "vpc_id", `{"id":"vpc-1","cidr_block":"10.0.0.0/16"}`,
				"account_id", `"111122223333"`),
			names: outputNames,
			want:  &Network{VpcID: "vpc-1", AccountID: "111122223333", Subnets: want.Subnets},
		},
		{
			name:  "only nodes: control plane defaults to nodes",
			outs:  base,
			names: config.TerraformOutputs{VPCID: "vpc_id", SubnetIDs: config.SubnetOutputs{Nodes: "private_subnet_ids"}},
			want:  &Network{VpcID: "vpc-1", Subnets: Subnets{Nodes: want.Subnets.Nodes, ControlPlane: want.Subnets.Nodes}},
		},
		{name: "no outputs at all", outs: map[string]string{}, names: outputNames, wantErr: "the workspace has no outputs: has the stack been applied in it?"},
		{name: "missing", outs: with("pod_subnet_ids", ""), names: outputNames,
			wantErr: `no output "pod_subnet_ids" (outputs: control_plane_subnet_ids, private_subnet_ids, public_subnet_ids, vpc_id)`},
		{name: "null", outs: with("private_subnet_ids", `null`), names: outputNames, wantErr: `output "private_subnet_ids" is null`},
		{name: "empty list", outs: with("private_subnet_ids", `[]`), names: outputNames, wantErr: `output "private_subnet_ids" holds no subnet IDs`},
		{name: "empty map", outs: with("control_plane_subnet_ids", `{}`), names: outputNames, wantErr: `output "control_plane_subnet_ids" holds no subnet IDs`},
		{name: "joined string", outs: with("private_subnet_ids", `"subnet-a1,subnet-b1"`), names: outputNames,
			wantErr: `output "private_subnet_ids" is the string "subnet-a1,subnet-b1": give subnet IDs as a list, a map of availability zone to ID, or one ID`},
		{name: "number", outs: with("private_subnet_ids", `3`), names: outputNames,
			wantErr: `output "private_subnet_ids" holds the number 3: give subnet IDs as a list`},
		{name: "CIDRs wired as IDs", outs: with("private_subnet_ids", `["10.0.0.0/22"]`), names: outputNames,
			wantErr: `output "private_subnet_ids"[0]: "10.0.0.0/22" is not an ID of the form subnet-<id>`},
		{name: "nested list", outs: with("control_plane_subnet_ids", `{"us-east-1a":["subnet-a2"]}`), names: outputNames,
			wantErr: `output "control_plane_subnet_ids"["us-east-1a"]: holds a list of 1, want an ID (subnet-...)`},
		{name: "duplicate", outs: with("private_subnet_ids", `["subnet-a1","subnet-a1"]`), names: outputNames,
			wantErr: `output "private_subnet_ids" lists subnet subnet-a1 twice`},
		{name: "VPC list", outs: with("vpc_id", `["vpc-1"]`), names: outputNames, wantErr: `output "vpc_id": holds a list of 1, want an ID (vpc-...)`},
		{name: "VPC subnet", outs: with("vpc_id", `"subnet-a1"`), names: outputNames, wantErr: `output "vpc_id": "subnet-a1" is not an ID of the form vpc-<id>`},
		{name: "account", outs: with("account_id", `"1111"`), names: outputNames, wantErr: `output account_id is "1111", not a 12-digit AWS account ID`},
		{name: "account number", outs: with("account_id", `111122223333`), names: outputNames, wantErr: `output "account_id" holds the number 1.11122223333e+11, want a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NetworkFromOutputs(outputs(t, tt.outs), tt.names)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// demoSubnets are the demo scenario's subnets eksbg must learn from EC2
// (internal/sandbox/scenarios/demo.yaml).
var demoSubnets = map[string][2]string{ // ID -> AZ, CIDR
	"subnet-0de00000000000a01": {"us-east-1a", "10.20.0.0/22"},
	"subnet-0de00000000000b01": {"us-east-1b", "10.20.4.0/22"},
	"subnet-0de00000000000c01": {"us-east-1c", "10.20.8.0/23"},
	"subnet-0de00000000000a02": {"us-east-1a", "10.20.240.0/28"},
	"subnet-0de00000000000b02": {"us-east-1b", "10.20.240.16/28"},
	"subnet-0de00000000000c02": {"us-east-1c", "10.20.240.32/28"},
	"subnet-0de00000000000a03": {"us-east-1a", "10.20.250.0/24"},
	"subnet-0de00000000000b03": {"us-east-1b", "10.20.251.0/24"},
	"subnet-0de00000000000c03": {"us-east-1c", "10.20.252.0/24"},
}

// TestReadNetwork reads the network stack's outputs with real terraform and
// the subnets from the sandbox's EC2.
func TestReadNetwork(t *testing.T) {
	dir := stack(t, "network", "staging", "prod")
	sb := sandboxtest.StartScenario(t, "demo")
	api := ec2.NewFromConfig(sb.AWS)
	r := newRunner(t)
	env := func(ws, account string) *config.Environment {
		return &config.Environment{
			Name: ws,
			AWS:  config.AWS{Region: sb.Region, AccountID: account},
			Network: config.Network{Terraform: config.Terraform{
				Dir: dir, Workspace: ws, Outputs: outputNames,
			}},
		}
	}

	n, err := r.ReadNetwork(t.Context(), env("staging", sb.Account), api)
	if err != nil {
		t.Fatal(err)
	}
	wantSubnets := Subnets{
		Nodes:         []string{"subnet-0de00000000000a01", "subnet-0de00000000000b01", "subnet-0de00000000000c01"},
		ControlPlane:  []string{"subnet-0de00000000000a02", "subnet-0de00000000000b02", "subnet-0de00000000000c02"},
		Pods:          []string{"subnet-0de00000000000c03"},
		LoadBalancers: []string{"subnet-0de00000000000a03", "subnet-0de00000000000b03"},
	}
	if n.VpcID != "vpc-0de00000000000001" || n.AccountID != sb.Account || !reflect.DeepEqual(n.Subnets, wantSubnets) {
		t.Errorf("ReadNetwork() = %+v, want VPC vpc-0de00000000000001, account %s, subnets %+v", n, sb.Account, wantSubnets)
	}
	if len(n.Details) != 9 {
		t.Errorf("described %d subnets, want 9", len(n.Details))
	}
	for id, d := range n.Details {
		want, ok := demoSubnets[id]
		if !ok || d.AvailabilityZone != want[0] || d.CIDR != want[1] || d.VpcID != n.VpcID || d.ID != id || d.AvailabilityZoneID == "" || d.AvailableIPs <= 0 {
			t.Errorf("Details[%s] = %+v, want AZ %s CIDR %s", id, d, want[0], want[1])
		}
	}
	// A /22 has 1019 usable addresses; the scenario reserves 40 and demo-blue's
	// nodes hold more.
	if d := n.Details["subnet-0de00000000000a01"]; d.Tags["Name"] != "demo-nodes-a" || d.AvailableIPs >= 1019-40 {
		t.Errorf("node subnet a = %+v: want its tags and free addresses from EC2", d)
	}
	if d := n.Described(append([]string{"subnet-0de00000000000c03"}, n.Subnets.Nodes...)); len(d) != 4 || d[0].CIDR != "10.20.252.0/24" || d[3].ID != "subnet-0de00000000000c01" {
		t.Errorf("Described() = %+v, want the pod subnet then the node subnets, in order", d)
	}
	byAZ := n.ByAZ(n.Subnets.ControlPlane)
	if len(byAZ) != 3 || byAZ["us-east-1b"][0].ID != "subnet-0de00000000000b02" {
		t.Errorf("ByAZ(control plane) = %+v", byAZ)
	}

	_, err = r.ReadNetwork(t.Context(), env("prod", sb.Account), api)
	if err == nil || !strings.Contains(err.Error(), "outputs account_id = 444455556666, but environment prod is in account 111122223333") {
		t.Errorf("ReadNetwork(prod) error = %v, want an account mismatch", err)
	}

	_, err = r.ReadNetwork(t.Context(), env("default", sb.Account), api)
	if err == nil || !strings.Contains(err.Error(), "has the stack been applied in it?") {
		t.Errorf("ReadNetwork(default) error = %v, want no outputs", err)
	}
}

func TestDescribeMismatch(t *testing.T) {
	sb := sandboxtest.StartYAML(t, `
apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: eu-west-1
vpcs:
  - id: vpc-00000000000000001
    cidr: 10.0.0.0/16
    subnets:
      - {id: subnet-00000000000000a01, az: eu-west-1a, cidr: 10.0.0.0/24}
      - {id: subnet-00000000000000b01, az: eu-west-1b, cidr: 10.0.1.0/24}
  - id: vpc-00000000000000002
    cidr: 10.1.0.0/16
    subnets:
      - {id: subnet-00000000000000a02, az: eu-west-1a, cidr: 10.1.0.0/24}
`)
	api := ec2.NewFromConfig(sb.AWS)
	n := &Network{VpcID: "vpc-00000000000000001", Subnets: Subnets{
		Nodes:         []string{"subnet-00000000000000a01", "subnet-00000000000000b01"},
		ControlPlane:  []string{"subnet-00000000000000a01", "subnet-00000000000000a02"},
		LoadBalancers: []string{"subnet-0000000000000dead"},
	}}
	err := n.Describe(t.Context(), api)
	want := "subnets from the terraform outputs do not match EC2: " +
		"subnet subnet-00000000000000a02 (controlPlane) is in vpc-00000000000000002, not in the network's VPC vpc-00000000000000001; " +
		"subnet subnet-0000000000000dead (loadBalancers) does not exist"
	if err == nil || err.Error() != want {
		t.Errorf("Describe() error =\n%v\nwant\n%s", err, want)
	}
	if n.Details != nil {
		t.Errorf("Details filled despite the error: %v", n.Details)
	}

	// An AWS error keeps its code for callers to classify.
	bad := ec2.NewFromConfig(sb.AWS, func(o *ec2.Options) { o.Region = "us-west-2" })
	err = (&Network{VpcID: n.VpcID, Subnets: Subnets{Nodes: n.Subnets.Nodes}}).Describe(t.Context(), bad)
	var ae smithy.APIError
	if !errors.As(err, &ae) || !strings.HasPrefix(err.Error(), "describing subnets: ") {
		t.Errorf("Describe(wrong region) error = %v, want a wrapped smithy.APIError", err)
	}
}
