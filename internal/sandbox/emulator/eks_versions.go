package emulator

import (
	"strconv"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// eksVersion is one row of the Amazon EKS Kubernetes release calendar.
type eksVersion struct {
	Version                           string // minor, "1.31"
	Patch                             string // kubernetesPatchVersion EKS serves
	Release, EndStandard, EndExtended time.Time
}

// Kubernetes version support states, as DescribeClusterVersions spells them.
const (
	eksStandardSupport = "STANDARD_SUPPORT"
	eksExtendedSupport = "EXTENDED_SUPPORT"
	eksUnsupported     = "UNSUPPORTED"
)

func eksDate(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// eksCalendar is the Amazon EKS Kubernetes release calendar (UTC dates:
// https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html#kubernetes-release-calendar).
// A version is in standard support for 14 months from its EKS release, then
// in extended support for 12 more; extended billing starts at 00:00 UTC on
// the end-of-standard-support day. Whether a version is listed at all, and
// its state, follow the emulator's clock.
func eksCalendar() []eksVersion {
	return []eksVersion{
		{"1.28", "1.28.15", eksDate(2023, time.September, 26), eksDate(2024, time.November, 26), eksDate(2025, time.November, 26)},
		{"1.29", "1.29.15", eksDate(2024, time.January, 23), eksDate(2025, time.March, 23), eksDate(2026, time.March, 23)},
		{"1.30", "1.30.14", eksDate(2024, time.May, 23), eksDate(2025, time.July, 23), eksDate(2026, time.July, 23)},
		{"1.31", "1.31.13", eksDate(2024, time.September, 26), eksDate(2025, time.November, 26), eksDate(2026, time.November, 26)},
		{"1.32", "1.32.9", eksDate(2025, time.January, 23), eksDate(2026, time.March, 23), eksDate(2027, time.March, 23)},
		{"1.33", "1.33.5", eksDate(2025, time.May, 29), eksDate(2026, time.July, 29), eksDate(2027, time.July, 29)},
		{"1.34", "1.34.1", eksDate(2025, time.October, 2), eksDate(2026, time.December, 2), eksDate(2027, time.December, 2)},
		{"1.35", "1.35.0", eksDate(2026, time.January, 27), eksDate(2027, time.March, 27), eksDate(2028, time.March, 27)},
	}
}

// status is the version's support state at now.
func (v eksVersion) status(now time.Time) string {
	switch {
	case now.Before(v.EndStandard):
		return eksStandardSupport
	case now.Before(v.EndExtended):
		return eksExtendedSupport
	}
	return eksUnsupported
}

// eksReleased returns the calendar's versions released on EKS by now, oldest first.
func eksReleased(now time.Time) []eksVersion {
	var out []eksVersion
	for _, v := range eksCalendar() {
		if !now.Before(v.Release) {
			out = append(out, v)
		}
	}
	return out
}

// eksLookupVersion finds a released version.
func eksLookupVersion(version string, now time.Time) (eksVersion, bool) {
	for _, v := range eksReleased(now) {
		if v.Version == version {
			return v, true
		}
	}
	return eksVersion{}, false
}

// eksDefaultVersion is the version CreateCluster uses when none is given:
// the newest one released.
func eksDefaultVersion(now time.Time) string {
	rel := eksReleased(now)
	if len(rel) == 0 {
		return ""
	}
	return rel[len(rel)-1].Version
}

// eksMinor returns the minor of "1.31" (31), or -1.
func eksMinor(version string) int {
	major, minor, ok := strings.Cut(version, ".")
	if !ok || major != "1" {
		return -1
	}
	n, err := strconv.Atoi(minor)
	if err != nil {
		return -1
	}
	return n
}

func eksVersionOf(minor int) string { return "1." + strconv.Itoa(minor) }

// registerEKSVersions serves DescribeClusterVersions.
// https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeClusterVersions.html
func (s *Server) registerEKSVersions() {
	s.register(wire.ServiceEKS, "DescribeClusterVersions", func(c *call) (any, *wire.APIError) {
		q := c.eksQuery()
		boolParam := func(name string) (bool, *wire.APIError) {
			v := q.Get(name)
			if v == "" {
				return false, nil
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				return false, eksInvalidParameter("%s must be true or false.", name)
			}
			return b, nil
		}
		defaultOnly, aerr := boolParam("defaultOnly")
		if aerr != nil {
			return nil, aerr
		}
		includeAll, aerr := boolParam("includeAll")
		if aerr != nil {
			return nil, aerr
		}
		// status is the deprecated spelling (lowercase, "standard-support");
		// versionStatus the current one.
		want := strings.ToUpper(strings.ReplaceAll(q.Get("status"), "-", "_"))
		if vs := q.Get("versionStatus"); vs != "" {
			want = vs
		}
		switch want {
		case "", eksStandardSupport, eksExtendedSupport, eksUnsupported:
		default:
			return nil, eksInvalidParameter("Invalid versionStatus %s. Valid values are STANDARD_SUPPORT, EXTENDED_SUPPORT, UNSUPPORTED.", want)
		}
		only := map[string]bool{}
		for _, v := range q["clusterVersions"] {
			only[v] = true
		}
		clusterType := q.Get("clusterType")
		def := eksDefaultVersion(c.now)

		type versionInfo struct {
			ClusterVersion           string         `json:"clusterVersion"`
			ClusterType              string         `json:"clusterType"`
			DefaultPlatformVersion   string         `json:"defaultPlatformVersion"`
			DefaultVersion           bool           `json:"defaultVersion"`
			ReleaseDate              wire.Timestamp `json:"releaseDate"`
			EndOfStandardSupportDate wire.Timestamp `json:"endOfStandardSupportDate"`
			EndOfExtendedSupportDate wire.Timestamp `json:"endOfExtendedSupportDate"`
			Status                   string         `json:"status"`
			VersionStatus            string         `json:"versionStatus"`
			KubernetesPatchVersion   string         `json:"kubernetesPatchVersion"`
		}
		var rows []versionInfo
		rel := eksReleased(c.now)
		// Newest first, as EKS lists them.
		for i := len(rel) - 1; i >= 0; i-- {
			v := rel[i]
			st := v.status(c.now)
			switch {
			case clusterType != "" && clusterType != "eks":
				continue
			case len(only) > 0 && !only[v.Version]:
				continue
			case defaultOnly && v.Version != def:
				continue
			case want != "" && st != want:
				continue
			case want == "" && !includeAll && len(only) == 0 && st == eksUnsupported:
				continue
			}
			rows = append(rows, versionInfo{ClusterVersion: v.Version, ClusterType: "eks",
				DefaultPlatformVersion: platformVersion(v.Version), DefaultVersion: v.Version == def,
				ReleaseDate: wire.TS(v.Release), EndOfStandardSupportDate: wire.TS(v.EndStandard),
				EndOfExtendedSupportDate: wire.TS(v.EndExtended),
				Status:                   strings.ToLower(strings.ReplaceAll(st, "_", "-")), VersionStatus: st,
				KubernetesPatchVersion: v.Patch})
		}
		start, end, next, aerr := c.eksQueryPage("DescribeClusterVersions", len(rows))
		if aerr != nil {
			return nil, aerr
		}
		return &struct {
			ClusterVersions []versionInfo `json:"clusterVersions"`
			NextToken       string        `json:"nextToken,omitempty"`
		}{append([]versionInfo{}, rows[start:end]...), next}, nil
	})
}
