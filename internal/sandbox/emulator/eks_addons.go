package emulator

import (
	"fmt"
	"sort"
	"strings"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// eksAddonVersion is one version of an EKS add-on: the Kubernetes minors
// it is compatible with, and those it is the default for.
type eksAddonVersion struct {
	Version          string
	MinMinor         int
	MaxMinor         int
	DefaultForMinors []int
}

// eksAddonDef is an add-on DescribeAddonVersions lists.
type eksAddonDef struct {
	Name, Type, Namespace string
	RequiresIAM           bool
	Versions              []eksAddonVersion // newest first
}

// compatible reports whether the version runs on Kubernetes 1.minor.
func (v eksAddonVersion) compatible(minor int) bool {
	return minor >= v.MinMinor && minor <= v.MaxMinor
}

func (v eksAddonVersion) defaultFor(minor int) bool {
	for _, m := range v.DefaultForMinors {
		if m == minor {
			return true
		}
	}
	return false
}

// eksAddonCatalog is the add-on catalog the emulator serves: the AWS
// add-ons eksbg's clusters use, with versions in EKS's naming
// (vX.Y.Z-eksbuild.N). It is a model of EKS's catalog, not a copy: the
// versions and compatibility ranges are shaped like those EKS publishes
// (https://docs.aws.amazon.com/eks/latest/userguide/workloads-add-ons-available-eks.html),
// so that add-ons fall out of compatibility as clusters move on. As on
// EKS, kube-proxy builds are per Kubernetes minor and run on that minor only.
func eksAddonCatalog() []eksAddonDef {
	kubeProxy := []struct {
		version string
		minor   int
	}{
		{"v1.35.0-eksbuild.2", 35}, {"v1.34.0-eksbuild.2", 34}, {"v1.33.3-eksbuild.4", 33}, {"v1.32.6-eksbuild.2", 32},
		{"v1.31.10-eksbuild.2", 31}, {"v1.31.3-eksbuild.2", 31}, {"v1.30.14-eksbuild.2", 30}, {"v1.29.15-eksbuild.5", 29},
		{"v1.28.15-eksbuild.20", 28},
	}
	var kp []eksAddonVersion
	seen := map[int]bool{}
	for _, k := range kubeProxy {
		v := eksAddonVersion{Version: k.version, MinMinor: k.minor, MaxMinor: k.minor}
		if !seen[k.minor] {
			v.DefaultForMinors = []int{k.minor} // the newest build of a minor is its default
			seen[k.minor] = true
		}
		kp = append(kp, v)
	}
	return []eksAddonDef{
		{Name: "aws-ebs-csi-driver", Type: "storage", Namespace: "kube-system", RequiresIAM: true, Versions: []eksAddonVersion{
			{"v1.48.0-eksbuild.2", 29, 35, []int{29, 30, 31, 32, 33, 34, 35}},
			{"v1.41.0-eksbuild.1", 28, 33, []int{28}},
		}},
		{Name: "coredns", Type: "networking", Namespace: "kube-system", Versions: []eksAddonVersion{
			{"v1.12.4-eksbuild.1", 34, 35, []int{34, 35}},
			{"v1.12.1-eksbuild.2", 33, 35, []int{33}},
			{"v1.11.4-eksbuild.2", 31, 33, []int{31, 32}},
			{"v1.11.1-eksbuild.13", 29, 31, []int{29, 30}},
			{"v1.10.1-eksbuild.18", 28, 29, []int{28}},
		}},
		{Name: "eks-pod-identity-agent", Type: "security", Namespace: "kube-system", Versions: []eksAddonVersion{
			{"v1.3.8-eksbuild.2", 28, 35, []int{28, 29, 30, 31, 32, 33, 34, 35}},
			{"v1.3.4-eksbuild.1", 28, 33, nil},
		}},
		{Name: "kube-proxy", Type: "networking", Namespace: "kube-system", Versions: kp},
		{Name: "vpc-cni", Type: "networking", Namespace: "kube-system", RequiresIAM: true, Versions: []eksAddonVersion{
			{"v1.20.4-eksbuild.2", 30, 35, []int{34, 35}},
			{"v1.19.5-eksbuild.1", 29, 33, []int{32, 33}},
			{"v1.19.2-eksbuild.1", 28, 32, []int{29, 30, 31}},
			{"v1.18.6-eksbuild.1", 28, 31, []int{28}},
		}},
	}
}

func eksAddonByName(name string) (eksAddonDef, bool) {
	for _, d := range eksAddonCatalog() {
		if d.Name == name {
			return d, true
		}
	}
	return eksAddonDef{}, false
}

// version finds one version of the add-on.
func (d eksAddonDef) version(v string) (eksAddonVersion, bool) {
	for _, av := range d.Versions {
		if av.Version == v {
			return av, true
		}
	}
	return eksAddonVersion{}, false
}

// defaultVersion is the version CreateAddon installs on 1.minor when none is given.
func (d eksAddonDef) defaultVersion(minor int) (string, bool) {
	for _, av := range d.Versions {
		if av.defaultFor(minor) {
			return av.Version, true
		}
	}
	for _, av := range d.Versions {
		if av.compatible(minor) {
			return av.Version, true
		}
	}
	return "", false
}

// compatibleVersions lists the add-on's versions that run on 1.minor, newest first.
func (d eksAddonDef) compatibleVersions(minor int) []string {
	out := []string{}
	for _, av := range d.Versions {
		if av.compatible(minor) {
			out = append(out, av.Version)
		}
	}
	return out
}

// The shapes of DescribeAddon's addon.
type (
	eksAddonOut struct {
		AddonName             string            `json:"addonName"`
		ClusterName           string            `json:"clusterName"`
		Status                string            `json:"status"`
		AddonVersion          string            `json:"addonVersion"`
		Health                eksAddonHealth    `json:"health"`
		AddonArn              string            `json:"addonArn"`
		CreatedAt             wire.Timestamp    `json:"createdAt"`
		ModifiedAt            wire.Timestamp    `json:"modifiedAt"`
		ServiceAccountRoleArn string            `json:"serviceAccountRoleArn,omitempty"`
		Tags                  map[string]string `json:"tags"`
		Publisher             string            `json:"publisher"`
		Owner                 string            `json:"owner"`
		ConfigurationValues   string            `json:"configurationValues,omitempty"`
	}
	eksAddonHealth struct {
		Issues []HealthIssue `json:"issues"`
	}
)

func eksAddonShape(cluster string, a *Addon) eksAddonOut {
	return eksAddonOut{AddonName: a.Name, ClusterName: cluster, Status: a.Status, AddonVersion: a.Version,
		Health: eksAddonHealth{Issues: []HealthIssue{}}, AddonArn: a.ARN, CreatedAt: wire.TS(a.CreatedAt),
		ModifiedAt: wire.TS(a.ModifiedAt), ServiceAccountRoleArn: a.ServiceAccountRole, Tags: eksNonNilMap(a.Tags),
		Publisher: "eks", Owner: "aws", ConfigurationValues: a.ConfigurationValues}
}

// eksAddon finds the cluster and add-on named in the path.
func (c *call) eksAddon() (*Cluster, *Addon, *wire.APIError) {
	cl, aerr := c.eksCluster()
	if aerr != nil {
		return nil, nil, aerr
	}
	name := c.params["addonName"]
	a, ok := cl.Addons[name]
	if !ok {
		return nil, nil, eksNotFound("No addon: %s found in cluster: %s", name, cl.Name).
			With("clusterName", cl.Name).With("addonName", name)
	}
	return cl, a, nil
}

// registerEKSAddons serves the add-on operations.
func (s *Server) registerEKSAddons() {
	// https://docs.aws.amazon.com/eks/latest/APIReference/API_ListAddons.html
	s.register(wire.ServiceEKS, "ListAddons", func(c *call) (any, *wire.APIError) {
		cl, aerr := c.eksCluster()
		if aerr != nil {
			return nil, aerr
		}
		names := sortedKeys(cl.Addons)
		start, end, next, aerr := c.eksQueryPage("ListAddons/"+cl.Name, len(names))
		if aerr != nil {
			return nil, aerr
		}
		return &struct {
			Addons    []string `json:"addons"`
			NextToken string   `json:"nextToken,omitempty"`
		}{append([]string{}, names[start:end]...), next}, nil
	})

	// https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddon.html
	s.register(wire.ServiceEKS, "DescribeAddon", func(c *call) (any, *wire.APIError) {
		cl, a, aerr := c.eksAddon()
		if aerr != nil {
			return nil, aerr
		}
		return &struct {
			Addon eksAddonOut `json:"addon"`
		}{eksAddonShape(cl.Name, a)}, nil
	})

	// https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAddon.html
	s.register(wire.ServiceEKS, "CreateAddon", func(c *call) (any, *wire.APIError) {
		cl, aerr := c.eksCluster()
		if aerr != nil {
			return nil, aerr
		}
		var in struct {
			AddonName             string            `json:"addonName"`
			AddonVersion          string            `json:"addonVersion"`
			ServiceAccountRoleArn string            `json:"serviceAccountRoleArn"`
			ResolveConflicts      string            `json:"resolveConflicts"`
			Tags                  map[string]string `json:"tags"`
			ConfigurationValues   string            `json:"configurationValues"`
		}
		if aerr := wire.DecodeJSON(c.req, &in); aerr != nil {
			return nil, aerr
		}
		fail := func(e *wire.APIError) (any, *wire.APIError) {
			return nil, e.With("clusterName", cl.Name).With("addonName", in.AddonName)
		}
		if cl.Status != StatusActive {
			return fail(eksInvalidRequest("Cluster '%s' is not in ACTIVE status", cl.Name))
		}
		if _, ok := cl.Addons[in.AddonName]; ok {
			return fail(eksInUse("Addon already exists."))
		}
		minor := eksMinor(cl.Version)
		def, ok := eksAddonByName(in.AddonName)
		if ok && len(def.compatibleVersions(minor)) == 0 {
			ok = false
		}
		if !ok {
			return fail(eksInvalidParameter("Addon %s specified is not supported in %s kubernetes version", in.AddonName, cl.Version))
		}
		version := in.AddonVersion
		if version == "" {
			version, _ = def.defaultVersion(minor)
		}
		if av, ok := def.version(version); !ok || !av.compatible(minor) {
			return fail(eksInvalidParameter("Addon version specified is not supported"))
		}
		switch in.ResolveConflicts {
		case "", "OVERWRITE", "NONE", "PRESERVE":
		default:
			return fail(eksInvalidParameter("Invalid resolveConflicts %s", in.ResolveConflicts))
		}
		a := &Addon{Name: in.AddonName, Version: version, Status: StatusCreating, CreatedAt: c.now, ModifiedAt: c.now,
			Deadline: c.now.Add(seconds(c.w.Timing.AddonCreate)), ServiceAccountRole: in.ServiceAccountRoleArn,
			ConfigurationValues: in.ConfigurationValues, Tags: eksCopyMap(in.Tags),
			ARN: c.w.arn("eks", fmt.Sprintf("addon/%s/%s/%s", cl.Name, in.AddonName, eksUUID(c.w.newID("", 32))))}
		cl.Addons[a.Name] = a
		c.changed()
		return &struct {
			Addon eksAddonOut `json:"addon"`
		}{eksAddonShape(cl.Name, a)}, nil
	})

	// https://docs.aws.amazon.com/eks/latest/APIReference/API_DeleteAddon.html
	s.register(wire.ServiceEKS, "DeleteAddon", func(c *call) (any, *wire.APIError) {
		cl, a, aerr := c.eksAddon()
		if aerr != nil {
			return nil, aerr
		}
		if a.Status != StatusDeleting {
			a.Status, a.ModifiedAt = StatusDeleting, c.now
			a.Deadline = c.now.Add(seconds(c.w.Timing.AddonDelete))
			c.changed()
		}
		return &struct {
			Addon eksAddonOut `json:"addon"`
		}{eksAddonShape(cl.Name, a)}, nil
	})

	// https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonVersions.html
	s.register(wire.ServiceEKS, "DescribeAddonVersions", func(c *call) (any, *wire.APIError) {
		q := c.eksQuery()
		type compat struct {
			ClusterVersion   string   `json:"clusterVersion"`
			PlatformVersions []string `json:"platformVersions"`
			DefaultVersion   bool     `json:"defaultVersion"`
		}
		type versionInfo struct {
			AddonVersion           string   `json:"addonVersion"`
			Architecture           []string `json:"architecture"`
			ComputeTypes           []string `json:"computeTypes"`
			Compatibilities        []compat `json:"compatibilities"`
			RequiresConfiguration  bool     `json:"requiresConfiguration"`
			RequiresIamPermissions bool     `json:"requiresIamPermissions"`
		}
		type addonInfo struct {
			AddonName        string        `json:"addonName"`
			Type             string        `json:"type"`
			AddonVersions    []versionInfo `json:"addonVersions"`
			Publisher        string        `json:"publisher"`
			Owner            string        `json:"owner"`
			DefaultNamespace string        `json:"defaultNamespace"`
		}
		k8s := q.Get("kubernetesVersion")
		name := q.Get("addonName")
		set := func(key string) map[string]bool {
			var m map[string]bool
			for _, v := range q[key] {
				for _, p := range strings.Split(v, ",") {
					if m == nil {
						m = map[string]bool{}
					}
					m[p] = true
				}
			}
			return m
		}
		types, publishers, owners := set("types"), set("publishers"), set("owners")
		// Compatibilities name the cluster versions EKS has released.
		var released []int
		for _, v := range eksReleased(c.now) {
			released = append(released, eksMinor(v.Version))
		}
		var rows []addonInfo
		for _, d := range eksAddonCatalog() {
			switch {
			case name != "" && d.Name != name,
				types != nil && !types[d.Type],
				publishers != nil && !publishers["eks"],
				owners != nil && !owners["aws"]:
				continue
			}
			ai := addonInfo{AddonName: d.Name, Type: d.Type, Publisher: "eks", Owner: "aws", DefaultNamespace: d.Namespace,
				AddonVersions: []versionInfo{}}
			for _, av := range d.Versions {
				vi := versionInfo{AddonVersion: av.Version, Architecture: []string{"amd64", "arm64"},
					ComputeTypes: []string{"ec2"}, RequiresIamPermissions: d.RequiresIAM, Compatibilities: []compat{}}
				for i := len(released) - 1; i >= 0; i-- {
					m := released[i]
					if !av.compatible(m) || (k8s != "" && eksVersionOf(m) != k8s) {
						continue
					}
					vi.Compatibilities = append(vi.Compatibilities, compat{ClusterVersion: eksVersionOf(m),
						PlatformVersions: []string{"*"}, DefaultVersion: av.defaultFor(m)})
				}
				if len(vi.Compatibilities) > 0 {
					ai.AddonVersions = append(ai.AddonVersions, vi)
				}
			}
			if len(ai.AddonVersions) > 0 {
				rows = append(rows, ai)
			}
		}
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].AddonName < rows[j].AddonName })
		start, end, next, aerr := c.eksQueryPage("DescribeAddonVersions", len(rows))
		if aerr != nil {
			return nil, aerr
		}
		return &struct {
			Addons    []addonInfo `json:"addons"`
			NextToken string      `json:"nextToken,omitempty"`
		}{append([]addonInfo{}, rows[start:end]...), next}, nil
	})
}
