package emulator

import (
	"net/netip"
	"regexp"
	"sort"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// eksNamePattern is the ClusterName / nodegroup name pattern of the EKS model.
var eksNamePattern = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9\-_]*$`)

// eksLogTypes are the control-plane log types, in the order EKS lists them.
func eksLogTypes() []string {
	return []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}
}

// The shapes of DescribeCluster's cluster, trimmed to what the emulator models.
type (
	eksClusterOut struct {
		Name                    string              `json:"name"`
		Arn                     string              `json:"arn"`
		CreatedAt               wire.Timestamp      `json:"createdAt"`
		Version                 string              `json:"version"`
		Endpoint                string              `json:"endpoint,omitempty"`
		RoleArn                 string              `json:"roleArn"`
		ResourcesVpcConfig      eksVpcConfigOut     `json:"resourcesVpcConfig"`
		KubernetesNetworkConfig eksNetworkConfigOut `json:"kubernetesNetworkConfig"`
		Logging                 eksLogging          `json:"logging"`
		Identity                *eksIdentity        `json:"identity,omitempty"`
		Status                  string              `json:"status"`
		CertificateAuthority    eksCertificate      `json:"certificateAuthority"`
		PlatformVersion         string              `json:"platformVersion"`
		Tags                    map[string]string   `json:"tags"`
		Health                  eksClusterHealth    `json:"health"`
		AccessConfig            eksAccessConfig     `json:"accessConfig"`
		UpgradePolicy           eksUpgradePolicy    `json:"upgradePolicy"`
	}
	eksVpcConfigOut struct {
		SubnetIDs              []string `json:"subnetIds"`
		SecurityGroupIDs       []string `json:"securityGroupIds"`
		ClusterSecurityGroupID string   `json:"clusterSecurityGroupId"`
		VpcID                  string   `json:"vpcId"`
		EndpointPublicAccess   bool     `json:"endpointPublicAccess"`
		EndpointPrivateAccess  bool     `json:"endpointPrivateAccess"`
		PublicAccessCidrs      []string `json:"publicAccessCidrs"`
	}
	eksNetworkConfigOut struct {
		ServiceIpv4Cidr      string     `json:"serviceIpv4Cidr"`
		IPFamily             string     `json:"ipFamily"`
		ElasticLoadBalancing eksEnabled `json:"elasticLoadBalancing"`
	}
	eksEnabled struct {
		Enabled bool `json:"enabled"`
	}
	eksLogging struct {
		ClusterLogging []eksLogSetup `json:"clusterLogging"`
	}
	eksLogSetup struct {
		Types   []string `json:"types"`
		Enabled *bool    `json:"enabled,omitempty"`
	}
	eksIdentity struct {
		OIDC struct {
			Issuer string `json:"issuer"`
		} `json:"oidc"`
	}
	eksCertificate struct {
		Data string `json:"data,omitempty"`
	}
	eksClusterHealth struct {
		Issues []HealthIssue `json:"issues"`
	}
	eksAccessConfig struct {
		AuthenticationMode string `json:"authenticationMode"`
	}
	eksUpgradePolicy struct {
		SupportType string `json:"supportType"`
	}
)

// eksClusterShape renders a cluster as DescribeCluster does. While the cluster
// is CREATING its API server has no endpoint and no CA yet, so EKS leaves
// both out.
func eksClusterShape(cl *Cluster) eksClusterOut {
	out := eksClusterOut{Name: cl.Name, Arn: cl.ARN, CreatedAt: wire.TS(cl.CreatedAt), Version: cl.Version,
		RoleArn: cl.RoleARN, Status: cl.Status, PlatformVersion: cl.PlatformVersion, Tags: eksNonNilMap(cl.Tags),
		ResourcesVpcConfig: eksVpcConfigOut{SubnetIDs: eksNonNilSlice(cl.SubnetIDs), SecurityGroupIDs: eksNonNilSlice(cl.SecurityGroupIDs),
			ClusterSecurityGroupID: cl.ClusterSGID, VpcID: cl.VPCID, EndpointPublicAccess: cl.EndpointPublic,
			EndpointPrivateAccess: cl.EndpointPrivate, PublicAccessCidrs: eksNonNilSlice(cl.PublicCIDRs)},
		KubernetesNetworkConfig: eksNetworkConfigOut{ServiceIpv4Cidr: cl.ServiceCIDR, IPFamily: "ipv4"},
		Health:                  eksClusterHealth{Issues: []HealthIssue{}},
		AccessConfig:            eksAccessConfig{AuthenticationMode: defaultStr(cl.AuthMode, "API_AND_CONFIG_MAP")},
		UpgradePolicy:           eksUpgradePolicy{SupportType: defaultStr(cl.SupportType, "EXTENDED")},
	}
	if cl.Status != StatusCreating {
		out.Endpoint = cl.Endpoint
		out.CertificateAuthority.Data = cl.CertificateData
	}
	if cl.OIDCIssuer != "" {
		out.Identity = &eksIdentity{}
		out.Identity.OIDC.Issuer = cl.OIDCIssuer
	}
	enabled := map[string]bool{}
	for _, t := range cl.LogTypes {
		enabled[t] = true
	}
	var on, off []string
	for _, t := range eksLogTypes() {
		if enabled[t] {
			on = append(on, t)
		} else {
			off = append(off, t)
		}
	}
	yes, no := true, false
	if len(on) > 0 {
		out.Logging.ClusterLogging = append(out.Logging.ClusterLogging, eksLogSetup{Types: on, Enabled: &yes})
	}
	if len(off) > 0 {
		out.Logging.ClusterLogging = append(out.Logging.ClusterLogging, eksLogSetup{Types: off, Enabled: &no})
	}
	return out
}

func eksNonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// eksCreateClusterIn is CreateCluster's body, as eksctl and the SDKs send it.
type eksCreateClusterIn struct {
	Name               string `json:"name"`
	Version            string `json:"version"`
	RoleArn            string `json:"roleArn"`
	ResourcesVpcConfig *struct {
		SubnetIDs             []string `json:"subnetIds"`
		SecurityGroupIDs      []string `json:"securityGroupIds"`
		EndpointPublicAccess  *bool    `json:"endpointPublicAccess"`
		EndpointPrivateAccess *bool    `json:"endpointPrivateAccess"`
		PublicAccessCidrs     []string `json:"publicAccessCidrs"`
	} `json:"resourcesVpcConfig"`
	KubernetesNetworkConfig *struct {
		ServiceIpv4Cidr string `json:"serviceIpv4Cidr"`
		IPFamily        string `json:"ipFamily"`
	} `json:"kubernetesNetworkConfig"`
	Logging      *eksLogging       `json:"logging"`
	Tags         map[string]string `json:"tags"`
	AccessConfig *struct {
		AuthenticationMode                      string `json:"authenticationMode"`
		BootstrapClusterCreatorAdminPermissions *bool  `json:"bootstrapClusterCreatorAdminPermissions"`
	} `json:"accessConfig"`
	UpgradePolicy *struct {
		SupportType string `json:"supportType"`
	} `json:"upgradePolicy"`
	BootstrapSelfManagedAddons *bool  `json:"bootstrapSelfManagedAddons"`
	ClientRequestToken         string `json:"clientRequestToken"`
}

// registerEKSClusters serves the cluster operations.
func (s *Server) registerEKSClusters() {
	// https://docs.aws.amazon.com/eks/latest/APIReference/API_ListClusters.html
	s.register(wire.ServiceEKS, "ListClusters", func(c *call) (any, *wire.APIError) {
		q := c.eksQuery()
		if inc := q.Get("include"); inc != "" && inc != "all" {
			return nil, eksInvalidParameter("include must be 'all' in lowercase.")
		}
		names := sortedKeys(c.w.Clusters)
		start, end, next, aerr := c.eksQueryPage("ListClusters", len(names))
		if aerr != nil {
			return nil, aerr
		}
		return &struct {
			Clusters  []string `json:"clusters"`
			NextToken string   `json:"nextToken,omitempty"`
		}{append([]string{}, names[start:end]...), next}, nil
	})

	// https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html
	s.register(wire.ServiceEKS, "DescribeCluster", func(c *call) (any, *wire.APIError) {
		cl, aerr := c.eksCluster()
		if aerr != nil {
			return nil, aerr
		}
		return &struct {
			Cluster eksClusterOut `json:"cluster"`
		}{eksClusterShape(cl)}, nil
	})

	// https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html
	s.register(wire.ServiceEKS, "CreateCluster", func(c *call) (any, *wire.APIError) {
		var in eksCreateClusterIn
		if aerr := wire.DecodeJSON(c.req, &in); aerr != nil {
			return nil, aerr
		}
		cl, aerr := c.createCluster(&in)
		if aerr != nil {
			return nil, aerr
		}
		c.changed()
		return &struct {
			Cluster eksClusterOut `json:"cluster"`
		}{eksClusterShape(cl)}, nil
	})

	// https://docs.aws.amazon.com/eks/latest/APIReference/API_DeleteCluster.html
	s.register(wire.ServiceEKS, "DeleteCluster", func(c *call) (any, *wire.APIError) {
		cl, aerr := c.eksCluster()
		if aerr != nil {
			return nil, aerr
		}
		switch cl.Status {
		case StatusDeleting:
			// Deleting a cluster that is being deleted changes nothing.
		case StatusCreating, StatusUpdating:
			// EKS's refusal while a cluster is being created or updated.
			return nil, eksInUse("Cannot delete because cluster %s currently has an update in progress", cl.Name).
				With("clusterName", cl.Name)
		default:
			if len(cl.Nodegroups) > 0 {
				// Managed node groups must be deleted first; EKS refuses
				// with the groups' names.
				return nil, eksInUse("Cluster has nodegroups attached").With("clusterName", cl.Name)
			}
			cl.Status, cl.Deadline = StatusDeleting, c.now.Add(seconds(c.w.Timing.ClusterDelete))
			// Add-ons go with the cluster.
			for _, a := range cl.Addons {
				a.Status, a.Deadline = StatusDeleting, cl.Deadline
			}
			c.changed()
		}
		return &struct {
			Cluster eksClusterOut `json:"cluster"`
		}{eksClusterShape(cl)}, nil
	})
}

// createCluster validates a CreateCluster request as EKS does and creates
// the cluster CREATING, with its control-plane ENIs.
func (c *call) createCluster(in *eksCreateClusterIn) (*Cluster, *wire.APIError) {
	w := c.w
	if in.Name == "" || len(in.Name) > 100 || !eksNamePattern.MatchString(in.Name) {
		return nil, eksInvalidParameter("The cluster name %q is invalid: it must be 1 to 100 characters, start with a letter or digit and contain only letters, digits, hyphens and underscores.", in.Name)
	}
	if in.RoleArn == "" {
		return nil, eksInvalidParameter("roleArn is required.").With("clusterName", in.Name)
	}
	if _, ok := w.Clusters[in.Name]; ok {
		return nil, eksInUse("Cluster already exists with name: %s", in.Name).With("clusterName", in.Name)
	}
	if len(w.Clusters) >= w.eksQuota("L-1194D53C", 100) {
		return nil, eksLimitExceeded("Cluster limit exceeded for account.").With("clusterName", in.Name)
	}
	version := in.Version
	if version == "" {
		version = eksDefaultVersion(c.now)
	}
	v, ok := eksLookupVersion(version, c.now)
	if !ok || v.status(c.now) == eksUnsupported {
		return nil, eksInvalidParameter("unsupported Kubernetes version %s", version).With("clusterName", in.Name)
	}
	if in.ResourcesVpcConfig == nil || len(in.ResourcesVpcConfig.SubnetIDs) == 0 {
		return nil, eksInvalidParameter("Subnets specified must be in at least two different AZs").With("clusterName", in.Name)
	}
	vc := in.ResourcesVpcConfig
	vpc := ""
	azs := map[string]bool{}
	for _, id := range vc.SubnetIDs {
		sn, ok := w.Subnets[id]
		if !ok {
			return nil, eksInvalidParameter("The subnet ID '%s' does not exist", id).With("clusterName", in.Name)
		}
		if vpc != "" && sn.VPCID != vpc {
			return nil, eksInvalidParameter("Subnets specified must belong to the same VPC").With("clusterName", in.Name)
		}
		vpc = sn.VPCID
		azs[sn.AZ] = true
	}
	// https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html:
	// at least two AZs, and room for the control-plane ENIs.
	if len(azs) < 2 {
		return nil, eksInvalidParameter("Subnets specified must be in at least two different AZs").With("clusterName", in.Name)
	}
	for _, id := range vc.SubnetIDs {
		if free := w.Subnets[id].ipam.Available(); free < 6 {
			return nil, eksInvalidParameter("Provided subnets %s Free IPs: %d , need at least 6 IPs in each subnet to be successful.", id, free).
				With("clusterName", in.Name)
		}
	}
	serviceCIDR := "10.100.0.0/16"
	if vp, ok := w.VPCs[vpc]; ok {
		// EKS picks whichever default does not overlap the VPC.
		if p, err := netip.ParsePrefix(vp.CIDR); err == nil && netip.MustParsePrefix("10.0.0.0/8").Overlaps(p) {
			serviceCIDR = "172.20.0.0/16"
		}
	}
	if knc := in.KubernetesNetworkConfig; knc != nil {
		if knc.IPFamily != "" && knc.IPFamily != "ipv4" {
			// The emulated VPCs have no IPv6 CIDR block.
			return nil, eksInvalidParameter("The VPC %s has no IPv6 CIDR block associated; ipFamily %s requires one.", vpc, knc.IPFamily).
				With("clusterName", in.Name)
		}
		if knc.ServiceIpv4Cidr != "" {
			p, err := netip.ParsePrefix(knc.ServiceIpv4Cidr)
			if err != nil || !p.Addr().Is4() || p.Bits() < 12 || p.Bits() > 24 || !p.Addr().IsPrivate() {
				return nil, eksInvalidParameter("serviceIpv4Cidr %s is invalid: it must be a private IPv4 CIDR block between /12 and /24.", knc.ServiceIpv4Cidr).
					With("clusterName", in.Name)
			}
			serviceCIDR = p.Masked().String()
		}
	}
	authMode := "API_AND_CONFIG_MAP"
	if ac := in.AccessConfig; ac != nil && ac.AuthenticationMode != "" {
		switch ac.AuthenticationMode {
		case "API", "API_AND_CONFIG_MAP", "CONFIG_MAP":
			authMode = ac.AuthenticationMode
		default:
			return nil, eksInvalidParameter("Unsupported authentication mode %s", ac.AuthenticationMode).With("clusterName", in.Name)
		}
	}
	supportType := "EXTENDED"
	if up := in.UpgradePolicy; up != nil && up.SupportType != "" {
		switch up.SupportType {
		case "STANDARD", "EXTENDED":
			supportType = up.SupportType
		default:
			return nil, eksInvalidParameter("Unsupported support type %s", up.SupportType).With("clusterName", in.Name)
		}
	}
	if supportType == "STANDARD" && v.status(c.now) == eksExtendedSupport {
		return nil, eksInvalidParameter("Kubernetes version %s is in extended support; an upgrade policy of STANDARD requires a version in standard support.", version).
			With("clusterName", in.Name)
	}
	var logTypes []string
	if in.Logging != nil {
		known := map[string]bool{}
		for _, t := range eksLogTypes() {
			known[t] = true
		}
		on := map[string]bool{}
		for _, ls := range in.Logging.ClusterLogging {
			for _, t := range ls.Types {
				if !known[t] {
					return nil, eksInvalidParameter("Unknown log type %s", t).With("clusterName", in.Name)
				}
				on[t] = ls.Enabled != nil && *ls.Enabled
			}
		}
		for _, t := range eksLogTypes() {
			if on[t] {
				logTypes = append(logTypes, t)
			}
		}
	}
	public, private := true, false
	if vc.EndpointPublicAccess != nil {
		public = *vc.EndpointPublicAccess
	}
	if vc.EndpointPrivateAccess != nil {
		private = *vc.EndpointPrivateAccess
	}
	if !public && !private {
		return nil, eksInvalidParameter("Either public or private endpoint access must be enabled.").With("clusterName", in.Name)
	}
	cl, err := w.newCluster(in.Name, version, append([]string{}, vc.SubnetIDs...), append([]string{}, vc.SecurityGroupIDs...), eksCopyMap(in.Tags), c.now)
	if err != nil {
		return nil, eksInvalidParameter("%s", err.Error()).With("clusterName", in.Name)
	}
	cl.RoleARN, cl.ServiceCIDR, cl.AuthMode, cl.SupportType, cl.LogTypes = in.RoleArn, serviceCIDR, authMode, supportType, logTypes
	cl.EndpointPublic, cl.EndpointPrivate = public, private
	cl.CreatorAdminARN = c.creatorAdmin(in)
	if len(vc.PublicAccessCidrs) > 0 {
		cidrs := append([]string{}, vc.PublicAccessCidrs...)
		sort.Strings(cidrs)
		cl.PublicCIDRs = cidrs
	}
	return cl, nil
}
