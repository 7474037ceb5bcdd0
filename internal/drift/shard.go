package drift

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Shard is one of Count parts of a project's environments (Index from 1),
// for `eksbg drift --shard I/N`: N jobs, each checking one part, together
// check every environment once. The zero Shard is the whole project.
type Shard struct {
	Index, Count int
}

// ParseShard parses "I/N", 1 <= I <= N.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	idx, err1 := strconv.Atoi(strings.TrimSpace(i))
	cnt, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil || cnt < 1 || idx < 1 || idx > cnt {
		return Shard{}, fmt.Errorf("shard %q: want I/N with 1 <= I <= N, such as 2/4", s)
	}
	return Shard{Index: idx, Count: cnt}, nil
}

// String is "I/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Owns reports whether the environment belongs to the shard. It is
// rendezvous (highest random weight) hashing: the environment goes to the
// shard whose hash of (environment, shard) is highest. An environment's
// shard depends only on its name and N, so adding or removing
// environments never moves the others, and going from N to N+1 shards
// moves only the environments the new shard wins (about 1/(N+1) of them).
// https://en.wikipedia.org/wiki/Rendezvous_hashing
func (s Shard) Owns(env string) bool {
	if s.Count <= 1 {
		return true
	}
	return shardOf(env, s.Count) == s.Index
}

// shardOf is the shard (1..n) that env goes to.
func shardOf(env string, n int) int {
	best, bestW := 0, uint64(0)
	for i := 1; i <= n; i++ {
		h := sha256.Sum256([]byte(env + "\x00" + strconv.Itoa(i)))
		if w := binary.BigEndian.Uint64(h[:8]); i == 1 || w > bestW {
			best, bestW = i, w
		}
	}
	return best
}

// Merge combines the reports of the shards of one run (or of any
// disjoint sets of environments) into one report, as one run over all
// their environments would have written it: environments sorted, the
// summary counted again, the earliest check time, ignore rules reported
// unused only when no report used them. An environment in two reports,
// reports of different versions or of different strictness are errors.
func Merge(reports ...*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, fmt.Errorf("merging drift reports: no report")
	}
	out := &Report{APIVersion: APIVersion, Kind: ReportKind, Strict: reports[0].Strict, CheckedAt: reports[0].CheckedAt}
	seen := map[string]int{}
	var unused map[string]*IgnoreRule
	expired := map[string]*IgnoreRule{}
	for i, r := range reports {
		if r.APIVersion != APIVersion || r.Kind != ReportKind {
			return nil, fmt.Errorf("merging drift reports: report %d is %s %s, want %s %s", i+1, r.APIVersion, r.Kind, APIVersion, ReportKind)
		}
		if r.Strict != out.Strict {
			return nil, fmt.Errorf("merging drift reports: report %d was checked with strict=%v, report 1 with strict=%v", i+1, r.Strict, out.Strict)
		}
		if r.CheckedAt.Before(out.CheckedAt) {
			out.CheckedAt = r.CheckedAt
		}
		for _, e := range r.Environments {
			if j, ok := seen[e.Environment]; ok {
				return nil, fmt.Errorf("merging drift reports: environment %s is in reports %d and %d", e.Environment, j, i+1)
			}
			seen[e.Environment] = i + 1
			out.Environments = append(out.Environments, e)
		}
		out.Ignore.File = cmp.Or(out.Ignore.File, r.Ignore.File)
		out.Ignore.Rules = max(out.Ignore.Rules, r.Ignore.Rules)
		for _, ru := range r.Ignore.Expired {
			expired[ru.Source] = ru
		}
		// A rule is unused only if it is unused in every report: each
		// shard sees only its environments.
		mine := map[string]*IgnoreRule{}
		for _, ru := range r.Ignore.Unused {
			if unused == nil || unused[ru.Source] != nil {
				mine[ru.Source] = ru
			}
		}
		unused = mine
	}
	for _, ru := range unused {
		out.Ignore.Unused = append(out.Ignore.Unused, ru)
	}
	for _, ru := range expired {
		out.Ignore.Expired = append(out.Ignore.Expired, ru)
	}
	out.finish()
	slices.SortFunc(out.Ignore.Unused, func(a, b *IgnoreRule) int { return cmp.Compare(a.Source, b.Source) })
	return out, nil
}
