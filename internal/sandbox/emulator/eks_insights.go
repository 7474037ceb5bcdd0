package emulator

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// EKS upgrade insights, computed from the world on every call
// (https://docs.aws.amazon.com/eks/latest/userguide/view-cluster-insights.html).
// Each cluster gets the UPGRADE_READINESS checks EKS runs, against the
// next Kubernetes minor: names, descriptions and passing reasons are EKS's.
// Status follows EKS's convention: ERROR when the upgrade to the next minor
// is affected, WARNING when only a later one is.

// Insight statuses.
const (
	insightPassing = "PASSING"
	insightWarning = "WARNING"
	insightError   = "ERROR"
	insightUnknown = "UNKNOWN"
)

type (
	eksInsightStatus struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	eksInsightResource struct {
		InsightStatus         eksInsightStatus `json:"insightStatus"`
		KubernetesResourceURI string           `json:"kubernetesResourceUri,omitempty"`
		Arn                   string           `json:"arn,omitempty"`
	}
	eksDeprecation struct {
		Usage                          string          `json:"usage"`
		ReplacedWith                   string          `json:"replacedWith"`
		StopServingVersion             string          `json:"stopServingVersion"`
		StartServingReplacementVersion string          `json:"startServingReplacementVersion"`
		ClientStats                    []eksClientStat `json:"clientStats"`
	}
	eksClientStat struct {
		UserAgent                  string         `json:"userAgent"`
		NumberOfRequestsLast30Days int            `json:"numberOfRequestsLast30Days"`
		LastRequestTime            wire.Timestamp `json:"lastRequestTime"`
	}
	eksAddonCompatibility struct {
		Name               string   `json:"name"`
		CompatibleVersions []string `json:"compatibleVersions"`
	}
	eksInsightSummary struct {
		ID                 string           `json:"id"`
		Name               string           `json:"name"`
		Category           string           `json:"category"`
		KubernetesVersion  string           `json:"kubernetesVersion"`
		LastRefreshTime    wire.Timestamp   `json:"lastRefreshTime"`
		LastTransitionTime wire.Timestamp   `json:"lastTransitionTime"`
		Description        string           `json:"description"`
		InsightStatus      eksInsightStatus `json:"insightStatus"`
	}
	eksInsightOut struct {
		eksInsightSummary
		Recommendation          string               `json:"recommendation"`
		AdditionalInfo          map[string]string    `json:"additionalInfo"`
		Resources               []eksInsightResource `json:"resources"`
		CategorySpecificSummary struct {
			DeprecationDetails        []eksDeprecation        `json:"deprecationDetails"`
			AddonCompatibilityDetails []eksAddonCompatibility `json:"addonCompatibilityDetails"`
		} `json:"categorySpecificSummary"`
	}
)

// eksRemovedAPIs lists the APIs a Kubernetes minor stops serving, from the
// deprecation guide (https://kubernetes.io/docs/reference/using-api/deprecation-guide/),
// for the minors the calendar reaches.
func eksRemovedAPIs(minor int) []eksDeprecation {
	return map[int][]eksDeprecation{
		29: {
			{Usage: "/apis/flowcontrol.apiserver.k8s.io/v1beta2/flowschemas", ReplacedWith: "/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas", StopServingVersion: "1.29", StartServingReplacementVersion: "1.26"},
			{Usage: "/apis/flowcontrol.apiserver.k8s.io/v1beta2/prioritylevelconfigurations", ReplacedWith: "/apis/flowcontrol.apiserver.k8s.io/v1beta3/prioritylevelconfigurations", StopServingVersion: "1.29", StartServingReplacementVersion: "1.26"},
		},
		32: {
			{Usage: "/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas", ReplacedWith: "/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas", StopServingVersion: "1.32", StartServingReplacementVersion: "1.29"},
			{Usage: "/apis/flowcontrol.apiserver.k8s.io/v1beta3/prioritylevelconfigurations", ReplacedWith: "/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations", StopServingVersion: "1.32", StartServingReplacementVersion: "1.29"},
		},
	}[minor]
}

// eksInsights computes a cluster's insights, in a stable order. A cluster
// has none until its control plane is up.
func (w *World) eksInsights(cl *Cluster, now time.Time) []eksInsightOut {
	if cl.Status != StatusActive && cl.Status != StatusUpdating {
		return nil
	}
	minor := eksMinor(cl.Version)
	if minor < 0 {
		return nil
	}
	next := eksVersionOf(minor + 1)
	// lastTransitionTime: the newest change among the things checked.
	changed := cl.CreatedAt
	for _, ng := range cl.Nodegroups {
		if ng.ModifiedAt.After(changed) {
			changed = ng.ModifiedAt
		}
	}
	for _, a := range cl.Addons {
		if a.ModifiedAt.After(changed) {
			changed = a.ModifiedAt
		}
	}
	mk := func(key, name, desc, recommendation string, info map[string]string) eksInsightOut {
		out := eksInsightOut{eksInsightSummary: eksInsightSummary{
			ID:   eksUUID(stableID("insight", cl.ARN, cl.CreatedAt.String(), key, next)),
			Name: name, Category: "UPGRADE_READINESS", KubernetesVersion: next,
			LastRefreshTime: wire.TS(now.Truncate(time.Second)), LastTransitionTime: wire.TS(changed.Truncate(time.Second)),
			Description: desc}, Recommendation: recommendation, AdditionalInfo: info, Resources: []eksInsightResource{}}
		out.CategorySpecificSummary.DeprecationDetails = []eksDeprecation{}
		out.CategorySpecificSummary.AddonCompatibilityDetails = []eksAddonCompatibility{}
		return out
	}
	var out []eksInsightOut

	// Deprecated APIs: the emulator has no API server, hence no audit data;
	// the check passes and says why in its recommendation.
	dep := mk("deprecated-apis", "Deprecated APIs removed in Kubernetes v"+next,
		fmt.Sprintf("Checks for usage of deprecated APIs that are scheduled for removal in Kubernetes v%s. Upgrading your cluster before migrating to the updated APIs supported by v%s could cause application impact.", next, next),
		"No action needed. The sandbox emulates no API server, so it has no API usage data: this check always passes.",
		map[string]string{"Kubernetes v" + next + " deprecation guide": "https://kubernetes.io/docs/reference/using-api/deprecation-guide/"})
	dep.InsightStatus = eksInsightStatus{insightPassing, "No deprecated API usage detected within the last 30 days."}
	for _, d := range eksRemovedAPIs(minor + 1) {
		d.ClientStats = []eksClientStat{}
		dep.CategorySpecificSummary.DeprecationDetails = append(dep.CategorySpecificSummary.DeprecationDetails, d)
	}
	out = append(out, dep)

	// Kubelet version skew: since 1.28 a kubelet may be up to three minors
	// older than the API server (https://kubernetes.io/releases/version-skew-policy/#kubelet).
	kubelet := mk("kubelet-skew", "Kubelet version skew",
		"Checks for kubelet versions of worker nodes in the cluster to see if upgrade would cause non compliance with supported Kubernetes kubelet version skew policy.",
		"Upgrade your worker nodes to match the Kubernetes version of your cluster control plane.",
		map[string]string{
			"Kubelet version skew policy":   "https://kubernetes.io/releases/version-skew-policy/#kubelet",
			"Updating a managed node group": "https://docs.aws.amazon.com/eks/latest/userguide/update-managed-node-group.html",
		})
	worst, behind := insightPassing, false
	for _, name := range sortedKeys(cl.Nodegroups) {
		ng := cl.Nodegroups[name]
		st := eksSkewStatus(minor, eksMinor(ng.Version))
		reason := fmt.Sprintf("Node group kubelet version %s is within the supported skew of Kubernetes %s.", ng.Version, next)
		switch st {
		case insightError:
			reason = fmt.Sprintf("Node group kubelet version %s would be more than three minor versions older than the control plane after an upgrade to %s.", ng.Version, next)
		case insightWarning:
			reason = fmt.Sprintf("Node group kubelet version %s would be more than three minor versions older than the control plane after an upgrade to %s.", ng.Version, eksVersionOf(minor+2))
		}
		if ng.Version != cl.Version {
			behind = true
		}
		worst = eksWorse(worst, st)
		kubelet.Resources = append(kubelet.Resources, eksInsightResource{InsightStatus: eksInsightStatus{st, reason}, Arn: ng.ARN})
	}
	switch {
	case worst == insightError:
		kubelet.InsightStatus = eksInsightStatus{worst, "Node kubelet versions would violate the version skew policy after upgrading the control plane to " + next + "."}
	case worst == insightWarning:
		kubelet.InsightStatus = eksInsightStatus{worst, "Node kubelet versions would violate the version skew policy after a later control plane upgrade."}
	case behind:
		kubelet.InsightStatus = eksInsightStatus{insightPassing, "Node kubelet versions are older than the control plane but within the supported version skew."}
	default:
		kubelet.InsightStatus = eksInsightStatus{insightPassing, "Node kubelet versions match the cluster control plane version."}
	}
	out = append(out, kubelet)

	// Add-on compatibility with the next minor. kube-proxy is versioned
	// per minor and is upgraded after the control plane, so its own check
	// (below) covers it.
	addons := mk("addon-compat", "EKS add-on version compatibility",
		"Checks version of installed EKS add-ons to ensure they are compatible with the next version of Kubernetes. ",
		"Upgrade your EKS add-ons to versions compatible with Kubernetes "+next+" before upgrading the cluster.",
		map[string]string{"Updating an Amazon EKS add-on": "https://docs.aws.amazon.com/eks/latest/userguide/updating-an-add-on.html"})
	_, nextKnown := eksLookupVersion(next, now)
	incompatible := []string{}
	for _, name := range sortedKeys(cl.Addons) {
		a := cl.Addons[name]
		def, ok := eksAddonByName(name)
		if !ok || name == "kube-proxy" {
			continue
		}
		compatible := def.compatibleVersions(minor + 1)
		addons.CategorySpecificSummary.AddonCompatibilityDetails = append(addons.CategorySpecificSummary.AddonCompatibilityDetails,
			eksAddonCompatibility{Name: name, CompatibleVersions: compatible})
		st, reason := insightPassing, fmt.Sprintf("Add-on version %s is compatible with Kubernetes %s.", a.Version, next)
		if av, ok := def.version(a.Version); !ok || !av.compatible(minor+1) {
			st, reason = insightError, fmt.Sprintf("Add-on version %s is not compatible with Kubernetes %s.", a.Version, next)
			incompatible = append(incompatible, name)
		}
		if !nextKnown {
			st, reason = insightUnknown, fmt.Sprintf("Kubernetes %s is not yet available on Amazon EKS.", next)
		}
		addons.Resources = append(addons.Resources, eksInsightResource{InsightStatus: eksInsightStatus{st, reason}, Arn: a.ARN})
	}
	switch {
	case !nextKnown:
		addons.InsightStatus = eksInsightStatus{insightUnknown, "Unable to determine add-on compatibility: Kubernetes " + next + " is not yet available on Amazon EKS."}
	case len(incompatible) > 0:
		addons.InsightStatus = eksInsightStatus{insightError, "Installed EKS add-on versions are not compatible with next Kubernetes version: " + strings.Join(incompatible, ", ") + "."}
	default:
		addons.InsightStatus = eksInsightStatus{insightPassing, "All installed EKS add-on versions are compatible with next Kubernetes version."}
	}
	out = append(out, addons)

	// kube-proxy follows the kubelet's skew policy
	// (https://kubernetes.io/releases/version-skew-policy/#kube-proxy).
	kp := mk("kube-proxy-skew", "kube-proxy version skew",
		"Checks version of kube-proxy in cluster to see if upgrade would cause non compliance with supported Kubernetes kube-proxy version skew policy.",
		"Update the kube-proxy add-on to the version that matches your cluster control plane version.",
		map[string]string{"kube-proxy version skew policy": "https://kubernetes.io/releases/version-skew-policy/#kube-proxy"})
	if a, ok := cl.Addons["kube-proxy"]; ok {
		kpMinor := eksAddonMinor(a.Version)
		st := eksSkewStatus(minor, kpMinor)
		switch {
		case st == insightError:
			kp.InsightStatus = eksInsightStatus{st, "kube-proxy would be more than three minor versions older than the control plane after upgrading to " + next + "."}
		case st == insightWarning:
			kp.InsightStatus = eksInsightStatus{st, "kube-proxy would be more than three minor versions older than the control plane after a later upgrade."}
		case kpMinor != minor:
			kp.InsightStatus = eksInsightStatus{insightPassing, "kube-proxy versions are older than the control plane but within the supported version skew."}
		default:
			kp.InsightStatus = eksInsightStatus{insightPassing, "kube-proxy versions match the cluster control plane version."}
		}
		kp.Resources = append(kp.Resources, eksInsightResource{InsightStatus: kp.InsightStatus, Arn: a.ARN})
	} else {
		kp.InsightStatus = eksInsightStatus{insightUnknown, "Unable to determine the kube-proxy version: the kube-proxy add-on is not installed."}
	}
	out = append(out, kp)

	health := mk("cluster-health", "Cluster health issues",
		"Checks for any cluster health issues that prevent successful upgrade to the next Kubernetes version on EKS.",
		"Resolve the cluster health issues before upgrading the cluster.",
		map[string]string{"Cluster health": "https://docs.aws.amazon.com/eks/latest/userguide/troubleshooting.html#cluster-health-status"})
	health.InsightStatus = eksInsightStatus{insightPassing, "No cluster health issues detected."}
	out = append(out, health)

	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// eksSkewStatus rates a kubelet or kube-proxy minor against the control
// plane's: ERROR if upgrading to the next minor breaks the three-minor skew
// limit, WARNING if the one after does.
func eksSkewStatus(cpMinor, nodeMinor int) string {
	switch {
	case nodeMinor < 0:
		return insightUnknown
	case cpMinor+1-nodeMinor > 3:
		return insightError
	case cpMinor+2-nodeMinor > 3:
		return insightWarning
	}
	return insightPassing
}

// eksAddonMinor is the Kubernetes minor of a kube-proxy version: 31 for "v1.31.3-eksbuild.2".
func eksAddonMinor(version string) int {
	v, _, _ := strings.Cut(strings.TrimPrefix(version, "v"), "-")
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return -1
	}
	return eksMinor(parts[0] + "." + parts[1])
}

// eksWorse returns the more severe of two statuses.
func eksWorse(a, b string) string {
	rank := map[string]int{insightPassing: 0, insightUnknown: 1, insightWarning: 2, insightError: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// registerEKSInsights serves ListInsights and DescribeInsight.
func (s *Server) registerEKSInsights() {
	// https://docs.aws.amazon.com/eks/latest/APIReference/API_ListInsights.html
	s.register(wire.ServiceEKS, "ListInsights", func(c *call) (any, *wire.APIError) {
		cl, aerr := c.eksCluster()
		if aerr != nil {
			return nil, aerr
		}
		var in struct {
			Filter *struct {
				Categories         []string `json:"categories"`
				KubernetesVersions []string `json:"kubernetesVersions"`
				Statuses           []string `json:"statuses"`
			} `json:"filter"`
			MaxResults *int   `json:"maxResults"`
			NextToken  string `json:"nextToken"`
		}
		if aerr := wire.DecodeJSON(c.req, &in); aerr != nil {
			return nil, aerr
		}
		in2set := func(vs []string, valid ...string) (map[string]bool, *wire.APIError) {
			if len(vs) == 0 {
				return nil, nil
			}
			m := map[string]bool{}
			for _, v := range vs {
				ok := len(valid) == 0
				for _, x := range valid {
					ok = ok || x == v
				}
				if !ok {
					return nil, eksInvalidParameter("Invalid filter value %s; valid values are %s.", v, strings.Join(valid, ", "))
				}
				m[v] = true
			}
			return m, nil
		}
		var cats, versions, statuses map[string]bool
		if f := in.Filter; f != nil {
			if cats, aerr = in2set(f.Categories, "UPGRADE_READINESS", "MISCONFIGURATION"); aerr != nil {
				return nil, aerr
			}
			if versions, aerr = in2set(f.KubernetesVersions); aerr != nil {
				return nil, aerr
			}
			if statuses, aerr = in2set(f.Statuses, insightPassing, insightWarning, insightError, insightUnknown); aerr != nil {
				return nil, aerr
			}
		}
		var rows []eksInsightSummary
		for _, ins := range c.w.eksInsights(cl, c.now) {
			switch {
			case cats != nil && !cats[ins.Category],
				versions != nil && !versions[ins.KubernetesVersion],
				statuses != nil && !statuses[ins.InsightStatus.Status]:
				continue
			}
			rows = append(rows, ins.eksInsightSummary)
		}
		start, end, next, aerr := eksPage("ListInsights/"+cl.Name, len(rows), in.NextToken, in.MaxResults)
		if aerr != nil {
			return nil, aerr
		}
		return &struct {
			Insights  []eksInsightSummary `json:"insights"`
			NextToken string              `json:"nextToken,omitempty"`
		}{append([]eksInsightSummary{}, rows[start:end]...), next}, nil
	})

	// https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeInsight.html
	s.register(wire.ServiceEKS, "DescribeInsight", func(c *call) (any, *wire.APIError) {
		cl, aerr := c.eksCluster()
		if aerr != nil {
			return nil, aerr
		}
		id := c.params["id"]
		for _, ins := range c.w.eksInsights(cl, c.now) {
			if ins.ID == id {
				return &struct {
					Insight eksInsightOut `json:"insight"`
				}{ins}, nil
			}
		}
		return nil, eksNotFound("No insight found for id: %s", id).With("clusterName", cl.Name)
	})
}
