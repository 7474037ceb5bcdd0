package emulator

import (
	"fmt"
	"strings"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// ModifyRule and ModifyListener: the calls that shift traffic between
// target groups. After either, the target groups' load-balancer
// associations are recomputed and the rule's new weights are appended to
// its history (the CloudWatch model reads it).

// ALB limits that shape validation
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
// and https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-action-types.html).
const (
	// albMaxTargetGroupsPerAction is the "Target groups per action" quota (not adjustable).
	albMaxTargetGroupsPerAction = 5
	// albMaxWeight bounds each target group's weight in a forward action: 0..999.
	albMaxWeight = 999
	// albMaxStickiness bounds the target group stickiness duration (7 days).
	albMaxStickiness = 604800
	// albTargetGroupsPerLB is the default "Target groups per Application
	// Load Balancer" quota (Service Quotas code L-7EED9B64).
	albTargetGroupsPerLB = 100
	albTargetGroupsQuota = "elasticloadbalancing/L-7EED9B64"
)

// elbActionTypes is the ActionTypeEnum of the service model.
func elbActionTypes() []string {
	return []string{"forward", "authenticate-oidc", "authenticate-cognito", "redirect", "fixed-response", "jwt-validation"}
}

// elbFixedResponseStatusPattern is the pattern of FixedResponseActionConfig.StatusCode.
const elbFixedResponseStatusPattern = `^(2|4|5)\d\d$`

// elbValidStatusCode matches elbFixedResponseStatusPattern: a 2xx, 4xx or 5xx code.
func elbValidStatusCode(s string) bool {
	if len(s) != 3 || (s[0] != '2' && s[0] != '4' && s[0] != '5') {
		return false
	}
	return s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'
}

func elbContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// elbParseActions decodes and validates the Actions (list "actions") or
// DefaultActions (list "defaultActions") of a call.
func (w *World) elbParseActions(forms []wire.Form, list string) ([]Action, *wire.APIError) {
	var out []Action
	for i, a := range forms {
		n := i + 1
		typ := a.String("Type")
		if typ == "" {
			return nil, elbMissing(elbMemberPath(list, n, "type"))
		}
		if !elbContains(elbActionTypes(), typ) {
			return nil, elbValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
				typ, elbMemberPath(list, n, "type"), strings.Join(elbActionTypes(), ", "))
		}
		order, hasOrder, err := elbFormInt(a, "Order", elbMemberPath(list, n, "order"))
		if err != nil {
			return nil, err
		}
		if hasOrder && (order < 1 || order > 50000) {
			return nil, elbRangeError(elbMemberPath(list, n, "order"), order, 1, 50000)
		}
		var act Action
		switch typ {
		case "forward":
			act, err = w.elbParseForward(a, list, n)
		case "fixed-response":
			act, err = elbParseFixedResponse(a, list, n)
		default:
			// The world has no shape for redirects and authentication;
			// refuse them plainly rather than drop their settings.
			err = elbValidation("The sandbox does not model '%s' actions: use 'forward' or 'fixed-response'", typ)
		}
		if err != nil {
			return nil, err
		}
		// AWS reports an Order on every action; the first is 1.
		act.Order = n
		if hasOrder {
			act.Order = order
		}
		out = append(out, act)
	}
	if len(out) > 1 {
		// Each rule has exactly one forward, redirect or fixed-response
		// action, last; the others (authentication) are not modelled.
		return nil, elbValidation("A rule can have only one forward, redirect, or fixed-response action")
	}
	return out, nil
}

// elbParseForward validates a forward action: the target groups exist, there
// are at most 5, each weight is 0..999 (all zero is allowed: the ALB then
// answers 503), and a TargetGroupArn given with a ForwardConfig names the
// config's single target group.
func (w *World) elbParseForward(a wire.Form, list string, n int) (Action, *wire.APIError) {
	tgARN := a.String("TargetGroupArn")
	fcForm := a.Sub("ForwardConfig")
	tuples := fcForm.MemberStructs("TargetGroups")
	if tgARN == "" && len(tuples) == 0 {
		return Action{}, elbValidation("A target group ARN must be specified for a forward action (TargetGroupArn or ForwardConfig.TargetGroups)")
	}
	if len(tuples) > albMaxTargetGroupsPerAction {
		// ModifyRule's modelled errors include no TooManyTargetGroups (that
		// one is the account's target group quota): the per-action limit is
		// a validation failure.
		return Action{}, elbValidation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d",
			elbMemberPath(list, n, "forwardConfig.targetGroups"), albMaxTargetGroupsPerAction)
	}
	fc := &ForwardConfig{}
	seen := map[string]bool{}
	for j, t := range tuples {
		base := elbMemberPath(list, n, fmt.Sprintf("forwardConfig.targetGroups.%d.member", j+1))
		arn := t.String("TargetGroupArn")
		if arn == "" {
			return Action{}, elbMissing(base + ".targetGroupArn")
		}
		weight, ok, err := elbFormInt(t, "Weight", base+".weight")
		if err != nil {
			return Action{}, err
		}
		if !ok {
			weight = 1 // AWS's default when a weight is left out
		}
		if weight < 0 || weight > albMaxWeight {
			return Action{}, elbRangeError(base+".weight", weight, 0, albMaxWeight)
		}
		if seen[arn] {
			return Action{}, elbValidation("Target group '%s' is specified more than once in the forward action", arn)
		}
		seen[arn] = true
		fc.TargetGroups = append(fc.TargetGroups, WeightedTG{ARN: arn, Weight: weight})
	}
	switch {
	case tgARN != "" && len(tuples) == 0:
		fc.TargetGroups = []WeightedTG{{ARN: tgARN, Weight: 1}}
	case tgARN != "" && (len(tuples) != 1 || tuples[0].String("TargetGroupArn") != tgARN):
		// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Action.html
		return Action{}, elbValidation("If you specify both TargetGroupArn and ForwardConfig, you can specify only one target group using ForwardConfig and it must be the same target group specified in TargetGroupArn")
	}
	st := fcForm.Sub("TargetGroupStickinessConfig")
	fc.StickinessEnabled = st.Bool("Enabled")
	dur, hasDur, err := elbFormInt(st, "DurationSeconds", elbMemberPath(list, n, "forwardConfig.targetGroupStickinessConfig.durationSeconds"))
	if err != nil {
		return Action{}, err
	}
	if fc.StickinessEnabled {
		if !hasDur {
			return Action{}, elbValidation("A duration must be specified when target group stickiness is enabled")
		}
		if dur < 1 || dur > albMaxStickiness {
			return Action{}, elbRangeError(elbMemberPath(list, n, "forwardConfig.targetGroupStickinessConfig.durationSeconds"), dur, 1, albMaxStickiness)
		}
		fc.StickinessSeconds = dur
	}
	for _, t := range fc.TargetGroups {
		if err := elbCheckARN(t.ARN, "targetgroup", "target group"); err != nil {
			return Action{}, err
		}
		if _, ok := w.TargetGroups[t.ARN]; !ok {
			return Action{}, wire.BadRequest("TargetGroupNotFound", "Target group '%s' not found", t.ARN)
		}
	}
	act := Action{Type: "forward", Forward: fc}
	if len(fc.TargetGroups) == 1 {
		act.TargetGroupARN = fc.TargetGroups[0].ARN
	}
	return act, nil
}

// elbFixedResponseContentTypes are the content types a fixed response may have.
func elbFixedResponseContentTypes() []string {
	return []string{"text/plain", "text/css", "text/html", "application/javascript", "application/json"}
}

func elbParseFixedResponse(a wire.Form, list string, n int) (Action, *wire.APIError) {
	fr := a.Sub("FixedResponseConfig")
	code := fr.String("StatusCode")
	path := elbMemberPath(list, n, "fixedResponseConfig.statusCode")
	if code == "" {
		return Action{}, elbMissing(path)
	}
	if !elbValidStatusCode(code) {
		return Action{}, elbValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s",
			code, path, elbFixedResponseStatusPattern)
	}
	ct := fr.String("ContentType")
	if ct != "" && !elbContains(elbFixedResponseContentTypes(), ct) {
		return Action{}, wire.BadRequest("InvalidLoadBalancerAction", "The ContentType must be one of: '%s'", strings.Join(elbFixedResponseContentTypes(), "', '"))
	}
	body := fr.String("MessageBody")
	if len(body) > 1024 {
		return Action{}, elbValidation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to 1024",
			elbMemberPath(list, n, "fixedResponseConfig.messageBody"))
	}
	return Action{Type: "fixed-response", FixedResponse: &FixedResponse{StatusCode: code, ContentType: ct, MessageBody: body}}, nil
}

// elbConditionConfig names a condition field's typed configuration member
// ("" for a field that is not one).
func elbConditionConfig(field string) string {
	switch field {
	case "http-header":
		return "HttpHeaderConfig"
	case "http-request-method":
		return "HttpRequestMethodConfig"
	case "host-header":
		return "HostHeaderConfig"
	case "path-pattern":
		return "PathPatternConfig"
	case "query-string":
		return "QueryStringConfig"
	case "source-ip":
		return "SourceIpConfig"
	}
	return ""
}

// elbConditionFields lists the fields of the service model's rule conditions.
const elbConditionFields = "http-header, http-request-method, host-header, path-pattern, query-string, source-ip"

// elbParseConditions decodes a rule's conditions, given either in the legacy
// Values form (host-header and path-pattern only) or in the typed config.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RuleCondition.html
func elbParseConditions(forms []wire.Form) ([]Condition, *wire.APIError) {
	var out []Condition
	seen := map[string]bool{}
	for _, cf := range forms {
		field := cf.String("Field")
		if field == "" {
			return nil, elbValidation("A condition field must be specified")
		}
		cfg := elbConditionConfig(field)
		if cfg == "" {
			return nil, elbValidation("Condition field '%s' must be one of '[%s]'", field, elbConditionFields)
		}
		if field == "http-header" || field == "query-string" {
			return nil, elbValidation("The sandbox does not model '%s' conditions", field)
		}
		legacy, typed := cf.Members("Values"), cf.Sub(cfg).Members("Values")
		switch {
		case len(legacy) > 0 && len(typed) > 0:
			return nil, elbValidation("You cannot specify both 'Values' and '%s' for the '%s' condition", cfg, field)
		case len(legacy) > 0 && field != "host-header" && field != "path-pattern":
			return nil, elbValidation("'Values' is not supported for the '%s' condition: use '%s'", field, cfg)
		}
		vals := legacy
		if len(vals) == 0 {
			vals = typed
		}
		if len(vals) == 0 {
			return nil, elbValidation("A condition value must be specified for the '%s' condition", field)
		}
		// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html:
		// at most one of each of these condition types per rule.
		if seen[field] {
			return nil, elbValidation("A rule can have only one '%s' condition", field)
		}
		seen[field] = true
		for _, v := range vals {
			if len(v) > 128 {
				return nil, elbValidation("The '%s' condition value '%s' is longer than 128 characters", field, v)
			}
		}
		out = append(out, Condition{Field: field, Values: append([]string{}, vals...)})
	}
	return out, nil
}

// elbForwardTargets lists the target groups an action forwards to.
func elbForwardTargets(a Action) []string {
	if a.Type != "forward" {
		return nil
	}
	if a.Forward != nil {
		out := make([]string, 0, len(a.Forward.TargetGroups))
		for _, t := range a.Forward.TargetGroups {
			out = append(out, t.ARN)
		}
		return out
	}
	if a.TargetGroupARN != "" {
		return []string{a.TargetGroupARN}
	}
	return nil
}

// elbLBTargetGroups returns the target groups a load balancer's listeners and
// rules forward to (with any weight, zero included: the association is by
// reference), with replaceRule's actions replaced by replacement as a
// pending change would leave them.
func (w *World) elbLBTargetGroups(lbARN, replaceRule string, replacement []Action) map[string]bool {
	set := map[string]bool{}
	add := func(as []Action) {
		for _, a := range as {
			for _, arn := range elbForwardTargets(a) {
				set[arn] = true
			}
		}
	}
	for _, l := range w.Listeners {
		if l.LoadBalancer != lbARN {
			continue
		}
		if l.DefaultRule != "" && l.DefaultRule == replaceRule {
			add(replacement)
		} else {
			add(l.DefaultActions)
		}
	}
	for _, r := range w.Rules {
		l, ok := w.Listeners[r.Listener]
		if r.IsDefault || !ok || l.LoadBalancer != lbARN {
			continue
		}
		if r.ARN == replaceRule {
			add(replacement)
		} else {
			add(r.Actions)
		}
	}
	return set
}

// elbCheckAssociations refuses actions that would tie a target group to a
// second load balancer, or take the load balancer past its target group
// quota.
func (w *World) elbCheckAssociations(lbARN, ruleARN string, actions []Action) *wire.APIError {
	var taken []string
	for _, a := range actions {
		for _, arn := range elbForwardTargets(a) {
			tg := w.TargetGroups[arn]
			if tg == nil || len(tg.LoadBalancers) == 0 || elbContains(tg.LoadBalancers, lbARN) || elbContains(taken, arn) {
				continue
			}
			taken = append(taken, arn)
		}
	}
	if len(taken) > 0 {
		// An ALB target group serves one load balancer:
		// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html
		return wire.BadRequest("TargetGroupAssociationLimit",
			"The following target groups cannot be associated with more than one load balancer: %s", strings.Join(taken, ", "))
	}
	limit := albTargetGroupsPerLB
	if q, ok := w.Quotas[albTargetGroupsQuota]; ok && q > 0 {
		limit = int(q)
	}
	if n := len(w.elbLBTargetGroups(lbARN, ruleARN, actions)); n > limit {
		return wire.BadRequest("TooManyUniqueTargetGroupsPerLoadBalancer",
			"You have reached the maximum number of unique target groups per load balancer across all listeners: %d", limit)
	}
	return nil
}

// elbReassociate recomputes TargetGroup.LoadBalancers for one load balancer.
func (w *World) elbReassociate(lbARN string) {
	set := w.elbLBTargetGroups(lbARN, "", nil)
	for _, arn := range sortedKeys(w.TargetGroups) {
		tg := w.TargetGroups[arn]
		if set[arn] {
			tg.LoadBalancers = appendUnique(tg.LoadBalancers, lbARN)
		} else if elbContains(tg.LoadBalancers, lbARN) {
			tg.LoadBalancers = remove(tg.LoadBalancers, lbARN)
		}
	}
}

type elbModifyRuleResult struct {
	Rules elbList[elbRule] `xml:"Rules"`
}

// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyRule.html
func elbModifyRule(c *call) (any, *wire.APIError) {
	f := c.req.Form
	arn := f.String("RuleArn")
	if arn == "" {
		return nil, elbMissing("ruleArn")
	}
	if err := elbCheckARN(arn, "listener-rule", "listener rule"); err != nil {
		return nil, err
	}
	rule, ok := c.w.Rules[arn]
	if !ok {
		return nil, wire.BadRequest("RuleNotFound", "One or more rules not found")
	}
	l, ok := c.w.Listeners[rule.Listener]
	if !ok {
		return nil, wire.BadRequest("RuleNotFound", "One or more rules not found")
	}
	condForms := f.MemberStructs("Conditions")
	if len(condForms) > 0 && rule.IsDefault {
		// The default rule has no conditions and never will:
		// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html
		return nil, wire.BadRequest("OperationNotPermitted", "The default rule '%s' cannot have conditions", arn)
	}
	conds, err := elbParseConditions(condForms)
	if err != nil {
		return nil, err
	}
	actions, err := c.w.elbParseActions(f.MemberStructs("Actions"), "actions")
	if err != nil {
		return nil, err
	}
	if len(actions) > 0 {
		if err := c.w.elbCheckAssociations(l.LoadBalancer, rule.ARN, actions); err != nil {
			return nil, err
		}
	}
	if len(conds) > 0 {
		rule.Conditions = conds
	}
	if len(actions) > 0 {
		rule.Actions = actions
		if rule.IsDefault {
			l.DefaultActions = actions
		}
		c.w.elbReassociate(l.LoadBalancer)
		c.w.recordWeights(rule, c.now)
	}
	c.changed()
	return &elbModifyRuleResult{Rules: elbListOf([]elbRule{elbRuleXML(rule)})}, nil
}

type elbModifyListenerResult struct {
	Listeners elbList[elbListener] `xml:"Listeners"`
}

// elbProtocols is the ProtocolEnum of the service model.
func elbProtocols() []string {
	return []string{"HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC"}
}

// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyListener.html
func elbModifyListener(c *call) (any, *wire.APIError) {
	f := c.req.Form
	arn := f.String("ListenerArn")
	if arn == "" {
		return nil, elbMissing("listenerArn")
	}
	if err := elbCheckARN(arn, "listener", "listener"); err != nil {
		return nil, err
	}
	l, ok := c.w.Listeners[arn]
	if !ok {
		return nil, wire.BadRequest("ListenerNotFound", "One or more listeners not found")
	}
	port, hasPort, err := elbFormInt(f, "Port", "port")
	if err != nil {
		return nil, err
	}
	if hasPort && (port < 1 || port > 65535) {
		return nil, elbRangeError("port", port, 1, 65535)
	}
	proto := f.String("Protocol")
	if proto != "" {
		if !elbContains(elbProtocols(), proto) {
			return nil, elbValidation("1 validation error detected: Value '%s' at 'protocol' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
				proto, strings.Join(elbProtocols(), ", "))
		}
		if proto != "HTTP" && proto != "HTTPS" {
			return nil, elbValidation("Listener protocol '%s' must be one of 'HTTPS, HTTP'", proto)
		}
		if proto == "HTTPS" && l.Protocol != "HTTPS" {
			if len(f.MemberStructs("Certificates")) == 0 {
				return nil, elbValidation("A certificate must be specified for HTTPS listeners")
			}
			return nil, elbValidation("The sandbox does not model listener certificates: keep the listener on HTTP")
		}
	}
	if hasPort && port != l.Port {
		for _, other := range c.w.Listeners {
			if other.LoadBalancer == l.LoadBalancer && other.ARN != l.ARN && other.Port == port {
				return nil, wire.BadRequest("DuplicateListener", "A listener with the specified port already exists.")
			}
		}
	}
	actions, err := c.w.elbParseActions(f.MemberStructs("DefaultActions"), "defaultActions")
	if err != nil {
		return nil, err
	}
	if len(actions) > 0 {
		if err := c.w.elbCheckAssociations(l.LoadBalancer, l.DefaultRule, actions); err != nil {
			return nil, err
		}
	}
	if hasPort {
		l.Port = port
	}
	if proto != "" {
		l.Protocol = proto
	}
	if len(actions) > 0 {
		l.DefaultActions = actions
		if def, ok := c.w.Rules[l.DefaultRule]; ok {
			def.Actions = actions
			c.w.recordWeights(def, c.now)
		}
		c.w.elbReassociate(l.LoadBalancer)
	}
	c.changed()
	return &elbModifyListenerResult{Listeners: elbListOf([]elbListener{elbListenerXML(l)})}, nil
}
