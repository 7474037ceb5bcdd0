package tui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Version is one Kubernetes minor version on Amazon EKS and its support
// dates (DescribeClusterVersions' ClusterVersionInformation).
type Version struct {
	// Version is the minor version, "1.34".
	Version     string
	Release     time.Time
	EndStandard time.Time
	EndExtended time.Time
}

// Support is a version's support state at some time.
type Support int

// Support states, as DescribeClusterVersions' versionStatus names them.
const (
	// StandardSupport is the first 14 months after the EKS release.
	StandardSupport Support = iota
	// ExtendedSupport is the 12 months after, at an extra cost per
	// cluster hour.
	ExtendedSupport
	// Unsupported versions cannot be used for new clusters.
	Unsupported
)

// String returns "standard", "extended" or "unsupported".
func (s Support) String() string {
	switch s {
	case StandardSupport:
		return "standard"
	case ExtendedSupport:
		return "extended"
	}
	return "unsupported"
}

// SupportAt is v's support state at now. Zero dates (a version the API
// listed without them) count as standard support.
func (v Version) SupportAt(now time.Time) Support {
	switch {
	case v.EndStandard.IsZero() || now.Before(v.EndStandard):
		return StandardSupport
	case v.EndExtended.IsZero() || now.Before(v.EndExtended):
		return ExtendedSupport
	}
	return Unsupported
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// BuiltinVersions is the Amazon EKS Kubernetes release calendar, for when
// DescribeClusterVersions cannot be called. Dates are UTC, from
// https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html#kubernetes-release-calendar
// (1.35's from the EKS release announcement of January 27, 2026: 14 months of
// standard support and 12 of extended, as for every version).
func BuiltinVersions() []Version {
	return []Version{
		{"1.29", day(2024, time.January, 23), day(2025, time.March, 23), day(2026, time.March, 23)},
		{"1.30", day(2024, time.May, 23), day(2025, time.July, 23), day(2026, time.July, 23)},
		{"1.31", day(2024, time.September, 26), day(2025, time.November, 26), day(2026, time.November, 26)},
		{"1.32", day(2025, time.January, 23), day(2026, time.March, 23), day(2027, time.March, 23)},
		{"1.33", day(2025, time.May, 29), day(2026, time.July, 29), day(2027, time.July, 29)},
		{"1.34", day(2025, time.October, 2), day(2026, time.December, 2), day(2027, time.December, 2)},
		{"1.35", day(2026, time.January, 27), day(2027, time.March, 27), day(2028, time.March, 27)},
	}
}

// minor returns the minor number of "1.34" (34), or -1.
func minor(v string) int {
	major, m, ok := strings.Cut(v, ".")
	if !ok || major != "1" {
		return -1
	}
	if i := strings.IndexByte(m, '.'); i >= 0 {
		m = m[:i]
	}
	n, err := strconv.Atoi(m)
	if err != nil {
		return -1
	}
	return n
}

// targets returns the versions blue at version from can move to: newer
// minors that are released and supported at now, newest first. Blue/green
// may skip minors (green is a new cluster), but never goes back.
func targets(vs []Version, from string, now time.Time) []Version {
	cur := minor(from)
	var out []Version
	for _, v := range vs {
		if minor(v.Version) <= cur || v.SupportAt(now) == Unsupported || (!v.Release.IsZero() && now.Before(v.Release)) {
			continue
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Version) int { return cmp.Compare(minor(b.Version), minor(a.Version)) })
	return out
}
