package emulator

import (
	"sort"
	"strconv"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// ---- DescribeNetworkInterfaces ----
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeNetworkInterfaces.html

type ec2PrivateIP struct {
	PrivateIPAddress string `xml:"privateIpAddress"`
	PrivateDNSName   string `xml:"privateDnsName"`
	Primary          bool   `xml:"primary"`
}

type ec2Prefix struct {
	Ipv4Prefix string `xml:"ipv4Prefix"`
}

// ec2PrefixSet is an ipv4PrefixSet, left out when the ENI holds no prefix.
type ec2PrefixSet struct {
	Items []ec2Prefix `xml:"item"`
}

// describeNetworkInterfacesResponse carries the networkInterfaceSet
// pre-rendered by ec2ENIWriter (see ec2XML).
type describeNetworkInterfacesResponse struct {
	wire.EC2Meta
	NetworkInterfaces ec2RawXML `xml:"networkInterfaceSet"`
	NextToken         string    `xml:"nextToken,omitempty"`
}

// ec2ENIFields are DescribeNetworkInterfaces' filters.
func ec2ENIFields(w *World) map[string]ec2Field[*ENI] {
	ips := func(e *ENI, f *ec2Filter) bool { return f.matchAny(e.PrivateIPs) }
	attached := func(e *ENI) bool { return e.InstanceID != "" || e.RequesterManaged }
	return ec2WithOwner(map[string]ec2Field[*ENI]{
		"network-interface-id":         func(e *ENI, f *ec2Filter) bool { return f.match(e.ID) },
		"subnet-id":                    func(e *ENI, f *ec2Filter) bool { return f.match(e.SubnetID) },
		"vpc-id":                       func(e *ENI, f *ec2Filter) bool { return f.match(e.VPCID) },
		"availability-zone":            func(e *ENI, f *ec2Filter) bool { return f.match(e.AZ) },
		"availability-zone-id":         func(e *ENI, f *ec2Filter) bool { return f.match(ec2ZoneID(w.Region, e.AZ)) },
		"status":                       func(e *ENI, f *ec2Filter) bool { return f.match(e.Status) },
		"description":                  func(e *ENI, f *ec2Filter) bool { return f.match(e.Description) },
		"interface-type":               func(e *ENI, f *ec2Filter) bool { return f.match(e.InterfaceType) },
		"requester-managed":            func(e *ENI, f *ec2Filter) bool { return f.matchBool(e.RequesterManaged) },
		"requester-id":                 func(e *ENI, f *ec2Filter) bool { return f.match(e.RequesterID) },
		"mac-address":                  func(e *ENI, f *ec2Filter) bool { return f.match(e.MAC) },
		"source-dest-check":            func(e *ENI, f *ec2Filter) bool { return f.matchBool(true) },
		"private-ip-address":           ips,
		"addresses.private-ip-address": ips,
		"private-dns-name": func(e *ENI, f *ec2Filter) bool {
			return len(e.PrivateIPs) > 0 && f.match(ec2PrivateDNSName(w.Region, e.PrivateIPs[0]))
		},
		"group-id": func(e *ENI, f *ec2Filter) bool {
			for _, g := range w.ec2ENIGroups(e) {
				if f.match(g.GroupID) {
					return true
				}
			}
			return false
		},
		"attachment.instance-id": func(e *ENI, f *ec2Filter) bool { return e.InstanceID != "" && f.match(e.InstanceID) },
		"attachment.attachment-id": func(e *ENI, f *ec2Filter) bool {
			return attached(e) && f.match(ec2AttachmentID(e))
		},
		"attachment.device-index": func(e *ENI, f *ec2Filter) bool {
			return attached(e) && f.match(strconv.Itoa(ec2DeviceIndex(e)))
		},
		"attachment.status": func(e *ENI, f *ec2Filter) bool { return attached(e) && f.match("attached") },
		"attachment.instance-owner-id": func(e *ENI, f *ec2Filter) bool {
			return attached(e) && f.match(w.ec2InstanceOwner(e))
		},
		"attachment.delete-on-termination": func(e *ENI, f *ec2Filter) bool {
			return attached(e) && f.matchBool(e.InstanceID != "")
		},
	}, w.Account)
}

// ec2ENIGroups are an ENI's security groups: the cluster security group
// for the nodes and control-plane ENIs of a cluster; the VPC's default
// group for ENIs made by hand, which get it when created without groups
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkInterface.html);
// none for other requester-managed ENIs (NAT gateways hold none).
func (w *World) ec2ENIGroups(e *ENI) []ec2Group {
	switch {
	case e.Cluster != "":
		return w.ec2ClusterGroup(e.Cluster)
	case !e.RequesterManaged:
		return []ec2Group{ec2DefaultGroup(e.VPCID)}
	}
	return nil
}

// ec2DefaultGroup is the default security group every VPC has.
func ec2DefaultGroup(vpc string) ec2Group {
	return ec2Group{GroupID: "sg-" + stableID("default-sg", vpc)[:17], GroupName: "default"}
}

// Requester-managed ENIs (NAT gateways, load balancers, EKS control plane)
// are attached by the managing service: EC2 shows an attachment without an
// instance ID, owned by that service, at device index 1.
func ec2DeviceIndex(e *ENI) int {
	if e.InstanceID == "" {
		return 1
	}
	return e.DeviceIndex
}

func ec2AttachmentID(e *ENI) string {
	if e.AttachmentID != "" {
		return e.AttachmentID
	}
	return "eni-attach-" + stableID(e.ID)[:17]
}

func (w *World) ec2InstanceOwner(e *ENI) string {
	if e.InstanceID != "" || e.RequesterID == "" {
		return w.Account
	}
	return e.RequesterID
}

func describeNetworkInterfaces(c *call) (any, *wire.APIError) {
	if aerr := ec2DryRun(c); aerr != nil {
		return nil, aerr
	}
	w := c.w
	ids := ec2IDs(c, "NetworkInterfaceId")
	paging := ec2Paging{op: "DescribeNetworkInterfaces", min: 5, max: 1000, idParam: "NetworkInterfaceIds"}
	if _, aerr := ec2CheckPaging(c, paging, len(ids)); aerr != nil {
		return nil, aerr
	}
	preds, aerr := compileEC2Filters(c.req.Form.EC2Filters(), ec2ENIFields(w), func(e *ENI) map[string]string { return e.Tags })
	if aerr != nil {
		return nil, aerr
	}
	if missing := ec2Missing(ids, w.ENIs); len(missing) > 0 {
		return nil, ec2NotFound("InvalidNetworkInterfaceID.NotFound", "networkInterface", missing)
	}
	var matched []*ENI
	if ids != nil {
		for _, id := range ids {
			if e := w.ENIs[id]; ec2Matches(e, preds) {
				matched = append(matched, e)
			}
		}
	} else {
		// Filter first, sort the matches only: a subnet-id filter over a
		// large world keeps a few hundred of its 20,000 ENIs.
		for _, e := range w.ENIs {
			if ec2Matches(e, preds) {
				matched = append(matched, e)
			}
		}
		sort.Slice(matched, func(i, j int) bool { return matched[i].ID < matched[j].ID })
	}
	start, end, next, aerr := ec2Page(c, paging, len(matched), len(ids))
	if aerr != nil {
		return nil, aerr
	}
	page := matched[start:end]
	size := 0 // bytes, estimated so the buffer grows once at most
	for _, e := range page {
		size += 1500 + 160*len(e.PrivateIPs) + 60*len(e.Prefixes) + 80*len(e.Tags)
	}
	r := newENIWriter(w, size)
	for _, e := range page {
		r.eni(e)
	}
	return &describeNetworkInterfacesResponse{NextToken: next, NetworkInterfaces: ec2RawXML{Inner: r.x.b}}, nil
}

// ec2PrivateIPs is an ENI's privateIpAddressesSet, primary first.
func (w *World) ec2PrivateIPs(e *ENI) []ec2PrivateIP {
	out := make([]ec2PrivateIP, len(e.PrivateIPs))
	for i, ip := range e.PrivateIPs {
		out[i] = ec2PrivateIP{PrivateIPAddress: ip, PrivateDNSName: ec2PrivateDNSName(w.Region, ip), Primary: i == 0}
	}
	return out
}

// ec2Prefixes is an ENI's ipv4PrefixSet, nil when it holds none.
func ec2Prefixes(e *ENI) *ec2PrefixSet {
	if len(e.Prefixes) == 0 {
		return nil
	}
	out := &ec2PrefixSet{Items: make([]ec2Prefix, len(e.Prefixes))}
	for i, p := range e.Prefixes {
		out.Items[i] = ec2Prefix{Ipv4Prefix: p}
	}
	return out
}

// ec2ENIWriter renders ENIs for one response, remembering what many ENIs
// share (zone IDs, security groups) so that a page of thousands of
// ENIs costs no more than its bytes.
type ec2ENIWriter struct {
	w       *World
	x       ec2XML
	zoneIDs map[string]string
	groups  map[string][]ec2Group
}

func newENIWriter(w *World, size int) *ec2ENIWriter {
	return &ec2ENIWriter{w: w, x: ec2XML{b: make([]byte, 0, size)}, zoneIDs: map[string]string{}, groups: map[string][]ec2Group{}}
}

func (r *ec2ENIWriter) zoneID(az string) string {
	id, ok := r.zoneIDs[az]
	if !ok {
		id = ec2ZoneID(r.w.Region, az)
		r.zoneIDs[az] = id
	}
	return id
}

// securityGroups is ec2ENIGroups, computed once per cluster or VPC.
func (r *ec2ENIWriter) securityGroups(e *ENI) []ec2Group {
	key := e.Cluster
	switch {
	case e.Cluster != "":
	case !e.RequesterManaged:
		key = "vpc/" + e.VPCID
	default:
		return nil
	}
	g, ok := r.groups[key]
	if !ok {
		g = r.w.ec2ENIGroups(e)
		r.groups[key] = g
	}
	return g
}

// dnsName writes <privateDnsName> for ip without building the string.
func (r *ec2ENIWriter) dnsName(ip string) {
	x := &r.x
	x.open("privateDnsName")
	if ip != "" {
		x.b = append(x.b, "ip-"...)
		for i := 0; i < len(ip); i++ {
			if ip[i] == '.' {
				x.b = append(x.b, '-')
			} else {
				x.b = append(x.b, ip[i])
			}
		}
		if r.w.Region == "us-east-1" {
			x.b = append(x.b, ".ec2.internal"...)
		} else {
			x.b = append(x.b, '.')
			x.b = append(x.b, r.w.Region...)
			x.b = append(x.b, ".compute.internal"...)
		}
	}
	x.close("privateDnsName")
}

// eni writes one ENI as an <item> of networkInterfaceSet (EC2's
// NetworkInterface shape).
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_NetworkInterface.html
func (r *ec2ENIWriter) eni(e *ENI) {
	w, x := r.w, &r.x
	x.open("item")
	x.str("networkInterfaceId", e.ID)
	x.str("subnetId", e.SubnetID)
	x.str("vpcId", e.VPCID)
	x.str("availabilityZone", e.AZ)
	if id := r.zoneID(e.AZ); id != "" {
		x.str("availabilityZoneId", id)
	}
	x.str("description", e.Description)
	x.str("ownerId", w.Account)
	if e.RequesterID != "" {
		x.str("requesterId", e.RequesterID)
	}
	x.bool("requesterManaged", e.RequesterManaged)
	x.str("status", e.Status)
	x.str("macAddress", e.MAC)
	primary := ""
	if len(e.PrivateIPs) > 0 {
		primary = e.PrivateIPs[0]
	}
	x.str("privateIpAddress", primary)
	r.dnsName(primary)
	x.bool("sourceDestCheck", true)
	x.open("groupSet")
	for _, g := range r.securityGroups(e) {
		x.open("item")
		x.str("groupId", g.GroupID)
		x.str("groupName", g.GroupName)
		x.close("item")
	}
	x.close("groupSet")
	if e.InstanceID != "" || e.RequesterManaged {
		x.open("attachment")
		if e.InstanceID != "" && !e.AttachTime.IsZero() {
			x.time("attachTime", e.AttachTime)
		}
		x.str("attachmentId", ec2AttachmentID(e))
		x.bool("deleteOnTermination", e.InstanceID != "")
		x.int("deviceIndex", ec2DeviceIndex(e))
		x.int("networkCardIndex", 0)
		if e.InstanceID != "" {
			x.str("instanceId", e.InstanceID)
		}
		x.str("instanceOwnerId", w.ec2InstanceOwner(e))
		x.str("status", "attached")
		x.close("attachment")
	}
	x.empty("ipv6AddressesSet")
	x.open("privateIpAddressesSet")
	for i, ip := range e.PrivateIPs {
		x.open("item")
		x.str("privateIpAddress", ip)
		r.dnsName(ip)
		x.bool("primary", i == 0)
		x.close("item")
	}
	x.close("privateIpAddressesSet")
	if len(e.Prefixes) > 0 {
		x.open("ipv4PrefixSet")
		for _, p := range e.Prefixes {
			x.open("item")
			x.str("ipv4Prefix", p)
			x.close("item")
		}
		x.close("ipv4PrefixSet")
	}
	x.bool("ipv6Native", false)
	x.str("interfaceType", e.InterfaceType)
	x.open("tagSet")
	for _, t := range ec2TagList(e.Tags) {
		x.open("item")
		x.str("key", t.Key)
		x.str("value", t.Value)
		x.close("item")
	}
	x.close("tagSet")
	x.close("item")
}
