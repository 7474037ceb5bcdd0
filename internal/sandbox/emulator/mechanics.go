package emulator

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/cni"
)

// Resource states, as the EKS and EC2 APIs spell them.
const (
	StatusCreating = "CREATING"
	StatusActive   = "ACTIVE"
	StatusDeleting = "DELETING"
	StatusUpdating = "UPDATING"
	StatusDegraded = "DEGRADED"
	StatusFailed   = "CREATE_FAILED"
)

// Event tells the sandbox around the emulator (control planes, kwok nodes)
// that the world changed. Events are delivered after the request that
// caused them, outside the world's lock.
type Event struct {
	Kind      EventKind
	Cluster   string
	Nodegroup string
}

// EventKind names a change.
type EventKind string

// The changes the emulator reports.
const (
	EventClusterActive    EventKind = "ClusterActive"
	EventClusterDeleted   EventKind = "ClusterDeleted"
	EventNodegroupChanged EventKind = "NodegroupChanged"
	EventNodegroupDeleted EventKind = "NodegroupDeleted"
)

// errNoAddresses is returned when a subnet has no free address left.
type errNoAddresses struct{ subnet string }

func (e errNoAddresses) Error() string {
	return fmt.Sprintf("there are not enough free addresses in subnet '%s' to satisfy the requested number of instances", e.subnet)
}

// eniSpec describes an ENI to create.
type eniSpec struct {
	SubnetID         string
	Description      string
	InterfaceType    string
	RequesterManaged bool
	RequesterID      string
	IPs              int  // including the primary
	Prefixes         int  // /28 prefixes
	Scattered        bool // place addresses to fragment /28 blocks
	Cluster          string
	Nodegroup        string
	Tags             map[string]string
}

// createENI allocates an ENI and its addresses. It needs at least the
// primary address; secondary addresses and prefixes are taken while the
// subnet has them (the VPC CNI keeps running short of its warm target).
func (w *World) createENI(spec eniSpec, now time.Time) (*ENI, error) {
	sn, ok := w.Subnets[spec.SubnetID]
	if !ok {
		return nil, fmt.Errorf("subnet %s does not exist", spec.SubnetID)
	}
	alloc := sn.ipam.alloc
	if spec.Scattered {
		alloc = sn.ipam.allocScattered
	}
	primary, ok := alloc()
	if !ok {
		return nil, errNoAddresses{sn.ID}
	}
	id := w.newID("eni-", 17)
	e := &ENI{ID: id, SubnetID: sn.ID, VPCID: sn.VPCID, AZ: sn.AZ, Description: spec.Description,
		InterfaceType: spec.InterfaceType, RequesterManaged: spec.RequesterManaged, RequesterID: spec.RequesterID,
		Status: "in-use", MAC: macFor(id), PrivateIPs: []string{primary}, Tags: spec.Tags,
		Cluster: spec.Cluster, Nodegroup: spec.Nodegroup}
	if e.InterfaceType == "" {
		e.InterfaceType = "interface"
	}
	for i := 1; i < spec.IPs; i++ {
		ip, ok := alloc()
		if !ok {
			break
		}
		e.PrivateIPs = append(e.PrivateIPs, ip)
	}
	for i := 0; i < spec.Prefixes; i++ {
		p, ok := sn.ipam.allocPrefix()
		if !ok {
			break
		}
		e.Prefixes = append(e.Prefixes, p)
	}
	w.ENIs[id] = e
	return e, nil
}

func macFor(id string) string {
	h := stableID(id)
	return fmt.Sprintf("02:%s:%s:%s:%s:%s", h[0:2], h[2:4], h[4:6], h[6:8], h[8:10])
}

// deleteENI releases an ENI's addresses.
func (w *World) deleteENI(id string) {
	e, ok := w.ENIs[id]
	if !ok {
		return
	}
	if sn, ok := w.Subnets[e.SubnetID]; ok {
		for _, ip := range e.PrivateIPs {
			sn.ipam.release(ip)
		}
		for _, p := range e.Prefixes {
			sn.ipam.releasePrefix(p)
		}
	}
	delete(w.ENIs, id)
}

// cniSettings turns a cluster's scenario CNI block into the model's settings.
func (c *Cluster) cniSettings() cni.Settings {
	s := cni.DefaultSettings()
	if c.CNI.Mode == string(cni.ModePrefixDelegation) {
		s.Mode = cni.ModePrefixDelegation
	}
	s.WarmENITarget = orDefault(c.CNI.WarmENITarget, s.WarmENITarget)
	s.WarmIPTarget = orDefault(c.CNI.WarmIPTarget, s.WarmIPTarget)
	s.MinimumIPTarget = orDefault(c.CNI.MinimumIPTarget, s.MinimumIPTarget)
	s.WarmPrefixTarget = orDefault(c.CNI.WarmPrefixTarget, s.WarmPrefixTarget)
	s.MaxENI = orDefault(c.CNI.MaxENI, s.MaxENI)
	s.CustomNetworking = len(c.CNI.PodSubnets) > 0
	return s
}

func orDefault(p, def *int) *int {
	if p != nil {
		return p
	}
	return def
}

// launchInstance starts one node of a nodegroup in subnetID, with the ENIs
// and addresses the VPC CNI would hold on it (internal/cni, the same model
// the capacity report uses).
func (w *World) launchInstance(c *Cluster, ng *Nodegroup, subnetID string, now time.Time) (*Instance, error) {
	it, ok := w.InstanceTypes[ng.InstanceTypes[0]]
	if !ok {
		return nil, fmt.Errorf("instance type %s is not known", ng.InstanceTypes[0])
	}
	sn := w.Subnets[subnetID]
	shape := cni.InstanceShape{Name: it.Name, VCPUs: it.VCPUs, MaxENIs: it.MaxENIs, IPv4PerENI: it.IPv4PerENI, Nitro: it.Hypervisor == "nitro"}
	settings := c.cniSettings()
	pods := ng.PodsPerNode
	if pods == 0 {
		pods = cni.MaxPods(shape, settings, ng.MaxPods)
	}
	alloc, err := cni.Allocate(cni.Node{Shape: shape, Pods: pods, MaxPodsOverride: ng.MaxPods}, settings)
	if err != nil {
		return nil, fmt.Errorf("allocating addresses for %s: %w", it.Name, err)
	}
	inst := &Instance{ID: w.newID("i-", 17), Type: it.Name, SubnetID: subnetID, VPCID: sn.VPCID, AZ: sn.AZ,
		State: "running", LaunchTime: now, CapacityType: ng.CapacityType, ImageID: "ami-" + stableID(ng.AMIType, c.Version)[:17],
		Cluster: c.Name, Nodegroup: ng.Name,
		Tags: map[string]string{
			"eks:cluster-name":                  c.Name,
			"eks:nodegroup-name":                ng.Name,
			"kubernetes.io/cluster/" + c.Name:   "owned",
			"k8s.io/cluster-autoscaler/enabled": "true",
			"aws:autoscaling:groupName":         "eks-" + ng.Name + "-" + stableID(ng.ARN)[:8],
		}}
	device := 0
	for _, spec := range alloc.ENIs {
		if spec.Role == cni.RoleBranch {
			continue // branch ENIs are not attached ENIs; trunk holds them
		}
		target := subnetID
		if spec.InPodSubnet {
			if ps, ok := c.CNI.PodSubnets[sn.AZ]; ok {
				target = ps
			}
		}
		typ := "interface"
		if spec.Role == cni.RoleTrunk {
			typ = "trunk"
		}
		desc := ""
		if device > 0 {
			desc = "aws-K8S-" + inst.ID
		}
		e, err := w.createENI(eniSpec{SubnetID: target, Description: desc, InterfaceType: typ, IPs: spec.IPs,
			Prefixes: spec.Prefixes, Cluster: c.Name, Nodegroup: ng.Name,
			Tags: map[string]string{"node.k8s.amazonaws.com/instance_id": inst.ID, "cluster.k8s.amazonaws.com/name": c.Name}}, now)
		if err != nil {
			if device == 0 {
				return nil, err // no primary ENI: the instance cannot launch
			}
			break // ipamd keeps trying; the node runs with fewer ENIs
		}
		if device == 0 {
			e.Tags = nil // the primary ENI is created with the instance, untagged
			inst.PrivateIP = e.PrivateIPs[0]
		}
		e.InstanceID, e.DeviceIndex, e.AttachTime = inst.ID, device, now
		e.AttachmentID = "eni-attach-" + stableID(e.ID)[:17]
		inst.ENIs = append(inst.ENIs, e.ID)
		device++
	}
	w.Instances[inst.ID] = inst
	ng.Instances = append(ng.Instances, inst.ID)
	return inst, nil
}

func (w *World) terminateInstance(id string) {
	inst, ok := w.Instances[id]
	if !ok {
		return
	}
	for _, e := range inst.ENIs {
		w.deleteENI(e)
	}
	delete(w.Instances, id)
}

// reconcileNodegroup launches or terminates instances until the group has
// its desired size, keeping AZs balanced as an Auto Scaling group does.
func (w *World) reconcileNodegroup(c *Cluster, ng *Nodegroup, now time.Time) error {
	perAZ := map[string][]string{}
	for _, id := range ng.Instances {
		if inst, ok := w.Instances[id]; ok {
			perAZ[inst.AZ] = append(perAZ[inst.AZ], id)
		}
	}
	for len(ng.Instances) > ng.Desired {
		// terminate the newest instance in the fullest AZ
		var az string
		for _, a := range sortedKeys(perAZ) {
			if az == "" || len(perAZ[a]) > len(perAZ[az]) {
				az = a
			}
		}
		ids := perAZ[az]
		victim := ids[len(ids)-1]
		perAZ[az] = ids[:len(ids)-1]
		w.terminateInstance(victim)
		ng.Instances = remove(ng.Instances, victim)
	}
	for len(ng.Instances) < ng.Desired {
		// Launch into the AZ with the fewest instances of the group, as an
		// Auto Scaling group balances AZs; within it, into the subnet with
		// the most free addresses. A subnet that cannot hold the instance's
		// primary address is skipped, as EC2 fails the launch there.
		full := map[string]bool{}
		var inst *Instance
		for inst == nil {
			pick := ""
			for _, sid := range ng.SubnetIDs {
				sn := w.Subnets[sid]
				if sn == nil || full[sid] {
					continue
				}
				if pick == "" {
					pick = sid
					continue
				}
				p := w.Subnets[pick]
				if n, pn := len(perAZ[sn.AZ]), len(perAZ[p.AZ]); n < pn || (n == pn && sn.ipam.Available() > p.ipam.Available()) {
					pick = sid
				}
			}
			if pick == "" {
				return errNoAddresses{subnet: strings.Join(ng.SubnetIDs, ", ")}
			}
			var err error
			inst, err = w.launchInstance(c, ng, pick, now)
			var na errNoAddresses
			if errors.As(err, &na) {
				full[pick] = true
				continue
			}
			if err != nil {
				return err
			}
		}
		perAZ[inst.AZ] = append(perAZ[inst.AZ], inst.ID)
	}
	return nil
}

func remove(s []string, v string) []string {
	out := s[:0]
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// advance applies every asynchronous transition due by now. It is called
// at the start of every request, so state moves on even across restarts:
// deadlines are stored, not timers. It returns whether anything changed and
// the events to deliver.
func (w *World) advance(now time.Time) (changed bool, events []Event) {
	for _, name := range sortedKeys(w.Clusters) {
		c := w.Clusters[name]
		switch {
		case c.Status == StatusCreating && !now.Before(c.Deadline) && (!w.HoldForControlPlanes || c.ControlPlaneReady):
			c.Status, c.Deadline, changed = StatusActive, time.Time{}, true
			events = append(events, Event{Kind: EventClusterActive, Cluster: c.Name})
		case c.Status == StatusDeleting && !now.Before(c.Deadline):
			for _, e := range c.ControlPlaneENIs {
				w.deleteENI(e)
			}
			delete(w.Clusters, name)
			changed = true
			events = append(events, Event{Kind: EventClusterDeleted, Cluster: c.Name})
			continue
		}
		for _, ngName := range sortedKeys(c.Nodegroups) {
			ng := c.Nodegroups[ngName]
			if ng.Deadline.IsZero() || now.Before(ng.Deadline) {
				continue
			}
			changed = true
			switch ng.Status {
			case StatusCreating, StatusUpdating:
				ng.Status, ng.Deadline, ng.ModifiedAt = StatusActive, time.Time{}, now
				ng.Health = nil
				if err := w.reconcileNodegroup(c, ng, now); err != nil {
					ng.Status = StatusDegraded
					ng.Health = []HealthIssue{{Code: "InsufficientFreeAddresses", Message: err.Error(), ResourceIDs: ng.SubnetIDs}}
				}
				for _, u := range c.Updates {
					if u.Nodegroup == ng.Name && u.Status == "InProgress" {
						u.Status = "Successful"
						if ng.Status == StatusDegraded {
							u.Status = "Failed"
						}
					}
				}
				events = append(events, Event{Kind: EventNodegroupChanged, Cluster: c.Name, Nodegroup: ng.Name})
			case StatusDeleting:
				for _, id := range ng.Instances {
					w.terminateInstance(id)
				}
				delete(c.Nodegroups, ngName)
				events = append(events, Event{Kind: EventNodegroupDeleted, Cluster: c.Name, Nodegroup: ng.Name})
			}
		}
		for _, aName := range sortedKeys(c.Addons) {
			a := c.Addons[aName]
			if a.Deadline.IsZero() || now.Before(a.Deadline) {
				continue
			}
			changed = true
			switch a.Status {
			case StatusCreating, StatusUpdating:
				a.Status, a.Deadline, a.ModifiedAt = StatusActive, time.Time{}, now
			case StatusDeleting:
				delete(c.Addons, aName)
			}
		}
	}
	return changed, events
}

// seconds converts a scenario timing to a duration.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// distinctAZSubnets picks up to max subnets of ids, one per AZ, in order.
func (w *World) distinctAZSubnets(ids []string, max int) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		sn, ok := w.Subnets[id]
		if !ok || seen[sn.AZ] {
			continue
		}
		seen[sn.AZ] = true
		out = append(out, id)
		if len(out) == max {
			break
		}
	}
	return out
}
