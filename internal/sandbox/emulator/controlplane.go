package emulator

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/eksbg/eksbg/internal/cni"
)

// This file is the seam between the emulator and the sandbox's real
// Kubernetes control planes (package sandbox/kube): what a control plane
// needs to read of an EKS cluster, how it publishes its endpoint and CA
// back into DescribeCluster, and how it hears about changes.

// ControlPlaneCluster is what a control plane needs to know of an EKS
// cluster: a copy, safe to keep after the call.
type ControlPlaneCluster struct {
	Name    string
	ARN     string
	Version string
	Status  string
	Account string
	Region  string
	VPCID   string
	// ServiceCIDR is the cluster's service IPv4 range (kubernetesNetworkConfig).
	ServiceCIDR string
	// OIDCIssuer is the cluster's service-account issuer URL.
	OIDCIssuer string
	// CNI is the cluster's VPC CNI configuration (the aws-node environment).
	CNI cni.Settings
	// Addons maps an installed add-on's name to its version.
	Addons map[string]string
	// SelfManaged maps vpc-cni, coredns and kube-proxy, which EKS installs
	// in every new cluster, to the version running: the add-on's when the
	// add-on is installed, else the catalog's default for the cluster's
	// Kubernetes version.
	SelfManaged map[string]string
	// ControlPlaneIPs are the addresses of the cluster's control-plane
	// ENIs in its VPC: the endpoints of the kubernetes Service.
	ControlPlaneIPs []string
	// Ready says the control plane has published its endpoint (SetControlPlane).
	Ready      bool
	Nodegroups []ControlPlaneNodegroup
}

// ControlPlaneNodegroup is a managed node group, as its nodes need it.
type ControlPlaneNodegroup struct {
	Name    string
	Status  string
	Version string
	// ReleaseVersion is the AMI release (1.32.0-20260101).
	ReleaseVersion string
	CapacityType   string
	AMIType        string
	Labels         map[string]string
	Taints         []Taint
	// PodsPerNode is the scenario's pods per node (N of the VPC CNI
	// model the emulator allocated the nodes' addresses for); 0 when the
	// scenario gives none (node groups created through the API).
	PodsPerNode int
	Instances   []ControlPlaneInstance
}

// ControlPlaneInstance is one EC2 instance of a node group: one node.
type ControlPlaneInstance struct {
	ID        string
	Type      string
	AZ        string
	SubnetID  string
	ImageID   string
	PrivateIP string
	VCPUs     int
	MemoryMiB int
	// Arch is x86_64 or arm64, as EC2 spells it.
	Arch string
	// MaxPods is the kubelet's max pods on this node, as the EKS AMI
	// computes it from the instance type and the CNI settings.
	MaxPods int
	// PodIPs are the addresses the VPC CNI holds on the instance's ENIs
	// for pods: every secondary address, then every address of every
	// delegated /28 prefix, in ENI order.
	PodIPs []string
}

// ControlPlaneClusters returns every cluster, sorted by name, after
// applying the transitions due by now (and delivering their events).
func (s *Server) ControlPlaneClusters() []ControlPlaneCluster {
	var out []ControlPlaneCluster
	s.tick(func(w *World) bool {
		for _, name := range sortedKeys(w.Clusters) {
			out = append(out, w.controlPlaneCluster(w.Clusters[name]))
		}
		return false
	})
	return out
}

func (w *World) controlPlaneCluster(c *Cluster) ControlPlaneCluster {
	out := ControlPlaneCluster{Name: c.Name, ARN: c.ARN, Version: c.Version, Status: c.Status, Account: w.Account,
		Region: w.Region, VPCID: c.VPCID, ServiceCIDR: c.ServiceCIDR, OIDCIssuer: c.OIDCIssuer, CNI: c.cniSettings(),
		Addons: map[string]string{}, Ready: c.ControlPlaneReady}
	for name, a := range c.Addons {
		out.Addons[name] = a.Version
	}
	out.SelfManaged = map[string]string{}
	for _, name := range []string{"vpc-cni", "coredns", "kube-proxy"} {
		if v, ok := out.Addons[name]; ok {
			out.SelfManaged[name] = v
		} else if def, ok := eksAddonByName(name); ok {
			if v, ok := def.defaultVersion(eksMinor(c.Version)); ok {
				out.SelfManaged[name] = v
			}
		}
	}
	for _, id := range c.ControlPlaneENIs {
		if e, ok := w.ENIs[id]; ok {
			out.ControlPlaneIPs = append(out.ControlPlaneIPs, e.PrivateIPs[0])
		}
	}
	settings := c.cniSettings()
	for _, ngName := range sortedKeys(c.Nodegroups) {
		ng := c.Nodegroups[ngName]
		cng := ControlPlaneNodegroup{Name: ng.Name, Status: ng.Status, Version: ng.Version, ReleaseVersion: ng.ReleaseVersion,
			CapacityType: ng.CapacityType, AMIType: ng.AMIType, PodsPerNode: ng.PodsPerNode,
			Labels: eksCopyMap(ng.Labels), Taints: append([]Taint(nil), ng.Taints...)}
		for _, id := range ng.Instances {
			inst, ok := w.Instances[id]
			if !ok {
				continue
			}
			ci := ControlPlaneInstance{ID: inst.ID, Type: inst.Type, AZ: inst.AZ, SubnetID: inst.SubnetID, ImageID: inst.ImageID,
				PrivateIP: inst.PrivateIP}
			if it, ok := w.InstanceTypes[inst.Type]; ok {
				ci.VCPUs, ci.MemoryMiB, ci.Arch = it.VCPUs, it.MemoryMiB, it.Arch
				shape := cni.InstanceShape{Name: it.Name, VCPUs: it.VCPUs, MaxENIs: it.MaxENIs, IPv4PerENI: it.IPv4PerENI, Nitro: it.Hypervisor == "nitro"}
				ci.MaxPods = cni.MaxPods(shape, settings, ng.MaxPods)
			}
			for _, eid := range inst.ENIs {
				e, ok := w.ENIs[eid]
				if !ok {
					continue
				}
				ci.PodIPs = append(ci.PodIPs, e.PrivateIPs[1:]...)
				for _, p := range e.Prefixes {
					ci.PodIPs = append(ci.PodIPs, prefixAddrs(p)...)
				}
			}
			cng.Instances = append(cng.Instances, ci)
		}
		out.Nodegroups = append(out.Nodegroups, cng)
	}
	return out
}

// prefixAddrs lists the addresses of a delegated prefix (a /28: 16 of them).
func prefixAddrs(cidr string) []string {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil
	}
	var out []string
	for a := p.Masked().Addr(); p.Contains(a); a = a.Next() {
		out = append(out, a.String())
	}
	return out
}

// HoldForControlPlanes makes clusters wait in CREATING, past their
// creation time, until SetControlPlane publishes their endpoint: with
// control planes attached, an ACTIVE cluster always answers DescribeCluster
// with an endpoint that serves, as on EKS. The sandbox turns it on when it
// runs control planes; the bare emulator leaves it off.
func (s *Server) HoldForControlPlanes(hold bool) {
	s.mu.Lock()
	s.world.HoldForControlPlanes = hold
	s.mu.Unlock()
}

// SetControlPlane publishes a cluster's real API server: DescribeCluster
// answers with endpoint and, as certificateAuthority.data, the base64 of
// caPEM (EKS sends the PEM base64-encoded). A cluster held in CREATING
// becomes ACTIVE once its creation time has passed.
func (s *Server) SetControlPlane(cluster, endpoint string, caPEM []byte) error {
	var err error
	s.tick(func(w *World) bool {
		c, ok := w.Clusters[cluster]
		if !ok {
			err = fmt.Errorf("cluster %s does not exist", cluster)
			return false
		}
		c.Endpoint = endpoint
		c.CertificateData = base64.StdEncoding.EncodeToString(caPEM)
		c.ControlPlaneReady = true
		return true
	})
	if err != nil {
		return err
	}
	// The cluster may now be due to become ACTIVE.
	s.Tick()
	return nil
}

// ClusterStatusFailed is EKS's status of a cluster whose creation failed
// (https://docs.aws.amazon.com/eks/latest/APIReference/API_Cluster.html).
const ClusterStatusFailed = "FAILED"

// FailControlPlane marks a cluster still CREATING as FAILED, when its
// control plane could not start: it is not held forever, and DeleteCluster
// removes it as EKS removes failed clusters.
func (s *Server) FailControlPlane(cluster string) {
	s.tick(func(w *World) bool {
		c, ok := w.Clusters[cluster]
		if !ok || c.Status != StatusCreating {
			return false
		}
		c.Status, c.Deadline = ClusterStatusFailed, time.Time{}
		return true
	})
}

// Tick applies the transitions due by now and delivers their events, as
// any API call does: the sandbox ticks so that clusters and node groups
// move on even while no client calls.
func (s *Server) Tick() { s.tick(func(*World) bool { return false }) }

// tick runs f with the world locked after applying due transitions, saves
// the world if either changed it, and then delivers the events outside the
// lock.
func (s *Server) tick(f func(w *World) (changed bool)) {
	s.mu.Lock()
	changed, events := s.world.advance(s.opts.Clock().Add(s.offset))
	if f(s.world) {
		changed = true
	}
	if changed && s.opts.StatePath != "" {
		if err := SaveWorld(s.opts.StatePath, s.world); err != nil {
			s.opts.Logger.Error("saving sandbox state", "error", err)
		}
	}
	s.mu.Unlock()
	s.publish(events)
}

// Subscribe calls f with every event the emulator emits from now on, in
// addition to Options.OnEvent, until the returned function is called. f
// runs on the goroutine serving the call that caused the event, before
// the response is written: it must not block.
func (s *Server) Subscribe(f func(Event)) (unsubscribe func()) {
	return s.hub.add(f)
}

// publish delivers events to Options.OnEvent and the subscribers.
func (s *Server) publish(events []Event) {
	for _, e := range events {
		if s.opts.OnEvent != nil {
			s.opts.OnEvent(e)
		}
		s.hub.send(e)
	}
}

// eventHub holds the subscribers of Subscribe; its zero value is ready.
type eventHub struct {
	mu   sync.Mutex
	next int
	subs map[int]func(Event)
}

func (h *eventHub) add(f func(Event)) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[int]func(Event){}
	}
	id := h.next
	h.next++
	h.subs[id] = f
	return func() {
		h.mu.Lock()
		delete(h.subs, id)
		h.mu.Unlock()
	}
}

func (h *eventHub) send(e Event) {
	h.mu.Lock()
	ids := make([]int, 0, len(h.subs))
	for id := range h.subs {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	fs := make([]func(Event), 0, len(ids))
	for _, id := range ids {
		fs = append(fs, h.subs[id])
	}
	h.mu.Unlock()
	for _, f := range fs {
		f(e)
	}
}
