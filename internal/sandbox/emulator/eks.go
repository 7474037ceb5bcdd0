package emulator

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// EKS speaks REST-JSON: operations are routed on method and path, as
// botocore's eks 2017-11-01 model declares them
// (https://docs.aws.amazon.com/eks/latest/APIReference/API_Operations.html).
// The handlers live in eks_clusters.go, eks_nodegroups.go, eks_addons.go,
// eks_versions.go and eks_insights.go.
func (s *Server) registerEKS() {
	s.routers[wire.ServiceEKS] = eksRoute
	s.registerEKSClusters()
	s.registerEKSNodegroups()
	s.registerEKSAddons()
	s.registerEKSVersions()
	s.registerEKSInsights()
}

// eksRoute maps an EKS request line to its operation and path parameters.
// Path segments arrive URL-escaped; each is unescaped after splitting, so an
// escaped "/" cannot forge an extra segment.
func eksRoute(method, path string) (string, map[string]string, bool) {
	raw := strings.Split(strings.Trim(path, "/"), "/")
	segs := make([]string, len(raw))
	for i, r := range raw {
		s, err := url.PathUnescape(r)
		if err != nil {
			return "", nil, false
		}
		segs[i] = s
	}
	get, post, del := method == http.MethodGet, method == http.MethodPost, method == http.MethodDelete
	p := map[string]string{}
	switch {
	case len(segs) == 2 && segs[0] == "addons" && segs[1] == "supported-versions" && get:
		return "DescribeAddonVersions", p, true
	case len(segs) == 1 && segs[0] == "cluster-versions" && get:
		return "DescribeClusterVersions", p, true
	case len(segs) == 0 || segs[0] != "clusters":
		return "", nil, false
	case len(segs) == 1:
		switch {
		case get:
			return "ListClusters", p, true
		case post:
			return "CreateCluster", p, true
		}
		return "", nil, false
	}
	p["name"] = segs[1]
	switch len(segs) {
	case 2:
		switch {
		case get:
			return "DescribeCluster", p, true
		case del:
			return "DeleteCluster", p, true
		}
	case 3:
		switch {
		case segs[2] == "node-groups" && get:
			return "ListNodegroups", p, true
		case segs[2] == "node-groups" && post:
			return "CreateNodegroup", p, true
		case segs[2] == "addons" && get:
			return "ListAddons", p, true
		case segs[2] == "addons" && post:
			return "CreateAddon", p, true
		case segs[2] == "insights" && post:
			return "ListInsights", p, true
		}
	case 4:
		switch {
		case segs[2] == "node-groups" && get:
			p["nodegroupName"] = segs[3]
			return "DescribeNodegroup", p, true
		case segs[2] == "node-groups" && del:
			p["nodegroupName"] = segs[3]
			return "DeleteNodegroup", p, true
		case segs[2] == "addons" && get:
			p["addonName"] = segs[3]
			return "DescribeAddon", p, true
		case segs[2] == "addons" && del:
			p["addonName"] = segs[3]
			return "DeleteAddon", p, true
		case segs[2] == "insights" && get:
			p["id"] = segs[3]
			return "DescribeInsight", p, true
		case segs[2] == "updates" && get:
			p["updateId"] = segs[3]
			return "DescribeUpdate", p, true
		}
	case 5:
		if segs[2] == "node-groups" && segs[4] == "update-config" && post {
			p["nodegroupName"] = segs[3]
			return "UpdateNodegroupConfig", p, true
		}
	}
	return "", nil, false
}

// EKS error codes and their HTTP statuses, from the model's error shapes.
func eksInvalidParameter(format string, args ...any) *wire.APIError {
	return wire.BadRequest("InvalidParameterException", format, args...)
}

func eksInvalidRequest(format string, args ...any) *wire.APIError {
	return wire.BadRequest("InvalidRequestException", format, args...)
}

func eksInUse(format string, args ...any) *wire.APIError {
	return wire.Errorf(http.StatusConflict, "ResourceInUseException", format, args...)
}

func eksNotFound(format string, args ...any) *wire.APIError {
	return wire.Errorf(http.StatusNotFound, "ResourceNotFoundException", format, args...)
}

func eksLimitExceeded(format string, args ...any) *wire.APIError {
	return wire.BadRequest("ResourceLimitExceededException", format, args...)
}

// eksCluster finds a cluster named in the path, or EKS's not-found error.
func (c *call) eksCluster() (*Cluster, *wire.APIError) {
	name := c.params["name"]
	cl, ok := c.w.Clusters[name]
	if !ok {
		return nil, eksNotFound("No cluster found for name: %s.", name).With("clusterName", name)
	}
	if cl.Nodegroups == nil {
		cl.Nodegroups = map[string]*Nodegroup{}
	}
	if cl.Addons == nil {
		cl.Addons = map[string]*Addon{}
	}
	if cl.Updates == nil {
		cl.Updates = map[string]*Update{}
	}
	return cl, nil
}

// eksQuery is the request's query string (REST-JSON GET parameters).
func (c *call) eksQuery() url.Values { return c.req.HTTP.URL.Query() }

// eksMaxResults reads maxResults from the query string.
func (c *call) eksMaxResults() (*int, *wire.APIError) {
	v := c.eksQuery().Get("maxResults")
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, eksInvalidParameter("maxResults must be an integer between 1 and 100.")
	}
	return &n, nil
}

// eksQueryPage cuts a page for the GET operations, which take maxResults
// and nextToken in the query string.
func (c *call) eksQueryPage(op string, total int) (start, end int, next string, aerr *wire.APIError) {
	maxResults, aerr := c.eksMaxResults()
	if aerr != nil {
		return 0, 0, "", aerr
	}
	return eksPage(op, total, c.eksQuery().Get("nextToken"), maxResults)
}

// eksPage cuts a page as EKS's paginated operations do: maxResults 1 to 100
// (default 100), an opaque nextToken, and InvalidParameterException for
// either out of range or forged.
func eksPage(op string, total int, token string, maxResults *int) (start, end int, next string, aerr *wire.APIError) {
	size := 100
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > 100 {
			return 0, 0, "", eksInvalidParameter("maxResults must be between 1 and 100.")
		}
		size = *maxResults
	}
	start, end, next, aerr = wire.Page(op, total, token, size, 100)
	if aerr != nil {
		return 0, 0, "", eksInvalidParameter("The nextToken provided is invalid.")
	}
	return start, end, next, nil
}

// eksNonNilMap returns m, or an empty map: EKS sends "tags": {} and "labels": {}
// rather than omitting them.
func eksNonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func eksCopyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// eksQuota reads an applied EKS service quota, or its AWS default.
func (w *World) eksQuota(code string, def float64) int {
	if v, ok := w.Quotas["eks/"+code]; ok {
		return int(v)
	}
	return int(def)
}

// eksUUID formats 32 hex digits as a version 4 UUID, the form of EKS's
// update and insight IDs.
func eksUUID(h string) string {
	b := []byte(h[:32])
	b[12] = '4'
	b[16] = "89ab"[strings.IndexByte("0123456789abcdef", b[16])%4]
	return uuidFrom(string(b))
}
