package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eksbg/eksbg/internal/config"
)

// useS3State points the workspace's environment at an S3 state backend
// in the emulator (a bucket it creates).
func useS3State(t *testing.T, cfg aws.Config, ws string) {
	t.Helper()
	const bucket = "eksbg-state"
	if _, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(ws, "eksbg.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), "    state: {lockLease: 2s}\n", "    state: {backend: s3, bucket: "+bucket+", prefix: teams/platform, lockLease: 2s}\n", 1)
	if s == string(data) {
		t.Fatal("the workspace's eksbg.yaml has no state section to change (compressTraffic adds it)")
	}
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// killChain runs `eksbg ARGS` again and again, each run killing itself
// with SIGKILL right after its 1st, 2nd or 3rd journal save in turn, until
// one exits 0 saying done; it returns how many runs were killed.
func killChain(t *testing.T, what, done string, args ...string) int {
	t.Helper()
	killed := 0
	for run := 0; ; run++ {
		if run > 200 {
			t.Fatalf("%s did not finish after %d runs", what, run)
		}
		k := run%3 + 1
		cmd, out := eksbgProc(t.Context(), args...)
		cmd.Env = append(os.Environ(), fmt.Sprintf("EKSBG_TEST_KILL_AFTER_SAVE=%d", k))
		err := cmd.Run()
		if code := exitOf(err); code == 0 {
			if !strings.Contains(out.String(), done) {
				t.Fatalf("%s: run %d exited 0 without %q:\n%s", what, run, done, out)
			}
			return killed
		} else if !killedBySIGKILL(err) {
			t.Fatalf("%s: run %d (kill after save %d) exited %d instead of being killed or finishing:\n%s", what, run, k, code, out)
		}
		killed++
	}
}

// TestCommandsCrashMatrixS3 holds the commands other than `upgrade` to the
// crash matrix's standard, on the S3 state backend in the emulator: two
// upgrades started together (exactly one proceeds); `shift`, `rollback`
// (green kept) and then `rollback --delete-green` killed at every journal
// boundary until each finishes; then an upgrade killed at random moments
// until it completes.
// The traffic monitor watches throughout that no rule sends traffic to a
// target group without a healthy target.
func TestCommandsCrashMatrixS3(t *testing.T) {
	ws, rt := sandboxUp(t)
	compressTraffic(t, ws)
	w := newDemoWorld(t, ws, rt)
	useS3State(t, w.cfg, ws)
	w = newDemoWorld(t, ws, rt)
	if w.env.State.Backend != config.StateBackendS3 {
		t.Fatalf("state = %+v, want the s3 backend", w.env.State)
	}
	mon := monitorOnceSteady(t, w)

	// Two upgrades at once on one S3 environment: exactly one proceeds
	// (to the hand-off; no --approve), the other is refused naming it.
	a, outA := eksbgProc(t.Context(), "upgrade", "--env", "demo", "--to", "1.34", "--gate-interval", "1s")
	b, outB := eksbgProc(t.Context(), "upgrade", "--env", "demo", "--to", "1.34", "--gate-interval", "1s")
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	errA, errB := a.Wait(), b.Wait()
	codes := []int{exitOf(errA), exitOf(errB)}
	outs := []string{outA.String(), outB.String()}
	winners, refused := 0, 0
	for i := range codes {
		switch {
		case codes[i] == 0 && strings.Contains(outs[i], "kept until you approve its teardown"):
			winners++
		case codes[i] == 1 && strings.Contains(outs[i], "is locked by"):
			refused++
		default:
			t.Errorf("upgrade %d: exit %d:\n%s", i, codes[i], outs[i])
		}
	}
	if winners != 1 || refused != 1 {
		t.Fatalf("two upgrades on one S3 environment: %d proceeded and %d were refused, want 1 and 1", winners, refused)
	}

	// shift, killed at its journal boundaries, until it holds at 50%.
	shiftKills := killChain(t, "shift --weight 50", "", "shift", "--env", "demo", "--weight", "50", "--gate-interval", "1s")
	if shiftKills == 0 {
		t.Error("no shift run was killed: the chain tested nothing")
	}
	if g := w.greenWeight(t); g != 50 {
		t.Errorf("green's weight after the shift chain = %d, want 50", g)
	}

	// rollback (green kept), killed at its journal boundaries; then
	// rollback --delete-green, as its outcome says, killed likewise.
	rollbackKills := killChain(t, "rollback", "rolled back", "rollback", "--env", "demo")
	if rollbackKills == 0 {
		t.Error("no rollback run was killed: the chain tested nothing")
	}
	if g := w.greenWeight(t); g != 0 {
		t.Errorf("green's weight after the rollback = %d, want 0", g)
	}
	deleteKills := killChain(t, "rollback --delete-green", "rolled back", "rollback", "--env", "demo", "--delete-green")
	checkRolledBack(t, w, ws)

	// An upgrade on S3 killed at random moments until it completes.
	rnd := rand.New(rand.NewPCG(3, 17))
	randomKills := 0
	for run := 0; ; run++ {
		if run > 200 {
			t.Fatalf("the upgrade on S3 did not complete after %d runs", run)
		}
		cmd, out := eksbgProc(t.Context(), "upgrade", "--env", "demo", "--to", "1.34", "--approve", "--gate-interval", "1s")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		if randomKills < 15 {
			select {
			case err = <-done:
			case <-time.After(time.Duration(300+rnd.IntN(3000)) * time.Millisecond):
				_ = cmd.Process.Signal(syscall.SIGKILL)
				if err = <-done; killedBySIGKILL(err) {
					randomKills++
					continue
				}
			}
		} else {
			err = <-done
		}
		if code := exitOf(err); code != 0 || !strings.Contains(out.String(), ": completed") {
			t.Fatalf("run %d of the upgrade on S3: exit %d:\n%s", run, code, out)
		}
		break
	}
	checkInvariants(t, w.cfg, ws, w.env, "green", "1.34")
	mon.finish(t)
	t.Logf("on the s3 backend: 2 concurrent upgrades (1 proceeded, 1 refused); runs killed at journal boundaries: shift %d, rollback %d, rollback --delete-green %d; upgrade: %d killed at random moments; all converged",
		shiftKills, rollbackKills, deleteKills, randomKills)
}

// checkRolledBack checks the end state of `rollback --delete-green`: blue
// alone serves, with all the traffic and its singletons; green, its
// targets, ENIs and Argo CD secret are gone; the journal is closed.
func checkRolledBack(t *testing.T, w *demoWorld, ws string) {
	t.Helper()
	ctx := t.Context()
	eksc := eks.NewFromConfig(w.cfg)
	list, err := eksc.ListClusters(ctx, &eks.ListClustersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(list.Clusters, ","); got != "demo-blue,mgmt" && got != "mgmt,demo-blue" {
		t.Errorf("clusters after the rollback: %s", got)
	}
	for _, rw := range mustWeights(t, w.sh) {
		if rw.Blue != 100 || rw.Green != 0 {
			t.Errorf("weights after the rollback: %+v", rw)
		}
	}
	enis, err := ec2.NewFromConfig(w.cfg).DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:cluster.k8s.amazonaws.com/name"), Values: []string{"demo-green"}}}})
	if err != nil || len(enis.NetworkInterfaces) != 0 {
		t.Errorf("ENIs of demo-green left: %v (%v)", enis, err)
	}
	if got := argoClusterSecrets(t, w.cfg); got != "cluster-demo-blue=active" {
		t.Errorf("cluster secrets after the rollback: %s", got)
	}
	j, err := stateBackend(t, w.cfg, ws, w.env).Journal(context.WithoutCancel(ctx), "demo")
	if err != nil || j == nil || j.Open() || !strings.HasPrefix(j.Outcome, "rolled back") {
		t.Errorf("journal after the rollback: %+v %v", j, err)
	}
}
