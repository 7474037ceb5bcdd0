package emulator

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// Service Quotas (AWS JSON 1.1, X-Amz-Target ServiceQuotasV20190624.<Op>):
// GetServiceQuota, GetAWSDefaultServiceQuota and ListServiceQuotas.
// https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/Welcome.html
//
// The emulator knows a built-in table of the quotas eksbg reads (codes,
// names, units, defaults and flags as Service Quotas reports them). A
// scenario's `quotas:` section gives the account's applied values
// (World.Quotas, keyed "<service code>/<quota code>").

// quotaDef is one quota of the built-in table.
type quotaDef struct {
	Service    string
	Code       string
	Name       string
	Default    float64
	Unit       string
	Adjustable bool
	Global     bool
	Usage      *sqMetricInfo
}

// quotaServiceNames are the service names Service Quotas' ListServices reports.
var quotaServiceNames = map[string]string{
	"ec2":                  "Amazon Elastic Compute Cloud (Amazon EC2)",
	"eks":                  "Amazon Elastic Kubernetes Service (Amazon EKS)",
	"vpc":                  "Amazon Virtual Private Cloud (Amazon VPC)",
	"elasticloadbalancing": "Elastic Load Balancing (ELB)",
}

// vcpuUsage is the AWS/Usage metric Service Quotas names for the EC2 vCPU
// quotas (the Class dimension tells on-demand from spot).
func vcpuUsage(class string) *sqMetricInfo {
	return &sqMetricInfo{MetricNamespace: "AWS/Usage", MetricName: "ResourceCount",
		MetricDimensions:              map[string]string{"Class": class, "Resource": "vCPU", "Service": "EC2", "Type": "Resource"},
		MetricStatisticRecommendation: "Maximum"}
}

// builtinQuotas returns the quota table. Values are the AWS defaults of a new account; the EC2 vCPU
// defaults are the documented 5 vCPUs.
func builtinQuotas() []quotaDef {
	return []quotaDef{
		{Service: "ec2", Code: "L-0263D0A3", Name: "EC2-VPC Elastic IPs", Default: 5, Unit: "None", Adjustable: true},
		{Service: "ec2", Code: "L-1216C47A", Name: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", Default: 5,
			Unit: "None", Adjustable: true, Usage: vcpuUsage("Standard/OnDemand")},
		{Service: "ec2", Code: "L-34B43A08", Name: "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", Default: 5,
			Unit: "None", Adjustable: true, Usage: vcpuUsage("Standard/Spot")},
		{Service: "eks", Code: "L-1194D53C", Name: "Clusters", Default: 100, Unit: "None", Adjustable: true},
		{Service: "eks", Code: "L-11427A54", Name: "Control plane security groups per cluster", Default: 4, Unit: "None"},
		{Service: "eks", Code: "L-33415657", Name: "Fargate profiles per cluster", Default: 10, Unit: "None", Adjustable: true},
		{Service: "eks", Code: "L-6D54EA21", Name: "Managed node groups per cluster", Default: 30, Unit: "None", Adjustable: true},
		{Service: "eks", Code: "L-93A74D60", Name: "Public endpoint access CIDR ranges per cluster", Default: 40, Unit: "None"},
		{Service: "eks", Code: "L-BD136A63", Name: "Nodes per managed node group", Default: 450, Unit: "None", Adjustable: true},
		{Service: "elasticloadbalancing", Code: "L-53DA6B97", Name: "Application Load Balancers per Region", Default: 50, Unit: "None", Adjustable: true},
		{Service: "elasticloadbalancing", Code: "L-7EED9B64", Name: "Rules per Application Load Balancer", Default: 100, Unit: "None", Adjustable: true},
		{Service: "elasticloadbalancing", Code: "L-822D1B1B", Name: "Target Groups per Application Load Balancer", Default: 100, Unit: "None"},
		{Service: "elasticloadbalancing", Code: "L-A0D0B863", Name: "Targets per Target Group per Region", Default: 1000, Unit: "None", Adjustable: true},
		{Service: "elasticloadbalancing", Code: "L-B22855CB", Name: "Target Groups per Region", Default: 3000, Unit: "None", Adjustable: true},
		{Service: "elasticloadbalancing", Code: "L-B6DF7632", Name: "Listeners per Application Load Balancer", Default: 50, Unit: "None", Adjustable: true},
		{Service: "vpc", Code: "L-407747CB", Name: "Subnets per VPC", Default: 200, Unit: "None", Adjustable: true},
		{Service: "vpc", Code: "L-DF5E4CA3", Name: "Network interfaces per Region", Default: 5000, Unit: "None", Adjustable: true},
		{Service: "vpc", Code: "L-F678F1CE", Name: "VPCs per Region", Default: 5, Unit: "None", Adjustable: true},
	}
}

// sqMetricInfo is Service Quotas' MetricInfo.
type sqMetricInfo struct {
	MetricNamespace               string            `json:"MetricNamespace"`
	MetricName                    string            `json:"MetricName"`
	MetricDimensions              map[string]string `json:"MetricDimensions"`
	MetricStatisticRecommendation string            `json:"MetricStatisticRecommendation"`
}

// sqQuota is Service Quotas' ServiceQuota shape.
type sqQuota struct {
	ServiceCode         string        `json:"ServiceCode"`
	ServiceName         string        `json:"ServiceName"`
	QuotaArn            string        `json:"QuotaArn"`
	QuotaCode           string        `json:"QuotaCode"`
	QuotaName           string        `json:"QuotaName"`
	Value               float64       `json:"Value"`
	Unit                string        `json:"Unit"`
	Adjustable          bool          `json:"Adjustable"`
	GlobalQuota         bool          `json:"GlobalQuota"`
	UsageMetric         *sqMetricInfo `json:"UsageMetric,omitempty"`
	QuotaAppliedAtLevel string        `json:"QuotaAppliedAtLevel,omitempty"`
}

// The input patterns of the Service Quotas model.
var (
	reServiceCode = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,63}$`)
	reQuotaCode   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,128}$`)
)

// quotaTable indexes the built-in quotas by "<service>/<code>".
type quotaTable struct {
	defs map[string]quotaDef
}

func newQuotaTable() quotaTable {
	t := quotaTable{defs: map[string]quotaDef{}}
	for _, d := range builtinQuotas() {
		t.defs[d.Service+"/"+d.Code] = d
	}
	return t
}

// def returns the definition of a quota. A code the table does not know but
// the scenario applied a value to is described with its code as its name,
// so scenarios can model any quota eksbg may come to read.
func (t quotaTable) def(w *World, service, code string) (quotaDef, bool) {
	if d, ok := t.defs[service+"/"+code]; ok {
		return d, true
	}
	if _, ok := w.Quotas[service+"/"+code]; ok {
		return quotaDef{Service: service, Code: code, Name: code, Unit: "None", Adjustable: true}, true
	}
	return quotaDef{}, false
}

// knownService reports whether Service Quotas knows the service code (codes
// are case-sensitive: "EC2" is not a service).
func knownService(w *World, service string) bool {
	if _, ok := quotaServiceNames[service]; ok {
		return true
	}
	for k := range w.Quotas {
		if strings.HasPrefix(k, service+"/") {
			return true
		}
	}
	return false
}

func quotaServiceName(service string) string {
	if n, ok := quotaServiceNames[service]; ok {
		return n
	}
	return service
}

// appliedQuota describes the account's applied value of a quota.
func (w *World) appliedQuota(d quotaDef, value float64) sqQuota {
	q := defaultQuota(w, d)
	q.Value = value
	q.QuotaArn = fmt.Sprintf("arn:aws:servicequotas:%s:%s:%s/%s", w.Region, w.Account, d.Service, d.Code)
	q.QuotaAppliedAtLevel = "ACCOUNT"
	return q
}

// defaultQuota describes a quota's AWS default. Default quotas belong to
// no account, so their ARN has an empty account field, as Service Quotas
// returns it: arn:aws:servicequotas:us-east-2::ec2/L-1216C47A.
func defaultQuota(w *World, d quotaDef) sqQuota {
	return sqQuota{ServiceCode: d.Service, ServiceName: quotaServiceName(d.Service),
		QuotaArn:  fmt.Sprintf("arn:aws:servicequotas:%s::%s/%s", w.Region, d.Service, d.Code),
		QuotaCode: d.Code, QuotaName: d.Name, Value: d.Default, Unit: d.Unit,
		Adjustable: d.Adjustable, GlobalQuota: d.Global, UsageMetric: d.Usage}
}

func validationError(value, member, constraint string) *wire.APIError {
	return wire.BadRequest("IllegalArgumentException",
		"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

// checkCodes validates ServiceCode (required) and, when required or
// present, QuotaCode against the model's patterns.
func checkCodes(service, code string, codeRequired bool) *wire.APIError {
	if service == "" {
		return wire.BadRequest("IllegalArgumentException", "ServiceCode is required.")
	}
	if !reServiceCode.MatchString(service) {
		return validationError(service, "serviceCode", "Member must satisfy regular expression pattern: [a-zA-Z][a-zA-Z0-9-]{1,63}")
	}
	if code == "" && codeRequired {
		return wire.BadRequest("IllegalArgumentException", "QuotaCode is required.")
	}
	if code != "" && !reQuotaCode.MatchString(code) {
		return validationError(code, "quotaCode", "Member must satisfy regular expression pattern: [a-zA-Z][a-zA-Z0-9-]{1,128}")
	}
	return nil
}

func noSuchService() *wire.APIError {
	return wire.BadRequest("NoSuchResourceException", "The request failed because the specified service does not exist.")
}

func (s *Server) registerQuotas() {
	table := newQuotaTable()
	type codesInput struct {
		ServiceCode string `json:"ServiceCode"`
		QuotaCode   string `json:"QuotaCode"`
		ContextID   string `json:"ContextId"`
	}
	type quotaOutput struct {
		Quota sqQuota `json:"Quota"`
	}

	// GetServiceQuota returns the applied value. AWS documents that "For
	// some quotas, only the default values are available. If the applied
	// quota value is not available for a quota, the quota is not retrieved."
	// (https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetServiceQuota.html);
	// the call then fails with NoSuchResourceException and an empty
	// message, and clients fall back to GetAWSDefaultServiceQuota. A quota
	// the scenario gave no value is such a quota.
	s.register(wire.ServiceQuotas, "GetServiceQuota", func(c *call) (any, *wire.APIError) {
		var in codesInput
		if err := wire.DecodeJSON(c.req, &in); err != nil {
			return nil, err
		}
		if err := checkCodes(in.ServiceCode, in.QuotaCode, true); err != nil {
			return nil, err
		}
		if !knownService(c.w, in.ServiceCode) {
			return nil, noSuchService()
		}
		if in.ContextID != "" { // the emulator has no resource-level values
			return nil, wire.BadRequest("NoSuchResourceException", "The request failed because applied value for the specified context Id do not exist.")
		}
		d, ok := table.def(c.w, in.ServiceCode, in.QuotaCode)
		v, applied := c.w.Quotas[in.ServiceCode+"/"+in.QuotaCode]
		if !ok || !applied {
			return nil, wire.BadRequest("NoSuchResourceException", "")
		}
		return &quotaOutput{Quota: c.w.appliedQuota(d, v)}, nil
	})

	s.register(wire.ServiceQuotas, "GetAWSDefaultServiceQuota", func(c *call) (any, *wire.APIError) {
		var in codesInput
		if err := wire.DecodeJSON(c.req, &in); err != nil {
			return nil, err
		}
		if err := checkCodes(in.ServiceCode, in.QuotaCode, true); err != nil {
			return nil, err
		}
		if !knownService(c.w, in.ServiceCode) {
			return nil, noSuchService()
		}
		d, ok := table.defs[in.ServiceCode+"/"+in.QuotaCode]
		if !ok {
			return nil, wire.BadRequest("NoSuchResourceException", "The request failed because the specified quota does not exist.")
		}
		return &quotaOutput{Quota: defaultQuota(c.w, d)}, nil
	})

	// ListServiceQuotas lists the applied values of a service's quotas
	// (quotas with only a default value are left out, as on AWS), in code
	// order, paginated by MaxResults (1..100, default 100) and NextToken.
	s.register(wire.ServiceQuotas, "ListServiceQuotas", func(c *call) (any, *wire.APIError) {
		var in struct {
			ServiceCode         string `json:"ServiceCode"`
			QuotaCode           string `json:"QuotaCode"`
			NextToken           string `json:"NextToken"`
			MaxResults          *int   `json:"MaxResults"`
			QuotaAppliedAtLevel string `json:"QuotaAppliedAtLevel"`
		}
		if err := wire.DecodeJSON(c.req, &in); err != nil {
			return nil, err
		}
		if err := checkCodes(in.ServiceCode, in.QuotaCode, false); err != nil {
			return nil, err
		}
		size := 0
		if in.MaxResults != nil {
			size = *in.MaxResults
			if size < 1 || size > 100 {
				return nil, validationError(fmt.Sprint(size), "maxResults",
					"Member must have value less than or equal to 100 and greater than or equal to 1")
			}
		}
		switch in.QuotaAppliedAtLevel {
		case "", "ACCOUNT", "RESOURCE", "ALL":
		default:
			return nil, validationError(in.QuotaAppliedAtLevel, "quotaAppliedAtLevel",
				"Member must satisfy enum value set: [ACCOUNT, RESOURCE, ALL]")
		}
		if !knownService(c.w, in.ServiceCode) {
			return nil, noSuchService()
		}
		var all []sqQuota
		if in.QuotaAppliedAtLevel != "RESOURCE" { // the emulator has no resource-level values
			for _, k := range sortedKeys(c.w.Quotas) {
				service, code, _ := strings.Cut(k, "/")
				if service != in.ServiceCode || (in.QuotaCode != "" && code != in.QuotaCode) {
					continue
				}
				d, _ := table.def(c.w, service, code)
				all = append(all, c.w.appliedQuota(d, c.w.Quotas[k]))
			}
		}
		op := "ListServiceQuotas/" + in.ServiceCode + "/" + in.QuotaCode
		start, end, next, perr := wire.Page(op, len(all), in.NextToken, size, 100)
		if perr != nil {
			return nil, wire.BadRequest("InvalidPaginationTokenException", "Invalid pagination token: %s", in.NextToken)
		}
		return &struct {
			NextToken string    `json:"NextToken,omitempty"`
			Quotas    []sqQuota `json:"Quotas"`
		}{NextToken: next, Quotas: append([]sqQuota{}, all[start:end]...)}, nil
	})
}
