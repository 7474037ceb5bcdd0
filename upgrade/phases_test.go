package upgrade

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/gitops"
	"github.com/eksbg/eksbg/upgrade/journal"
	"github.com/eksbg/eksbg/upgrade/preflight"
)

// readyNodes gives a cluster n Ready nodes.
func (w *world) readyNodes(cluster string, n int) {
	kc := w.cluster(cluster).Core
	for i := range n {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: cluster + "-node-" + string(rune('a'+i))},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
		if _, err := kc.CoreV1().Nodes().Create(context.Background(), node, metav1.CreateOptions{}); err != nil {
			w.t.Fatal(err)
		}
	}
}

// --- preflight ---

func TestPreflightRefusalClosesJournal(t *testing.T) {
	plan := func(context.Context, preflight.Options) (*preflight.Plan, error) {
		return &preflight.Plan{Blue: preflight.ClusterRef{Version: "1.32"}, GreenConfig: clusterConfig("demo-green", "1.34"),
			Findings: []findings.Finding{{Severity: findings.Fail, Check: "capacity", What: "us-east-1a cannot hold green"}}}, nil
	}
	w := newWorld(t)
	o := w.options("1.34")
	o.Preflight = plan
	_, err := Run(context.Background(), o)
	var refused *RefusedError
	if !errors.As(err, &refused) || len(refused.Findings) != 1 {
		t.Fatalf("err = %v, want a RefusedError with the capacity finding", err)
	}
	j, err := w.backend.Journal(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if j.Open() {
		t.Errorf("the journal is still open after a refused preflight: %+v", j)
	}
	if n := w.prov.Count("CreateCluster"); n != 0 {
		t.Errorf("eksctl create cluster ran %d times after a refusal", n)
	}

	// Forced: the finding is journaled as an override and the phase passes.
	r := w.newRun("1.34")
	r.o.Preflight = plan
	r.o.Force = map[string]string{"capacity": "CHG-42 adds a subnet first"}
	if err := r.preflight(context.Background()); err != nil {
		t.Fatalf("forced preflight: %v", err)
	}
	if len(r.j.Forced) != 1 || r.j.Forced[0].Reason != "CHG-42 adds a subnet first" {
		t.Errorf("forced = %+v, want the override journaled", r.j.Forced)
	}
	if e := w.entry(t, string(PhasePreflight), "checks"); e.State != journal.Done || !strings.Contains(e.Data["config"], "demo-green") {
		t.Errorf("checks = %+v, want done with green's config", e)
	}
}

func TestPreflightErrorClosesJournal(t *testing.T) {
	w := newWorld(t)
	o := w.options("1.34")
	o.Preflight = func(context.Context, preflight.Options) (*preflight.Plan, error) {
		return nil, errors.New("green's version 1.34 is not newer than demo-blue's 1.34")
	}
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "not newer") {
		t.Fatalf("err = %v, want the preflight's error", err)
	}
	j, err := w.backend.Journal(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if j == nil || j.Open() || !strings.Contains(j.Outcome, "failed at preflight") {
		t.Fatalf("journal = %+v, want it closed as failed at preflight", j)
	}
}

func TestRunRejectsBadVersionBeforeJournal(t *testing.T) {
	w := newWorld(t)
	_, err := Run(context.Background(), w.options("1.x"))
	if err == nil || !strings.Contains(err.Error(), `"1.x" is not an EKS Kubernetes version`) {
		t.Fatalf("err = %v, want the version named", err)
	}
	if j, err := w.backend.Journal(context.Background(), "demo"); err != nil || j != nil {
		t.Errorf("journal = %+v, %v; want none opened", j, err)
	}
}

// --- create-green ---

func TestCreateGreen(t *testing.T) {
	for _, c := range []struct {
		name string
		// setup prepares green before the phase.
		setup       func(w *world)
		wantCreate  int
		wantNGs     int
		wantErrText string
	}{
		{name: "absent: created", setup: func(*world) {}, wantCreate: 1},
		{name: "exists without node groups (a killed eksctl): adopted, node groups created", wantNGs: 1,
			setup: func(w *world) { w.eks.PutCluster("demo-green", "1.34", ekstypes.ClusterStatusActive) }},
		{name: "exists at another version (kept by a rollback): refused", wantErrText: "already exists at Kubernetes 1.33, but this upgrade builds it at 1.34",
			setup: func(w *world) { w.eks.PutCluster("demo-green", "1.33", ekstypes.ClusterStatusActive) }},
		{name: "exists with a node group green's config lacks: refused", wantErrText: "node groups legacy that green's config does not have",
			setup: func(w *world) {
				w.eks.PutCluster("demo-green", "1.34", ekstypes.ClusterStatusActive)
				w.eks.PutNodegroup("demo-green", "legacy", 1, ekstypes.NodegroupStatusActive)
			}},
		{name: "being deleted: refused", wantErrText: "exists and is DELETING",
			setup: func(w *world) { w.eks.PutCluster("demo-green", "1.34", ekstypes.ClusterStatusDeleting) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			r := w.newRun("1.34")
			w.rendered(r, "1.34")
			c.setup(w)
			w.readyNodes("demo-green", 2)
			err := r.createGreen(context.Background())
			if c.wantErrText != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErrText) {
					t.Fatalf("err = %v, want it to say %q", err, c.wantErrText)
				}
				if strings.Contains(c.wantErrText, "already exists") && !strings.Contains(err.Error(), "eksctl delete cluster --name demo-green --region us-east-1 --wait") {
					t.Errorf("the refusal does not give the command to delete it: %v", err)
				}
				if n := w.prov.Count("CreateCluster") + w.prov.Count("CreateNodegroups"); n != 0 {
					t.Errorf("eksctl ran %d times on a refused green", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := w.prov.Count("CreateCluster"); n != c.wantCreate {
				t.Errorf("eksctl create cluster ran %d times, want %d", n, c.wantCreate)
			}
			if n := w.prov.Count("CreateNodegroups"); n != c.wantNGs {
				t.Errorf("eksctl create nodegroup ran %d times, want %d", n, c.wantNGs)
			}
			if e := w.entry(t, string(PhaseCreate), "wait for nodes"); e.State != journal.Done || e.Data["nodes"] != "2" {
				t.Errorf("wait for nodes = %+v", e)
			}
			// The headroom check asked about growing general from 2 to 4.
			if len(w.capacityAsked) != 1 || w.capacityAsked[0]["general"] != 2 {
				t.Errorf("capacity asked about %v, want general +2", w.capacityAsked)
			}
		})
	}
}

// --- shift ---

// atParity returns a run whose journal is past parity, green running.
func atParity(t *testing.T) (*world, *run) {
	w := newWorld(t)
	r := w.newRun("1.34")
	w.rendered(r, "1.34")
	w.greenRunning("1.34")
	w.done(r, nil, "create-green/", "register/", "parity/")
	return w, r
}

func TestShiftStepsUnderGates(t *testing.T) {
	w, r := atParity(t)
	w.healthyMetrics()
	start := w.clock.Now()
	if err := r.shift(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := w.greenWeightsWritten(); !equal(got, []int32{10, 50, 100}) {
		t.Errorf("green's weights written = %v, want 10, 50, 100", got)
	}
	for _, s := range []string{"10%", "50%", "100%"} {
		if e := w.entry(t, string(PhaseShift), s); e.State != journal.Done || e.Data["requests"] != "500" {
			t.Errorf("step %s = %+v", s, e)
		}
	}
	// Each step baked its whole 2 minutes on the clock.
	if d := w.clock.Now().Sub(start); d < 3*2*time.Minute {
		t.Errorf("the shift took %s of clock time, want at least three 2m bakes", d)
	}
}

func TestShiftHoldsOnUnhealthyGreen(t *testing.T) {
	w, r := atParity(t)
	w.healthyMetrics()
	w.elb.SetTargets(testGreenTG, map[string]elbtypes.TargetHealthStateEnum{"10.0.2.10": elbtypes.TargetHealthStateEnumUnhealthy})
	err := r.shift(context.Background())
	var hold *HoldError
	if !errors.As(err, &hold) || !strings.Contains(hold.Reason, "10.0.2.10") {
		t.Fatalf("err = %v, want a hold naming the unhealthy target", err)
	}
	if n := w.elb.Count("ModifyRule"); n != 0 {
		t.Errorf("%d weight writes while green had an unhealthy target", n)
	}
}

func TestShiftHoldsWhenSubnetsCannotHoldGreen(t *testing.T) {
	w, r := atParity(t)
	w.healthyMetrics()
	// Blue has 30 nodes: green needs 3 at 10%, one more than it has.
	w.eks.PutNodegroup("demo-blue", "general", 30, ekstypes.NodegroupStatusActive)
	w.capacity = func() []findings.Finding {
		return []findings.Finding{{Severity: findings.Fail, Check: "capacity", What: "us-east-1a has 0 free addresses", Fix: "add a subnet"}}
	}
	err := r.shift(context.Background())
	var hold *HoldError
	if !errors.As(err, &hold) || !strings.Contains(hold.Reason, "at 10%") {
		t.Fatalf("err = %v, want a capacity hold at 10%%", err)
	}
	if len(w.capacityAsked) == 0 || w.capacityAsked[0]["general"] != 1 {
		t.Errorf("capacity asked about %v, want one more general node", w.capacityAsked)
	}
	if n := w.elb.Count("ModifyRule"); n != 0 {
		t.Errorf("%d weight writes while the subnets could not hold green", n)
	}
}

func TestShiftBreachRevertsToLive(t *testing.T) {
	w, r := atParity(t)
	w.healthyMetrics()
	// Green's errors rise once it takes half the traffic.
	w.elb.OnModify = func(_ string, ws map[string]int32) {
		if ws[testGreenTG] == 50 {
			w.cw.Set("", map[string]float64{"RequestCount": 1000, "HTTPCode_Target_5XX_Count": 80, "TargetResponseTime": 0.05, "HealthyHostCount": 2})
		}
	}
	err := r.shift(context.Background())
	var breach *GateBreachError
	if !errors.As(err, &breach) || breach.Step != 50 {
		t.Fatalf("err = %v, want a breach at 50%%", err)
	}
	if b, g := w.weights(); b != 100 || g != 0 {
		t.Errorf("weights after the breach = %d/%d, want 100/0", b, g)
	}
	if e := w.entry(t, string(PhaseShift), "10%"); e.State != journal.Reverted {
		t.Errorf("the 10%% step = %+v, want reverted so that a rerun starts over", e)
	}
	// The breach was caught within one gate interval of the step.
	writes := w.greenWeightsWritten()
	if !equal(writes, []int32{10, 50, 0}) {
		t.Errorf("green's weights written = %v, want 10, 50, then 0", writes)
	}
}

// --- hand-off ---

func TestHandoffSuspendsBlueBeforeActivatingGreen(t *testing.T) {
	w, r := atParity(t)
	w.done(r, nil, "shift/100%", "shift/")
	w.elb.PutForwardRule(testRule, testBlueTG, testGreenTG, 0, 100)
	// Blue runs a singleton Job that takes three looks to finish.
	blue := w.cluster("demo-blue").Core.(*k8sfake.Clientset)
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "nightly"},
		Spec:   batchv1.CronJobSpec{Suspend: ptr(true)},
		Status: batchv1.CronJobStatus{Active: []corev1.ObjectReference{{Name: "nightly-1"}}}}
	looks := 0
	activatedAfterLooks := -1
	blue.PrependReactor("list", "cronjobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		looks++
		c := cj.DeepCopy()
		if looks >= 3 {
			c.Status.Active = nil
		}
		return true, &batchv1.CronJobList{Items: []batchv1.CronJob{*c}}, nil
	})
	w.argo.OnLabel = func(cluster, value string) {
		if cluster == "demo-green" && value == gitops.SingletonsActive && activatedAfterLooks < 0 {
			activatedAfterLooks = looks
		}
	}
	if err := r.handoff(context.Background()); err != nil {
		t.Fatal(err)
	}
	labels := w.argo.SingletonLabels()
	iBlue, iGreen := indexOf(labels, "demo-blue=suspended"), indexOf(labels, "demo-green=active")
	if iBlue < 0 || iGreen < 0 || iBlue > iGreen {
		t.Errorf("singleton labels in order %v: blue must be suspended before green is activated", labels)
	}
	if activatedAfterLooks < 3 {
		t.Errorf("green was activated after %d looks at blue's CronJobs, before blue's Job finished (3rd look)", activatedAfterLooks)
	}
}

func TestHandoffWaitsForAllTrafficOnGreen(t *testing.T) {
	w, r := atParity(t)
	w.done(r, nil, "shift/100%", "shift/")
	w.elb.PutForwardRule(testRule, testBlueTG, testGreenTG, 50, 50) // moved back by hand
	err := r.handoff(context.Background())
	if err == nil || !strings.Contains(err.Error(), "singletons stay on demo-blue") {
		t.Fatalf("err = %v, want the hand-off refused while traffic is split", err)
	}
	if labels := w.argo.SingletonLabels(); indexOf(labels, "demo-blue=suspended") >= 0 {
		t.Errorf("blue's singletons were suspended with half the traffic on blue: %v", labels)
	}
}

// --- teardown ---

// atTeardown returns a run whose journal is past the hand-off, all the
// traffic on green, blue still running with a TargetGroupBinding whose
// deletion deregisters blue's targets.
func atTeardown(t *testing.T) (*world, *run) {
	w, r := atParity(t)
	w.done(r, nil, "shift/100%", "shift/", "hand-off/")
	w.elb.PutForwardRule(testRule, testBlueTG, testGreenTG, 0, 100)
	blue := w.cluster("demo-blue")
	tgb := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding",
		"metadata": map[string]any{"name": "web", "namespace": "shop"}, "spec": map[string]any{"targetGroupARN": testBlueTG}}}
	if _, err := blue.Dynamic.Resource(gitops.TargetGroupBindingGVR).Namespace("shop").Create(context.Background(), tgb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	blue.Dynamic.(interface {
		PrependReactor(verb, resource string, reaction k8stesting.ReactionFunc)
	}).PrependReactor("delete", "targetgroupbindings", func(k8stesting.Action) (bool, runtime.Object, error) {
		w.elb.SetTargets(testBlueTG, nil) // the controller deregisters them
		return false, nil, nil
	})
	return w, r
}

func TestTeardownAwaitsApproval(t *testing.T) {
	w, r := atTeardown(t)
	err := r.teardown(context.Background())
	var aw *AwaitingApproval
	if !errors.As(err, &aw) || !strings.Contains(aw.Command, "--approve") {
		t.Fatalf("err = %v, want AwaitingApproval with the command", err)
	}
	if n := w.prov.Count("DeleteCluster"); n != 0 {
		t.Errorf("blue deleted without approval")
	}
}

func TestTeardownRemovesBlueAndFindsNothingLeft(t *testing.T) {
	w, r := atTeardown(t)
	r.o.Approve = true
	w.elb.SetDeregistrationDelay(testBlueTG, 300)
	start := w.clock.Now()
	if err := r.teardown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if w.eks.HasCluster("demo-blue") {
		t.Error("blue still exists")
	}
	// The 100% step was journaled at start: the drain waited out the
	// 300 s deregistration delay before anything was deleted.
	if d := w.clock.Now().Sub(start); d < 300*time.Second {
		t.Errorf("the drain waited %s, want the 300s deregistration delay", d)
	}
	if e := w.entry(t, string(PhaseTeardown), "verify nothing is left"); e.State != journal.Done {
		t.Errorf("verify = %+v", e)
	}
}

func TestTeardownDetectsLeftovers(t *testing.T) {
	w, r := atTeardown(t)
	r.o.Approve = true
	w.ec2.PutENI("eni-0b1ue", map[string]string{"cluster.k8s.amazonaws.com/name": "demo-blue"})
	w.ec2.PutENI("eni-0green", map[string]string{"cluster.k8s.amazonaws.com/name": "demo-green"})
	err := r.teardown(context.Background())
	if err == nil || !strings.Contains(err.Error(), "ENI eni-0b1ue") || strings.Contains(err.Error(), "eni-0green") {
		t.Fatalf("err = %v, want blue's ENI (and only it) reported left behind", err)
	}
	if e := w.entry(t, string(PhaseTeardown), "verify nothing is left"); e.State != journal.Failed {
		t.Errorf("verify = %+v, want failed", e)
	}
}

// TestTeardownRefusesWhenTrafficMovedBack: the drain passed, then someone
// shifted traffic back by hand (a killed run, then 'eksbg shift'); the
// resumed teardown must not delete blue's targets or cluster.
func TestTeardownRefusesWhenTrafficMovedBack(t *testing.T) {
	w, r := atTeardown(t)
	r.o.Approve = true
	w.done(r, nil, "teardown/drain")
	w.elb.PutForwardRule(testRule, testBlueTG, testGreenTG, 50, 50)
	err := r.teardown(context.Background())
	if err == nil || !strings.Contains(err.Error(), "refusing to remove from Argo CD") || !strings.Contains(err.Error(), "eksbg rollback --env demo") {
		t.Fatalf("err = %v, want the teardown refused with the safe commands", err)
	}
	if _, err := w.argo.Core.CoreV1().Secrets("argocd").Get(context.Background(), gitops.SecretName("demo-blue"), metav1.GetOptions{}); err != nil {
		t.Errorf("blue was removed from Argo CD while it had traffic: %v", err)
	}
	if n := w.prov.Count("DeleteCluster"); n != 0 {
		t.Error("blue deleted while it had traffic")
	}
}

// TestShiftRefusedDuringTeardown is the shift-during-teardown sequence:
// 'upgrade --approve' passed its drain and was killed; 'eksbg shift
// --weight 0' must be refused, because the resumed teardown deletes blue.
func TestShiftRefusedDuringTeardown(t *testing.T) {
	w, r := atTeardown(t)
	w.done(r, nil, "teardown/drain")
	r.release()
	r.lock = nil
	err := Shift(context.Background(), w.options("1.34"), 0)
	if err == nil || !strings.Contains(err.Error(), "is being torn down") || !strings.Contains(err.Error(), "--approve") {
		t.Fatalf("err = %v, want the shift refused during teardown", err)
	}
	if b, g := w.weights(); b != 0 || g != 100 {
		t.Errorf("weights = %d/%d after the refused shift, want 0/100", b, g)
	}
}

func equal(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func ptr[T any](v T) *T { return &v }

// --- rollback ---

func TestRollbackRefusedOnceBlueIsBeingTornDown(t *testing.T) {
	w, r := atTeardown(t)
	w.done(r, nil, "teardown/drain")
	r.j.Entries = append(r.j.Entries, journal.Entry{Phase: string(PhaseTeardown), Step: "remove from Argo CD", State: journal.Started, At: w.clock.Now()})
	if err := r.save(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.release()
	_, err := Rollback(context.Background(), w.options("1.34"), true)
	if err == nil || !strings.Contains(err.Error(), "is being torn down") || !strings.Contains(err.Error(), "--approve") {
		t.Fatalf("err = %v, want the rollback refused", err)
	}
	if b, g := w.weights(); b != 0 || g != 100 {
		t.Errorf("weights = %d/%d after the refused rollback, want 0/100", b, g)
	}
}

// TestResumedRollbackKeepsGreenWhileItHasTraffic: a rollback put traffic
// on blue and was killed; someone shifted half back to green; the resumed
// rollback must not take green out of Argo CD or delete it.
func TestResumedRollbackKeepsGreenWhileItHasTraffic(t *testing.T) {
	w, r := atParity(t)
	w.done(r, nil, "rollback/traffic to blue", "rollback/singletons to blue")
	w.elb.PutForwardRule(testRule, testBlueTG, testGreenTG, 50, 50)
	r.release()
	_, err := Rollback(context.Background(), w.options("1.34"), true)
	if err == nil || !strings.Contains(err.Error(), "refusing to remove green from Argo CD") {
		t.Fatalf("err = %v, want the resumed rollback refused", err)
	}
	if !w.eks.HasCluster("demo-green") || w.prov.Count("DeleteCluster") != 0 {
		t.Error("green was deleted while it had traffic")
	}
	if _, err := w.argo.Core.CoreV1().Secrets("argocd").Get(context.Background(), gitops.SecretName("demo-green"), metav1.GetOptions{}); err != nil {
		t.Errorf("green was removed from Argo CD while it had traffic: %v", err)
	}
}

func TestShiftRefusedDuringRollback(t *testing.T) {
	w, r := atParity(t)
	w.done(r, nil, "rollback/traffic to blue")
	r.release()
	err := Shift(context.Background(), w.options("1.34"), 50)
	if err == nil || !strings.Contains(err.Error(), "a rollback of upgrade") {
		t.Fatalf("err = %v, want the shift refused during a rollback", err)
	}
	if n := w.elb.Count("ModifyRule"); n != 0 {
		t.Errorf("%d weight writes during a rollback", n)
	}
}

func TestRollbackPutsEverythingBackOnBlue(t *testing.T) {
	w, r := atParity(t)
	w.elb.PutForwardRule(testRule, testBlueTG, testGreenTG, 50, 50)
	r.release()
	if _, err := Rollback(context.Background(), w.options("1.34"), true); err != nil {
		t.Fatal(err)
	}
	if b, g := w.weights(); b != 100 || g != 0 {
		t.Errorf("weights = %d/%d, want 100/0", b, g)
	}
	if w.eks.HasCluster("demo-green") {
		t.Error("green still exists after rollback --delete-green")
	}
	labels := w.argo.SingletonLabels()
	if labels[len(labels)-1] != "demo-blue=active" {
		t.Errorf("singleton labels %v: blue's must end active", labels)
	}
	j, _ := w.backend.Journal(context.Background(), "demo")
	if j.Open() || !strings.HasPrefix(j.Outcome, "rolled back") {
		t.Errorf("journal outcome %q open=%v, want closed as rolled back", j.Outcome, j.Open())
	}
}

// TestRollbackRerunConverges: a rollback killed right after it closed the
// journal is rerun: nothing to do, exit 0. A rollback that kept green,
// then asked again with --delete-green (as its outcome says to): green
// is deleted, and the outcome says so.
func TestRollbackRerunConverges(t *testing.T) {
	w, r := atParity(t)
	r.release()
	if _, err := Rollback(context.Background(), w.options("1.34"), false); err != nil {
		t.Fatal(err)
	}
	j, _ := w.backend.Journal(context.Background(), "demo")
	if !strings.Contains(j.Outcome, "eksbg rollback --env demo --delete-green") || !w.eks.HasCluster("demo-green") {
		t.Fatalf("outcome %q, green exists %v: want green kept and the command to delete it", j.Outcome, w.eks.HasCluster("demo-green"))
	}
	if _, err := Rollback(context.Background(), w.options("1.34"), false); err != nil {
		t.Fatalf("rerun: %v, want nothing to do", err)
	}
	if !contains(w.eventsOf(Info), "was already rolled back") {
		t.Errorf("infos %v, want 'already rolled back'", w.eventsOf(Info))
	}
	if _, err := Rollback(context.Background(), w.options("1.34"), true); err != nil {
		t.Fatalf("--delete-green after a rollback that kept green: %v", err)
	}
	if w.eks.HasCluster("demo-green") {
		t.Error("green still exists")
	}
	if j, _ := w.backend.Journal(context.Background(), "demo"); j.Outcome != "rolled back" {
		t.Errorf("outcome %q, want 'rolled back'", j.Outcome)
	}
}

// TestUpgradeRerunAfterCompletion: the same upgrade command rerun after
// it completed (a crash right after its last save looks the same) has
// nothing to do: no new journal, no preflight, no error.
func TestUpgradeRerunAfterCompletion(t *testing.T) {
	w, r := atParity(t)
	now := w.clock.Now()
	r.j.EndedAt, r.j.Outcome = &now, outcomeCompleted
	if err := r.save(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.release()
	o := w.options("1.34")
	o.Preflight = func(context.Context, preflight.Options) (*preflight.Plan, error) {
		t.Error("the preflight ran for a completed upgrade")
		return nil, errors.New("no")
	}
	sum, err := Run(context.Background(), o)
	if err != nil || sum == nil || sum.Journal.ID != r.j.ID {
		t.Fatalf("rerun = %+v, %v; want the completed journal and no error", sum, err)
	}
	if !contains(w.eventsOf(Info), "already completed") {
		t.Errorf("infos %v", w.eventsOf(Info))
	}
}
