package emulator

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// ---- DescribeInstances ----
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html

// ec2StateCodes are the codes of instance states (the low byte of InstanceState.Code).
func ec2StateCode(state string) int {
	switch state {
	case "pending":
		return 0
	case "running":
		return 16
	case "shutting-down":
		return 32
	case "terminated":
		return 48
	case "stopping":
		return 64
	case "stopped":
		return 80
	}
	return 0
}

type ec2InstanceState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type ec2Placement struct {
	AvailabilityZone   string `xml:"availabilityZone"`
	AvailabilityZoneID string `xml:"availabilityZoneId,omitempty"`
	GroupName          string `xml:"groupName"`
	Tenancy            string `xml:"tenancy"`
}

type ec2InstanceENIAttachment struct {
	AttachmentID        string         `xml:"attachmentId"`
	DeviceIndex         int            `xml:"deviceIndex"`
	Status              string         `xml:"status"`
	AttachTime          wire.Timestamp `xml:"attachTime"`
	DeleteOnTermination bool           `xml:"deleteOnTermination"`
	NetworkCardIndex    int            `xml:"networkCardIndex"`
}

type ec2InstanceENI struct {
	NetworkInterfaceID    string                   `xml:"networkInterfaceId"`
	SubnetID              string                   `xml:"subnetId"`
	VpcID                 string                   `xml:"vpcId"`
	Description           string                   `xml:"description"`
	OwnerID               string                   `xml:"ownerId"`
	Status                string                   `xml:"status"`
	MacAddress            string                   `xml:"macAddress"`
	PrivateIPAddress      string                   `xml:"privateIpAddress"`
	PrivateDNSName        string                   `xml:"privateDnsName"`
	SourceDestCheck       bool                     `xml:"sourceDestCheck"`
	Groups                []ec2Group               `xml:"groupSet>item"`
	Attachment            ec2InstanceENIAttachment `xml:"attachment"`
	PrivateIPAddressesSet []ec2PrivateIP           `xml:"privateIpAddressesSet>item"`
	Ipv4Prefixes          *ec2PrefixSet            `xml:"ipv4PrefixSet,omitempty"`
	Ipv6AddressesSet      ec2Empty                 `xml:"ipv6AddressesSet"`
	InterfaceType         string                   `xml:"interfaceType"`
}

type ec2EBSDevice struct {
	DeviceName string `xml:"deviceName"`
	Ebs        struct {
		VolumeID            string         `xml:"volumeId"`
		Status              string         `xml:"status"`
		AttachTime          wire.Timestamp `xml:"attachTime"`
		DeleteOnTermination bool           `xml:"deleteOnTermination"`
	} `xml:"ebs"`
}

type ec2IAMProfile struct {
	Arn string `xml:"arn"`
	ID  string `xml:"id"`
}

type ec2Instance struct {
	InstanceID     string           `xml:"instanceId"`
	ImageID        string           `xml:"imageId"`
	State          ec2InstanceState `xml:"instanceState"`
	PrivateDNSName string           `xml:"privateDnsName"`
	DNSName        string           `xml:"dnsName"`
	Reason         string           `xml:"reason"`
	AmiLaunchIndex int              `xml:"amiLaunchIndex"`
	ProductCodes   ec2Empty         `xml:"productCodes"`
	InstanceType   string           `xml:"instanceType"`
	LaunchTime     wire.Timestamp   `xml:"launchTime"`
	Placement      ec2Placement     `xml:"placement"`
	Monitoring     struct {
		State string `xml:"state"`
	} `xml:"monitoring"`
	SubnetID              string           `xml:"subnetId"`
	VpcID                 string           `xml:"vpcId"`
	PrivateIPAddress      string           `xml:"privateIpAddress"`
	SourceDestCheck       bool             `xml:"sourceDestCheck"`
	Groups                []ec2Group       `xml:"groupSet>item"`
	Architecture          string           `xml:"architecture"`
	RootDeviceType        string           `xml:"rootDeviceType"`
	RootDeviceName        string           `xml:"rootDeviceName"`
	BlockDeviceMapping    []ec2EBSDevice   `xml:"blockDeviceMapping>item"`
	InstanceLifecycle     string           `xml:"instanceLifecycle,omitempty"`
	SpotInstanceRequestID string           `xml:"spotInstanceRequestId,omitempty"`
	VirtualizationType    string           `xml:"virtualizationType"`
	Tags                  *ec2TagSet       `xml:"tagSet,omitempty"`
	Hypervisor            string           `xml:"hypervisor"`
	NetworkInterfaces     []ec2InstanceENI `xml:"networkInterfaceSet>item"`
	IAMInstanceProfile    *ec2IAMProfile   `xml:"iamInstanceProfile,omitempty"`
	EbsOptimized          bool             `xml:"ebsOptimized"`
	EnaSupport            bool             `xml:"enaSupport"`
	CPUOptions            struct {
		CoreCount      int `xml:"coreCount"`
		ThreadsPerCore int `xml:"threadsPerCore"`
	} `xml:"cpuOptions"`
	CapacityReservationSpecification struct {
		Preference string `xml:"capacityReservationPreference"`
	} `xml:"capacityReservationSpecification"`
	HibernationOptions struct {
		Configured bool `xml:"configured"`
	} `xml:"hibernationOptions"`
	MetadataOptions struct {
		State                   string `xml:"state"`
		HTTPTokens              string `xml:"httpTokens"`
		HTTPPutResponseHopLimit int    `xml:"httpPutResponseHopLimit"`
		HTTPEndpoint            string `xml:"httpEndpoint"`
		HTTPProtocolIpv6        string `xml:"httpProtocolIpv6"`
		InstanceMetadataTags    string `xml:"instanceMetadataTags"`
	} `xml:"metadataOptions"`
	EnclaveOptions struct {
		Enabled bool `xml:"enabled"`
	} `xml:"enclaveOptions"`
	PlatformDetails          string               `xml:"platformDetails"`
	UsageOperation           string               `xml:"usageOperation"`
	UsageOperationUpdateTime wire.Timestamp       `xml:"usageOperationUpdateTime"`
	PrivateDNSNameOptions    ec2PrivateDNSOptions `xml:"privateDnsNameOptions"`
	MaintenanceOptions       struct {
		AutoRecovery string `xml:"autoRecovery"`
	} `xml:"maintenanceOptions"`
	CurrentInstanceBootMode string `xml:"currentInstanceBootMode"`
}

type ec2Reservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Groups        ec2Empty      `xml:"groupSet"`
	Instances     []ec2Instance `xml:"instancesSet>item"`
}

type describeInstancesResponse struct {
	wire.EC2Meta
	Reservations []ec2Reservation `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

// ec2InstanceFields are DescribeInstances' filters.
func ec2InstanceFields(w *World) map[string]ec2Field[*Instance] {
	ip := func(i *Instance, f *ec2Filter) bool { return f.match(i.PrivateIP) }
	eniField := func(get func(e *ENI) []string) ec2Field[*Instance] {
		return func(i *Instance, f *ec2Filter) bool {
			for _, id := range i.ENIs {
				if e, ok := w.ENIs[id]; ok && f.matchAny(get(e)) {
					return true
				}
			}
			return false
		}
	}
	return ec2WithOwner(map[string]ec2Field[*Instance]{
		"instance-id":          func(i *Instance, f *ec2Filter) bool { return f.match(i.ID) },
		"instance-type":        func(i *Instance, f *ec2Filter) bool { return f.match(i.Type) },
		"instance-state-name":  func(i *Instance, f *ec2Filter) bool { return f.match(i.State) },
		"instance-state-code":  func(i *Instance, f *ec2Filter) bool { return f.match(strconv.Itoa(ec2StateCode(i.State))) },
		"subnet-id":            func(i *Instance, f *ec2Filter) bool { return f.match(i.SubnetID) },
		"vpc-id":               func(i *Instance, f *ec2Filter) bool { return f.match(i.VPCID) },
		"availability-zone":    func(i *Instance, f *ec2Filter) bool { return f.match(i.AZ) },
		"availability-zone-id": func(i *Instance, f *ec2Filter) bool { return f.match(ec2ZoneID(w.Region, i.AZ)) },
		"image-id":             func(i *Instance, f *ec2Filter) bool { return f.match(i.ImageID) },
		"private-ip-address":   ip,
		"network-interface.addresses.private-ip-address": eniField(func(e *ENI) []string { return e.PrivateIPs }),
		"network-interface.network-interface-id":         eniField(func(e *ENI) []string { return []string{e.ID} }),
		"network-interface.subnet-id":                    eniField(func(e *ENI) []string { return []string{e.SubnetID} }),
		"private-dns-name": func(i *Instance, f *ec2Filter) bool {
			return f.match(ec2PrivateDNSName(w.Region, i.PrivateIP))
		},
		"instance-lifecycle": func(i *Instance, f *ec2Filter) bool {
			return i.CapacityType == "SPOT" && f.match("spot")
		},
		"architecture": func(i *Instance, f *ec2Filter) bool { return f.match(w.ec2Arch(i.Type)) },
		"instance.group-id": func(i *Instance, f *ec2Filter) bool {
			for _, g := range w.ec2ClusterGroup(i.Cluster) {
				if f.match(g.GroupID) {
					return true
				}
			}
			return false
		},
	}, w.Account)
}

func (w *World) ec2Arch(typ string) string {
	if it, ok := w.InstanceTypes[typ]; ok && it.Arch != "" {
		return it.Arch
	}
	return "x86_64"
}

func describeInstances(c *call) (any, *wire.APIError) {
	if aerr := ec2DryRun(c); aerr != nil {
		return nil, aerr
	}
	w := c.w
	ids := ec2IDs(c, "InstanceId")
	// EC2's message names the old element names here.
	paging := ec2Paging{op: "DescribeInstances", min: 5, max: 1000, idParam: "instancesSet"}
	if _, aerr := ec2CheckPaging(c, paging, len(ids)); aerr != nil {
		return nil, aerr
	}
	preds, aerr := compileEC2Filters(c.req.Form.EC2Filters(), ec2InstanceFields(w), func(i *Instance) map[string]string { return i.Tags })
	if aerr != nil {
		return nil, aerr
	}
	if missing := ec2Missing(ids, w.Instances); len(missing) > 0 {
		return nil, ec2NotFound("InvalidInstanceID.NotFound", "instance", missing)
	}
	keys := ids
	if keys == nil {
		keys = sortedKeys(w.Instances)
	}
	var matched []*Instance
	for _, id := range keys {
		if i := w.Instances[id]; ec2Matches(i, preds) {
			matched = append(matched, i)
		}
	}
	start, end, next, aerr := ec2Page(c, paging, len(matched), len(ids))
	if aerr != nil {
		return nil, aerr
	}
	// Nodes are launched one at a time by their Auto Scaling group, so each
	// instance is alone in its reservation.
	out := &describeInstancesResponse{NextToken: next, Reservations: make([]ec2Reservation, 0, end-start)}
	for _, i := range matched[start:end] {
		out.Reservations = append(out.Reservations, ec2Reservation{
			ReservationID: "r-" + stableID("reservation", i.ID)[:17], OwnerID: w.Account,
			Instances: []ec2Instance{w.ec2InstanceItem(i)},
		})
	}
	return out, nil
}

// ec2InstanceItem renders one instance as DescribeInstances shows it.
func (w *World) ec2InstanceItem(i *Instance) ec2Instance {
	vcpus := 2
	if it, ok := w.InstanceTypes[i.Type]; ok {
		vcpus = it.VCPUs
	}
	groups := w.ec2ClusterGroup(i.Cluster)
	item := ec2Instance{
		InstanceID: i.ID, ImageID: i.ImageID, State: ec2InstanceState{Code: ec2StateCode(i.State), Name: i.State},
		PrivateDNSName: ec2PrivateDNSName(w.Region, i.PrivateIP), InstanceType: i.Type, LaunchTime: wire.TS(i.LaunchTime),
		Placement: ec2Placement{AvailabilityZone: i.AZ, AvailabilityZoneID: ec2ZoneID(w.Region, i.AZ), Tenancy: "default"},
		SubnetID:  i.SubnetID, VpcID: i.VPCID, PrivateIPAddress: i.PrivateIP, SourceDestCheck: true, Groups: groups,
		Architecture: w.ec2Arch(i.Type), RootDeviceType: "ebs", RootDeviceName: "/dev/xvda",
		VirtualizationType: "hvm", Tags: ec2Tags(i.Tags),
		// EC2 reports "xen" for Nitro instances too (see the hypervisor filter).
		Hypervisor: "xen", EbsOptimized: true, EnaSupport: true,
		PlatformDetails: "Linux/UNIX", UsageOperation: "RunInstances", UsageOperationUpdateTime: wire.TS(i.LaunchTime),
		PrivateDNSNameOptions:   ec2PrivateDNSOptions{HostnameType: "ip-name"},
		CurrentInstanceBootMode: "legacy-bios",
	}
	item.Monitoring.State = "disabled"
	item.CPUOptions.CoreCount, item.CPUOptions.ThreadsPerCore = max(1, vcpus/2), 2
	if vcpus == 1 {
		item.CPUOptions.ThreadsPerCore = 1
	}
	item.CapacityReservationSpecification.Preference = "open"
	item.MetadataOptions.State, item.MetadataOptions.HTTPTokens, item.MetadataOptions.HTTPPutResponseHopLimit = "applied", "required", 2
	item.MetadataOptions.HTTPEndpoint, item.MetadataOptions.HTTPProtocolIpv6, item.MetadataOptions.InstanceMetadataTags = "enabled", "disabled", "disabled"
	item.MaintenanceOptions.AutoRecovery = "default"
	if i.CapacityType == "SPOT" {
		item.InstanceLifecycle = "spot"
		item.SpotInstanceRequestID = "sir-" + stableID("spot", i.ID)[:8]
	}
	if i.Nodegroup != "" {
		// EKS managed node groups run their nodes under an instance profile
		// named eks-<uuid> for the node role.
		h := stableID("instance-profile", i.Cluster, i.Nodegroup)
		item.IAMInstanceProfile = &ec2IAMProfile{Arn: fmt.Sprintf("arn:aws:iam::%s:instance-profile/eks-%s", w.Account, uuidFrom(h)),
			ID: "AIPA" + strings.ToUpper(h[32:49])}
	}
	var root ec2EBSDevice
	root.DeviceName = "/dev/xvda"
	root.Ebs.VolumeID = "vol-" + stableID("root-volume", i.ID)[:17]
	root.Ebs.Status, root.Ebs.AttachTime, root.Ebs.DeleteOnTermination = "attached", wire.TS(i.LaunchTime), true
	item.BlockDeviceMapping = []ec2EBSDevice{root}
	for _, id := range i.ENIs {
		e, ok := w.ENIs[id]
		if !ok {
			continue
		}
		ie := ec2InstanceENI{NetworkInterfaceID: e.ID, SubnetID: e.SubnetID, VpcID: e.VPCID, Description: e.Description,
			OwnerID: w.Account, Status: e.Status, MacAddress: e.MAC, SourceDestCheck: true, Groups: w.ec2ENIGroups(e),
			Attachment: ec2InstanceENIAttachment{AttachmentID: ec2AttachmentID(e), DeviceIndex: e.DeviceIndex, Status: "attached",
				AttachTime: wire.TS(e.AttachTime), DeleteOnTermination: true},
			PrivateIPAddressesSet: w.ec2PrivateIPs(e), Ipv4Prefixes: ec2Prefixes(e), InterfaceType: e.InterfaceType}
		if len(e.PrivateIPs) > 0 {
			ie.PrivateIPAddress = e.PrivateIPs[0]
			ie.PrivateDNSName = ie.PrivateIPAddressesSet[0].PrivateDNSName
		}
		item.NetworkInterfaces = append(item.NetworkInterfaces, ie)
	}
	return item
}

// ---- DescribeInstanceTypes ----
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypes.html

type ec2NetworkCard struct {
	NetworkCardIndex         int    `xml:"networkCardIndex"`
	NetworkPerformance       string `xml:"networkPerformance"`
	MaximumNetworkInterfaces int    `xml:"maximumNetworkInterfaces"`
}

type ec2InstanceTypeInfo struct {
	InstanceType                 string   `xml:"instanceType"`
	CurrentGeneration            bool     `xml:"currentGeneration"`
	FreeTierEligible             bool     `xml:"freeTierEligible"`
	SupportedUsageClasses        []string `xml:"supportedUsageClasses>item"`
	SupportedRootDeviceTypes     []string `xml:"supportedRootDeviceTypes>item"`
	SupportedVirtualizationTypes []string `xml:"supportedVirtualizationTypes>item"`
	BareMetal                    bool     `xml:"bareMetal"`
	Hypervisor                   string   `xml:"hypervisor"`
	ProcessorInfo                struct {
		SupportedArchitectures   []string `xml:"supportedArchitectures>item"`
		SustainedClockSpeedInGhz float64  `xml:"sustainedClockSpeedInGhz"`
	} `xml:"processorInfo"`
	VCPUInfo struct {
		DefaultVCpus          int   `xml:"defaultVCpus"`
		DefaultCores          int   `xml:"defaultCores"`
		DefaultThreadsPerCore int   `xml:"defaultThreadsPerCore"`
		ValidThreadsPerCore   []int `xml:"validThreadsPerCore>item"`
	} `xml:"vCpuInfo"`
	MemoryInfo struct {
		SizeInMiB int `xml:"sizeInMiB"`
	} `xml:"memoryInfo"`
	InstanceStorageSupported bool `xml:"instanceStorageSupported"`
	EbsInfo                  struct {
		EbsOptimizedSupport string `xml:"ebsOptimizedSupport"`
		EncryptionSupport   string `xml:"encryptionSupport"`
		NvmeSupport         string `xml:"nvmeSupport"`
	} `xml:"ebsInfo"`
	NetworkInfo struct {
		NetworkPerformance           string           `xml:"networkPerformance"`
		MaximumNetworkInterfaces     int              `xml:"maximumNetworkInterfaces"`
		MaximumNetworkCards          int              `xml:"maximumNetworkCards"`
		DefaultNetworkCardIndex      int              `xml:"defaultNetworkCardIndex"`
		NetworkCards                 []ec2NetworkCard `xml:"networkCards>item"`
		Ipv4AddressesPerInterface    int              `xml:"ipv4AddressesPerInterface"`
		Ipv6AddressesPerInterface    int              `xml:"ipv6AddressesPerInterface"`
		Ipv6Supported                bool             `xml:"ipv6Supported"`
		EnaSupport                   string           `xml:"enaSupport"`
		EfaSupported                 bool             `xml:"efaSupported"`
		EncryptionInTransitSupported bool             `xml:"encryptionInTransitSupported"`
		EnaSrdSupported              bool             `xml:"enaSrdSupported"`
	} `xml:"networkInfo"`
	PlacementGroupInfo struct {
		SupportedStrategies []string `xml:"supportedStrategies>item"`
	} `xml:"placementGroupInfo"`
	HibernationSupported          bool     `xml:"hibernationSupported"`
	BurstablePerformanceSupported bool     `xml:"burstablePerformanceSupported"`
	DedicatedHostsSupported       bool     `xml:"dedicatedHostsSupported"`
	AutoRecoverySupported         bool     `xml:"autoRecoverySupported"`
	SupportedBootModes            []string `xml:"supportedBootModes>item"`
}

type describeInstanceTypesResponse struct {
	wire.EC2Meta
	InstanceTypes []ec2InstanceTypeInfo `xml:"instanceTypeSet>item"`
	NextToken     string                `xml:"nextToken,omitempty"`
}

// ec2Burstable tells the T families (burstable performance) apart.
func ec2Burstable(name string) bool { return strings.HasPrefix(name, "t") }

// ec2NetworkPerformance is the bandwidth label of an instance type, by
// family generation and size (the labels the EC2 instance-type pages use).
func ec2NetworkPerformance(it *InstanceType) string {
	switch {
	case ec2Burstable(it.Name):
		return "Up to 5 Gigabit"
	case it.Hypervisor == "xen":
		return "Moderate"
	}
	family, _, _ := strings.Cut(it.Name, ".")
	gen5 := strings.HasSuffix(family, "5")
	switch {
	case it.VCPUs <= 16 && gen5:
		return "Up to 10 Gigabit"
	case it.VCPUs <= 16:
		return "Up to 12.5 Gigabit"
	case gen5 && it.VCPUs <= 36:
		return "10 Gigabit"
	case gen5 && it.VCPUs <= 48:
		return "12 Gigabit"
	case gen5 && it.VCPUs <= 64:
		return "20 Gigabit"
	case gen5:
		return "25 Gigabit"
	case it.VCPUs <= 32:
		return "12.5 Gigabit"
	case it.VCPUs <= 48:
		return "18.75 Gigabit"
	case it.VCPUs <= 64:
		return "25 Gigabit"
	case it.VCPUs <= 96:
		return "37.5 Gigabit"
	}
	return "50 Gigabit"
}

// ec2InstanceTypeFields are DescribeInstanceTypes' filters.
func ec2InstanceTypeFields() map[string]ec2Field[*InstanceType] {
	num := func(get func(*InstanceType) int) ec2Field[*InstanceType] {
		return func(it *InstanceType, f *ec2Filter) bool { return f.match(strconv.Itoa(get(it))) }
	}
	return map[string]ec2Field[*InstanceType]{
		"instance-type":                             func(it *InstanceType, f *ec2Filter) bool { return f.match(it.Name) },
		"hypervisor":                                func(it *InstanceType, f *ec2Filter) bool { return f.match(it.Hypervisor) },
		"processor-info.supported-architecture":     func(it *InstanceType, f *ec2Filter) bool { return f.match(ec2TypeArch(it)) },
		"vcpu-info.default-vcpus":                   num(func(it *InstanceType) int { return it.VCPUs }),
		"memory-info.size-in-mib":                   num(func(it *InstanceType) int { return it.MemoryMiB }),
		"network-info.maximum-network-interfaces":   num(func(it *InstanceType) int { return it.MaxENIs }),
		"network-info.ipv4-addresses-per-interface": num(func(it *InstanceType) int { return it.IPv4PerENI }),
		"network-info.ipv6-supported":               func(it *InstanceType, f *ec2Filter) bool { return f.matchBool(true) },
		"network-info.ena-support":                  func(it *InstanceType, f *ec2Filter) bool { return f.match(ec2EnaSupport(it)) },
		"network-info.network-performance":          func(it *InstanceType, f *ec2Filter) bool { return f.match(ec2NetworkPerformance(it)) },
		"burstable-performance-supported":           func(it *InstanceType, f *ec2Filter) bool { return f.matchBool(ec2Burstable(it.Name)) },
		"current-generation":                        func(it *InstanceType, f *ec2Filter) bool { return f.matchBool(true) },
		"bare-metal":                                func(it *InstanceType, f *ec2Filter) bool { return f.matchBool(false) },
		"instance-storage-supported":                func(it *InstanceType, f *ec2Filter) bool { return f.matchBool(false) },
		"supported-usage-class":                     func(it *InstanceType, f *ec2Filter) bool { return f.matchAny([]string{"on-demand", "spot"}) },
		"supported-virtualization-type":             func(it *InstanceType, f *ec2Filter) bool { return f.match("hvm") },
		"supported-root-device-type":                func(it *InstanceType, f *ec2Filter) bool { return f.match("ebs") },
		"free-tier-eligible":                        func(it *InstanceType, f *ec2Filter) bool { return f.matchBool(ec2FreeTier(it.Name)) },
	}
}

func ec2TypeArch(it *InstanceType) string {
	if it.Arch == "" {
		return "x86_64"
	}
	return it.Arch
}

func ec2EnaSupport(it *InstanceType) string {
	if it.Hypervisor == "xen" {
		return "unsupported"
	}
	return "required"
}

func ec2FreeTier(name string) bool { return name == "t3.micro" }

func describeInstanceTypes(c *call) (any, *wire.APIError) {
	if aerr := ec2DryRun(c); aerr != nil {
		return nil, aerr
	}
	w := c.w
	names := ec2IDs(c, "InstanceType")
	paging := ec2Paging{op: "DescribeInstanceTypes", min: 5, max: 100, defaultSize: 100}
	if _, aerr := ec2CheckPaging(c, paging, len(names)); aerr != nil {
		return nil, aerr
	}
	preds, aerr := compileEC2Filters(c.req.Form.EC2Filters(), ec2InstanceTypeFields(), nil)
	if aerr != nil {
		return nil, aerr
	}
	if missing := ec2Missing(names, w.InstanceTypes); len(missing) > 0 {
		return nil, wire.BadRequest("InvalidInstanceType", "The following supplied instance types do not exist: [%s]", strings.Join(missing, ", "))
	}
	keys := names
	if keys == nil {
		keys = sortedKeys(w.InstanceTypes)
	} else {
		keys = append([]string(nil), keys...)
		sort.Strings(keys)
	}
	var matched []*InstanceType
	for _, k := range keys {
		if it := w.InstanceTypes[k]; ec2Matches(it, preds) {
			matched = append(matched, it)
		}
	}
	start, end, next, aerr := ec2Page(c, paging, len(matched), len(names))
	if aerr != nil {
		return nil, aerr
	}
	out := &describeInstanceTypesResponse{NextToken: next, InstanceTypes: make([]ec2InstanceTypeInfo, 0, end-start)}
	for _, it := range matched[start:end] {
		out.InstanceTypes = append(out.InstanceTypes, ec2InstanceTypeItem(it))
	}
	return out, nil
}

func ec2InstanceTypeItem(it *InstanceType) ec2InstanceTypeInfo {
	nitro := it.Hypervisor != "xen"
	item := ec2InstanceTypeInfo{InstanceType: it.Name, CurrentGeneration: nitro, FreeTierEligible: ec2FreeTier(it.Name),
		SupportedUsageClasses: []string{"on-demand", "spot"}, SupportedRootDeviceTypes: []string{"ebs"},
		SupportedVirtualizationTypes: []string{"hvm"}, Hypervisor: it.Hypervisor,
		HibernationSupported: nitro, BurstablePerformanceSupported: ec2Burstable(it.Name),
		DedicatedHostsSupported: nitro, AutoRecoverySupported: true, SupportedBootModes: []string{"legacy-bios", "uefi"}}
	if item.Hypervisor == "" {
		item.Hypervisor = "nitro"
	}
	arch := ec2TypeArch(it)
	item.ProcessorInfo.SupportedArchitectures = []string{arch}
	item.ProcessorInfo.SustainedClockSpeedInGhz = 3.1
	threads := 2
	if arch == "arm64" || it.VCPUs == 1 {
		threads = 1
	}
	item.VCPUInfo.DefaultVCpus, item.VCPUInfo.DefaultCores, item.VCPUInfo.DefaultThreadsPerCore = it.VCPUs, max(1, it.VCPUs/threads), threads
	item.VCPUInfo.ValidThreadsPerCore = []int{1}
	if threads == 2 {
		item.VCPUInfo.ValidThreadsPerCore = []int{1, 2}
	}
	item.MemoryInfo.SizeInMiB = it.MemoryMiB
	item.EbsInfo.EbsOptimizedSupport, item.EbsInfo.EncryptionSupport, item.EbsInfo.NvmeSupport = "default", "supported", "required"
	if !nitro {
		item.EbsInfo.EbsOptimizedSupport, item.EbsInfo.NvmeSupport = "unsupported", "unsupported"
	}
	perf := ec2NetworkPerformance(it)
	n := &item.NetworkInfo
	n.NetworkPerformance, n.MaximumNetworkInterfaces, n.MaximumNetworkCards = perf, it.MaxENIs, 1
	n.NetworkCards = []ec2NetworkCard{{NetworkCardIndex: 0, NetworkPerformance: perf, MaximumNetworkInterfaces: it.MaxENIs}}
	n.Ipv4AddressesPerInterface, n.Ipv6AddressesPerInterface, n.Ipv6Supported = it.IPv4PerENI, it.IPv4PerENI, nitro
	n.EnaSupport = ec2EnaSupport(it)
	item.PlacementGroupInfo.SupportedStrategies = []string{"cluster", "partition", "spread"}
	return item
}

// ---- DescribeInstanceTypeOfferings ----
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypeOfferings.html

type ec2InstanceTypeOffering struct {
	InstanceType string `xml:"instanceType"`
	LocationType string `xml:"locationType"`
	Location     string `xml:"location"`
}

type describeInstanceTypeOfferingsResponse struct {
	wire.EC2Meta
	InstanceTypeOfferings []ec2InstanceTypeOffering `xml:"instanceTypeOfferingSet>item"`
	NextToken             string                    `xml:"nextToken,omitempty"`
}

func describeInstanceTypeOfferings(c *call) (any, *wire.APIError) {
	if aerr := ec2DryRun(c); aerr != nil {
		return nil, aerr
	}
	w := c.w
	paging := ec2Paging{op: "DescribeInstanceTypeOfferings", min: 5, max: 1000}
	if _, aerr := ec2CheckPaging(c, paging, 0); aerr != nil {
		return nil, aerr
	}
	locType := c.req.Form.String("LocationType")
	var locations []string
	switch locType {
	case "", "region":
		locType, locations = "region", []string{w.Region}
	case "availability-zone":
		locations = w.AZs
	case "availability-zone-id":
		for _, az := range w.AZs {
			locations = append(locations, ec2ZoneID(w.Region, az))
		}
	case "outpost":
		// The sandbox account has no Outposts.
	default:
		return nil, wire.BadRequest("InvalidParameterValue", "Value (%s) for parameter locationType is invalid. Valid values are: region, availability-zone, availability-zone-id, outpost", locType)
	}
	fields := map[string]ec2Field[*ec2InstanceTypeOffering]{
		"instance-type": func(o *ec2InstanceTypeOffering, f *ec2Filter) bool { return f.match(o.InstanceType) },
		"location":      func(o *ec2InstanceTypeOffering, f *ec2Filter) bool { return f.match(o.Location) },
	}
	preds, aerr := compileEC2Filters(c.req.Form.EC2Filters(), fields, nil)
	if aerr != nil {
		return nil, aerr
	}
	var matched []ec2InstanceTypeOffering
	for _, name := range sortedKeys(w.InstanceTypes) {
		for _, loc := range locations {
			o := ec2InstanceTypeOffering{InstanceType: name, LocationType: locType, Location: loc}
			if ec2Matches(&o, preds) {
				matched = append(matched, o)
			}
		}
	}
	start, end, next, aerr := ec2Page(c, paging, len(matched), 0)
	if aerr != nil {
		return nil, aerr
	}
	return &describeInstanceTypeOfferingsResponse{InstanceTypeOfferings: append([]ec2InstanceTypeOffering{}, matched[start:end]...), NextToken: next}, nil
}
