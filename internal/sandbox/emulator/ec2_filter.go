package emulator

import (
	"unicode/utf8"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// EC2 filters: the values of one filter are ORed, the filters are ANDed,
// values may hold the * and ? wildcards (\ escapes them), and names and
// values are case-sensitive.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Filtering.html#Filtering_Resources_CLI

// ec2Filter is one compiled filter. Values without wildcards go into a set,
// so that the common case (subnet-id=a,b,c over 20,000 ENIs) costs one map
// lookup per resource.
type ec2Filter struct {
	name  string
	exact map[string]struct{}
	globs []string
}

func newEC2Filter(f wire.Filter) *ec2Filter {
	c := &ec2Filter{name: f.Name, exact: make(map[string]struct{}, len(f.Values))}
	for _, v := range f.Values {
		if ec2HasWildcard(v) {
			c.globs = append(c.globs, v)
		} else {
			c.exact[ec2Unescape(v)] = struct{}{}
		}
	}
	return c
}

// match reports whether v matches any of the filter's values.
func (f *ec2Filter) match(v string) bool {
	if _, ok := f.exact[v]; ok {
		return true
	}
	for _, g := range f.globs {
		if ec2Glob(g, v) {
			return true
		}
	}
	return false
}

// matchAny reports whether any of vs matches.
func (f *ec2Filter) matchAny(vs []string) bool {
	for _, v := range vs {
		if f.match(v) {
			return true
		}
	}
	return false
}

// matchBool matches a boolean attribute against "true"/"false" values.
func (f *ec2Filter) matchBool(b bool) bool {
	if b {
		return f.match("true")
	}
	return f.match("false")
}

// ec2Field tests one resource against a compiled filter.
type ec2Field[T any] func(x T, f *ec2Filter) bool

// ec2Predicate is a compiled filter bound to its field.
type ec2Predicate[T any] func(x T) bool

// compileEC2Filters binds each filter of the request to its field. Tag
// filters (tag:<key>, tag-key, tag-value) are handled for every resource
// with tags; any other name the resource does not know is refused as EC2
// refuses it.
func compileEC2Filters[T any](filters []wire.Filter, fields map[string]ec2Field[T], tags func(T) map[string]string) ([]ec2Predicate[T], *wire.APIError) {
	preds := make([]ec2Predicate[T], 0, len(filters))
	for _, raw := range filters {
		f := newEC2Filter(raw)
		if field, ok := fields[raw.Name]; ok {
			preds = append(preds, func(x T) bool { return field(x, f) })
			continue
		}
		if tags == nil {
			return nil, ec2InvalidFilter(raw.Name)
		}
		switch {
		case len(raw.Name) > 4 && raw.Name[:4] == "tag:":
			key := raw.Name[4:]
			preds = append(preds, func(x T) bool {
				v, ok := tags(x)[key]
				return ok && f.match(v)
			})
		case raw.Name == "tag-key":
			preds = append(preds, func(x T) bool {
				for k := range tags(x) {
					if f.match(k) {
						return true
					}
				}
				return false
			})
		case raw.Name == "tag-value":
			preds = append(preds, func(x T) bool {
				for _, v := range tags(x) {
					if f.match(v) {
						return true
					}
				}
				return false
			})
		default:
			return nil, ec2InvalidFilter(raw.Name)
		}
	}
	return preds, nil
}

// ec2Matches reports whether x passes every predicate.
func ec2Matches[T any](x T, preds []ec2Predicate[T]) bool {
	for _, p := range preds {
		if !p(x) {
			return false
		}
	}
	return true
}

// ec2InvalidFilter is EC2's answer to a filter name the operation does not
// know (a request without a name reads as 'null').
func ec2InvalidFilter(name string) *wire.APIError {
	if name == "" {
		name = "null"
	}
	return wire.BadRequest("InvalidParameterValue", "The filter '%s' is invalid", name)
}

func ec2HasWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?':
			return true
		case '\\':
			i++
		}
	}
	return false
}

// ec2Unescape drops the backslashes of a value without wildcards.
func ec2Unescape(s string) string {
	hasEsc := false
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			hasEsc = true
			break
		}
	}
	if !hasEsc {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b = append(b, s[i])
	}
	return string(b)
}

// ec2Glob matches s against pattern p, where * matches any run of
// characters, ? exactly one, and \ makes the next character literal. It
// backtracks only to the last star, so it runs in O(len(p)*len(s)).
func ec2Glob(p, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch c := p[pi]; c {
			case '*':
				starP, starS = pi, si
				pi++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[si:])
				pi++
				si += n
				continue
			default:
				lit := pi
				if c == '\\' && pi+1 < len(p) {
					lit = pi + 1
				}
				if p[lit] == s[si] {
					pi, si = lit+1, si+1
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last star swallow one more character and retry.
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		pi, si = starP+1, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
