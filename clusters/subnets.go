package clusters

import (
	"fmt"
	"slices"
)

// NodeGroupSubnets resolves the subnets a node group's instances go to, the
// way eksctl does (SelectNodeGroupSubnets and AssignSubnets in eksctl's
// pkg/vpc/vpc.go and pkg/cfn/builder/nodegroup.go):
//
//   - each of the group's availabilityZones selects the vpc.subnets of its
//     role (private with privateNetworking, else public) in that zone;
//   - each entry of its subnets is a key of vpc.subnets (its own role first,
//     then the other) or a subnet ID, looked up by ID in vpc.subnets and
//     otherwise returned with only the ID known;
//   - with neither, every subnet of its role.
//
// The result is in config order, without duplicates. A Subnet whose AZ is
// empty is one the config does not describe; only AWS knows its zone.
func (s *Spec) NodeGroupSubnets(ng NodeGroup) ([]Subnet, error) {
	own, other := s.VPC.Public, s.VPC.Private
	role := "public"
	if ng.PrivateNetworking {
		own, other = other, own
		role = "private"
	}
	var out []Subnet
	add := func(sn Subnet) {
		if !slices.ContainsFunc(out, func(o Subnet) bool { return o == sn }) {
			out = append(out, sn)
		}
	}
	for _, az := range ng.AvailabilityZones {
		found := false
		for _, sn := range own {
			if sn.AZ == az {
				add(sn)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("node group %s: no %s subnet in vpc.subnets for availability zone %s", ng.Name, role, az)
		}
	}
	for _, ref := range ng.Subnets {
		sn, ok := findSubnet(own, ref)
		if !ok {
			sn, ok = findSubnet(other, ref)
			if ok && !ng.PrivateNetworking {
				// eksctl refuses this too.
				return nil, fmt.Errorf("node group %s: subnet %s is private in vpc.subnets, so it needs privateNetworking: true", ng.Name, ref)
			}
		}
		if !ok {
			sn = Subnet{ID: ref}
		}
		add(sn)
	}
	if len(ng.AvailabilityZones) == 0 && len(ng.Subnets) == 0 {
		for _, sn := range own {
			add(sn)
		}
	}
	return out, nil
}

// findSubnet finds ref among subnets by key, then by ID.
func findSubnet(subnets []Subnet, ref string) (Subnet, bool) {
	for _, sn := range subnets {
		if sn.Key == ref {
			return sn, true
		}
	}
	for _, sn := range subnets {
		if sn.ID != "" && sn.ID == ref {
			return sn, true
		}
	}
	return Subnet{}, false
}
