package drift

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/gitops"
	"github.com/eksbg/eksbg/internal/kubeaccess"
)

// mgmtKey identifies an Argo CD: how its management cluster is reached,
// and its namespace. Environments with the same key share one read of its
// Applications and cluster secrets.
type mgmtKey struct {
	eksCluster, region, roleARN, profile, baseRole string
	kubeconfig, context                            string
	namespace                                      string
}

func mgmtKeyOf(env *config.Environment) mgmtKey {
	m := env.ArgoCD.Management
	k := mgmtKey{namespace: argoNamespace(env)}
	if m.UsesEKS() {
		k.eksCluster, k.region, k.roleARN = m.EKSCluster, m.Region, m.RoleARN
		if k.region == "" {
			k.region = env.AWS.Region
		}
		// Without a role of its own, the management cluster is reached
		// with the environment's credentials.
		k.profile, k.baseRole = env.AWS.Profile, env.AWS.RoleARN
		return k
	}
	k.kubeconfig, k.context = m.Kubeconfig, m.Context
	return k
}

func argoNamespace(env *config.Environment) string {
	if env.ArgoCD.Namespace != "" {
		return env.ArgoCD.Namespace
	}
	return config.DefaultArgoCDNamespace
}

// clusterSecret is what eksbg reads of an Argo CD cluster secret.
type clusterSecret struct {
	name    string // the secret's name
	cluster string // its "name" field: the EKS cluster
	server  string
}

// mgmtCluster is what eksbg reads of one Argo CD.
type mgmtCluster struct {
	apps    []gitops.Application
	secrets []clusterSecret
}

// argo reads the Applications and cluster secrets of the environment's
// Argo CD, once per Argo CD.
func (c *checker) argo(ctx context.Context, env *config.Environment, cfg aws.Config) (*mgmtCluster, error) {
	k := mgmtKeyOf(env)
	return c.mgmts.get(k, func() (*mgmtCluster, error) {
		m := &mgmtCluster{}
		return m, m.read(ctx, c, env, cfg, k.namespace)
	})
}

func (m *mgmtCluster) read(ctx context.Context, c *checker, env *config.Environment, cfg aws.Config, ns string) error {
	restFor := c.o.Management
	if restFor == nil {
		restFor = kubeaccess.Management
	}
	rc, err := restFor(ctx, env, cfg)
	if err != nil {
		return fmt.Errorf("reaching the Argo CD management cluster: %w", err)
	}
	rc = rest.CopyConfig(rc)
	if rc.Timeout == 0 {
		rc.Timeout = KubeTimeout
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("building a client for the Argo CD management cluster: %w", err)
	}
	if m.apps, err = gitops.ListApplications(ctx, dyn, ns, ""); err != nil {
		return err
	}
	m.secrets, err = listClusterSecrets(ctx, rc, ns)
	return err
}

// listClusterSecrets lists the cluster secrets in namespace
// (https://argo-cd.readthedocs.io/en/stable/operator-manual/declarative-setup/#clusters).
func listClusterSecrets(ctx context.Context, rc *rest.Config, ns string) ([]clusterSecret, error) {
	kc, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("building a client for the Argo CD management cluster: %w", err)
	}
	var out []clusterSecret
	opts := metav1.ListOptions{LabelSelector: gitops.LabelSecretType + "=cluster", Limit: 500}
	for {
		list, err := kc.CoreV1().Secrets(ns).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("listing Argo CD cluster secrets: %w", err)
		}
		for _, s := range list.Items {
			out = append(out, clusterSecret{name: s.Name, cluster: string(s.Data["name"]), server: string(s.Data["server"])})
		}
		if opts.Continue = list.Continue; opts.Continue == "" {
			return out, nil
		}
	}
}

// checkArgoCD checks the environment's Applications and cluster secrets.
func (c *checker) checkArgoCD(ctx context.Context, run *envRun, g *awsGroup, live *liveInfo, st *stateInfo) {
	env := run.env
	cfg, err := g.config(ctx, env)
	if err != nil {
		run.fail(KindArgoCD, err)
		return
	}
	m, err := c.argo(ctx, env, cfg)
	if err != nil {
		run.fail(KindArgoCD, err)
		return
	}
	in := argoInput{namespace: argoNamespace(env), mgmt: "on the Argo CD management cluster", live: live, m: m,
		servers: map[string]string{}, upgrading: c.upgradeInProgress(st)}
	if mc := env.ArgoCD.Management.EKSCluster; mc != "" {
		in.mgmt += " " + mc
	}
	for _, cl := range []struct {
		name   string
		exists bool
	}{{live.cluster, live.exists}, {live.other, live.otherExists}} {
		if !cl.exists {
			continue
		}
		d, err := g.describe(ctx, env, cl.name)
		if err != nil {
			run.fail(KindArgoCD, err)
			return
		}
		if d != nil {
			in.servers[cl.name] = aws.ToString(d.Endpoint)
		}
	}
	fs, skipped := argoFindings(in)
	run.add(fs...)
	if skipped != "" {
		run.skip(KindArgoCD, skipped)
	}
}

// argoInput is what the Argo CD check judges.
type argoInput struct {
	namespace string
	// mgmt says where to run kubectl, for fixes.
	mgmt string
	live *liveInfo
	m    *mgmtCluster
	// servers are the API endpoints of the environment's clusters that
	// exist, by name.
	servers   map[string]string
	upgrading bool
}

// argoFindings judges the Applications and cluster secrets; skipped says
// why the Applications were not judged, if they were not.
func argoFindings(in argoInput) (out []findings.Finding, skipped string) {
	live, ns := in.live, in.namespace
	find := func(res, field, expected, actual string, sev findings.Severity, fix string) {
		out = append(out, findings.Finding{Check: string(KindArgoCD), Resource: res, Field: field, Expected: expected, Actual: actual, Severity: sev, Fix: fix})
	}
	// Cluster secrets: one for the live cluster, none for a cluster that
	// does not exist, each pointing at its cluster's endpoint.
	registered := map[string]bool{}
	for _, s := range in.m.secrets {
		if s.cluster != live.cluster && s.cluster != live.other {
			continue
		}
		res := "secret/" + ns + "/" + s.name
		server, exists := in.servers[s.cluster]
		switch {
		case !exists:
			find(res, "", fmt.Sprintf("no cluster secret: cluster %s does not exist", s.cluster), "registers "+s.cluster+" ("+s.server+")", findings.Fail,
				fmt.Sprintf("kubectl -n %s delete secret %s  # %s", ns, s.name, in.mgmt))
		case s.server != server:
			registered[s.cluster] = true
			find(res, "server", server, s.server, findings.Fail,
				fmt.Sprintf("kubectl -n %s edit secret %s  # %s: set server to the endpoint 'aws eks describe-cluster --name %s' gives", ns, s.name, in.mgmt, s.cluster))
		default:
			registered[s.cluster] = true
		}
	}
	if !live.exists {
		return out, fmt.Sprintf("the live cluster %s does not exist: its Applications were not checked", live.cluster)
	}
	if !registered[live.cluster] {
		find("secret/"+ns+"/"+gitops.SecretName(live.cluster), "", "registers the live cluster "+live.cluster, "no cluster secret for it", findings.Fail,
			fmt.Sprintf("register %s with Argo CD: a cluster secret %s in %s %s, as 'eksbg upgrade' writes it", live.cluster, gitops.SecretName(live.cluster), ns, in.mgmt))
	}

	// Applications on the live cluster: Synced and Healthy.
	onLive := appsOn(in.m.apps, in.servers[live.cluster])
	for _, a := range onLive {
		if a.SyncedHealthy() {
			continue
		}
		actual := orUnknown(a.Sync) + "/" + orUnknown(a.Health)
		switch {
		case a.Deleting:
			actual += ", being deleted"
		case !a.Current:
			actual += ", not yet compared with its current spec"
		case a.OperationPhase == "Running":
			actual += ", sync running"
		}
		if a.Message != "" {
			actual += ": " + a.Message
		}
		find("application/"+ns+"/"+a.Name, "status", "Synced/Healthy", actual, findings.Fail,
			fmt.Sprintf("argocd app sync %s  # 'argocd app get %s' shows why it is not", a.Name, a.Name))
	}

	// Both colors run the same Applications while both exist; while an
	// upgrade is under way the new color is still filling up.
	otherServer, ok := in.servers[live.other]
	if !ok {
		return out, ""
	}
	sev := findings.Fail
	if in.upgrading {
		sev = findings.Warn
	}
	otherColor := config.OtherColor(live.color)
	liveSet := appKeys(onLive, live.cluster, live.color)
	otherSet := appKeys(appsOn(in.m.apps, otherServer), live.other, otherColor)
	for _, k := range slices.Sorted(maps.Keys(liveSet)) {
		if _, ok := otherSet[k]; ok {
			continue
		}
		name := strings.NewReplacer("{cluster}", live.other, "{color}", otherColor).Replace(k)
		find("application/"+ns+"/"+name, "", fmt.Sprintf("exists on %s, as %s does on %s", live.other, liveSet[k], live.cluster), "missing", sev,
			fmt.Sprintf("register %s with Argo CD with the labels of %s's cluster secret; or, if no upgrade needs %s, delete it", live.other, live.cluster, live.other))
	}
	for _, k := range slices.Sorted(maps.Keys(otherSet)) {
		if _, ok := liveSet[k]; ok {
			continue
		}
		find("application/"+ns+"/"+otherSet[k], "", fmt.Sprintf("absent: nothing like it runs on the live cluster %s", live.cluster), "targets "+live.other, sev,
			fmt.Sprintf("kubectl -n %s delete application %s  # %s; or give %s its twin", ns, otherSet[k], in.mgmt, live.cluster))
	}
	return out, ""
}

// appsOn returns the Applications whose destination is server.
func appsOn(apps []gitops.Application, server string) []gitops.Application {
	if server == "" {
		return nil
	}
	var out []gitops.Application
	for _, a := range apps {
		if a.Server == server {
			out = append(out, a)
		}
	}
	return out
}

// appKeys maps the Applications of one color to their names with the
// cluster's name (else its color) replaced by a placeholder, so that the
// two colors' twins (web-prod-blue, web-prod-green, as an ApplicationSet's
// cluster generator names them) compare equal.
func appKeys(apps []gitops.Application, cluster, color string) map[string]string {
	out := map[string]string{}
	for _, a := range apps {
		k := strings.ReplaceAll(a.Name, cluster, "{cluster}")
		if k == a.Name {
			k = strings.ReplaceAll(a.Name, color, "{color}")
		}
		out[k] = a.Name
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}
