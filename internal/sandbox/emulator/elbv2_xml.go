package emulator

import (
	"sort"
	"strconv"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// ELBv2 response shapes, as the AWS query protocol encodes them: element
// names are the API's member names, lists are <member> elements. Lists AWS
// always sends (even empty) are elbList values; optional ones are pointers.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Types.html

// elbList is an AWS-query list: <Name><member>…</member>…</Name>.
type elbList[T any] struct {
	Member []T `xml:"member"`
}

func elbListOf[T any](items []T) elbList[T] { return elbList[T]{Member: items} }

type elbLBState struct {
	Code string `xml:"Code"`
}

type elbAZ struct {
	ZoneName string `xml:"ZoneName"`
	SubnetID string `xml:"SubnetId"`
}

type elbLoadBalancer struct {
	LoadBalancerARN       string          `xml:"LoadBalancerArn"`
	DNSName               string          `xml:"DNSName"`
	CanonicalHostedZoneID string          `xml:"CanonicalHostedZoneId,omitempty"`
	CreatedTime           wire.Timestamp  `xml:"CreatedTime"`
	LoadBalancerName      string          `xml:"LoadBalancerName"`
	Scheme                string          `xml:"Scheme"`
	VPCID                 string          `xml:"VpcId"`
	State                 elbLBState      `xml:"State"`
	Type                  string          `xml:"Type"`
	AvailabilityZones     elbList[elbAZ]  `xml:"AvailabilityZones"`
	SecurityGroups        elbList[string] `xml:"SecurityGroups"`
	IPAddressType         string          `xml:"IpAddressType"`
}

type elbTGTuple struct {
	TargetGroupARN string `xml:"TargetGroupArn"`
	Weight         int    `xml:"Weight"`
}

type elbStickiness struct {
	Enabled         bool `xml:"Enabled"`
	DurationSeconds *int `xml:"DurationSeconds,omitempty"`
}

type elbForward struct {
	TargetGroups                elbList[elbTGTuple] `xml:"TargetGroups"`
	TargetGroupStickinessConfig elbStickiness       `xml:"TargetGroupStickinessConfig"`
}

type elbFixedResponse struct {
	MessageBody string `xml:"MessageBody,omitempty"`
	StatusCode  string `xml:"StatusCode"`
	ContentType string `xml:"ContentType,omitempty"`
}

type elbAction struct {
	Type                string            `xml:"Type"`
	TargetGroupARN      string            `xml:"TargetGroupArn,omitempty"`
	Order               int               `xml:"Order,omitempty"`
	FixedResponseConfig *elbFixedResponse `xml:"FixedResponseConfig"`
	ForwardConfig       *elbForward       `xml:"ForwardConfig"`
}

type elbListener struct {
	ListenerARN     string             `xml:"ListenerArn"`
	LoadBalancerARN string             `xml:"LoadBalancerArn"`
	Port            int                `xml:"Port"`
	Protocol        string             `xml:"Protocol"`
	DefaultActions  elbList[elbAction] `xml:"DefaultActions"`
}

type elbConditionValues struct {
	Values elbList[string] `xml:"Values"`
}

type elbCondition struct {
	Field                   string              `xml:"Field"`
	Values                  *elbList[string]    `xml:"Values"`
	HostHeaderConfig        *elbConditionValues `xml:"HostHeaderConfig"`
	PathPatternConfig       *elbConditionValues `xml:"PathPatternConfig"`
	HTTPRequestMethodConfig *elbConditionValues `xml:"HttpRequestMethodConfig"`
	SourceIPConfig          *elbConditionValues `xml:"SourceIpConfig"`
}

type elbRule struct {
	RuleARN    string                `xml:"RuleArn"`
	Priority   string                `xml:"Priority"`
	Conditions elbList[elbCondition] `xml:"Conditions"`
	Actions    elbList[elbAction]    `xml:"Actions"`
	IsDefault  bool                  `xml:"IsDefault"`
}

type elbMatcher struct {
	HTTPCode string `xml:"HttpCode"`
}

type elbTargetGroup struct {
	TargetGroupARN             string          `xml:"TargetGroupArn"`
	TargetGroupName            string          `xml:"TargetGroupName"`
	Protocol                   string          `xml:"Protocol"`
	Port                       int             `xml:"Port"`
	VPCID                      string          `xml:"VpcId"`
	HealthCheckProtocol        string          `xml:"HealthCheckProtocol"`
	HealthCheckPort            string          `xml:"HealthCheckPort"`
	HealthCheckEnabled         bool            `xml:"HealthCheckEnabled"`
	HealthCheckIntervalSeconds int             `xml:"HealthCheckIntervalSeconds"`
	HealthCheckTimeoutSeconds  int             `xml:"HealthCheckTimeoutSeconds"`
	HealthyThresholdCount      int             `xml:"HealthyThresholdCount"`
	UnhealthyThresholdCount    int             `xml:"UnhealthyThresholdCount"`
	HealthCheckPath            string          `xml:"HealthCheckPath"`
	Matcher                    elbMatcher      `xml:"Matcher"`
	LoadBalancerARNs           elbList[string] `xml:"LoadBalancerArns"`
	TargetType                 string          `xml:"TargetType"`
	ProtocolVersion            string          `xml:"ProtocolVersion"`
	IPAddressType              string          `xml:"IpAddressType"`
}

type elbTarget struct {
	ID               string `xml:"Id"`
	Port             int    `xml:"Port"`
	AvailabilityZone string `xml:"AvailabilityZone,omitempty"`
}

type elbTargetHealth struct {
	State       string `xml:"State"`
	Reason      string `xml:"Reason,omitempty"`
	Description string `xml:"Description,omitempty"`
}

type elbTargetHealthDescription struct {
	Target          elbTarget       `xml:"Target"`
	HealthCheckPort string          `xml:"HealthCheckPort"`
	TargetHealth    elbTargetHealth `xml:"TargetHealth"`
}

type elbTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type elbTagDescription struct {
	ResourceARN string          `xml:"ResourceArn"`
	Tags        elbList[elbTag] `xml:"Tags"`
}

// albHostedZoneID is the Route 53 zone of ALB DNS names in a region
// (https://docs.aws.amazon.com/general/latest/gr/elb.html); "" for a region
// not listed, and the element is then left out.
func albHostedZoneID(region string) string {
	switch region {
	case "us-east-1":
		return "Z35SXDOTRQ7X7K"
	case "us-east-2":
		return "Z3AADJGX6KTTL2"
	case "us-west-1":
		return "Z368ELLRRE2KJ0"
	case "us-west-2":
		return "Z1H1FL5HABSF5"
	case "ca-central-1":
		return "ZQSVJUPU6J1EY"
	case "eu-central-1":
		return "Z215JYRZR1TBD5"
	case "eu-west-1":
		return "Z32O12XQLNTSW2"
	case "eu-west-2":
		return "ZHURV8PSTC4K8"
	case "eu-west-3":
		return "Z3Q77PNBQS71R4"
	case "ap-northeast-1":
		return "Z14GRHDCWA56QT"
	case "ap-northeast-2":
		return "ZWKZPGTI48KDX"
	case "ap-southeast-1":
		return "Z1LMS91P8CMLE5"
	case "ap-southeast-2":
		return "Z1GM3OXH4ZPM65"
	case "ap-south-1":
		return "ZP97RAFLXTNZK"
	}
	return ""
}

func (w *World) elbLBXML(lb *LoadBalancer) elbLoadBalancer {
	out := elbLoadBalancer{LoadBalancerARN: lb.ARN, DNSName: lb.DNSName, CanonicalHostedZoneID: albHostedZoneID(w.Region),
		CreatedTime: wire.TS(lb.CreatedAt), LoadBalancerName: lb.Name, Scheme: lb.Scheme, VPCID: lb.VPCID,
		State: elbLBState{Code: lb.State}, Type: "application", SecurityGroups: elbListOf(lb.SecurityGroups), IPAddressType: "ipv4"}
	for _, sid := range lb.SubnetIDs {
		az := ""
		if sn, ok := w.Subnets[sid]; ok {
			az = sn.AZ
		}
		out.AvailabilityZones.Member = append(out.AvailabilityZones.Member, elbAZ{ZoneName: az, SubnetID: sid})
	}
	return out
}

// elbActionXML renders an action as DescribeRules and DescribeListeners do:
// AWS returns a forward action's ForwardConfig even when it was created
// with TargetGroupArn alone, and TargetGroupArn only when it forwards to a
// single target group.
func elbActionXML(a Action) elbAction {
	out := elbAction{Type: a.Type, Order: a.Order}
	switch {
	case a.Type == "forward":
		fc := a.Forward
		if fc == nil {
			fc = &ForwardConfig{TargetGroups: []WeightedTG{{ARN: a.TargetGroupARN, Weight: 1}}}
		}
		f := &elbForward{TargetGroupStickinessConfig: elbStickiness{Enabled: fc.StickinessEnabled}}
		if fc.StickinessEnabled {
			d := fc.StickinessSeconds
			f.TargetGroupStickinessConfig.DurationSeconds = &d
		}
		for _, t := range fc.TargetGroups {
			f.TargetGroups.Member = append(f.TargetGroups.Member, elbTGTuple{TargetGroupARN: t.ARN, Weight: t.Weight})
		}
		out.ForwardConfig = f
		if len(fc.TargetGroups) == 1 {
			out.TargetGroupARN = fc.TargetGroups[0].ARN
		}
	case a.Type == "fixed-response" && a.FixedResponse != nil:
		out.FixedResponseConfig = &elbFixedResponse{StatusCode: a.FixedResponse.StatusCode,
			ContentType: a.FixedResponse.ContentType, MessageBody: a.FixedResponse.MessageBody}
	}
	return out
}

func elbActionsXML(as []Action) elbList[elbAction] {
	out := elbList[elbAction]{Member: []elbAction{}}
	for _, a := range as {
		out.Member = append(out.Member, elbActionXML(a))
	}
	return out
}

func elbListenerXML(l *Listener) elbListener {
	return elbListener{ListenerARN: l.ARN, LoadBalancerARN: l.LoadBalancer, Port: l.Port, Protocol: l.Protocol,
		DefaultActions: elbActionsXML(l.DefaultActions)}
}

// elbConditionXML renders a condition in both of the forms AWS returns for
// host-header and path-pattern: the legacy Values and the typed config.
func elbConditionXML(c Condition) elbCondition {
	vals := &elbConditionValues{Values: elbListOf(append([]string{}, c.Values...))}
	out := elbCondition{Field: c.Field}
	switch c.Field {
	case "path-pattern":
		l := elbListOf(append([]string{}, c.Values...))
		out.Values, out.PathPatternConfig = &l, vals
	case "host-header":
		l := elbListOf(append([]string{}, c.Values...))
		out.Values, out.HostHeaderConfig = &l, vals
	case "http-request-method":
		out.HTTPRequestMethodConfig = vals
	case "source-ip":
		out.SourceIPConfig = vals
	}
	return out
}

func elbRuleXML(r *Rule) elbRule {
	out := elbRule{RuleARN: r.ARN, Priority: r.Priority, IsDefault: r.IsDefault, Actions: elbActionsXML(r.Actions),
		Conditions: elbList[elbCondition]{Member: []elbCondition{}}}
	for _, c := range r.Conditions {
		out.Conditions.Member = append(out.Conditions.Member, elbConditionXML(c))
	}
	return out
}

// ALB target group health-check defaults
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html).
const (
	albHealthCheckInterval  = 30
	albHealthCheckTimeout   = 5
	albHealthyThreshold     = 5
	albUnhealthyThreshold   = 2
	albHealthCheckPortValue = "traffic-port"
)

func elbTGXML(tg *TargetGroup) elbTargetGroup {
	return elbTargetGroup{TargetGroupARN: tg.ARN, TargetGroupName: tg.Name, Protocol: tg.Protocol, Port: tg.Port,
		VPCID: tg.VPCID, HealthCheckProtocol: tg.Protocol, HealthCheckPort: albHealthCheckPortValue, HealthCheckEnabled: true,
		HealthCheckIntervalSeconds: albHealthCheckInterval, HealthCheckTimeoutSeconds: albHealthCheckTimeout,
		HealthyThresholdCount: albHealthyThreshold, UnhealthyThresholdCount: albUnhealthyThreshold,
		HealthCheckPath: tg.HealthCheckPath, Matcher: elbMatcher{HTTPCode: "200"},
		LoadBalancerARNs: elbListOf(append([]string{}, tg.LoadBalancers...)), TargetType: tg.TargetType,
		ProtocolVersion: "HTTP1", IPAddressType: "ipv4"}
}

func elbTagsXML(arn string, tags map[string]string) elbTagDescription {
	out := elbTagDescription{ResourceARN: arn, Tags: elbList[elbTag]{Member: []elbTag{}}}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out.Tags.Member = append(out.Tags.Member, elbTag{Key: k, Value: tags[k]})
	}
	return out
}

// elbPriorityKey orders rules as DescribeRules lists them: by numeric
// priority, the default rule last.
func elbPriorityKey(r *Rule) int {
	if r.IsDefault || r.Priority == "default" {
		return 1 << 30
	}
	n, err := strconv.Atoi(r.Priority)
	if err != nil {
		return 1<<30 - 1
	}
	return n
}
