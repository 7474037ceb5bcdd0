package wire

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Form is the decoded body of an EC2-query or AWS-query request, optionally
// scoped to a prefix (a member of a list, a nested structure).
type Form struct {
	v      url.Values
	prefix string
}

// NewForm wraps url.Values.
func NewForm(v url.Values) Form { return Form{v: v} }

func (f Form) key(k string) string {
	if f.prefix == "" {
		return k
	}
	return f.prefix + "." + k
}

// Has reports whether the key (or any key below it) is present.
func (f Form) Has(k string) bool {
	full := f.key(k)
	if _, ok := f.v[full]; ok {
		return true
	}
	for key := range f.v {
		if strings.HasPrefix(key, full+".") {
			return true
		}
	}
	return false
}

// String returns a scalar value, "" when absent.
func (f Form) String(k string) string { return f.v.Get(f.key(k)) }

// Int returns an integer value; ok is false when absent; err when malformed.
func (f Form) Int(k string) (n int, ok bool, err *APIError) {
	s := f.String(k)
	if s == "" {
		return 0, false, nil
	}
	n, e := strconv.Atoi(s)
	if e != nil {
		return 0, true, BadRequest("InvalidParameterValue", "Value (%s) for parameter %s is invalid. Expected: 'Integer'.", s, k)
	}
	return n, true, nil
}

// Bool returns a boolean value.
func (f Form) Bool(k string) bool { return strings.EqualFold(f.String(k), "true") }

// Sub scopes the form to a nested structure.
func (f Form) Sub(k string) Form { return Form{v: f.v, prefix: f.key(k)} }

// indices returns the sorted list indexes present directly under prefix.
func (f Form) indices(prefix string) []int {
	seen := map[int]bool{}
	for key := range f.v {
		if !strings.HasPrefix(key, prefix+".") {
			continue
		}
		rest := key[len(prefix)+1:]
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			rest = rest[:i]
		}
		if n, err := strconv.Atoi(rest); err == nil && n > 0 {
			seen[n] = true
		}
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// EC2List returns the scalar members of an EC2-query list: SubnetId.1, SubnetId.2 ...
func (f Form) EC2List(k string) []string {
	var out []string
	for _, i := range f.indices(f.key(k)) {
		out = append(out, f.v.Get(f.key(k)+"."+strconv.Itoa(i)))
	}
	return out
}

// EC2Structs returns the structure members of an EC2-query list: Filter.1.Name ...
func (f Form) EC2Structs(k string) []Form {
	var out []Form
	for _, i := range f.indices(f.key(k)) {
		out = append(out, Form{v: f.v, prefix: f.key(k) + "." + strconv.Itoa(i)})
	}
	return out
}

// Members returns the scalar members of an AWS-query list: Names.member.1 ...
// An empty list is sent as "Names=" and yields no members.
func (f Form) Members(k string) []string {
	var out []string
	p := f.key(k) + ".member"
	for _, i := range f.indices(p) {
		out = append(out, f.v.Get(p+"."+strconv.Itoa(i)))
	}
	return out
}

// MemberStructs returns the structure members of an AWS-query list.
func (f Form) MemberStructs(k string) []Form {
	var out []Form
	p := f.key(k) + ".member"
	for _, i := range f.indices(p) {
		out = append(out, Form{v: f.v, prefix: p + "." + strconv.Itoa(i)})
	}
	return out
}

// Filter is an EC2 filter: a name and the values any of which may match.
type Filter struct {
	Name   string
	Values []string
}

// EC2Filters decodes Filter.N.Name / Filter.N.Value.M.
func (f Form) EC2Filters() []Filter {
	var out []Filter
	for _, s := range f.EC2Structs("Filter") {
		out = append(out, Filter{Name: s.String("Name"), Values: s.EC2List("Value")})
	}
	return out
}
