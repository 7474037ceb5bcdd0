package drift_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/drift"
	"github.com/eksbg/eksbg/internal/drift/drifttest"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/gitops"
	"github.com/eksbg/eksbg/terraform"
	"github.com/eksbg/eksbg/upgrade/journal"
)

// checker runs drift.Check against a sandbox, the way eksbg drift does
// (the SDK configuration is the sandbox's, everything else the defaults).
type checker struct {
	t  *testing.T
	sb *drifttest.Sandbox
	tf *terraform.Runner
}

func newChecker(t *testing.T, sb *drifttest.Sandbox) *checker {
	t.Helper()
	tf, err := terraform.New(context.Background(), terraform.WithDataDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	return &checker{t: t, sb: sb, tf: tf}
}

func (c *checker) check(t *testing.T, o drift.Options) *drift.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if o.Project == nil {
		o.Project = c.sb.Project(t)
	}
	o.Terraform = c.tf
	o.AWS = func(context.Context, *config.Environment) (aws.Config, error) { return c.sb.AWS.AWS, nil }
	r, err := drift.Check(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func dump(r *drift.Report) string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

// find returns the findings of env whose kind, resource and field match
// (resource by suffix, "" matching any field).
func find(r *drift.Report, env string, kind drift.Kind, resource, field string) []findings.Finding {
	var out []findings.Finding
	for _, e := range r.Environments {
		if e.Environment != env {
			continue
		}
		for _, f := range e.Findings {
			if f.Check == string(kind) && strings.HasSuffix(f.Resource, resource) && (field == "" || f.Field == field) {
				out = append(out, f)
			}
		}
	}
	return out
}

func TestSandboxDrift(t *testing.T) {
	sb := drifttest.Start(t, nil)
	c := newChecker(t, sb)

	ctx := context.Background()
	eksc := eks.NewFromConfig(sb.AWS.AWS)
	demo := drift.Options{Environments: []string{"demo"}}

	t.Run("clean", func(t *testing.T) {
		sb.AWS.Server.ResetStats()
		r := c.check(t, drift.Options{})
		if r.Summary.Drift+r.Summary.Warning+r.Summary.Errors != 0 || len(r.Environments) != 2 {
			t.Fatalf("the clean sandbox has drift:\n%s", dump(r))
		}
		for i, want := range []struct{ env, color, cluster, from string }{{"demo", "blue", "demo-blue", "config"}, {"shop", "blue", "shop-blue", "config"}} {
			e := r.Environments[i]
			if e.Environment != want.env || e.LiveColor != want.color || e.LiveCluster != want.cluster || e.LiveFrom != want.from {
				t.Errorf("environment %d: %+v, want %+v", i, e, want)
			}
		}
		// shop's green exists: there is no future green to fit.
		if sk := r.Environments[1].Skipped; len(sk) != 1 || sk[0].Kind != drift.KindCapacity {
			t.Errorf("shop's skipped checks: %+v", sk)
		}
		// What environments share is read once: each cluster described
		// once (demo-blue, shop-blue, shop-green, and mgmt for Argo CD),
		// the clusters listed once by the drift check and once by the
		// capacity model.
		calls := map[string]int{}
		for _, st := range sb.AWS.Server.Stats() {
			calls[st.Operation] += st.Calls
		}
		// DescribeRules: one per environment, and the capacity model's for
		// the rules-per-load-balancer quota.
		if calls["DescribeCluster"] != 4 || calls["ListClusters"] > 2 || calls["DescribeRules"] != 3 {
			t.Errorf("AWS calls: %v", calls)
		}
	})

	// nodegroup changes demo-blue's node group as an operator would, with
	// the AWS CLI, and waits for the update to finish.
	nodegroup := func(t *testing.T, args string) {
		sb.Shell(t, "aws eks update-nodegroup-config --cluster-name demo-blue --nodegroup-name general "+args)
		waitNodegroup(t, eksc, "demo-blue", "general")
	}

	t.Run("nodegroup changed in the console", func(t *testing.T) {
		nodegroup(t, "--scaling-config minSize=3,maxSize=12,desiredSize=6 --labels 'addOrUpdateLabels={team=payments}'")
		defer nodegroup(t, "--scaling-config minSize=3,maxSize=9,desiredSize=6 --labels 'removeLabels=team'")
		r := c.check(t, demo)
		want := []findings.Finding{
			{Environment: "demo", Check: string(drift.KindCluster), Resource: "nodegroup/demo-blue/general", Field: "labels.team", Expected: "(absent)", Actual: "payments",
				Severity: findings.Fail, Fix: "eksctl unset labels --cluster demo-blue --nodegroup general --labels team  # or add the label to clusters/demo.yaml"},
			{Environment: "demo", Check: string(drift.KindCluster), Resource: "nodegroup/demo-blue/general", Field: "maxSize", Expected: "9", Actual: "12",
				Severity: findings.Fail, Fix: "eksctl scale nodegroup --cluster demo-blue --name general --nodes-min 3 --nodes-max 9"},
		}
		if got := r.Environments[0].Findings; !slices.Equal(got, want) || r.Summary.Errors != 0 {
			t.Fatalf("findings:\n%s", dump(r))
		}
	})

	// drift --all equals the merge of --shard 1/4 .. 4/4, finding for
	// finding, with drift in one environment and a skipped check in the
	// other; each shard's report goes through JSON, as eksbg drift merge
	// reads it.
	t.Run("shards merge to the whole", func(t *testing.T) {
		nodegroup(t, "--scaling-config minSize=3,maxSize=12,desiredSize=6")
		defer nodegroup(t, "--scaling-config minSize=3,maxSize=9,desiredSize=6")
		whole := c.check(t, drift.Options{})
		if whole.Summary.Drift == 0 {
			t.Fatalf("no drift to shard:\n%s", dump(whole))
		}
		var shards []*drift.Report
		for i := 1; i <= 4; i++ {
			r := c.check(t, drift.Options{Shard: drift.Shard{Index: i, Count: 4}})
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			back := &drift.Report{}
			if err := json.Unmarshal(b, back); err != nil {
				t.Fatal(err)
			}
			shards = append(shards, back)
		}
		merged, err := drift.Merge(shards...)
		if err != nil {
			t.Fatal(err)
		}
		merged.CheckedAt = whole.CheckedAt
		if dump(merged) != dump(whole) {
			t.Errorf("merged shards:\n%s\nwant drift --all:\n%s", dump(merged), dump(whole))
		}
	})

	t.Run("desired size and subnets filling up", func(t *testing.T) {
		// Within maxSize: the autoscaler's business, except that the new
		// nodes take the addresses green would need in us-east-1c.
		nodegroup(t, "--scaling-config desiredSize=9")
		defer nodegroup(t, "--scaling-config desiredSize=6")
		r := c.check(t, demo)
		if r.Summary.Drift != 0 || r.Summary.Warning != 2 {
			t.Fatalf("findings:\n%s", dump(r))
		}
		az := find(r, "demo", drift.KindCapacity, "az/us-east-1c", "freeAddresses")
		sn := find(r, "demo", drift.KindCapacity, "subnet/subnet-0de00000000000c01", "freeAddresses")
		if len(az) != 1 || len(sn) != 1 || !strings.Contains(az[0].Fix, "docs/capacity.md#add-a-subnet") {
			t.Fatalf("capacity findings:\n%s", dump(r))
		}
		// --strict compares the desired size too.
		r = c.check(t, drift.Options{Environments: []string{"demo"}, Strict: true})
		want := findings.Finding{Environment: "demo", Check: string(drift.KindCluster), Resource: "nodegroup/demo-blue/general", Field: "desiredCapacity",
			Expected: "6", Actual: "9", Severity: findings.Fail, Fix: "eksctl scale nodegroup --cluster demo-blue --name general --nodes-min 3 --nodes-max 9 --nodes 6"}
		if fs := find(r, "demo", drift.KindCluster, "", ""); len(fs) != 1 || fs[0] != want || !r.Strict {
			t.Fatalf("--strict:\n%s", dump(r))
		}
	})

	t.Run("traffic left at 50/50", func(t *testing.T) {
		p := c.sb.Project(t)
		rule := p.Environments[0].Traffic.ListenerRules[0]
		sb.Shell(t, fmt.Sprintf(`aws elbv2 modify-rule --rule-arn %s --actions '[{"Type":"forward","ForwardConfig":{"TargetGroups":[{"TargetGroupArn":"%s","Weight":50},{"TargetGroupArn":"%s","Weight":50}]}}]'`,
			rule.ARN, rule.TargetGroups.Blue, rule.TargetGroups.Green))
		r := c.check(t, demo)
		fs := find(r, "demo", drift.KindTraffic, rule.ARN, "weights")
		if len(fs) != 1 || r.Summary.Drift != 1 || fs[0].Expected != "blue 100, green 0 (blue is live: the cluster the eksctl config names)" ||
			fs[0].Actual != "blue 50, green 50 (green's cluster demo-green does not exist)" {
			t.Fatalf("findings:\n%s", dump(r))
		}
		// The fix is a command to paste.
		sb.Shell(t, fs[0].Fix)
		if r := c.check(t, demo); r.Summary.Drift != 0 {
			t.Fatalf("after the fix:\n%s", dump(r))
		}
	})

	argo := sb.GitOps.ArgoCD
	ns := argo.Namespace()
	endpoint := func(t *testing.T, cluster string) string {
		out, err := eksc.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(cluster)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Cluster.Endpoint)
	}

	t.Run("Argo CD cluster secret for a cluster that does not exist", func(t *testing.T) {
		if err := gitops.RegisterCluster(ctx, argo.Kube(), ns, gitops.Cluster{Name: "demo-green", Server: "https://demo-green.invalid", CAData: []byte("-"),
			Labels: map[string]string{"env": "demo", gitops.LabelColor: "green"}}); err != nil {
			t.Fatal(err)
		}
		r := c.check(t, demo)
		fs := find(r, "demo", drift.KindArgoCD, "secret/argocd/cluster-demo-green", "")
		if len(fs) != 1 || r.Summary.Drift != 1 || fs[0].Actual != "registers demo-green (https://demo-green.invalid)" ||
			fs[0].Expected != "no cluster secret: cluster demo-green does not exist" {
			t.Fatalf("findings:\n%s", dump(r))
		}
		// kubectl against the management cluster, as the fix says.
		sb.Shell(t, fs[0].Fix, "KUBECONFIG="+sb.ManagementKubeconfig(t))
		if r := c.check(t, demo); r.Summary.Drift != 0 {
			t.Fatalf("after the fix:\n%s", dump(r))
		}
	})

	t.Run("Argo CD Application out of sync on the live cluster", func(t *testing.T) {
		apps := argo.Dynamic().Resource(gitops.ApplicationGVR).Namespace(ns)
		app := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
			"metadata": map[string]any{"name": "legacy-demo-blue", "namespace": ns},
			"spec": map[string]any{"project": "default",
				"source":      map[string]any{"repoURL": argo.RepoURL(), "targetRevision": "HEAD", "path": "apps/legacy"},
				"destination": map[string]any{"server": endpoint(t, "demo-blue"), "namespace": "legacy"}},
		}}
		if _, err := apps.Create(ctx, app, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := apps.Delete(ctx, "legacy-demo-blue", metav1.DeleteOptions{}); err != nil {
				t.Error(err)
			}
		}()
		// Argo CD compares it (no automated sync: it stays OutOfSync).
		var status string
		if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			u, err := apps.Get(ctx, "legacy-demo-blue", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			status, _, _ = unstructured.NestedString(u.Object, "status", "sync", "status")
			return status != "", nil
		}); err != nil {
			t.Fatal(err)
		}
		r := c.check(t, demo)
		fs := find(r, "demo", drift.KindArgoCD, "application/argocd/legacy-demo-blue", "status")
		if len(fs) != 1 || r.Summary.Drift != 1 || status == "Synced" || !strings.HasPrefix(fs[0].Actual, status+"/") || fs[0].Expected != "Synced/Healthy" {
			t.Fatalf("sync status %s; findings:\n%s", status, dump(r))
		}
	})

	t.Run("Argo CD Applications differ between the colors", func(t *testing.T) {
		secrets := argo.Kube().CoreV1().Secrets(ns)
		green, err := secrets.Get(ctx, gitops.SecretName("shop-green"), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Unregistered, shop-green loses its Application.
		if err := gitops.UnregisterCluster(ctx, argo.Kube(), ns, "shop-green"); err != nil {
			t.Fatal(err)
		}
		greenServer := endpoint(t, "shop-green")
		if _, err := gitops.WaitApplications(ctx, argo.Dynamic(), ns, greenServer, func(a []gitops.Application) bool { return len(a) == 0 }); err != nil {
			t.Fatal(err)
		}
		defer func() {
			green.ResourceVersion, green.UID, green.CreationTimestamp = "", "", metav1.Time{}
			if _, err := secrets.Create(ctx, green, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := gitops.WaitApplications(ctx, argo.Dynamic(), ns, greenServer, func(a []gitops.Application) bool { return len(a) == 1 }); err != nil {
				t.Fatal(err)
			}
		}()
		r := c.check(t, drift.Options{Environments: []string{"shop"}})
		want := []findings.Finding{{Environment: "shop", Check: string(drift.KindArgoCD), Resource: "application/argocd/web-shop-green",
			Expected: "exists on shop-green, as web-shop-blue does on shop-blue", Actual: "missing", Severity: findings.Fail,
			Fix: "register shop-green with Argo CD with the labels of shop-blue's cluster secret; or, if no upgrade needs shop-green, delete it"}}
		if got := r.Environments[0].Findings; !slices.Equal(got, want) || r.Summary.Errors != 0 {
			t.Fatalf("findings:\n%s", dump(r))
		}
	})

	t.Run("eksctl config and add-ons", func(t *testing.T) {
		sb.Edit(t, "clusters/demo.yaml", `version: "1.32"`, `version: "1.33"`)
		sb.Edit(t, "clusters/demo.yaml", "    eksbg.io/environment: demo\n", "    eksbg.io/environment: demo\n    team: payments\n")
		sb.Shell(t, "aws eks create-addon --cluster-name demo-blue --addon-name aws-ebs-csi-driver")
		defer func() {
			sb.Shell(t, "aws eks delete-addon --cluster-name demo-blue --addon-name aws-ebs-csi-driver")
			w := eks.NewAddonDeletedWaiter(eksc, func(o *eks.AddonDeletedWaiterOptions) { o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second })
			if err := w.Wait(ctx, &eks.DescribeAddonInput{ClusterName: aws.String("demo-blue"), AddonName: aws.String("aws-ebs-csi-driver")}, time.Minute); err != nil {
				t.Fatal(err)
			}
		}()
		r := c.check(t, demo)
		for _, w := range []struct{ res, field, expected, actual string }{
			{"cluster/demo-blue", "version", "1.33", "1.32"},
			{"cluster/demo-blue", "tags.team", "payments", "(absent)"},
			{"addon/demo-blue/aws-ebs-csi-driver", "", "absent: clusters/demo.yaml lists no such add-on", "installed"},
		} {
			fs := find(r, "demo", drift.KindCluster, w.res, w.field)
			if len(fs) != 1 || fs[0].Expected != w.expected || fs[0].Actual != w.actual || fs[0].Severity != findings.Fail {
				t.Errorf("%s %s: %+v", w.res, w.field, fs)
			}
		}
		if r.Summary.Drift != 3 {
			t.Errorf("findings:\n%s", dump(r))
		}
	})

	t.Run("terraform change not applied, and a broken environment", func(t *testing.T) {
		sb.Edit(t, "network/main.tf", "output \"vpc_id\" {", "resource \"terraform_data\" \"flow_logs\" {\n  input = terraform.workspace\n}\n\noutput \"vpc_id\" {")
		// A third environment whose stack does not init.
		p := sb.Project(t)
		broken := p.Environments[0]
		broken.Name = "broken"
		broken.Cluster.EksctlConfig = sb.CopyEksctlConfig(t, "demo", "broken-blue")
		broken.Network.Terraform.Dir = t.TempDir()
		if err := os.WriteFile(filepath.Join(broken.Network.Terraform.Dir, "main.tf"), []byte("terraform {\n  backend \"nowhere\" {}\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		p.Environments = append(p.Environments, broken)
		r := c.check(t, drift.Options{Project: p})
		for _, env := range []string{"demo", "shop"} {
			fs := find(r, env, drift.KindTerraform, "terraform_data.flow_logs", "")
			if len(fs) != 1 || fs[0].Actual != "plan would create" || fs[0].Fix != "terraform -chdir=network workspace select "+env+" && terraform -chdir=network apply  # review the plan before approving it" {
				t.Errorf("%s: %+v", env, fs)
			}
		}
		if len(r.Environments) != 3 || r.Environments[0].Environment != "broken" || r.Summary.Errors != 1 {
			t.Fatalf("report:\n%s", dump(r))
		}
		b := r.Environments[0]
		if b.Errors[0].Kind != drift.KindTerraform || !strings.Contains(b.Errors[0].Error, "nowhere") || !strings.Contains(r.ErrorSummary(), "environment broken: terraform check:") {
			t.Errorf("broken's errors: %+v", b.Errors)
		}
		// Its clusters do not exist: that is a finding, and the checks
		// that need a live cluster say why they did not run.
		if fs := find(r, "broken", drift.KindCluster, "cluster/broken-blue", ""); len(fs) != 1 || fs[0].Actual != "neither exists" || len(b.Skipped) != 3 {
			t.Errorf("broken: %+v", b)
		}
	})

	t.Run("upgrade open for more than a day", func(t *testing.T) {
		p := c.sb.Project(t)
		b, err := journal.ForEnvironment(p.Environments[0].State, p.Dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		j := &journal.Journal{ID: "up-1", Environment: "demo", From: journal.ClusterRef{Name: "demo-blue", Color: "blue", Version: "1.32"},
			To: journal.ClusterRef{Name: "demo-green", Color: "green", Version: "1.33"}, StartedAt: time.Now().Add(-30 * time.Hour)}
		if err := b.SaveJournal(ctx, "demo", j); err != nil {
			t.Fatal(err)
		}
		lock, err := b.Lock(ctx, "demo", journal.LockInfo{Who: "alice", Host: "laptop", PID: 4242, Operation: "upgrade", Created: time.Now().Add(-30 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		r := c.check(t, demo)
		jf, lf := find(r, "demo", drift.KindJournal, "journal/demo", "endedAt"), find(r, "demo", drift.KindJournal, "lock/demo", "created")
		if len(jf) != 1 || jf[0].Severity != findings.Warn || !strings.HasPrefix(jf[0].Actual, "upgrade up-1 from demo-blue (1.32) to demo-green (1.33) open since ") ||
			jf[0].Fix != "eksbg upgrade --env demo --to 1.33  # resumes it from the journal; or end it: eksbg rollback --env demo" ||
			len(lf) != 1 || lf[0].Fix != "eksbg force-unlock --env demo "+lock.ID+"  # only if that run is gone" ||
			r.Summary.Warning != 2 || r.Summary.Drift != 0 {
			t.Fatalf("findings:\n%s", dump(r))
		}
		// An upgrade younger than a day is work in progress: its weights
		// are warnings, not drift.
		j.StartedAt = time.Now().Add(-time.Hour)
		if err := b.SaveJournal(ctx, "demo", j); err != nil {
			t.Fatal(err)
		}
		if err := b.ForceUnlock(ctx, "demo", lock.ID); err != nil {
			t.Fatal(err)
		}
		rule := sb.Project(t).Environments[0].Traffic.ListenerRules[0]
		sb.Shell(t, fmt.Sprintf(`aws elbv2 modify-rule --rule-arn %s --actions '[{"Type":"forward","ForwardConfig":{"TargetGroups":[{"TargetGroupArn":"%s","Weight":90},{"TargetGroupArn":"%s","Weight":10}]}}]'`,
			rule.ARN, rule.TargetGroups.Blue, rule.TargetGroups.Green))
		r = c.check(t, demo)
		wf := find(r, "demo", drift.KindTraffic, rule.ARN, "weights")
		if len(wf) != 1 || wf[0].Severity != findings.Warn || r.Summary.Drift != 0 || !strings.HasPrefix(wf[0].Fix, "eksbg rollback --env demo  # upgrade up-1 is open") {
			t.Fatalf("findings during an upgrade:\n%s", dump(r))
		}
		// Ended: nothing left.
		end := time.Now()
		j.EndedAt = &end
		if err := b.SaveJournal(ctx, "demo", j); err != nil {
			t.Fatal(err)
		}
		r = c.check(t, demo)
		sb.Shell(t, find(r, "demo", drift.KindTraffic, rule.ARN, "weights")[0].Fix)
		if r := c.check(t, demo); r.Summary.Drift+r.Summary.Warning != 0 {
			t.Fatalf("after the upgrade ended:\n%s", dump(r))
		}
	})

	t.Run("live color from the eksctl config", func(t *testing.T) {
		// No record in the state backend: the live color is the one of the
		// cluster the eksctl config names, as for plan and upgrade, even
		// when only the other color's cluster exists.
		sb.Edit(t, "clusters/demo.yaml", "\n  name: demo-blue\n", "\n  name: demo-green\n")
		r := c.check(t, demo)
		e := r.Environments[0]
		if e.LiveColor != "green" || e.LiveCluster != "demo-green" || e.LiveFrom != "config" {
			t.Fatalf("live: %+v", e)
		}
		rule := sb.Project(t).Environments[0].Traffic.ListenerRules[0]
		for _, w := range []struct {
			kind                        drift.Kind
			res, field, expected, value string
		}{
			{drift.KindCluster, "cluster/demo-green", "", "exists: green is the live color (the cluster the eksctl config names)", "does not exist"},
			{drift.KindTraffic, rule.ARN, "weights", "blue 0, green 100 (green is live: the cluster the eksctl config names)", "blue 100, green 0"},
			{drift.KindTraffic, rule.TargetGroups.Green, "targets", "healthy targets: green is the live color", "no targets registered"},
		} {
			if fs := find(r, "demo", w.kind, w.res, w.field); len(fs) != 1 || fs[0].Expected != w.expected || fs[0].Actual != w.value || fs[0].Severity != findings.Fail {
				t.Errorf("%s %s %s: %+v", w.kind, w.res, w.field, fs)
			}
		}
		if r.Summary.Drift != 3 {
			t.Errorf("findings:\n%s", dump(r))
		}

		// A config that names neither color's cluster: the live color is
		// unknown, and every check that needs it says why.
		sb.Edit(t, "clusters/demo.yaml", "\n  name: demo-green\n", "\n  name: elsewhere\n")
		r = c.check(t, demo)
		e = r.Environments[0]
		var kinds []drift.Kind
		for _, ce := range e.Errors {
			if !strings.Contains(ce.Error, "the live color is unknown") || !strings.Contains(ce.Error, `names cluster "elsewhere"`) {
				t.Errorf("%s check: %s", ce.Kind, ce.Error)
			}
			kinds = append(kinds, ce.Kind)
		}
		if want := []drift.Kind{drift.KindCluster, drift.KindTraffic, drift.KindArgoCD, drift.KindCapacity}; !slices.Equal(kinds, want) || e.LiveColor != "" || e.LiveFrom != "" {
			t.Errorf("errors of %v, want %v; live %q from %q", kinds, want, e.LiveColor, e.LiveFrom)
		}
	})

	t.Run("live color from the state backend", func(t *testing.T) {
		p := c.sb.Project(t)
		b, err := journal.ForEnvironment(p.Environments[0].State, p.Dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.SaveLive(ctx, "demo", &journal.Live{Color: "green", Cluster: "demo-green", Version: "1.33", Since: time.Now()}); err != nil {
			t.Fatal(err)
		}
		r := c.check(t, demo)
		e := r.Environments[0]
		if e.LiveColor != "green" || e.LiveCluster != "demo-green" || e.LiveFrom != "state" {
			t.Fatalf("live: %+v", e)
		}
		rule := sb.Project(t).Environments[0].Traffic.ListenerRules[0]
		for _, w := range []struct {
			kind              drift.Kind
			res, field, value string
		}{
			{drift.KindCluster, "cluster/demo-green", "", "does not exist"},
			{drift.KindTraffic, rule.ARN, "weights", "blue 100, green 0"},
			{drift.KindTraffic, rule.TargetGroups.Green, "targets", "no targets registered"},
		} {
			if fs := find(r, "demo", w.kind, w.res, w.field); len(fs) != 1 || fs[0].Actual != w.value || fs[0].Severity != findings.Fail {
				t.Errorf("%s %s %s: %+v", w.kind, w.res, w.field, fs)
			}
		}
		if r.Summary.Drift != 3 {
			t.Errorf("findings:\n%s", dump(r))
		}
		if err := b.SaveLive(ctx, "demo", &journal.Live{Color: "blue", Cluster: "demo-blue", Version: "1.32", Since: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if r := c.check(t, demo); r.Summary.Drift+r.Summary.Warning != 0 || r.Environments[0].LiveFrom != "state" {
			t.Fatalf("blue recorded live:\n%s", dump(r))
		}
	})

	t.Run("clean again", func(t *testing.T) {
		if r := c.check(t, drift.Options{}); r.Summary.Drift+r.Summary.Warning+r.Summary.Errors != 0 {
			t.Fatalf("every drift was put back, yet:\n%s", dump(r))
		}
	})
}

// waitNodegroup waits for a node group's update to finish.
func waitNodegroup(t *testing.T, api eks.DescribeNodegroupAPIClient, cluster, name string) {
	t.Helper()
	w := eks.NewNodegroupActiveWaiter(api, func(o *eks.NodegroupActiveWaiterOptions) { o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second })
	if err := w.Wait(context.Background(), &eks.DescribeNodegroupInput{ClusterName: aws.String(cluster), NodegroupName: aws.String(name)}, time.Minute); err != nil {
		t.Fatal(err)
	}
}
