package emulator

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// EC2 (query protocol, API version 2016-11-15): the read-only calls eksbg
// and its capacity report make. Responses follow the shapes of the EC2 API
// reference (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/) with
// EC2's lowerCamel element names and <item> list members.
func (s *Server) registerEC2() {
	s.register(wire.ServiceEC2, "DescribeVpcs", describeVpcs)
	s.register(wire.ServiceEC2, "DescribeSubnets", describeSubnets)
	s.register(wire.ServiceEC2, "DescribeAvailabilityZones", describeAvailabilityZones)
	s.register(wire.ServiceEC2, "DescribeNetworkInterfaces", describeNetworkInterfaces)
	s.register(wire.ServiceEC2, "DescribeInstances", describeInstances)
	s.register(wire.ServiceEC2, "DescribeInstanceTypes", describeInstanceTypes)
	s.register(wire.ServiceEC2, "DescribeInstanceTypeOfferings", describeInstanceTypeOfferings)
	s.registerEC2CIDRReservations()
}

// ec2DryRun answers a request with DryRun=true the way EC2 does for a caller
// that holds the permission: with the DryRunOperation error.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
func ec2DryRun(c *call) *wire.APIError {
	if c.req.Form.Bool("DryRun") {
		return wire.Errorf(http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
	}
	return nil
}

// ec2Paging describes how one operation paginates.
type ec2Paging struct {
	op string
	// min and max bound MaxResults; defaultSize is the page size when the
	// caller sends none (0: everything).
	min, max, defaultSize int
	// idParam names the ID list that MaxResults may not accompany ("" when
	// the operation takes no ID list) as EC2's message spells it.
	idParam string
}

// ec2Page validates MaxResults and NextToken with EC2's rules and returns
// the window of total items to answer. EC2 takes MaxResults between 5 and
// 1000 (100 for DescribeInstanceTypes), refuses it next to an explicit ID
// list, and refuses tokens it did not hand out.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html#api-pagination
func ec2Page(c *call, p ec2Paging, total, nIDs int) (start, end int, next string, aerr *wire.APIError) {
	size, aerr := ec2CheckPaging(c, p, nIDs)
	if aerr != nil {
		return 0, 0, "", aerr
	}
	start, end, next, aerr = wire.Page(p.op, total, c.req.Form.String("NextToken"), size, p.defaultSize)
	if aerr != nil {
		// wire.Page speaks for the services whose code is InvalidNextToken;
		// EC2's is InvalidPaginationToken.
		return 0, 0, "", wire.BadRequest("InvalidPaginationToken", "The specified pagination token is not valid or is expired.")
	}
	return start, end, next, nil
}

// ec2CheckPaging validates MaxResults (returning it, 0 when absent) and
// the presence of NextToken. Handlers call it before looking anything up,
// since EC2 checks its parameters first.
func ec2CheckPaging(c *call, p ec2Paging, nIDs int) (int, *wire.APIError) {
	size, has, aerr := c.req.Form.Int("MaxResults")
	if aerr != nil {
		return 0, aerr
	}
	if has {
		if nIDs > 0 && p.idParam != "" {
			return 0, wire.BadRequest("InvalidParameterCombination", "The parameter %s cannot be used with the parameter maxResults", p.idParam)
		}
		if size < p.min {
			return 0, wire.BadRequest("InvalidParameterValue", "Value ( %d ) for parameter maxResults is invalid. Expecting a value greater than %d.", size, p.min)
		}
		if size > p.max {
			return 0, wire.BadRequest("InvalidParameterValue", "Value ( %d ) for parameter maxResults is invalid. Expecting a value less than or equal to %d.", size, p.max)
		}
	}
	if c.req.Form.String("NextToken") == "" && c.req.Form.Has("NextToken") {
		return 0, wire.BadRequest("InvalidParameterValue", "Value (  ) for parameter NextToken is invalid. The token is invalid.")
	}
	return size, nil
}

// ec2IDs reads an ID list, without duplicates, in request order.
func ec2IDs(c *call, param string) []string {
	raw := c.req.Form.EC2List(param)
	if len(raw) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(raw))
	out := make([]string, 0, len(raw))
	for _, id := range raw {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// ec2NotFound is EC2's error for IDs that name nothing: "The subnet ID
// 'subnet-1' does not exist", "The instance IDs 'i-1, i-2' do not exist".
func ec2NotFound(code, noun string, missing []string) *wire.APIError {
	if len(missing) == 1 {
		return wire.BadRequest(code, "The %s ID '%s' does not exist", noun, missing[0])
	}
	return wire.BadRequest(code, "The %s IDs '%s' do not exist", noun, strings.Join(missing, ", "))
}

// ec2Missing returns the IDs absent from m.
func ec2Missing[V any](ids []string, m map[string]V) []string {
	var out []string
	for _, id := range ids {
		if _, ok := m[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

// ec2Tag is one member of a tagSet.
type ec2Tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// ec2TagSet is a tagSet element. EC2 leaves it out of untagged VPCs,
// subnets and instances (a nil *ec2TagSet) but writes it, empty, for
// network interfaces.
type ec2TagSet struct {
	Items []ec2Tag `xml:"item"`
}

// ec2Tags is the tagSet of m, nil when m is empty.
func ec2Tags(m map[string]string) *ec2TagSet {
	if len(m) == 0 {
		return nil
	}
	return &ec2TagSet{Items: ec2TagList(m)}
}

// ec2TagList is m's tags sorted by key.
func ec2TagList(m map[string]string) []ec2Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]ec2Tag, len(keys))
	for i, k := range keys {
		out[i] = ec2Tag{Key: k, Value: m[k]}
	}
	return out
}

// ec2Empty encodes as an empty element: EC2 writes empty lists such as
// <ipv6CidrBlockAssociationSet/> rather than leaving them out.
type ec2Empty struct{}

// ec2Group is a security group reference (groupSet item).
type ec2Group struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

// ec2RegionCode abbreviates a direction word of a region name, as zone IDs
// spell them (us-east-1 -> use1, ap-southeast-2 -> apse2).
func ec2RegionCode(part string) string {
	switch part {
	case "north", "south", "east", "west", "central":
		return part[:1]
	case "northeast", "northwest", "southeast", "southwest":
		return part[:1] + part[5:6]
	case "gov":
		return "g"
	}
	return part
}

// ec2ZoneID is the AZ ID of a zone name: us-east-1a -> use1-az1. Real
// accounts map names to IDs in a shuffled order; the emulator keeps the
// letter order, which is one of the mappings an account can have.
// https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html
func ec2ZoneID(region, zone string) string {
	suffix := strings.TrimPrefix(zone, region)
	if suffix == zone || len(suffix) != 1 || suffix[0] < 'a' || suffix[0] > 'z' {
		return ""
	}
	var b strings.Builder
	for _, part := range strings.Split(region, "-") {
		b.WriteString(ec2RegionCode(part))
	}
	return b.String() + "-az" + strconv.Itoa(int(suffix[0]-'a')+1)
}

// ec2PrivateDNSName is the internal host name of an address: ec2.internal
// in us-east-1, <region>.compute.internal elsewhere.
// https://docs.aws.amazon.com/vpc/latest/userguide/vpc-dns.html#vpc-dns-hostnames
func ec2PrivateDNSName(region, ip string) string {
	if ip == "" {
		return ""
	}
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

// ec2ClusterGroup is the cluster security group EKS creates for a cluster
// and puts on its control-plane ENIs and its managed nodes.
func (w *World) ec2ClusterGroup(cluster string) []ec2Group {
	c, ok := w.Clusters[cluster]
	if !ok || c.ClusterSGID == "" {
		return nil
	}
	n, _ := strconv.ParseUint(stableID("sgname", cluster)[:8], 16, 64)
	return []ec2Group{{GroupID: c.ClusterSGID, GroupName: fmt.Sprintf("eks-cluster-sg-%s-%d", cluster, n%10000000000)}}
}
