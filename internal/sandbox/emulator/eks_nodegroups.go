package emulator

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// The shapes of DescribeNodegroup's nodegroup.
type (
	eksNodegroupOut struct {
		NodegroupName  string              `json:"nodegroupName"`
		NodegroupArn   string              `json:"nodegroupArn"`
		ClusterName    string              `json:"clusterName"`
		Version        string              `json:"version"`
		ReleaseVersion string              `json:"releaseVersion"`
		CreatedAt      wire.Timestamp      `json:"createdAt"`
		ModifiedAt     wire.Timestamp      `json:"modifiedAt"`
		Status         string              `json:"status"`
		CapacityType   string              `json:"capacityType"`
		ScalingConfig  eksScalingConfig    `json:"scalingConfig"`
		InstanceTypes  []string            `json:"instanceTypes,omitempty"`
		Subnets        []string            `json:"subnets"`
		AmiType        string              `json:"amiType"`
		NodeRole       string              `json:"nodeRole"`
		Labels         map[string]string   `json:"labels"`
		Taints         []Taint             `json:"taints,omitempty"`
		Resources      eksNodegroupRes     `json:"resources"`
		DiskSize       int                 `json:"diskSize,omitempty"`
		Health         eksNodegroupHealth  `json:"health"`
		UpdateConfig   eksUpdateConfig     `json:"updateConfig"`
		LaunchTemplate *LaunchTemplateSpec `json:"launchTemplate,omitempty"`
		Tags           map[string]string   `json:"tags"`
	}
	eksScalingConfig struct {
		MinSize     *int `json:"minSize,omitempty"`
		MaxSize     *int `json:"maxSize,omitempty"`
		DesiredSize *int `json:"desiredSize,omitempty"`
	}
	eksNodegroupRes struct {
		AutoScalingGroups []eksASG `json:"autoScalingGroups"`
	}
	eksASG struct {
		Name string `json:"name"`
	}
	eksNodegroupHealth struct {
		Issues []HealthIssue `json:"issues"`
	}
	eksUpdateConfig struct {
		MaxUnavailable           *int   `json:"maxUnavailable,omitempty"`
		MaxUnavailablePercentage *int   `json:"maxUnavailablePercentage,omitempty"`
		UpdateStrategy           string `json:"updateStrategy,omitempty"`
	}
	eksUpdateOut struct {
		ID        string         `json:"id"`
		Status    string         `json:"status"`
		Type      string         `json:"type"`
		Params    []UpdateParam  `json:"params"`
		CreatedAt wire.Timestamp `json:"createdAt"`
		Errors    []eksErrorOut  `json:"errors"`
	}
	eksErrorOut struct {
		ErrorCode    string   `json:"errorCode"`
		ErrorMessage string   `json:"errorMessage"`
		ResourceIDs  []string `json:"resourceIds,omitempty"`
	}
)

// eksASGName is the Auto Scaling group behind a node group; its instances
// carry it in their aws:autoscaling:groupName tag (launchInstance).
func eksASGName(ng *Nodegroup) string { return "eks-" + ng.Name + "-" + stableID(ng.ARN)[:8] }

func eksNodegroupShape(ng *Nodegroup) eksNodegroupOut {
	minSize, maxSize, desired := ng.Min, ng.Max, ng.Desired
	out := eksNodegroupOut{NodegroupName: ng.Name, NodegroupArn: ng.ARN, ClusterName: ng.Cluster, Version: ng.Version,
		ReleaseVersion: ng.ReleaseVersion, CreatedAt: wire.TS(ng.CreatedAt), ModifiedAt: wire.TS(ng.ModifiedAt),
		Status: ng.Status, CapacityType: ng.CapacityType,
		ScalingConfig: eksScalingConfig{MinSize: &minSize, MaxSize: &maxSize, DesiredSize: &desired},
		InstanceTypes: ng.InstanceTypes, Subnets: eksNonNilSlice(ng.SubnetIDs), AmiType: ng.AMIType, NodeRole: ng.NodeRole,
		Labels: eksNonNilMap(ng.Labels), Taints: ng.Taints, DiskSize: ng.DiskSize,
		Resources:      eksNodegroupRes{AutoScalingGroups: []eksASG{{Name: eksASGName(ng)}}},
		Health:         eksNodegroupHealth{Issues: append([]HealthIssue{}, ng.Health...)},
		LaunchTemplate: ng.LaunchTemplate, Tags: eksNonNilMap(ng.Tags)}
	if ng.MaxUnavailablePercentage > 0 {
		p := ng.MaxUnavailablePercentage
		out.UpdateConfig.MaxUnavailablePercentage = &p
	} else {
		m := max(ng.MaxUnavailable, 1)
		out.UpdateConfig.MaxUnavailable = &m
	}
	return out
}

func eksUpdateShape(u *Update, ng *Nodegroup) eksUpdateOut {
	out := eksUpdateOut{ID: u.ID, Status: u.Status, Type: u.Type, Params: append([]UpdateParam{}, u.Params...),
		CreatedAt: wire.TS(u.CreatedAt), Errors: []eksErrorOut{}}
	if u.Status == "Failed" && ng != nil {
		for _, h := range ng.Health {
			out.Errors = append(out.Errors, eksErrorOut{ErrorCode: h.Code, ErrorMessage: h.Message, ResourceIDs: h.ResourceIDs})
		}
	}
	return out
}

// eksNodegroupIn is the body of CreateNodegroup.
type eksNodegroupIn struct {
	NodegroupName  string              `json:"nodegroupName"`
	ScalingConfig  *eksScalingConfig   `json:"scalingConfig"`
	DiskSize       *int                `json:"diskSize"`
	Subnets        []string            `json:"subnets"`
	InstanceTypes  []string            `json:"instanceTypes"`
	AmiType        string              `json:"amiType"`
	NodeRole       string              `json:"nodeRole"`
	Labels         map[string]string   `json:"labels"`
	Taints         []Taint             `json:"taints"`
	Tags           map[string]string   `json:"tags"`
	LaunchTemplate *LaunchTemplateSpec `json:"launchTemplate"`
	UpdateConfig   *eksUpdateConfig    `json:"updateConfig"`
	CapacityType   string              `json:"capacityType"`
	Version        string              `json:"version"`
	ReleaseVersion string              `json:"releaseVersion"`
}

// eksUpdateNodegroupIn is the body of UpdateNodegroupConfig.
type eksUpdateNodegroupIn struct {
	Labels *struct {
		AddOrUpdateLabels map[string]string `json:"addOrUpdateLabels"`
		RemoveLabels      []string          `json:"removeLabels"`
	} `json:"labels"`
	Taints *struct {
		AddOrUpdateTaints []Taint `json:"addOrUpdateTaints"`
		RemoveTaints      []Taint `json:"removeTaints"`
	} `json:"taints"`
	ScalingConfig *eksScalingConfig `json:"scalingConfig"`
	UpdateConfig  *eksUpdateConfig  `json:"updateConfig"`
}

// registerEKSNodegroups serves the managed node group operations and DescribeUpdate.
func (s *Server) registerEKSNodegroups() {
	// https://docs.aws.amazon.com/eks/latest/APIReference/API_ListNodegroups.html
	s.register(wire.ServiceEKS, "ListNodegroups", func(c *call) (any, *wire.APIError) {
		cl, aerr := c.eksCluster()
		if aerr != nil {
			return nil, aerr
		}
		names := sortedKeys(cl.Nodegroups)
		start, end, next, aerr := c.eksQueryPage("ListNodegroups/"+cl.Name, len(names))
		if aerr != nil {
			return nil, aerr
		}
		return &struct {
			Nodegroups []string `json:"nodegroups"`
			NextToken  string   `json:"nextToken,omitempty"`
		}{append([]string{}, names[start:end]...), next}, nil
	})

	// https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeNodegroup.html
	s.register(wire.ServiceEKS, "DescribeNodegroup", func(c *call) (any, *wire.APIError) {
		_, ng, aerr := c.eksNodegroup()
		if aerr != nil {
			return nil, aerr
		}
		return &struct {
			Nodegroup eksNodegroupOut `json:"nodegroup"`
		}{eksNodegroupShape(ng)}, nil
	})

	// https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html
	s.register(wire.ServiceEKS, "CreateNodegroup", func(c *call) (any, *wire.APIError) {
		cl, aerr := c.eksCluster()
		if aerr != nil {
			return nil, aerr
		}
		var in eksNodegroupIn
		if aerr := wire.DecodeJSON(c.req, &in); aerr != nil {
			return nil, aerr
		}
		ng, aerr := c.createNodegroup(cl, &in)
		if aerr != nil {
			return nil, aerr
		}
		c.changed()
		return &struct {
			Nodegroup eksNodegroupOut `json:"nodegroup"`
		}{eksNodegroupShape(ng)}, nil
	})

	// https://docs.aws.amazon.com/eks/latest/APIReference/API_DeleteNodegroup.html
	s.register(wire.ServiceEKS, "DeleteNodegroup", func(c *call) (any, *wire.APIError) {
		cl, ng, aerr := c.eksNodegroup()
		if aerr != nil {
			return nil, aerr
		}
		switch ng.Status {
		case StatusDeleting:
			return nil, eksInUse("Nodegroup %s is already being deleted.", ng.Name).
				With("clusterName", cl.Name).With("nodegroupName", ng.Name)
		case StatusUpdating:
			return nil, eksInUse("Nodegroup %s cannot be deleted while an update is in progress.", ng.Name).
				With("clusterName", cl.Name).With("nodegroupName", ng.Name)
		}
		ng.Status, ng.ModifiedAt = StatusDeleting, c.now
		ng.Deadline = c.now.Add(seconds(c.w.Timing.NodegroupDelete))
		c.changed()
		return &struct {
			Nodegroup eksNodegroupOut `json:"nodegroup"`
		}{eksNodegroupShape(ng)}, nil
	})

	// https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateNodegroupConfig.html
	s.register(wire.ServiceEKS, "UpdateNodegroupConfig", func(c *call) (any, *wire.APIError) {
		cl, ng, aerr := c.eksNodegroup()
		if aerr != nil {
			return nil, aerr
		}
		var in eksUpdateNodegroupIn
		if aerr := wire.DecodeJSON(c.req, &in); aerr != nil {
			return nil, aerr
		}
		u, aerr := c.updateNodegroup(cl, ng, &in)
		if aerr != nil {
			return nil, aerr.With("clusterName", cl.Name).With("nodegroupName", ng.Name)
		}
		c.changed()
		return &struct {
			Update eksUpdateOut `json:"update"`
		}{eksUpdateShape(u, ng)}, nil
	})

	// https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeUpdate.html
	s.register(wire.ServiceEKS, "DescribeUpdate", func(c *call) (any, *wire.APIError) {
		cl, aerr := c.eksCluster()
		if aerr != nil {
			return nil, aerr
		}
		q := c.eksQuery()
		id, ngName, addon := c.params["updateId"], q.Get("nodegroupName"), q.Get("addonName")
		u, ok := cl.Updates[id]
		// An update of a node group is only found under that group's name.
		if !ok || u.Nodegroup != ngName || addon != "" {
			e := eksNotFound("No update found for ID: %s", id).With("clusterName", cl.Name)
			if ngName != "" {
				e = e.With("nodegroupName", ngName)
			}
			if addon != "" {
				e = e.With("addonName", addon)
			}
			return nil, e
		}
		return &struct {
			Update eksUpdateOut `json:"update"`
		}{eksUpdateShape(u, cl.Nodegroups[u.Nodegroup])}, nil
	})
}

// eksNodegroup finds the cluster and node group named in the path.
func (c *call) eksNodegroup() (*Cluster, *Nodegroup, *wire.APIError) {
	cl, aerr := c.eksCluster()
	if aerr != nil {
		return nil, nil, aerr
	}
	name := c.params["nodegroupName"]
	ng, ok := cl.Nodegroups[name]
	if !ok {
		return nil, nil, eksNotFound("No node group found for name: %s.", name).
			With("clusterName", cl.Name).With("nodegroupName", name)
	}
	return cl, ng, nil
}

func eksCheckTaints(ts []Taint) *wire.APIError {
	for _, t := range ts {
		if t.Key == "" {
			return eksInvalidParameter("Taint key cannot be empty")
		}
		switch t.Effect {
		case "NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE":
		default:
			return eksInvalidParameter("Taint effect %s is invalid; valid effects are NO_SCHEDULE, NO_EXECUTE, PREFER_NO_SCHEDULE", t.Effect)
		}
	}
	return nil
}

// eksCheckScaling validates a node group size as EKS does.
func (w *World) eksCheckScaling(minSize, maxSize, desired int) *wire.APIError {
	switch {
	case minSize < 0:
		return eksInvalidParameter("Minimum capacity %d can't be less than 0", minSize)
	case maxSize < 1:
		return eksInvalidParameter("Maximum capacity %d can't be less than 1", maxSize)
	case minSize > maxSize:
		return eksInvalidParameter("Minimum capacity %d can't be greater than maximum capacity %d", minSize, maxSize)
	case desired < minSize:
		return eksInvalidParameter("Desired capacity %d can't be less than minimum capacity %d", desired, minSize)
	case desired > maxSize:
		return eksInvalidParameter("Desired capacity %d can't be greater than maximum capacity %d", desired, maxSize)
	}
	// Service quota "Nodes per managed node group".
	if q := w.eksQuota("L-BD136A63", 450); maxSize > q {
		return eksInvalidParameter("Maximum capacity %d can't be greater than %d, the nodes per managed node group quota", maxSize, q)
	}
	return nil
}

func eksCheckUpdateConfig(uc *eksUpdateConfig) *wire.APIError {
	if uc == nil {
		return nil
	}
	switch {
	case uc.MaxUnavailable != nil && uc.MaxUnavailablePercentage != nil:
		return eksInvalidParameter("Only one of maxUnavailable and maxUnavailablePercentage can be specified")
	case uc.MaxUnavailable != nil && (*uc.MaxUnavailable < 1 || *uc.MaxUnavailable > 100):
		return eksInvalidParameter("maxUnavailable must be between 1 and 100")
	case uc.MaxUnavailablePercentage != nil && (*uc.MaxUnavailablePercentage < 1 || *uc.MaxUnavailablePercentage > 100):
		return eksInvalidParameter("maxUnavailablePercentage must be between 1 and 100")
	}
	return nil
}

// createNodegroup validates a CreateNodegroup request and creates the group
// CREATING; advance() launches its instances when NodegroupCreate has passed.
func (c *call) createNodegroup(cl *Cluster, in *eksNodegroupIn) (*Nodegroup, *wire.APIError) {
	w := c.w
	name := in.NodegroupName
	fail := func(e *wire.APIError) (*Nodegroup, *wire.APIError) {
		return nil, e.With("clusterName", cl.Name).With("nodegroupName", name)
	}
	if name == "" || len(name) > 63 || !eksNamePattern.MatchString(name) {
		return fail(eksInvalidParameter("Nodegroup name %q is invalid: it must be 1 to 63 characters, start with a letter or digit and contain only letters, digits, hyphens and underscores.", name))
	}
	if cl.Status != StatusActive {
		return fail(eksInvalidRequest("Cluster '%s' is not in ACTIVE status", cl.Name))
	}
	if _, ok := cl.Nodegroups[name]; ok {
		return fail(eksInUse("NodeGroup already exists with name %s and cluster name %s", name, cl.Name))
	}
	if len(cl.Nodegroups) >= w.eksQuota("L-6D54EA21", 30) {
		return fail(eksLimitExceeded("Nodegroups limit exceeded for cluster %s.", cl.Name))
	}
	if in.NodeRole == "" {
		return fail(eksInvalidParameter("nodeRole is required."))
	}
	if len(in.Subnets) == 0 {
		return fail(eksInvalidParameter("Subnets are required."))
	}
	for _, id := range in.Subnets {
		sn, ok := w.Subnets[id]
		if !ok {
			return fail(eksInvalidParameter("The subnet ID '%s' does not exist", id))
		}
		if sn.VPCID != cl.VPCID {
			return fail(eksInvalidParameter("Subnet %s is not in the VPC of cluster %s (%s)", id, cl.Name, cl.VPCID))
		}
	}
	minSize, maxSize, desired := 1, 2, 2 // EKS's defaults
	if sc := in.ScalingConfig; sc != nil {
		if sc.MinSize != nil {
			minSize = *sc.MinSize
		}
		if sc.MaxSize != nil {
			maxSize = *sc.MaxSize
		}
		if sc.DesiredSize != nil {
			desired = *sc.DesiredSize
		} else if sc.MinSize != nil {
			desired = minSize
		}
	}
	if aerr := w.eksCheckScaling(minSize, maxSize, desired); aerr != nil {
		return fail(aerr)
	}
	version := cl.Version
	if in.Version != "" {
		// Managed node groups may lag the control plane within the
		// kubelet skew policy, never lead it.
		m, cm := eksMinor(in.Version), eksMinor(cl.Version)
		if m < 0 || m > cm || cm-m > 3 {
			return fail(eksInvalidParameter("Requested Nodegroup version %s is invalid for cluster version %s", in.Version, cl.Version))
		}
		version = in.Version
	}
	ami := in.AmiType
	if ami == "" {
		// AL2023 is the default from Kubernetes 1.30
		// (https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions-standard.html).
		ami = "AL2023_x86_64_STANDARD"
		if eksMinor(version) < 30 {
			ami = "AL2_x86_64"
		}
	}
	if strings.HasPrefix(ami, "AL2_") && eksMinor(version) > 32 {
		return fail(eksInvalidParameter("AMI Type %s is only supported for kubernetes versions 1.32 or earlier", ami))
	}
	if strings.HasPrefix(ami, "AL2023_") && eksMinor(version) < 29 {
		return fail(eksInvalidParameter("AMI Type %s is only supported for kubernetes versions 1.29 or later", ami))
	}
	types := append([]string{}, in.InstanceTypes...)
	if len(types) == 0 {
		types = []string{"t3.medium"} // EKS's default, also when the launch template names none the emulator can read
	}
	arch := "x86_64"
	if strings.Contains(ami, "ARM") {
		arch = "arm64"
	}
	for _, t := range types {
		it, ok := w.InstanceTypes[t]
		if !ok {
			return fail(eksInvalidParameter("Instance type %s is not supported", t))
		}
		if it.Arch != arch {
			return fail(eksInvalidParameter("[%s] is not a valid instance type for requested amiType %s", t, ami))
		}
	}
	capacity := in.CapacityType
	switch capacity {
	case "", "ON_DEMAND", "SPOT", "CAPACITY_BLOCK":
	default:
		return fail(eksInvalidParameter("Capacity type %s is invalid", capacity))
	}
	if in.LaunchTemplate != nil {
		if in.LaunchTemplate.Name == "" && in.LaunchTemplate.ID == "" {
			return fail(eksInvalidParameter("Either launch template ID or name must be specified"))
		}
		if in.DiskSize != nil {
			return fail(eksInvalidParameter("Disk size must be specified within the launch template."))
		}
	}
	if in.DiskSize != nil && *in.DiskSize < 1 {
		return fail(eksInvalidParameter("Disk size %d is invalid", *in.DiskSize))
	}
	if aerr := eksCheckTaints(in.Taints); aerr != nil {
		return fail(aerr)
	}
	if aerr := eksCheckUpdateConfig(in.UpdateConfig); aerr != nil {
		return fail(aerr)
	}
	ng := w.newNodegroup(cl, name, types, capacity, ami, append([]string{}, in.Subnets...), minSize, maxSize, desired,
		eksCopyMap(in.Labels), c.now)
	ng.Version, ng.NodeRole, ng.Tags = version, in.NodeRole, eksCopyMap(in.Tags)
	ng.ReleaseVersion = defaultStr(in.ReleaseVersion, eksReleaseVersion(version, c.now))
	ng.Taints = append([]Taint(nil), in.Taints...)
	switch {
	case in.LaunchTemplate != nil:
		lt := *in.LaunchTemplate
		if lt.Version == "" {
			lt.Version = "1"
		}
		if lt.ID == "" {
			lt.ID = "lt-" + stableID("lt", lt.Name)[:17]
		}
		ng.LaunchTemplate, ng.DiskSize = &lt, 0
	case in.DiskSize != nil:
		ng.DiskSize = *in.DiskSize
	}
	if uc := in.UpdateConfig; uc != nil {
		if uc.MaxUnavailablePercentage != nil {
			ng.MaxUnavailable, ng.MaxUnavailablePercentage = 0, *uc.MaxUnavailablePercentage
		} else if uc.MaxUnavailable != nil {
			ng.MaxUnavailable = *uc.MaxUnavailable
		}
	}
	return ng, nil
}

// eksReleaseVersion is the EKS optimized AMI release version a new node
// group gets: the Kubernetes patch version and an AMI build date.
func eksReleaseVersion(version string, now time.Time) string {
	for _, v := range eksCalendar() {
		if v.Version == version {
			return v.Patch + "-" + now.Format("20060102")
		}
	}
	return version + ".0-" + now.Format("20060102")
}

// updateNodegroup applies UpdateNodegroupConfig: the new configuration is
// recorded at once, the group goes UPDATING, and advance() resizes it and
// marks the update Successful when NodegroupUpdate has passed.
func (c *call) updateNodegroup(cl *Cluster, ng *Nodegroup, in *eksUpdateNodegroupIn) (*Update, *wire.APIError) {
	// A DEGRADED group can still be reconfigured: scaling it down is how an
	// InsufficientFreeAddresses group recovers.
	if ng.Status != StatusActive && ng.Status != StatusDegraded {
		return nil, eksInUse("Nodegroup cannot be updated as it is currently not in Active State")
	}
	var params []UpdateParam
	num := func(typ string, v int) { params = append(params, UpdateParam{Type: typ, Value: strconv.Itoa(v)}) }
	jsonParam := func(typ string, v any) {
		b, _ := json.Marshal(v)
		params = append(params, UpdateParam{Type: typ, Value: string(b)})
	}
	minSize, maxSize, desired := ng.Min, ng.Max, ng.Desired
	if sc := in.ScalingConfig; sc != nil {
		if sc.MinSize != nil {
			minSize = *sc.MinSize
			num("MinSize", minSize)
		}
		if sc.MaxSize != nil {
			maxSize = *sc.MaxSize
			num("MaxSize", maxSize)
		}
		if sc.DesiredSize != nil {
			desired = *sc.DesiredSize
			num("DesiredSize", desired)
		}
		if aerr := c.w.eksCheckScaling(minSize, maxSize, desired); aerr != nil {
			return nil, aerr
		}
	}
	labels := eksCopyMap(ng.Labels)
	if l := in.Labels; l != nil {
		for _, k := range l.RemoveLabels {
			if _, both := l.AddOrUpdateLabels[k]; both {
				return nil, eksInvalidParameter("The label %s cannot be both added and removed", k)
			}
		}
		if len(l.AddOrUpdateLabels) > 0 {
			if labels == nil {
				labels = map[string]string{}
			}
			for k, v := range l.AddOrUpdateLabels {
				labels[k] = v
			}
			jsonParam("LabelsToAdd", l.AddOrUpdateLabels)
		}
		if len(l.RemoveLabels) > 0 {
			for _, k := range l.RemoveLabels {
				delete(labels, k)
			}
			jsonParam("LabelsToRemove", l.RemoveLabels)
		}
	}
	taints := append([]Taint(nil), ng.Taints...)
	if t := in.Taints; t != nil {
		if aerr := eksCheckTaints(t.AddOrUpdateTaints); aerr != nil {
			return nil, aerr
		}
		for _, rm := range t.RemoveTaints {
			kept := taints[:0]
			for _, x := range taints {
				if x.Key != rm.Key || (rm.Effect != "" && x.Effect != rm.Effect) {
					kept = append(kept, x)
				}
			}
			taints = kept
		}
		for _, add := range t.AddOrUpdateTaints {
			replaced := false
			for i := range taints {
				if taints[i].Key == add.Key && taints[i].Effect == add.Effect {
					taints[i], replaced = add, true
				}
			}
			if !replaced {
				taints = append(taints, add)
			}
		}
		if len(t.AddOrUpdateTaints) > 0 {
			jsonParam("TaintsToAdd", t.AddOrUpdateTaints)
		}
		if len(t.RemoveTaints) > 0 {
			jsonParam("TaintsToRemove", t.RemoveTaints)
		}
	}
	if uc := in.UpdateConfig; uc != nil {
		if aerr := eksCheckUpdateConfig(uc); aerr != nil {
			return nil, aerr
		}
		if uc.MaxUnavailable != nil {
			num("MaxUnavailable", *uc.MaxUnavailable)
		}
		if uc.MaxUnavailablePercentage != nil {
			num("MaxUnavailablePercentage", *uc.MaxUnavailablePercentage)
		}
	}
	if len(params) == 0 {
		return nil, eksInvalidParameter("No changes needed")
	}
	ng.Min, ng.Max, ng.Desired, ng.Labels = minSize, maxSize, desired, labels
	sort.SliceStable(taints, func(i, j int) bool { return taints[i].Key < taints[j].Key })
	ng.Taints = taints
	if uc := in.UpdateConfig; uc != nil {
		if uc.MaxUnavailablePercentage != nil {
			ng.MaxUnavailable, ng.MaxUnavailablePercentage = 0, *uc.MaxUnavailablePercentage
		} else if uc.MaxUnavailable != nil {
			ng.MaxUnavailable, ng.MaxUnavailablePercentage = *uc.MaxUnavailable, 0
		}
	}
	ng.Status, ng.ModifiedAt = StatusUpdating, c.now
	ng.Deadline = c.now.Add(seconds(c.w.Timing.NodegroupUpdate))
	u := &Update{ID: eksUUID(c.w.newID("", 32)), Type: "ConfigUpdate", Status: "InProgress", CreatedAt: c.now,
		Params: params, Nodegroup: ng.Name}
	cl.Updates[u.ID] = u
	return u, nil
}
