package terraform

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/eksbg/eksbg/internal/config"
)

// AccountIDOutput is the output eksbg reads, when the network stack has
// it, to check that the workspace belongs to the environment's account: a
// cheap guard against reading staging's network for prod.
const AccountIDOutput = "account_id"

// Network is an environment's network: the VPC and subnets by role, as
// the Terraform outputs name them, and each subnet as EC2 describes it.
type Network struct {
	VpcID string `json:"vpcId"`
	// AccountID is the AccountIDOutput output; "" when the stack has none.
	AccountID string  `json:"accountId,omitempty"`
	Subnets   Subnets `json:"subnets"`
	// Details holds every subnet of Subnets, by ID, as DescribeSubnets
	// returned it (filled by Describe).
	Details map[string]Subnet `json:"details,omitempty"`
}

// Subnets are subnet IDs by role, in output order (sorted by key for map
// outputs). Pods and LoadBalancers are nil when eksbg.yaml names no output
// for them; ControlPlane is Nodes when it names none.
type Subnets struct {
	Nodes         []string `json:"nodes"`
	ControlPlane  []string `json:"controlPlane"`
	Pods          []string `json:"pods,omitempty"`
	LoadBalancers []string `json:"loadBalancers,omitempty"`
}

// Subnet is a subnet as EC2 describes it.
type Subnet struct {
	ID                 string `json:"id"`
	VpcID              string `json:"vpcId"`
	AvailabilityZone   string `json:"availabilityZone"`
	AvailabilityZoneID string `json:"availabilityZoneId"`
	CIDR               string `json:"cidr"`
	// AvailableIPs is EC2's AvailableIpAddressCount when described.
	AvailableIPs int               `json:"availableIPs"`
	Tags         map[string]string `json:"tags,omitempty"`
}

// Described returns the subnets of ids (IDs of n.Subnets) as EC2
// described them, in the same order. IDs not described are left out.
func (n *Network) Described(ids []string) []Subnet {
	out := make([]Subnet, 0, len(ids))
	for _, id := range ids {
		if s, ok := n.Details[id]; ok {
			out = append(out, s)
		}
	}
	return out
}

// ByAZ groups the subnets of ids by availability zone, keeping their order
// within a zone. IDs not described are left out.
func (n *Network) ByAZ(ids []string) map[string][]Subnet {
	m := map[string][]Subnet{}
	for _, s := range n.Described(ids) {
		m[s.AvailabilityZone] = append(m[s.AvailabilityZone], s)
	}
	return m
}

// ReadNetwork reads env's network: the outputs of its Terraform workspace
// (named by env.Network.Terraform.Outputs), then every subnet from EC2
// with api (an *ec2.Client will do). It fails if the stack's account_id
// output, when there is one, is not env's account.
func (r *Runner) ReadNetwork(ctx context.Context, env *config.Environment, api ec2.DescribeSubnetsAPIClient) (*Network, error) {
	w, err := r.ForEnv(env)
	if err != nil {
		return nil, err
	}
	outs, err := w.Outputs(ctx)
	if err != nil {
		return nil, err
	}
	n, err := NetworkFromOutputs(outs, env.Network.Terraform.Outputs)
	if err != nil {
		return nil, fmt.Errorf("reading the network of environment %s from %s: %w", env.Name, w, err)
	}
	if n.AccountID != "" && env.AWS.AccountID != "" && n.AccountID != env.AWS.AccountID {
		return nil, fmt.Errorf("%s outputs %s = %s, but environment %s is in account %s: is network.terraform.workspace right?",
			w, AccountIDOutput, n.AccountID, env.Name, env.AWS.AccountID)
	}
	if err := n.Describe(ctx, api); err != nil {
		return nil, fmt.Errorf("checking the network of environment %s: %w", env.Name, err)
	}
	return n, nil
}

// NetworkFromOutputs builds a Network (without Details) from terraform
// outputs. The VPC output must hold a string; a subnet output may hold a
// list of IDs, a map (availability zone to ID, taken in key order), or a
// single ID, where an ID may also be an object with an "id" attribute (an
// aws_subnet resource output whole). Missing, null and empty outputs are
// errors naming the output.
func NetworkFromOutputs(outs map[string]tfexec.OutputMeta, names config.TerraformOutputs) (*Network, error) {
	if len(outs) == 0 {
		return nil, fmt.Errorf("the workspace has no outputs: has the stack been applied in it?")
	}
	var n Network
	var err error
	if n.VpcID, err = outputID(outs, names.VPCID, "vpc-"); err != nil {
		return nil, err
	}
	if _, ok := outs[AccountIDOutput]; ok {
		if n.AccountID, err = outputString(outs, AccountIDOutput); err != nil {
			return nil, err
		}
		if len(n.AccountID) != 12 || strings.Trim(n.AccountID, "0123456789") != "" {
			return nil, fmt.Errorf("output %s is %q, not a 12-digit AWS account ID", AccountIDOutput, n.AccountID)
		}
	}
	so := names.SubnetIDs
	if n.Subnets.Nodes, err = subnetOutput(outs, so.Nodes); err != nil {
		return nil, err
	}
	n.Subnets.ControlPlane = n.Subnets.Nodes
	if so.ControlPlane != "" {
		if n.Subnets.ControlPlane, err = subnetOutput(outs, so.ControlPlane); err != nil {
			return nil, err
		}
	}
	if so.Pods != "" {
		if n.Subnets.Pods, err = subnetOutput(outs, so.Pods); err != nil {
			return nil, err
		}
	}
	if so.LoadBalancers != "" {
		if n.Subnets.LoadBalancers, err = subnetOutput(outs, so.LoadBalancers); err != nil {
			return nil, err
		}
	}
	return &n, nil
}

// outputValue decodes an output's value, failing on a missing or null one.
func outputValue(outs map[string]tfexec.OutputMeta, name string) (any, error) {
	o, ok := outs[name]
	if !ok {
		return nil, fmt.Errorf("no output %q (outputs: %s)", name, strings.Join(slices.Sorted(maps.Keys(outs)), ", "))
	}
	var v any
	if err := json.Unmarshal(o.Value, &v); err != nil {
		return nil, fmt.Errorf("decoding output %q: %w", name, err)
	}
	if v == nil {
		return nil, fmt.Errorf("output %q is null", name)
	}
	return v, nil
}

func outputString(outs map[string]tfexec.OutputMeta, name string) (string, error) {
	v, err := outputValue(outs, name)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("output %q holds %s, want a string", name, describeJSON(v))
	}
	return s, nil
}

// outputID reads a single resource ID (a string, or an object with an id).
func outputID(outs map[string]tfexec.OutputMeta, name, prefix string) (string, error) {
	v, err := outputValue(outs, name)
	if err != nil {
		return "", err
	}
	id, err := idOf(v, prefix)
	if err != nil {
		return "", fmt.Errorf("output %q: %w", name, err)
	}
	return id, nil
}

// subnetOutput reads a subnet output in any of the shapes NetworkFromOutputs
// accepts.
func subnetOutput(outs map[string]tfexec.OutputMeta, name string) ([]string, error) {
	v, err := outputValue(outs, name)
	if err != nil {
		return nil, err
	}
	var elems []any
	var where []string
	switch v := v.(type) {
	case string:
		if strings.ContainsAny(v, ", ") {
			return nil, fmt.Errorf("output %q is the string %q: give subnet IDs as a list, a map of availability zone to ID, or one ID", name, v)
		}
		elems, where = []any{v}, []string{""}
	case []any:
		elems = v
		for i := range v {
			where = append(where, fmt.Sprintf("[%d]", i))
		}
	case map[string]any:
		if _, ok := v["id"]; ok {
			// One aws_subnet output whole.
			elems, where = []any{v}, []string{""}
			break
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			elems = append(elems, v[k])
			where = append(where, fmt.Sprintf("[%q]", k))
		}
	default:
		return nil, fmt.Errorf("output %q holds %s: give subnet IDs as a list, a map of availability zone to ID, or one ID", name, describeJSON(v))
	}
	if len(elems) == 0 {
		return nil, fmt.Errorf("output %q holds no subnet IDs", name)
	}
	ids := make([]string, 0, len(elems))
	for i, e := range elems {
		id, err := idOf(e, "subnet-")
		if err != nil {
			return nil, fmt.Errorf("output %q%s: %w", name, where[i], err)
		}
		if slices.Contains(ids, id) {
			return nil, fmt.Errorf("output %q lists subnet %s twice", name, id)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// idOf takes a resource ID from a string or an object's "id" attribute and
// checks its prefix, which catches outputs wired to the wrong thing (CIDRs,
// ARNs, names).
func idOf(v any, prefix string) (string, error) {
	if m, ok := v.(map[string]any); ok {
		v = m["id"]
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("holds %s, want an ID (%s...)", describeJSON(v), prefix)
	}
	if !strings.HasPrefix(s, prefix) {
		return "", fmt.Errorf("%q is not an ID of the form %s<id>", s, prefix)
	}
	return s, nil
}

func describeJSON(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", v)
	case bool:
		return fmt.Sprintf("the bool %t", v)
	case float64:
		return fmt.Sprintf("the number %v", v)
	case []any:
		return fmt.Sprintf("a list of %d", len(v))
	case map[string]any:
		return fmt.Sprintf("an object with keys %s", strings.Join(slices.Sorted(maps.Keys(v)), ", "))
	}
	return fmt.Sprintf("%T", v)
}

// describeFilterLimit is how many values one EC2 filter takes.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html#query-filtering
const describeFilterLimit = 200

// Describe fills n.Details from EC2's DescribeSubnets and checks that
// every subnet exists and is in n.VpcID. Availability zones and CIDRs come
// from EC2, never from the outputs.
func (n *Network) Describe(ctx context.Context, api ec2.DescribeSubnetsAPIClient) error {
	roles := map[string][]string{} // subnet ID -> roles naming it, for messages
	var ids []string
	for _, r := range []struct {
		name string
		ids  []string
	}{{"nodes", n.Subnets.Nodes}, {"controlPlane", n.Subnets.ControlPlane}, {"pods", n.Subnets.Pods}, {"loadBalancers", n.Subnets.LoadBalancers}} {
		for _, id := range r.ids {
			if _, seen := roles[id]; !seen {
				ids = append(ids, id)
			}
			if !slices.Contains(roles[id], r.name) {
				roles[id] = append(roles[id], r.name)
			}
		}
	}
	details := make(map[string]Subnet, len(ids))
	// A subnet-id filter rather than SubnetIds: a missing subnet is then
	// absent from the answer instead of failing the whole call, so the
	// error can name every missing subnet and its role.
	for chunk := range slices.Chunk(ids, describeFilterLimit) {
		p := ec2.NewDescribeSubnetsPaginator(api, &ec2.DescribeSubnetsInput{
			Filters: []ec2types.Filter{{Name: aws.String("subnet-id"), Values: chunk}},
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("describing subnets: %w", err)
			}
			for _, s := range page.Subnets {
				d := subnetFromEC2(s)
				details[d.ID] = d
			}
		}
	}
	var problems []string
	for _, id := range ids {
		d, ok := details[id]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("subnet %s (%s) does not exist", id, strings.Join(roles[id], ", ")))
		case d.VpcID != n.VpcID:
			problems = append(problems, fmt.Sprintf("subnet %s (%s) is in %s, not in the network's VPC %s", id, strings.Join(roles[id], ", "), d.VpcID, n.VpcID))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("subnets from the terraform outputs do not match EC2: %s", strings.Join(problems, "; "))
	}
	n.Details = details
	return nil
}

func subnetFromEC2(s ec2types.Subnet) Subnet {
	d := Subnet{
		ID:                 aws.ToString(s.SubnetId),
		VpcID:              aws.ToString(s.VpcId),
		AvailabilityZone:   aws.ToString(s.AvailabilityZone),
		AvailabilityZoneID: aws.ToString(s.AvailabilityZoneId),
		CIDR:               aws.ToString(s.CidrBlock),
		AvailableIPs:       int(aws.ToInt32(s.AvailableIpAddressCount)),
	}
	if len(s.Tags) > 0 {
		d.Tags = make(map[string]string, len(s.Tags))
		for _, t := range s.Tags {
			d.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return d
}
