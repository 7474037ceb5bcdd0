package preflight

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/findings"
)

// Check names of the compatibility findings (findings.Finding.Check).
const (
	CheckInsight       = "upgrade-insight"
	CheckRemovedAPI    = "removed-api"
	CheckReadiness     = "readiness-probe"
	CheckShutdown      = "shutdown-vs-deregistration"
	CheckPDB           = "pdb-blocks-eviction"
	CheckSpotNTH       = "spot-termination-handler"
	CheckTargetGroupIn = "target-group"
)

// InsightsAPI is what the insights check calls.
type InsightsAPI interface {
	ListInsights(ctx context.Context, in *eks.ListInsightsInput, optFns ...func(*eks.Options)) (*eks.ListInsightsOutput, error)
	DescribeInsight(ctx context.Context, in *eks.DescribeInsightInput, optFns ...func(*eks.Options)) (*eks.DescribeInsightOutput, error)
}

// Insights reports blue's EKS upgrade insights that are not PASSING, with
// EKS's recommendation as the fix.
// https://docs.aws.amazon.com/eks/latest/userguide/cluster-insights.html
func Insights(ctx context.Context, api InsightsAPI, cluster string) ([]findings.Finding, error) {
	var out []findings.Finding
	p := eks.NewListInsightsPaginator(api, &eks.ListInsightsInput{ClusterName: aws.String(cluster),
		Filter: &ekstypes.InsightsFilter{Categories: []ekstypes.Category{ekstypes.CategoryUpgradeReadiness}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the upgrade insights of %s: %w", cluster, err)
		}
		for _, s := range page.Insights {
			if s.InsightStatus == nil || s.InsightStatus.Status == ekstypes.InsightStatusValuePassing {
				continue
			}
			d, err := api.DescribeInsight(ctx, &eks.DescribeInsightInput{ClusterName: aws.String(cluster), Id: s.Id})
			if err != nil {
				return nil, fmt.Errorf("describing insight %s of %s: %w", aws.ToString(s.Id), cluster, err)
			}
			in := d.Insight
			sev := findings.Info
			switch in.InsightStatus.Status {
			case ekstypes.InsightStatusValueError:
				sev = findings.Fail
			case ekstypes.InsightStatusValueWarning:
				sev = findings.Warn
			}
			what := aws.ToString(in.Name) + ": " + aws.ToString(in.InsightStatus.Reason)
			if r := aws.ToString(in.Description); r != "" && aws.ToString(in.InsightStatus.Reason) == "" {
				what = aws.ToString(in.Name) + ": " + r
			}
			if inPlaceOnly(aws.ToString(in.Name)) {
				// Green is built new, with add-ons and nodes of its own
				// version: these insights concern in-place upgrades only.
				sev = findings.Info
				what += " (concerns in-place upgrades: green gets add-ons and nodes of its own version)"
			}
			out = append(out, findings.Finding{Severity: sev, Check: CheckInsight, What: what,
				Where: findings.Where{Object: "EKS cluster " + cluster}, Fix: aws.ToString(in.Recommendation)})
		}
	}
	return out, nil
}

// inPlaceOnly reports whether an EKS insight checks something that only
// an in-place upgrade inherits from the old cluster: add-on versions and
// the version skew of nodes and kube-proxy. Green gets its own.
func inPlaceOnly(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "add-on version compatibility") || strings.Contains(n, "version skew")
}

// lastApplied is the annotation kubectl apply (and Argo CD with
// client-side apply) leave on objects: the manifest as written, whose
// apiVersion tells which API the team's manifests use, whatever version
// the API server stores.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// LiveObjects lists the objects of blue whose kinds appear in the
// removed-API table, once for each apiVersion their writers used: the one
// in kubectl's last-applied annotation, and every apiVersion in
// metadata.managedFields, where the API server records the version each
// field manager wrote with (server-side apply, Helm and controllers
// leave no last-applied annotation, but always a managedFields entry).
func LiveObjects(ctx context.Context, dyn dynamic.Interface, disc discoveryAPI, cluster string) ([]clusters.Object, error) {
	kinds := map[string]bool{}
	for _, r := range clusters.RemovedAPIsTable() {
		kinds[r.Kind] = true
	}
	lists, err := disc.ServerPreferredResources()
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("discovering the APIs of %s: %w", cluster, err)
	}
	var objs []clusters.Object
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if !kinds[r.Kind] || strings.Contains(r.Name, "/") || !hasVerb(r.Verbs, "list") {
				continue
			}
			list, err := dyn.Resource(gv.WithResource(r.Name)).List(ctx, metav1.ListOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
					continue
				}
				return nil, fmt.Errorf("listing %s on %s: %w", r.Name, cluster, err)
			}
			for _, o := range list.Items {
				objs = append(objs, writtenAs(o, r.Kind, cluster)...)
			}
		}
	}
	return objs, nil
}

type discoveryAPI interface {
	ServerPreferredResources() ([]*metav1.APIResourceList, error)
}

func hasVerb(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// writtenAs returns the object once per apiVersion its writers used:
// kubectl's last-applied annotation, then each managedFields entry's.
func writtenAs(o unstructured.Unstructured, kind, cluster string) []clusters.Object {
	app := o.GetLabels()["app.kubernetes.io/instance"] // Argo CD's default tracking label
	seen := map[string]bool{}
	var out []clusters.Object
	add := func(apiVersion, how string) {
		if apiVersion == "" || seen[apiVersion] {
			return
		}
		seen[apiVersion] = true
		out = append(out, clusters.Object{APIVersion: apiVersion, Kind: kind, Name: o.GetName(), Namespace: o.GetNamespace(),
			Source: findings.Where{App: app, File: "live on " + cluster + how}})
	}
	if raw := o.GetAnnotations()[lastApplied]; raw != "" {
		var m struct{ APIVersion string }
		if json.Unmarshal([]byte(raw), &m) == nil {
			add(m.APIVersion, "")
		}
	}
	for _, mf := range o.GetManagedFields() {
		add(mf.APIVersion, fmt.Sprintf(" (written by %s, %s)", orUnknown(mf.Manager), mf.Operation))
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "an unnamed field manager"
	}
	return s
}

// DeprecatedRequests reads blue's API server's
// apiserver_requested_deprecated_apis metric: every deprecated API some
// client requested since the server started, with the release that
// removes it. Each one removed by green's version is a FAIL (that client
// breaks on green), each removed later a WARN; deprecated APIs with no
// removal planned are left out. A metric the server does not serve (no
// permission for /metrics) is a WARN saying what was not checked.
// https://kubernetes.io/docs/reference/using-api/deprecation-guide/
func DeprecatedRequests(ctx context.Context, metrics func(ctx context.Context) ([]byte, error), cluster, to string) ([]findings.Finding, error) {
	raw, err := metrics(ctx)
	if err != nil {
		return []findings.Finding{{Severity: findings.Warn, Check: CheckRemovedAPI, Where: findings.Where{Object: "API server of " + cluster},
			What: "the API server's requests to deprecated APIs were not checked: reading /metrics: " + err.Error(),
			Fix:  "grant eksbg get on the /metrics non-resource URL (the system:monitoring ClusterRole)"}}, nil
	}
	toMinor, err := clusters.ParseVersion(to)
	if err != nil {
		return nil, err
	}
	var out []findings.Finding
	for _, r := range parseDeprecatedAPIs(raw) {
		removed, err := clusters.ParseVersion(r.removedRelease)
		if err != nil {
			continue // no removal planned
		}
		gv := r.version
		if r.group != "" {
			gv = r.group + "/" + r.version
		}
		res := r.resource
		if r.subresource != "" {
			res += "/" + r.subresource
		}
		f := findings.Finding{Severity: findings.Warn, Check: CheckRemovedAPI, Where: findings.Where{Object: gv + " " + res, File: "requests to " + cluster},
			What: fmt.Sprintf("clients requested %s %s on %s, which Kubernetes %s removes (apiserver_requested_deprecated_apis)", gv, res, cluster, r.removedRelease),
			Fix:  "find the client in the API server's audit log (annotation k8s.io/deprecated) and move it to the replacement API"}
		if removed <= toMinor {
			f.Severity = findings.Fail
			f.What += fmt.Sprintf(": that client breaks on green (%s)", to)
		}
		out = append(out, f)
	}
	return out, nil
}

// deprecatedAPI is one series of apiserver_requested_deprecated_apis.
type deprecatedAPI struct{ group, version, resource, subresource, removedRelease string }

// parseDeprecatedAPIs reads the apiserver_requested_deprecated_apis series
// of a Prometheus text exposition (only the labels: the gauge is 1 for
// every API requested).
func parseDeprecatedAPIs(raw []byte) []deprecatedAPI {
	const name = "apiserver_requested_deprecated_apis{"
	var out []deprecatedAPI
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		end := strings.LastIndex(line, "}")
		if end < len(name) {
			continue
		}
		labels := map[string]string{}
		for _, kv := range splitLabels(line[len(name):end]) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			if uq, err := strconv.Unquote(v); err == nil {
				labels[k] = uq
			}
		}
		out = append(out, deprecatedAPI{group: labels["group"], version: labels["version"], resource: labels["resource"],
			subresource: labels["subresource"], removedRelease: labels["removed_release"]})
	}
	return out
}

// splitLabels splits `a="x",b="y,z"` at the commas between labels.
func splitLabels(s string) []string {
	var out []string
	inQuote, esc, start := false, false, 0
	for i, c := range s {
		switch {
		case esc:
			esc = false
		case c == '\\':
			esc = true
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// TargetGroupAttributesAPI reads a target group's deregistration delay.
type TargetGroupAttributesAPI interface {
	DescribeTargetGroupAttributes(ctx context.Context, in *elb.DescribeTargetGroupAttributesInput, optFns ...func(*elb.Options)) (*elb.DescribeTargetGroupAttributesOutput, error)
}

// tgbResource is the AWS Load Balancer Controller's TargetGroupBinding.
var tgbResource = schema.GroupVersionResource{Group: "elbv2.k8s.aws", Version: "v1beta1", Resource: "targetgroupbindings"}

// Workloads checks the Deployments behind blue's TargetGroupBindings: a
// readiness probe (without one, pods take traffic before they can serve
// it), and a shutdown at least as long as the target group's
// deregistration delay (the ALB keeps sending requests to a deregistered
// target until the delay passes; a pod that exits sooner answers them with
// 502s). It also flags PodDisruptionBudgets that allow no eviction.
// https://docs.aws.amazon.com/eks/latest/best-practices/load-balancing.html
func Workloads(ctx context.Context, kc kubernetes.Interface, dyn dynamic.Interface, tga TargetGroupAttributesAPI, cluster string) ([]findings.Finding, error) {
	var out []findings.Finding
	tgbs, err := dyn.Resource(tgbResource).List(ctx, metav1.ListOptions{})
	switch {
	case apierrors.IsNotFound(err):
		tgbs = &unstructured.UnstructuredList{} // no AWS Load Balancer Controller CRD
	case err != nil:
		return nil, fmt.Errorf("listing TargetGroupBindings on %s: %w", cluster, err)
	}
	delays := map[string]int{}
	for _, b := range tgbs.Items {
		ns := b.GetNamespace()
		svcName, _, _ := unstructured.NestedString(b.Object, "spec", "serviceRef", "name")
		tgARN, _, _ := unstructured.NestedString(b.Object, "spec", "targetGroupARN")
		where := findings.Where{Object: "TargetGroupBinding " + ns + "/" + b.GetName(), File: "live on " + cluster}
		delay, ok := delays[tgARN]
		if !ok {
			a, err := tga.DescribeTargetGroupAttributes(ctx, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tgARN)})
			if err != nil {
				out = append(out, findings.Finding{Severity: findings.Warn, Check: CheckTargetGroupIn, Where: where,
					What: fmt.Sprintf("cannot read target group %s: %v", tgARN, err), Fix: "check the binding's targetGroupARN"})
				continue
			}
			delay = 300 // AWS's default
			for _, at := range a.Attributes {
				if aws.ToString(at.Key) == "deregistration_delay.timeout_seconds" {
					delay, _ = strconv.Atoi(aws.ToString(at.Value))
				}
			}
			delays[tgARN] = delay
		}
		svc, err := kc.CoreV1().Services(ns).Get(ctx, svcName, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("reading service %s/%s on %s: %w", ns, svcName, cluster, err)
		}
		deps, err := kc.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("listing deployments in %s on %s: %w", ns, cluster, err)
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		for _, d := range deps.Items {
			if len(svc.Spec.Selector) == 0 || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				continue
			}
			out = append(out, deploymentChecks(&d, delay, tgARN, cluster)...)
		}
	}
	pdbs, err := kc.PolicyV1().PodDisruptionBudgets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing PodDisruptionBudgets on %s: %w", cluster, err)
	}
	for _, p := range pdbs.Items {
		mu, ma := p.Spec.MaxUnavailable, p.Spec.MinAvailable
		blocks := mu != nil && (mu.Type == intstr.Int && mu.IntVal == 0 || mu.Type == intstr.String && mu.StrVal == "0%") ||
			ma != nil && ma.Type == intstr.String && ma.StrVal == "100%" ||
			// minAvailable equal to the replica count: no eviction while all are healthy.
			p.Status.ExpectedPods > 0 && p.Status.DisruptionsAllowed == 0 && p.Status.CurrentHealthy >= p.Status.ExpectedPods
		if blocks {
			out = append(out, findings.Finding{Severity: findings.Warn, Check: CheckPDB,
				Where: findings.Where{Object: "PodDisruptionBudget " + p.Namespace + "/" + p.Name, File: "live on " + cluster},
				What:  "allows no eviction even when every pod is healthy: draining or scaling in nodes will wait forever",
				Fix:   "allow at least one disruption (maxUnavailable: 1, or minAvailable below the replica count)"})
		}
	}
	return out, nil
}

var sleepRE = regexp.MustCompile(`\bsleep\s+(\d+)`)

// preStopSeconds is how long a container's preStop hook keeps it serving:
// a sleep action, or "sleep N" in an exec hook; 0 when unknown.
func preStopSeconds(c corev1.Container) int {
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil {
		return 0
	}
	h := c.Lifecycle.PreStop
	if h.Sleep != nil {
		return int(h.Sleep.Seconds)
	}
	if h.Exec != nil {
		if m := sleepRE.FindStringSubmatch(strings.Join(h.Exec.Command, " ")); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	return 0
}

func deploymentChecks(d *appsv1.Deployment, delay int, tgARN, cluster string) []findings.Finding {
	var out []findings.Finding
	where := findings.Where{Object: "Deployment " + d.Namespace + "/" + d.Name, File: "live on " + cluster,
		App: d.Labels["app.kubernetes.io/instance"]}
	grace := 30
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = int(*g)
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.ReadinessProbe == nil {
			out = append(out, findings.Finding{Severity: findings.Fail, Check: CheckReadiness, Where: where,
				What: fmt.Sprintf("container %s has no readiness probe: its pods are registered in %s before they can serve, and green takes traffic it answers with errors", c.Name, tgName(tgARN)),
				Fix:  "add a readinessProbe (and the pod readiness gate elbv2.k8s.aws/pod-readiness-gate-inject on the namespace)"})
		}
		if stop := preStopSeconds(c); stop < delay || grace < delay {
			out = append(out, findings.Finding{Severity: findings.Warn, Check: CheckShutdown, Where: where,
				What: fmt.Sprintf("container %s keeps serving %ds after termination starts (preStop %ds, grace %ds), less than %s's deregistration delay of %ds: requests in flight when blue is torn down get 502s",
					c.Name, min(stop, grace), stop, grace, tgName(tgARN), delay),
				Fix: fmt.Sprintf("add a preStop sleep of at least %ds and terminationGracePeriodSeconds above it", delay)})
		}
	}
	return out
}

func tgName(arn string) string {
	if i := strings.Index(arn, ":targetgroup/"); i >= 0 {
		name, _, _ := strings.Cut(arn[i+len(":targetgroup/"):], "/")
		return "target group " + name
	}
	return "the target group"
}

// nthNames are how the AWS Node Termination Handler is deployed (its Helm
// chart and the EKS Blueprints add-on).
var nthNames = []string{"aws-node-termination-handler", "node-termination-handler"}

// SpotWithoutNTH flags green node groups on Spot capacity when no node
// termination handler runs on blue (so none will sync to green): Spot
// interruptions and capacity rebalancing would then kill pods without
// draining them from the target group first, which the load balancer
// turns into 502s and 504s.
func SpotWithoutNTH(ctx context.Context, kc kubernetes.Interface, green *clusters.Spec, cluster string) ([]findings.Finding, error) {
	var spot []string
	for _, ng := range green.NodeGroups {
		if ng.Spot {
			spot = append(spot, ng.Name)
		}
	}
	if len(spot) == 0 {
		return nil, nil
	}
	for _, name := range nthNames {
		sel := "app.kubernetes.io/name=" + name
		ds, err := kc.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return nil, fmt.Errorf("looking for a node termination handler on %s: %w", cluster, err)
		}
		deps, err := kc.AppsV1().Deployments("").List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return nil, fmt.Errorf("looking for a node termination handler on %s: %w", cluster, err)
		}
		if len(ds.Items)+len(deps.Items) > 0 {
			return nil, nil
		}
	}
	return []findings.Finding{{Severity: findings.Warn, Check: CheckSpotNTH,
		Where: findings.Where{Object: "node groups " + strings.Join(spot, ", ")},
		What:  "green runs Spot node groups and no node termination handler runs on " + cluster + ": interrupted nodes drop requests at the load balancer",
		Fix:   "deploy aws-node-termination-handler (queue mode) through Argo CD, or enable capacity rebalancing with managed node groups' own draining"}}, nil
}
