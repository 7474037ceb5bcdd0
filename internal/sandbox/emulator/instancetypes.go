package emulator

// builtinInstanceTypes is the instance-type table DescribeInstanceTypes
// serves: vCPUs, memory, ENIs and IPv4 addresses per ENI as EC2 documents them
// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/AvailableIpPerENI.html).
// Scenarios add or override rows.
func builtinInstanceTypes() map[string]*InstanceType {
	type row struct {
		size            string
		vcpus, enis, ip int
	}
	// Sizes shared by the m5/m6i/m7i, c5/c6i/c7i and r5/r6i families.
	common := []row{
		{"large", 2, 3, 10}, {"xlarge", 4, 4, 15}, {"2xlarge", 8, 4, 15}, {"4xlarge", 16, 8, 30},
		{"8xlarge", 32, 8, 30}, {"12xlarge", 48, 8, 30}, {"16xlarge", 64, 15, 50}, {"24xlarge", 96, 15, 50},
	}
	families := map[string]struct {
		memPerVCPU int
		extra      []row
		skip       map[string]bool
	}{
		"m5":  {4096, nil, nil},
		"m6i": {4096, []row{{"32xlarge", 128, 15, 50}}, nil},
		"m7i": {4096, []row{{"48xlarge", 192, 15, 50}}, nil},
		"c5":  {2048, []row{{"9xlarge", 36, 8, 30}, {"18xlarge", 72, 15, 50}}, map[string]bool{"8xlarge": true, "16xlarge": true}},
		"c6i": {2048, []row{{"32xlarge", 128, 15, 50}}, nil},
		"c7i": {2048, []row{{"48xlarge", 192, 15, 50}}, nil},
		"r5":  {8192, nil, nil},
		"r6i": {8192, []row{{"32xlarge", 128, 15, 50}}, nil},
	}
	out := map[string]*InstanceType{}
	for fam, f := range families {
		for _, r := range append(append([]row{}, common...), f.extra...) {
			if f.skip[r.size] {
				continue
			}
			name := fam + "." + r.size
			out[name] = &InstanceType{Name: name, VCPUs: r.vcpus, MemoryMiB: r.vcpus * f.memPerVCPU,
				MaxENIs: r.enis, IPv4PerENI: r.ip, Hypervisor: "nitro", Arch: "x86_64"}
		}
	}
	// Graviton (arm64) families: a medium size with one vCPU, no 24xlarge.
	graviton := []row{
		{"medium", 1, 2, 4}, {"large", 2, 3, 10}, {"xlarge", 4, 4, 15}, {"2xlarge", 8, 4, 15},
		{"4xlarge", 16, 8, 30}, {"8xlarge", 32, 8, 30}, {"12xlarge", 48, 8, 30}, {"16xlarge", 64, 15, 50},
	}
	for fam, memPerVCPU := range map[string]int{"m6g": 4096, "m7g": 4096, "c6g": 2048, "c7g": 2048, "r6g": 8192, "r7g": 8192} {
		for _, r := range graviton {
			name := fam + "." + r.size
			out[name] = &InstanceType{Name: name, VCPUs: r.vcpus, MemoryMiB: r.vcpus * memPerVCPU,
				MaxENIs: r.enis, IPv4PerENI: r.ip, Hypervisor: "nitro", Arch: "arm64"}
		}
	}
	for _, r := range []struct {
		size            string
		vcpus, mem      int
		enis, ipsPerENI int
	}{
		{"nano", 2, 512, 2, 2}, {"micro", 2, 1024, 2, 2}, {"small", 2, 2048, 3, 4}, {"medium", 2, 4096, 3, 6},
		{"large", 2, 8192, 3, 12}, {"xlarge", 4, 16384, 4, 15}, {"2xlarge", 8, 32768, 4, 15},
	} {
		name := "t3." + r.size
		out[name] = &InstanceType{Name: name, VCPUs: r.vcpus, MemoryMiB: r.mem, MaxENIs: r.enis,
			IPv4PerENI: r.ipsPerENI, Hypervisor: "nitro", Arch: "x86_64"}
	}
	return out
}
