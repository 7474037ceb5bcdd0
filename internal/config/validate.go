package config

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/yamlstrict"
)

var (
	dnsLabelRE      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	regionRE        = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	accountRE       = regexp.MustCompile(`^[0-9]{12}$`)
	profileRE       = regexp.MustCompile(`^\S+$`)
	roleARNRE       = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::([0-9]{12}):role/[\w+=,.@/-]{1,512}$`)
	listenerRuleRE  = regexp.MustCompile(`^arn:aws(-[a-z]+)*:elasticloadbalancing:([a-z0-9-]+):([0-9]{12}):listener-rule/app/[A-Za-z0-9-]{1,32}/[0-9a-f]+/[0-9a-f]+/[0-9a-f]+$`)
	targetGroupRE   = regexp.MustCompile(`^arn:aws(-[a-z]+)*:elasticloadbalancing:([a-z0-9-]+):([0-9]{12}):targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]+$`)
	outputRE        = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
	workspaceRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	eksNameRE       = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$`)
	labelNameRE     = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$`)
	dnsSubdomainRE  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	bucketRE        = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	ipv4RE          = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$`)
	placeholdersRep = strings.NewReplacer("{color}", "", "{env}", "")
)

const (
	whatDNSLabel     = `a DNS label such as "prod" (lower-case letters, digits and '-', at most 63 characters)`
	whatRegion       = `an AWS region such as "eu-west-1"`
	whatRoleARN      = `an IAM role ARN such as "arn:aws:iam::123456789012:role/eksbg"`
	whatListenerRule = `an ALB listener rule ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener-rule/app/<load-balancer>/<id>/<id>/<id>)`
	whatTargetGroup  = `a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)`
	whatOutput       = `the name of a Terraform output`
	whatEKSName      = `an EKS cluster name (letters, digits, '-' and '_', starting with a letter or digit, at most 100 characters)`
	whatBucket       = `an S3 bucket name (3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit)`
	// secretTypeLabel marks Argo CD cluster secrets; eksbg sets it itself.
	secretTypeLabel = "argocd.argoproj.io/secret-type"
)

// validator collects semantic errors, located with the document tree.
type validator struct {
	doc  *yamlstrict.Doc
	errs yamlstrict.Errors
}

func (v *validator) errorf(path, format string, args ...any) {
	v.errs = append(v.errs, v.doc.Errorf(path, format, args...))
}

// str checks a string field: present if required, and accepted by ok
// (if non-nil). what describes the expected value. It reports whether
// the value is set and valid.
func (v *validator) str(path, val string, required bool, what string, ok func(string) bool) bool {
	if val == "" {
		if required {
			v.errorf(path, "required: %s", what)
		}
		return false
	}
	if ok != nil && !ok(val) {
		v.errorf(path, "expected %s, got %q", what, val)
		return false
	}
	return true
}

// validate checks p and fills in defaults.
func validate(doc *yamlstrict.Doc, p *Project) yamlstrict.Errors {
	v := &validator{doc: doc}
	for _, f := range []struct{ path, got, want string }{
		{"apiVersion", p.APIVersion, APIVersion},
		{"kind", p.Kind, KindProject},
	} {
		switch f.got {
		case f.want:
		case "":
			v.errorf(f.path, "required: set it to %q", f.want)
		default:
			v.errorf(f.path, "expected %q, got %q", f.want, f.got)
		}
	}
	if len(p.Environments) == 0 {
		v.errorf("environments", "required: at least one environment")
	}
	names := map[string]int{}
	clusters := map[string]int{} // account/region/cluster name -> environment index
	for i := range p.Environments {
		e := &p.Environments[i]
		path := yamlstrict.JoinIndex("environments", i)
		valid := v.env(path, e)
		if j, dup := names[e.Name]; dup && e.Name != "" {
			v.errorf(path+".name", "duplicate environment name %q (also environments[%d])", e.Name, j)
			continue
		}
		names[e.Name] = i
		if !valid.names {
			continue
		}
		for _, c := range []string{Blue, Green} {
			key := e.AWS.AccountID + "/" + e.AWS.Region + "/" + e.ClusterName(c)
			if j, dup := clusters[key]; dup {
				v.errorf(path+".cluster.nameTemplate", "cluster name %q is also used by environment %q in the same account and region",
					e.ClusterName(c), p.Environments[j].Name)
				break
			}
			clusters[key] = i
		}
	}
	return v.errs
}

// envValid says which parts of an environment other checks may rely on.
type envValid struct {
	names bool // account, region and cluster names are valid
}

func (v *validator) env(path string, e *Environment) envValid {
	nameOK := v.str(path+".name", e.Name, true, whatDNSLabel, dnsLabelRE.MatchString)
	// section reports whether a required section is there, saying so once if not.
	section := func(name, what string) bool {
		if v.doc.Has(path + "." + name) {
			return true
		}
		v.errorf(path+"."+name, "required: %s", what)
		return false
	}

	var regionOK, accountOK, templateOK bool
	if section("aws", "the AWS region and account ID (aws.region, aws.accountId)") {
		regionOK, accountOK = v.aws(path+".aws", &e.AWS)
	}
	if section("network", "the Terraform network stack (network.terraform.dir and network.terraform.outputs)") {
		v.network(path+".network.terraform", &e.Network.Terraform)
	}
	if section("cluster", "the eksctl ClusterConfig path (cluster.eksctlConfig)") {
		v.str(path+".cluster.eksctlConfig", e.Cluster.EksctlConfig, true, "the path of the eksctl ClusterConfig file", nil)
	}
	if e.Cluster.NameTemplate == "" {
		e.Cluster.NameTemplate = DefaultNameTemplate
	}
	templateOK = v.nameTemplate(path+".cluster.nameTemplate", e, nameOK)
	ngs := make([]string, 0, len(e.Cluster.PodsPerNode))
	for ng := range e.Cluster.PodsPerNode {
		ngs = append(ngs, ng)
	}
	slices.Sort(ngs)
	for _, ng := range ngs {
		p := yamlstrict.JoinKey(path+".cluster.podsPerNode", ng)
		switch n := e.Cluster.PodsPerNode[ng]; {
		case ng == "":
			v.errorf(p, "expected a node group name, got an empty key")
		case n < 1:
			v.errorf(p, "expected at least 1 pod per node, got %d", n)
		}
	}
	if section("traffic", "the ALB listener rules to shift (traffic.listenerRules)") {
		v.traffic(path+".traffic", e, regionOK, accountOK)
	}
	if section("argocd", "how to reach the Argo CD management cluster (argocd.management)") {
		v.argoCD(path+".argocd", e, regionOK)
	}
	switch e.Teardown {
	case "":
		e.Teardown = TeardownManual
	case TeardownManual, TeardownAuto:
	default:
		v.errorf(path+".teardown", "expected %q or %q, got %q", TeardownManual, TeardownAuto, e.Teardown)
	}

	v.state(path+".state", &e.State, e.AWS.Region)
	return envValid{names: nameOK && regionOK && accountOK && templateOK}
}

// state checks the state backend's settings: the s3 backend needs a
// bucket (S3's naming rules); each backend ignores the other's fields.
func (v *validator) state(path string, st *State, region string) {
	if st.Backend == "" {
		st.Backend = StateBackendLocal
	}
	switch st.Backend {
	case StateBackendLocal:
		if st.Dir == "" {
			st.Dir = DefaultStateDir
		}
	case StateBackendS3:
		v.str(path+".bucket", st.Bucket, true, whatBucket, func(b string) bool {
			return bucketRE.MatchString(b) && !strings.Contains(b, "..") && !ipv4RE.MatchString(b)
		})
		if st.Prefix != "" && (strings.HasPrefix(st.Prefix, "/") || strings.HasSuffix(st.Prefix, "/") || strings.Contains(st.Prefix, "//")) {
			v.errorf(path+".prefix", "expected a key prefix such as \"eksbg/state\" (no leading, trailing or double '/'), got %q", st.Prefix)
		}
		if st.Region == "" {
			st.Region = region
		} else {
			v.str(path+".region", st.Region, false, whatRegion, regionRE.MatchString)
		}
	default:
		v.errorf(path+".backend", "expected %q or %q, got %q", StateBackendLocal, StateBackendS3, st.Backend)
	}
	switch {
	case st.LockLease == 0:
		st.LockLease = DefaultLockLease
	case st.LockLease < time.Second || st.LockLease > time.Hour:
		v.errorf(path+".lockLease", "expected a duration from 1s to 1h, such as 1m, got %s", st.LockLease)
	}
}

func (v *validator) aws(path string, a *AWS) (regionOK, accountOK bool) {
	regionOK = v.str(path+".region", a.Region, true, whatRegion, regionRE.MatchString)
	accountOK = v.str(path+".accountId", a.AccountID, true, `a 12-digit AWS account ID such as "123456789012"`, accountRE.MatchString)
	v.str(path+".profile", a.Profile, false, "an AWS profile name", profileRE.MatchString)
	if v.str(path+".roleArn", a.RoleARN, false, whatRoleARN, roleARNRE.MatchString) && accountOK {
		if acct := roleARNRE.FindStringSubmatch(a.RoleARN)[2]; acct != a.AccountID {
			v.errorf(path+".roleArn", "role is in account %s, but aws.accountId is %s", acct, a.AccountID)
		}
	}
	return regionOK, accountOK
}

func (v *validator) network(path string, tf *Terraform) {
	v.str(path+".dir", tf.Dir, true, "the directory of the Terraform network stack", nil)
	if tf.Workspace == "" {
		tf.Workspace = DefaultWorkspace
	}
	v.str(path+".workspace", tf.Workspace, false, "a Terraform workspace name", workspaceRE.MatchString)
	op := path + ".outputs"
	v.str(op+".vpcId", tf.Outputs.VPCID, true, whatOutput+" holding the VPC ID", outputRE.MatchString)
	sn := &tf.Outputs.SubnetIDs
	v.str(op+".subnetIds.nodes", sn.Nodes, true, whatOutput+" holding the node subnet IDs", outputRE.MatchString)
	v.str(op+".subnetIds.controlPlane", sn.ControlPlane, false, whatOutput, outputRE.MatchString)
	v.str(op+".subnetIds.pods", sn.Pods, false, whatOutput, outputRE.MatchString)
	v.str(op+".subnetIds.loadBalancers", sn.LoadBalancers, false, whatOutput, outputRE.MatchString)
	if sn.ControlPlane == "" {
		sn.ControlPlane = sn.Nodes
	}
}

func (v *validator) nameTemplate(path string, e *Environment, nameOK bool) bool {
	t := e.Cluster.NameTemplate
	if !strings.Contains(t, "{color}") {
		v.errorf(path, "expected a template containing {color}, such as \"%s-{color}\", got %q", e.Name, t)
		return false
	}
	if strings.ContainsAny(placeholdersRep.Replace(t), "{}") {
		v.errorf(path, "expected only the placeholders {env} and {color}, got %q", t)
		return false
	}
	if !nameOK && strings.Contains(t, "{env}") {
		return false
	}
	for _, c := range []string{Blue, Green} {
		if n := e.ClusterName(c); !eksNameRE.MatchString(n) {
			v.errorf(path, "gives cluster name %q; expected %s", n, whatEKSName)
			return false
		}
	}
	return true
}

func (v *validator) traffic(path string, e *Environment, regionOK, accountOK bool) {
	t := &e.Traffic
	rp := path + ".listenerRules"
	if len(t.ListenerRules) == 0 {
		v.errorf(rp, "required: at least one ALB listener rule with its blue and green target groups")
	}
	// arn checks an ARN field and that it is in the environment's region and account.
	arn := func(path, val string, re *regexp.Regexp, what string) {
		if !v.str(path, val, true, what, re.MatchString) {
			return
		}
		m := re.FindStringSubmatch(val)
		switch {
		case regionOK && m[2] != e.AWS.Region:
			v.errorf(path, "is in region %s, but aws.region is %s", m[2], e.AWS.Region)
		case accountOK && m[3] != e.AWS.AccountID:
			v.errorf(path, "is in account %s, but aws.accountId is %s", m[3], e.AWS.AccountID)
		}
	}
	rules := map[string]int{}
	for i, r := range t.ListenerRules {
		p := yamlstrict.JoinIndex(rp, i)
		arn(p+".arn", r.ARN, listenerRuleRE, whatListenerRule)
		if j, dup := rules[r.ARN]; dup && r.ARN != "" {
			v.errorf(p+".arn", "duplicate listener rule (also listenerRules[%d])", j)
		}
		rules[r.ARN] = i
		arn(p+".targetGroups.blue", r.TargetGroups.Blue, targetGroupRE, whatTargetGroup)
		arn(p+".targetGroups.green", r.TargetGroups.Green, targetGroupRE, whatTargetGroup)
		if r.TargetGroups.Blue != "" && r.TargetGroups.Blue == r.TargetGroups.Green {
			v.errorf(p+".targetGroups.green", "must differ from targetGroups.blue")
		}
	}

	if t.Steps == nil {
		t.Steps = DefaultSteps()
	}
	v.steps(path+".steps", t.Steps)

	if !v.doc.Has(path + ".bakeTime") {
		t.BakeTime = DefaultBakeTime
	}
	if t.BakeTime < 0 {
		v.errorf(path+".bakeTime", "expected a duration of 0s or more, got %s", t.BakeTime)
	}

	g, gp := t.Gates, path+".gates"
	if g.Max5xxPercent != nil && !(*g.Max5xxPercent >= 0 && *g.Max5xxPercent <= 100) {
		v.errorf(gp+".max5xxPercent", "expected a percentage between 0 and 100, got %v", *g.Max5xxPercent)
	}
	if g.MaxP99Latency != nil && *g.MaxP99Latency <= 0 {
		v.errorf(gp+".maxP99Latency", "expected a positive duration such as \"500ms\", got %s", *g.MaxP99Latency)
	}
	if g.MinHealthyTargets != nil && *g.MinHealthyTargets < 0 {
		v.errorf(gp+".minHealthyTargets", "expected 0 or more, got %d", *g.MinHealthyTargets)
	}
	if g.MinRequestCount != nil && *g.MinRequestCount < 0 {
		v.errorf(gp+".minRequestCount", "expected 0 or more, got %d", *g.MinRequestCount)
	}
}

// steps checks traffic percentages: each 1..100, strictly increasing,
// the last one 100.
func (v *validator) steps(path string, steps []int) {
	if len(steps) == 0 {
		v.errorf(path, "expected at least one step, such as [10, 25, 50, 100]")
		return
	}
	prev := 0
	for i, s := range steps {
		p := yamlstrict.JoinIndex(path, i)
		switch {
		case s < 1 || s > 100:
			v.errorf(p, "must be between 1 and 100, got %d", s)
			continue
		case s <= prev:
			v.errorf(p, "must be greater than the previous step (%d): steps are strictly increasing percentages", prev)
		case i == len(steps)-1 && s != 100:
			v.errorf(p, "the last step must be 100 (all traffic on the new color), got %d", s)
		}
		prev = max(prev, s)
	}
}

func (v *validator) argoCD(path string, e *Environment, regionOK bool) {
	a := &e.ArgoCD
	m := &a.Management
	mp := path + ".management"
	kube := m.Kubeconfig != "" || m.Context != ""
	switch {
	case m.EKSCluster == "" && !kube:
		v.errorf(mp, "required: either eksCluster (the EKS cluster Argo CD runs in) or kubeconfig and/or context")
	case m.EKSCluster != "" && kube:
		v.errorf(mp, "expected either eksCluster or kubeconfig/context, not both")
	case m.EKSCluster != "":
		v.str(mp+".eksCluster", m.EKSCluster, true, whatEKSName, eksNameRE.MatchString)
		v.str(mp+".region", m.Region, false, whatRegion, regionRE.MatchString)
		v.str(mp+".roleArn", m.RoleARN, false, whatRoleARN, roleARNRE.MatchString)
		if m.Region == "" && regionOK {
			m.Region = e.AWS.Region
		}
	default:
		for _, f := range []struct{ name, val string }{{"region", m.Region}, {"roleArn", m.RoleARN}} {
			if f.val != "" {
				v.errorf(mp+"."+f.name, "only used with eksCluster; remove it when using kubeconfig/context")
			}
		}
	}

	if a.Namespace == "" {
		a.Namespace = DefaultArgoCDNamespace
	}
	v.str(path+".namespace", a.Namespace, false, "a namespace name, "+whatDNSLabel, dnsLabelRE.MatchString)

	lp := path + ".clusterSecretLabels"
	keys := make([]string, 0, len(a.ClusterSecretLabels))
	for k := range a.ClusterSecretLabels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := yamlstrict.JoinKey(lp, k)
		switch val := a.ClusterSecretLabels[k]; {
		case k == secretTypeLabel:
			v.errorf(p, "is set by eksbg (to \"cluster\"); remove it")
		case !validLabelKey(k):
			v.errorf(p, "expected a Kubernetes label key such as \"team\" or \"example.com/team\", got %q", k)
		case val != "" && !labelNameRE.MatchString(val):
			v.errorf(p, "expected a Kubernetes label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit), got %q", val)
		}
	}
}

// validLabelKey reports whether k is a Kubernetes label key: an optional
// DNS subdomain prefix and '/', then a name.
func validLabelKey(k string) bool {
	prefix, name, hasPrefix := strings.Cut(k, "/")
	if !hasPrefix {
		name = prefix
	} else if len(prefix) > 253 || !dnsSubdomainRE.MatchString(prefix) {
		return false
	}
	return labelNameRE.MatchString(name)
}
