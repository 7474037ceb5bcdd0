package emulator

import (
	"strconv"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// ---- DescribeVpcs ----
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcs.html

type ec2VpcCidrAssoc struct {
	AssociationID  string `xml:"associationId"`
	CidrBlock      string `xml:"cidrBlock"`
	CidrBlockState struct {
		State string `xml:"state"`
	} `xml:"cidrBlockState"`
}

type ec2BlockPublicAccess struct {
	InternetGatewayBlockMode string `xml:"internetGatewayBlockMode"`
}

type ec2Vpc struct {
	VpcID                   string               `xml:"vpcId"`
	OwnerID                 string               `xml:"ownerId"`
	State                   string               `xml:"state"`
	CidrBlock               string               `xml:"cidrBlock"`
	CidrBlockAssociationSet []ec2VpcCidrAssoc    `xml:"cidrBlockAssociationSet>item"`
	DhcpOptionsID           string               `xml:"dhcpOptionsId"`
	Tags                    *ec2TagSet           `xml:"tagSet,omitempty"`
	InstanceTenancy         string               `xml:"instanceTenancy"`
	IsDefault               bool                 `xml:"isDefault"`
	BlockPublicAccessStates ec2BlockPublicAccess `xml:"blockPublicAccessStates"`
}

type describeVpcsResponse struct {
	wire.EC2Meta
	Vpcs      []ec2Vpc `xml:"vpcSet>item"`
	NextToken string   `xml:"nextToken,omitempty"`
}

// ec2VpcFields are DescribeVpcs' filters.
func ec2VpcFields() map[string]ec2Field[*VPC] {
	return map[string]ec2Field[*VPC]{
		"vpc-id":                            func(v *VPC, f *ec2Filter) bool { return f.match(v.ID) },
		"cidr":                              func(v *VPC, f *ec2Filter) bool { return f.match(v.CIDR) },
		"cidr-block-association.cidr-block": func(v *VPC, f *ec2Filter) bool { return f.match(v.CIDR) },
		"cidr-block-association.state":      func(v *VPC, f *ec2Filter) bool { return f.match("associated") },
		"is-default":                        func(v *VPC, f *ec2Filter) bool { return f.matchBool(v.IsDefault) },
		"isDefault":                         func(v *VPC, f *ec2Filter) bool { return f.matchBool(v.IsDefault) },
		"state":                             func(v *VPC, f *ec2Filter) bool { return f.match("available") },
		"dhcp-options-id":                   func(v *VPC, f *ec2Filter) bool { return f.match(ec2DhcpOptionsID(v.ID)) },
	}
}

// ec2DhcpOptionsID is the DHCP options set a VPC uses (its region's default).
func ec2DhcpOptionsID(vpc string) string { return "dopt-" + stableID("dopt", vpc)[:17] }

func describeVpcs(c *call) (any, *wire.APIError) {
	if aerr := ec2DryRun(c); aerr != nil {
		return nil, aerr
	}
	w := c.w
	ids := ec2IDs(c, "VpcId")
	paging := ec2Paging{op: "DescribeVpcs", min: 5, max: 1000, idParam: "VpcIds"}
	if _, aerr := ec2CheckPaging(c, paging, len(ids)); aerr != nil {
		return nil, aerr
	}
	fields := ec2WithOwner(ec2VpcFields(), w.Account)
	preds, aerr := compileEC2Filters(c.req.Form.EC2Filters(), fields, func(v *VPC) map[string]string { return v.Tags })
	if aerr != nil {
		return nil, aerr
	}
	if missing := ec2Missing(ids, w.VPCs); len(missing) > 0 {
		return nil, ec2NotFound("InvalidVpcID.NotFound", "vpc", missing)
	}
	keys := ids
	if keys == nil {
		keys = sortedKeys(w.VPCs)
	}
	var matched []*VPC
	for _, id := range keys {
		if v := w.VPCs[id]; ec2Matches(v, preds) {
			matched = append(matched, v)
		}
	}
	start, end, next, aerr := ec2Page(c, paging, len(matched), len(ids))
	if aerr != nil {
		return nil, aerr
	}
	out := &describeVpcsResponse{NextToken: next, Vpcs: make([]ec2Vpc, 0, end-start)}
	for _, v := range matched[start:end] {
		item := ec2Vpc{VpcID: v.ID, OwnerID: w.Account, State: "available", CidrBlock: v.CIDR,
			DhcpOptionsID: ec2DhcpOptionsID(v.ID), Tags: ec2Tags(v.Tags), InstanceTenancy: "default", IsDefault: v.IsDefault,
			BlockPublicAccessStates: ec2BlockPublicAccess{InternetGatewayBlockMode: "off"}}
		assoc := ec2VpcCidrAssoc{AssociationID: "vpc-cidr-assoc-" + stableID("vpccidr", v.ID)[:17], CidrBlock: v.CIDR}
		assoc.CidrBlockState.State = "associated"
		item.CidrBlockAssociationSet = []ec2VpcCidrAssoc{assoc}
		out.Vpcs = append(out.Vpcs, item)
	}
	return out, nil
}

// ec2WithOwner adds the owner-id filter every VPC resource knows.
func ec2WithOwner[T any](fields map[string]ec2Field[T], account string) map[string]ec2Field[T] {
	out := make(map[string]ec2Field[T], len(fields)+1)
	for k, v := range fields {
		out[k] = v
	}
	out["owner-id"] = func(_ T, f *ec2Filter) bool { return f.match(account) }
	return out
}

// ---- DescribeSubnets ----
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSubnets.html

type ec2PrivateDNSOptions struct {
	HostnameType                    string `xml:"hostnameType"`
	EnableResourceNameDNSARecord    bool   `xml:"enableResourceNameDnsARecord"`
	EnableResourceNameDNSAAAARecord bool   `xml:"enableResourceNameDnsAAAARecord"`
}

type ec2Subnet struct {
	SubnetID                      string               `xml:"subnetId"`
	SubnetArn                     string               `xml:"subnetArn"`
	State                         string               `xml:"state"`
	VpcID                         string               `xml:"vpcId"`
	OwnerID                       string               `xml:"ownerId"`
	CidrBlock                     string               `xml:"cidrBlock"`
	Ipv6CidrBlockAssociationSet   ec2Empty             `xml:"ipv6CidrBlockAssociationSet"`
	AvailableIPAddressCount       int                  `xml:"availableIpAddressCount"`
	AvailabilityZone              string               `xml:"availabilityZone"`
	AvailabilityZoneID            string               `xml:"availabilityZoneId"`
	DefaultForAz                  bool                 `xml:"defaultForAz"`
	MapPublicIPOnLaunch           bool                 `xml:"mapPublicIpOnLaunch"`
	MapCustomerOwnedIPOnLaunch    bool                 `xml:"mapCustomerOwnedIpOnLaunch"`
	AssignIpv6AddressOnCreation   bool                 `xml:"assignIpv6AddressOnCreation"`
	Tags                          *ec2TagSet           `xml:"tagSet,omitempty"`
	EnableDNS64                   bool                 `xml:"enableDns64"`
	Ipv6Native                    bool                 `xml:"ipv6Native"`
	PrivateDNSNameOptionsOnLaunch ec2PrivateDNSOptions `xml:"privateDnsNameOptionsOnLaunch"`
	BlockPublicAccessStates       ec2BlockPublicAccess `xml:"blockPublicAccessStates"`
}

type describeSubnetsResponse struct {
	wire.EC2Meta
	Subnets   []ec2Subnet `xml:"subnetSet>item"`
	NextToken string      `xml:"nextToken,omitempty"`
}

// ec2SubnetFields are DescribeSubnets' filters; EC2 accepts the camelCase
// aliases too.
func ec2SubnetFields(w *World) map[string]ec2Field[*Subnet] {
	az := func(s *Subnet, f *ec2Filter) bool { return f.match(s.AZ) }
	azID := func(s *Subnet, f *ec2Filter) bool { return f.match(ec2ZoneID(w.Region, s.AZ)) }
	cidr := func(s *Subnet, f *ec2Filter) bool { return f.match(s.CIDR) }
	free := func(s *Subnet, f *ec2Filter) bool { return f.match(strconv.Itoa(s.ipam.Available())) }
	no := func(s *Subnet, f *ec2Filter) bool { return f.matchBool(false) }
	return ec2WithOwner(map[string]ec2Field[*Subnet]{
		"subnet-id":                       func(s *Subnet, f *ec2Filter) bool { return f.match(s.ID) },
		"subnet-arn":                      func(s *Subnet, f *ec2Filter) bool { return f.match(w.subnetARN(s.ID)) },
		"vpc-id":                          func(s *Subnet, f *ec2Filter) bool { return f.match(s.VPCID) },
		"vpcId":                           func(s *Subnet, f *ec2Filter) bool { return f.match(s.VPCID) },
		"availability-zone":               az,
		"availabilityZone":                az,
		"availability-zone-id":            azID,
		"availabilityZoneId":              azID,
		"cidr-block":                      cidr,
		"cidr":                            cidr,
		"cidrBlock":                       cidr,
		"available-ip-address-count":      free,
		"availableIpAddressCount":         free,
		"state":                           func(s *Subnet, f *ec2Filter) bool { return f.match("available") },
		"default-for-az":                  no,
		"defaultForAz":                    no,
		"map-public-ip-on-launch":         no,
		"map-customer-owned-ip-on-launch": no,
		"ipv6-native":                     no,
		"enable-dns64":                    no,
	}, w.Account)
}

func (w *World) subnetARN(id string) string { return w.arn("ec2", "subnet/"+id) }

func describeSubnets(c *call) (any, *wire.APIError) {
	if aerr := ec2DryRun(c); aerr != nil {
		return nil, aerr
	}
	w := c.w
	ids := ec2IDs(c, "SubnetId")
	paging := ec2Paging{op: "DescribeSubnets", min: 5, max: 1000, idParam: "SubnetIds"}
	if _, aerr := ec2CheckPaging(c, paging, len(ids)); aerr != nil {
		return nil, aerr
	}
	preds, aerr := compileEC2Filters(c.req.Form.EC2Filters(), ec2SubnetFields(w), func(s *Subnet) map[string]string { return s.Tags })
	if aerr != nil {
		return nil, aerr
	}
	if missing := ec2Missing(ids, w.Subnets); len(missing) > 0 {
		return nil, ec2NotFound("InvalidSubnetID.NotFound", "subnet", missing)
	}
	keys := ids
	if keys == nil {
		keys = sortedKeys(w.Subnets)
	}
	var matched []*Subnet
	for _, id := range keys {
		if s := w.Subnets[id]; ec2Matches(s, preds) {
			matched = append(matched, s)
		}
	}
	start, end, next, aerr := ec2Page(c, paging, len(matched), len(ids))
	if aerr != nil {
		return nil, aerr
	}
	out := &describeSubnetsResponse{NextToken: next, Subnets: make([]ec2Subnet, 0, end-start)}
	for _, s := range matched[start:end] {
		out.Subnets = append(out.Subnets, ec2Subnet{
			SubnetID: s.ID, SubnetArn: w.subnetARN(s.ID), State: "available", VpcID: s.VPCID, OwnerID: w.Account,
			CidrBlock: s.CIDR, AvailableIPAddressCount: s.ipam.Available(),
			AvailabilityZone: s.AZ, AvailabilityZoneID: ec2ZoneID(w.Region, s.AZ), Tags: ec2Tags(s.Tags),
			PrivateDNSNameOptionsOnLaunch: ec2PrivateDNSOptions{HostnameType: "ip-name"},
			BlockPublicAccessStates:       ec2BlockPublicAccess{InternetGatewayBlockMode: "off"},
		})
	}
	return out, nil
}

// ---- DescribeAvailabilityZones ----
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAvailabilityZones.html

type ec2AvailabilityZone struct {
	ZoneName           string   `xml:"zoneName"`
	ZoneState          string   `xml:"zoneState"`
	RegionName         string   `xml:"regionName"`
	Messages           ec2Empty `xml:"messageSet"`
	ZoneID             string   `xml:"zoneId"`
	ZoneType           string   `xml:"zoneType"`
	OptInStatus        string   `xml:"optInStatus"`
	GroupName          string   `xml:"groupName"`
	NetworkBorderGroup string   `xml:"networkBorderGroup"`
}

type describeAvailabilityZonesResponse struct {
	wire.EC2Meta
	AvailabilityZones []ec2AvailabilityZone `xml:"availabilityZoneInfo>item"`
}

func describeAvailabilityZones(c *call) (any, *wire.APIError) {
	if aerr := ec2DryRun(c); aerr != nil {
		return nil, aerr
	}
	w := c.w
	zones := make([]ec2AvailabilityZone, 0, len(w.AZs))
	for _, az := range w.AZs {
		zones = append(zones, ec2AvailabilityZone{ZoneName: az, ZoneState: "available", RegionName: w.Region,
			ZoneID: ec2ZoneID(w.Region, az), ZoneType: "availability-zone", OptInStatus: "opt-in-not-required",
			GroupName: w.Region + "-zg-1", NetworkBorderGroup: w.Region})
	}
	fields := map[string]ec2Field[*ec2AvailabilityZone]{
		"zone-name":            func(z *ec2AvailabilityZone, f *ec2Filter) bool { return f.match(z.ZoneName) },
		"zone-id":              func(z *ec2AvailabilityZone, f *ec2Filter) bool { return f.match(z.ZoneID) },
		"region-name":          func(z *ec2AvailabilityZone, f *ec2Filter) bool { return f.match(z.RegionName) },
		"state":                func(z *ec2AvailabilityZone, f *ec2Filter) bool { return f.match(z.ZoneState) },
		"zone-type":            func(z *ec2AvailabilityZone, f *ec2Filter) bool { return f.match(z.ZoneType) },
		"opt-in-status":        func(z *ec2AvailabilityZone, f *ec2Filter) bool { return f.match(z.OptInStatus) },
		"group-name":           func(z *ec2AvailabilityZone, f *ec2Filter) bool { return f.match(z.GroupName) },
		"network-border-group": func(z *ec2AvailabilityZone, f *ec2Filter) bool { return f.match(z.NetworkBorderGroup) },
	}
	preds, aerr := compileEC2Filters(c.req.Form.EC2Filters(), fields, nil)
	if aerr != nil {
		return nil, aerr
	}
	// ZoneName.N and ZoneId.N select zones; an unknown one is an error.
	names, zoneIDs := ec2IDs(c, "ZoneName"), ec2IDs(c, "ZoneId")
	byName, byID := map[string]bool{}, map[string]bool{}
	for _, z := range zones {
		byName[z.ZoneName], byID[z.ZoneID] = true, true
	}
	for _, n := range names {
		if !byName[n] {
			return nil, wire.BadRequest("InvalidParameterValue", "Invalid availability zone: [%s]", n)
		}
	}
	for _, id := range zoneIDs {
		if !byID[id] {
			return nil, wire.BadRequest("InvalidParameterValue", "Invalid availability zone ID: [%s]", id)
		}
	}
	want := func(z *ec2AvailabilityZone) bool {
		if len(names) == 0 && len(zoneIDs) == 0 {
			return true
		}
		for _, n := range names {
			if n == z.ZoneName {
				return true
			}
		}
		for _, id := range zoneIDs {
			if id == z.ZoneID {
				return true
			}
		}
		return false
	}
	out := &describeAvailabilityZonesResponse{AvailabilityZones: make([]ec2AvailabilityZone, 0, len(zones))}
	for i := range zones {
		if want(&zones[i]) && ec2Matches(&zones[i], preds) {
			out.AvailabilityZones = append(out.AvailabilityZones, zones[i])
		}
	}
	return out, nil
}
