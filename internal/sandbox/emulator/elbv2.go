package emulator

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// Elastic Load Balancing v2 over the AWS query protocol (API version
// 2015-12-01): the Application Load Balancers of the world, their listeners
// and rules, and the target groups behind them.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/Welcome.html
//
// Error codes are the service model's (botocore elbv2 service-2.json):
// LoadBalancerNotFound, ListenerNotFound, RuleNotFound, TargetGroupNotFound,
// TargetGroupAssociationLimit, OperationNotPermitted, InvalidTarget,
// TooManyTargets, DuplicateListener, and ValidationError for input AWS
// refuses before looking anything up.

func (s *Server) registerELBv2() {
	ops := map[string]opFunc{
		"DescribeLoadBalancers":         elbDescribeLoadBalancers,
		"DescribeListeners":             elbDescribeListeners,
		"DescribeRules":                 elbDescribeRules,
		"DescribeTargetGroups":          elbDescribeTargetGroups,
		"DescribeTags":                  elbDescribeTags,
		"ModifyRule":                    elbModifyRule,
		"ModifyListener":                elbModifyListener,
		"DescribeTargetHealth":          elbDescribeTargetHealth,
		"RegisterTargets":               elbRegisterTargets,
		"DeregisterTargets":             elbDeregisterTargets,
		"DescribeTargetGroupAttributes": elbDescribeTargetGroupAttributes,
	}
	for name, f := range ops {
		s.register(wire.ServiceELBv2, name, elbOp(f))
	}
}

// elbOp drops the targets whose deregistration delay has passed before
// serving a call, so that no call sees a target that is gone.
func elbOp(f opFunc) opFunc {
	return func(c *call) (any, *wire.APIError) {
		if c.w.elbPruneDrainedTargets(c.now) {
			c.changed()
		}
		return f(c)
	}
}

func elbValidation(format string, args ...any) *wire.APIError {
	return wire.BadRequest("ValidationError", format, args...)
}

// elbMissing is the error of a required member left out, in the words of
// AWS's request validation.
func elbMissing(member string) *wire.APIError {
	return elbValidation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// elbARNType returns the resource type of an ELBv2 ARN (loadbalancer,
// listener, listener-rule, targetgroup), "" when it is not one.
func elbARNType(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "elasticloadbalancing" {
		return ""
	}
	typ, rest, ok := strings.Cut(parts[5], "/")
	if !ok || rest == "" {
		return ""
	}
	return typ
}

// elbCheckARN refuses a malformed ARN as AWS does, before any lookup.
func elbCheckARN(arn, typ, what string) *wire.APIError {
	if elbARNType(arn) != typ {
		return elbValidation("'%s' is not a valid %s ARN", arn, what)
	}
	return nil
}

// elbMaxPageSize is the PageSize bound of the Describe* operations (the
// service model's PageSize shape: 1..400); it is also the default.
const elbMaxPageSize = 400

// elbPage cuts one page of total items using the call's Marker and PageSize.
func elbPage(c *call, total int) (start, end int, next string, err *wire.APIError) {
	size := 0
	if s := c.req.Form.String("PageSize"); s != "" {
		n, e := strconv.Atoi(s)
		switch {
		case e != nil:
			return 0, 0, "", elbValidation("1 validation error detected: Value '%s' at 'pageSize' failed to satisfy constraint: Member must be an integer", s)
		case n < 1:
			return 0, 0, "", elbValidation("1 validation error detected: Value '%d' at 'pageSize' failed to satisfy constraint: Member must have value greater than or equal to 1", n)
		case n > elbMaxPageSize:
			return 0, 0, "", elbValidation("1 validation error detected: Value '%d' at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to %d", n, elbMaxPageSize)
		}
		size = n
	}
	marker := c.req.Form.String("Marker")
	start, end, next, err = wire.Page(c.req.Operation, total, marker, size, elbMaxPageSize)
	if err != nil {
		// ELBv2 has no InvalidNextToken: a bad marker is a ValidationError.
		return 0, 0, "", elbValidation("The marker '%s' is not valid", marker)
	}
	return start, end, next, nil
}

// elbUniq drops repeated values, keeping the first of each.
func elbUniq(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

type elbDescribeLoadBalancersResult struct {
	LoadBalancers elbList[elbLoadBalancer] `xml:"LoadBalancers"`
	NextMarker    string                   `xml:"NextMarker,omitempty"`
}

// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeLoadBalancers.html
func elbDescribeLoadBalancers(c *call) (any, *wire.APIError) {
	f := c.req.Form
	arns, names := elbUniq(f.Members("LoadBalancerArns")), elbUniq(f.Members("Names"))
	if len(arns) > 0 && len(names) > 0 {
		return nil, elbValidation("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	var lbs []*LoadBalancer
	switch {
	case len(arns) > 0:
		for _, arn := range arns {
			if err := elbCheckARN(arn, "loadbalancer", "load balancer"); err != nil {
				return nil, err
			}
			lb, ok := c.w.LoadBalancers[arn]
			if !ok {
				return nil, wire.BadRequest("LoadBalancerNotFound", "One or more load balancers not found")
			}
			lbs = append(lbs, lb)
		}
	case len(names) > 0:
		var missing []string
		for _, name := range names {
			var found *LoadBalancer
			for _, arn := range sortedKeys(c.w.LoadBalancers) {
				if c.w.LoadBalancers[arn].Name == name {
					found = c.w.LoadBalancers[arn]
					break
				}
			}
			if found == nil {
				missing = append(missing, name)
				continue
			}
			lbs = append(lbs, found)
		}
		if len(missing) > 0 {
			return nil, wire.BadRequest("LoadBalancerNotFound", "Load balancers '[%s]' not found", strings.Join(missing, ", "))
		}
	default:
		for _, arn := range sortedKeys(c.w.LoadBalancers) {
			lbs = append(lbs, c.w.LoadBalancers[arn])
		}
	}
	start, end, next, err := elbPage(c, len(lbs))
	if err != nil {
		return nil, err
	}
	out := &elbDescribeLoadBalancersResult{LoadBalancers: elbList[elbLoadBalancer]{Member: []elbLoadBalancer{}}, NextMarker: next}
	for _, lb := range lbs[start:end] {
		out.LoadBalancers.Member = append(out.LoadBalancers.Member, c.w.elbLBXML(lb))
	}
	return out, nil
}

type elbDescribeListenersResult struct {
	Listeners  elbList[elbListener] `xml:"Listeners"`
	NextMarker string               `xml:"NextMarker,omitempty"`
}

// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeListeners.html
func elbDescribeListeners(c *call) (any, *wire.APIError) {
	f := c.req.Form
	lbARN, arns := f.String("LoadBalancerArn"), elbUniq(f.Members("ListenerArns"))
	switch {
	case lbARN == "" && len(arns) == 0:
		return nil, elbValidation("You must specify either listener ARNs or a load balancer ARN")
	case lbARN != "" && len(arns) > 0:
		return nil, elbValidation("Listener ARNs and a load balancer ARN cannot be specified at the same time")
	}
	var ls []*Listener
	if lbARN != "" {
		if err := elbCheckARN(lbARN, "loadbalancer", "load balancer"); err != nil {
			return nil, err
		}
		if _, ok := c.w.LoadBalancers[lbARN]; !ok {
			return nil, wire.BadRequest("LoadBalancerNotFound", "One or more load balancers not found")
		}
		for _, arn := range sortedKeys(c.w.Listeners) {
			if l := c.w.Listeners[arn]; l.LoadBalancer == lbARN {
				ls = append(ls, l)
			}
		}
	}
	for _, arn := range arns {
		if err := elbCheckARN(arn, "listener", "listener"); err != nil {
			return nil, err
		}
		l, ok := c.w.Listeners[arn]
		if !ok {
			return nil, wire.BadRequest("ListenerNotFound", "One or more listeners not found")
		}
		ls = append(ls, l)
	}
	start, end, next, err := elbPage(c, len(ls))
	if err != nil {
		return nil, err
	}
	out := &elbDescribeListenersResult{Listeners: elbList[elbListener]{Member: []elbListener{}}, NextMarker: next}
	for _, l := range ls[start:end] {
		out.Listeners.Member = append(out.Listeners.Member, elbListenerXML(l))
	}
	return out, nil
}

type elbDescribeRulesResult struct {
	Rules      elbList[elbRule] `xml:"Rules"`
	NextMarker string           `xml:"NextMarker,omitempty"`
}

// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeRules.html
func elbDescribeRules(c *call) (any, *wire.APIError) {
	f := c.req.Form
	listenerARN, arns := f.String("ListenerArn"), elbUniq(f.Members("RuleArns"))
	switch {
	case listenerARN == "" && len(arns) == 0:
		return nil, elbValidation("You must specify either listener rule ARNs or a listener ARN")
	case listenerARN != "" && len(arns) > 0:
		return nil, elbValidation("Listener rule ARNs and a listener ARN cannot be specified at the same time")
	}
	var rules []*Rule
	if listenerARN != "" {
		if err := elbCheckARN(listenerARN, "listener", "listener"); err != nil {
			return nil, err
		}
		if _, ok := c.w.Listeners[listenerARN]; !ok {
			return nil, wire.BadRequest("ListenerNotFound", "One or more listeners not found")
		}
		rules = c.w.elbListenerRules(listenerARN)
	}
	for _, arn := range arns {
		if err := elbCheckARN(arn, "listener-rule", "listener rule"); err != nil {
			return nil, err
		}
		r, ok := c.w.Rules[arn]
		if !ok {
			return nil, wire.BadRequest("RuleNotFound", "One or more rules not found")
		}
		rules = append(rules, r)
	}
	start, end, next, err := elbPage(c, len(rules))
	if err != nil {
		return nil, err
	}
	out := &elbDescribeRulesResult{Rules: elbList[elbRule]{Member: []elbRule{}}, NextMarker: next}
	for _, r := range rules[start:end] {
		out.Rules.Member = append(out.Rules.Member, elbRuleXML(r))
	}
	return out, nil
}

// elbListenerRules returns a listener's rules in priority order, default last.
func (w *World) elbListenerRules(listenerARN string) []*Rule {
	var rules []*Rule
	for _, arn := range sortedKeys(w.Rules) {
		if r := w.Rules[arn]; r.Listener == listenerARN {
			rules = append(rules, r)
		}
	}
	sort.SliceStable(rules, func(i, j int) bool { return elbPriorityKey(rules[i]) < elbPriorityKey(rules[j]) })
	return rules
}

type elbDescribeTargetGroupsResult struct {
	TargetGroups elbList[elbTargetGroup] `xml:"TargetGroups"`
	NextMarker   string                  `xml:"NextMarker,omitempty"`
}

// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetGroups.html
func elbDescribeTargetGroups(c *call) (any, *wire.APIError) {
	f := c.req.Form
	lbARN, arns, names := f.String("LoadBalancerArn"), elbUniq(f.Members("TargetGroupArns")), elbUniq(f.Members("Names"))
	given := 0
	for _, b := range []bool{lbARN != "", len(arns) > 0, len(names) > 0} {
		if b {
			given++
		}
	}
	if given > 1 {
		return nil, elbValidation("Target group names, target group ARNs, and a load balancer ARN cannot be specified at the same time")
	}
	var tgs []*TargetGroup
	switch {
	case lbARN != "":
		if err := elbCheckARN(lbARN, "loadbalancer", "load balancer"); err != nil {
			return nil, err
		}
		if _, ok := c.w.LoadBalancers[lbARN]; !ok {
			return nil, wire.BadRequest("LoadBalancerNotFound", "One or more load balancers not found")
		}
		for _, arn := range sortedKeys(c.w.TargetGroups) {
			tg := c.w.TargetGroups[arn]
			for _, l := range tg.LoadBalancers {
				if l == lbARN {
					tgs = append(tgs, tg)
					break
				}
			}
		}
	case len(arns) > 0:
		for _, arn := range arns {
			if err := elbCheckARN(arn, "targetgroup", "target group"); err != nil {
				return nil, err
			}
			tg, ok := c.w.TargetGroups[arn]
			if !ok {
				return nil, wire.BadRequest("TargetGroupNotFound", "One or more target groups not found")
			}
			tgs = append(tgs, tg)
		}
	case len(names) > 0:
		var missing []string
		for _, name := range names {
			tg := c.w.elbTargetGroupByName(name)
			if tg == nil {
				missing = append(missing, name)
				continue
			}
			tgs = append(tgs, tg)
		}
		if len(missing) > 0 {
			return nil, wire.BadRequest("TargetGroupNotFound", "Target groups '[%s]' not found", strings.Join(missing, ", "))
		}
	default:
		for _, arn := range sortedKeys(c.w.TargetGroups) {
			tgs = append(tgs, c.w.TargetGroups[arn])
		}
	}
	start, end, next, err := elbPage(c, len(tgs))
	if err != nil {
		return nil, err
	}
	out := &elbDescribeTargetGroupsResult{TargetGroups: elbList[elbTargetGroup]{Member: []elbTargetGroup{}}, NextMarker: next}
	for _, tg := range tgs[start:end] {
		out.TargetGroups.Member = append(out.TargetGroups.Member, elbTGXML(tg))
	}
	return out, nil
}

func (w *World) elbTargetGroupByName(name string) *TargetGroup {
	for _, arn := range sortedKeys(w.TargetGroups) {
		if tg := w.TargetGroups[arn]; tg.Name == name {
			return tg
		}
	}
	return nil
}

type elbDescribeTagsResult struct {
	TagDescriptions elbList[elbTagDescription] `xml:"TagDescriptions"`
}

// elbMaxTagResources is how many resources one DescribeTags call may name.
const elbMaxTagResources = 20

// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTags.html
func elbDescribeTags(c *call) (any, *wire.APIError) {
	arns := elbUniq(c.req.Form.Members("ResourceArns"))
	if len(arns) == 0 {
		return nil, elbMissing("resourceArns")
	}
	if len(arns) > elbMaxTagResources {
		return nil, elbValidation("1 validation error detected: Value '[%s]' at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to %d",
			strings.Join(arns, ", "), elbMaxTagResources)
	}
	out := &elbDescribeTagsResult{TagDescriptions: elbList[elbTagDescription]{Member: []elbTagDescription{}}}
	for _, arn := range arns {
		tags, err := c.w.elbTags(arn)
		if err != nil {
			return nil, err
		}
		out.TagDescriptions.Member = append(out.TagDescriptions.Member, elbTagsXML(arn, tags))
	}
	return out, nil
}

// elbTags returns the tags of any ELBv2 resource.
func (w *World) elbTags(arn string) (map[string]string, *wire.APIError) {
	switch elbARNType(arn) {
	case "loadbalancer":
		if lb, ok := w.LoadBalancers[arn]; ok {
			return lb.Tags, nil
		}
		return nil, wire.BadRequest("LoadBalancerNotFound", "Load balancer '%s' not found", arn)
	case "targetgroup":
		if tg, ok := w.TargetGroups[arn]; ok {
			return tg.Tags, nil
		}
		return nil, wire.BadRequest("TargetGroupNotFound", "Target groups '%s' not found", arn)
	case "listener":
		if l, ok := w.Listeners[arn]; ok {
			return l.Tags, nil
		}
		return nil, wire.BadRequest("ListenerNotFound", "Listener '%s' not found", arn)
	case "listener-rule":
		if r, ok := w.Rules[arn]; ok {
			return r.Tags, nil
		}
		return nil, wire.BadRequest("RuleNotFound", "Rule '%s' not found", arn)
	}
	return nil, elbValidation("'%s' is not a valid resource ARN", arn)
}

// elbFormInt reads an optional integer member; malformed values are refused
// as AWS's request validation refuses them.
func elbFormInt(f wire.Form, key, path string) (n int, ok bool, err *wire.APIError) {
	s := f.String(key)
	if s == "" {
		return 0, false, nil
	}
	n, e := strconv.Atoi(s)
	if e != nil {
		return 0, true, elbValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be an integer", s, path)
	}
	return n, true, nil
}

// elbRangeError is AWS's wording for an integer member out of its bounds.
func elbRangeError(path string, n, lo, hi int) *wire.APIError {
	if n < lo {
		return elbValidation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", n, path, lo)
	}
	return elbValidation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", n, path, hi)
}

// elbMemberPath names the n-th (1-based) member of a list in error messages,
// as AWS does: actions.1.member.forwardConfig...
func elbMemberPath(list string, n int, rest string) string {
	p := fmt.Sprintf("%s.%d.member", list, n)
	if rest != "" {
		p += "." + rest
	}
	return p
}
