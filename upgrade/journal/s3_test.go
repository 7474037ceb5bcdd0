package journal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// objects lists the emulator's objects of a bucket: key -> SSE (and KMS key).
func objects(env *sandboxtest.Env, bucket string) map[string]string {
	out := map[string]string{}
	env.Server.View(func(w *emulator.World) {
		for k, o := range w.Buckets[bucket].Objects {
			out[k] = strings.TrimSuffix(o.SSE+" "+o.SSEKMSKeyID, " ")
		}
	})
	return out
}

// TestS3Layout: the keys under the prefix, and the server-side encryption
// every put asks for.
func TestS3Layout(t *testing.T) {
	env := sandboxtest.StartYAML(t, stateScenario)
	ctx := t.Context()
	c := NewS3Client(env.AWS)
	kms := "arn:aws:kms:eu-west-1:111122223333:key/0e8b5a4c-1111-2222-3333-444455556666"
	for _, b := range []*S3{
		{Client: c, Bucket: "eksbg-state", Prefix: "/teams/platform/"},
		{Client: c, Bucket: "eksbg-state", SSE: types.ServerSideEncryptionAwsKms, KMSKeyID: kms},
	} {
		if _, err := b.Lock(ctx, "prod", LockInfo{Who: "alice"}); err != nil {
			t.Fatal(err)
		}
		if err := b.SaveJournal(ctx, "prod", &Journal{ID: "u1"}); err != nil {
			t.Fatal(err)
		}
		if err := b.SaveLive(ctx, "prod", &Live{Color: "blue"}); err != nil {
			t.Fatal(err)
		}
	}
	got := objects(env, "eksbg-state")
	want := map[string]string{
		"teams/platform/prod/lock.json": "AES256", "teams/platform/prod/journal.json": "AES256", "teams/platform/prod/live.json": "AES256",
		"prod/lock.json": "aws:kms " + kms, "prod/journal.json": "aws:kms " + kms, "prod/live.json": "aws:kms " + kms,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("objects:\n%v\nwant\n%v", got, want)
	}
	// A missing bucket is an error, not an empty state.
	missing := &S3{Client: c, Bucket: "no-such-bucket"}
	if _, err := missing.Journal(ctx, "prod"); err == nil || !strings.Contains(err.Error(), "NoSuchBucket") {
		t.Errorf("journal in a missing bucket: %v", err)
	}
	if _, err := missing.Lock(ctx, "prod", LockInfo{}); err == nil || errors.As(err, new(*LockedError)) {
		t.Errorf("lock in a missing bucket: %v", err)
	}
}

// TestS3Throttled: with 30% of S3 calls throttled (503 SlowDown), the
// SDK's retryer carries a whole upgrade's state traffic through.
func TestS3Throttled(t *testing.T) {
	env := sandboxtest.StartYAML(t, stateScenario, sandboxtest.WithRand(rand.New(rand.NewPCG(7, 8))))
	req, _ := http.NewRequest(http.MethodPut, env.URL+"/_sandbox/faults", strings.NewReader(`[{"service":"s3","operation":"*","throttleRate":0.3}]`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("setting faults: %v %v", resp, err)
	}
	resp.Body.Close()
	c := NewS3Client(env.AWS, func(o *s3.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 10
			so.MaxBackoff = 5 * time.Millisecond
		})
	})
	b := &S3{Client: c, Bucket: "eksbg-state"}
	ctx := t.Context()
	lock, err := b.Lock(ctx, "prod", LockInfo{Who: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SaveJournal(ctx, "prod", &Journal{ID: "u1"}); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		j, err := b.Journal(ctx, "prod")
		if err != nil {
			t.Fatal(err)
		}
		j.Entries = append(j.Entries, Entry{Phase: "shift", Step: fmt.Sprint(i), State: Done})
		if err := b.SaveJournal(ctx, "prod", j); err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
	}
	if err := b.Unlock(ctx, "prod", lock.ID); err != nil {
		t.Fatal(err)
	}
	j, err := b.Journal(ctx, "prod")
	if err != nil || j.Version != 21 || len(j.Entries) != 20 {
		t.Fatalf("journal after throttling: %+v, %v", j, err)
	}
	throttled := map[string]int{}
	for _, st := range env.Server.Stats() {
		if st.Service == "s3" {
			throttled[st.Operation] = st.Throttled
		}
	}
	if throttled["PutObject"] == 0 || throttled["GetObject"] == 0 {
		t.Errorf("throttled calls %v: the test throttled nothing", throttled)
	}
}

// lossyTransport delivers every request but loses the answer of the first
// request of each operation named in lose, as a connection reset after
// the server acted would.
type lossyTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	lose map[string]bool // "PUT lock.json" ...
	lost []string
}

func (l *lossyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	key := r.Method + " " + r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lose[key] {
		delete(l.lose, key)
		l.lost = append(l.lost, fmt.Sprintf("%s (%d)", key, resp.StatusCode))
		resp.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return resp, nil
}

// TestS3LostAnswers: when a write succeeds but its answer is lost, the
// SDK's retry finds its own write (412 or 404); the backend recognises it
// instead of reporting a rival.
func TestS3LostAnswers(t *testing.T) {
	env := sandboxtest.StartYAML(t, stateScenario)
	tr := &lossyTransport{next: http.DefaultTransport, lose: map[string]bool{"PUT lock.json": true, "PUT journal.json": true, "DELETE lock.json": true}}
	c := NewS3Client(env.AWS, func(o *s3.Options) {
		o.HTTPClient = &http.Client{Transport: tr}
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.MaxBackoff = 5 * time.Millisecond })
	})
	b := &S3{Client: c, Bucket: "eksbg-state"}
	ctx := t.Context()
	lock, err := b.Lock(ctx, "prod", LockInfo{Who: "alice"})
	if err != nil {
		t.Fatalf("Lock whose first answer was lost: %v", err)
	}
	if err := b.SaveJournal(ctx, "prod", &Journal{ID: "u1"}); err != nil {
		t.Fatalf("first journal save whose answer was lost: %v", err)
	}
	j, err := b.Journal(ctx, "prod")
	if err != nil || j.Version != 1 {
		t.Fatalf("journal %+v, %v", j, err)
	}
	if err := b.Unlock(ctx, "prod", lock.ID); err != nil {
		t.Fatalf("Unlock whose answer was lost: %v", err)
	}
	sort.Strings(tr.lost)
	if got := strings.Join(tr.lost, ", "); got != "DELETE lock.json (204), PUT journal.json (200), PUT lock.json (200)" {
		t.Fatalf("lost answers: %s", got)
	}
	if h, err := b.LockHolder(ctx, "prod"); err != nil || h != nil {
		t.Errorf("lock after Unlock: %+v, %v", h, err)
	}
}

func TestForEnvironment(t *testing.T) {
	env := sandboxtest.StartYAML(t, stateScenario)
	c := NewS3Client(env.AWS)
	for _, tt := range []struct {
		name string
		st   config.State
		s3c  S3API
		want string // %T and fields of the backend, or the error
	}{
		{"local default", config.State{}, nil, "*journal.Local /proj/.eksbg/state"},
		{"local relative", config.State{Backend: "local", Dir: "state"}, nil, "*journal.Local /proj/state"},
		{"local absolute", config.State{Backend: "local", Dir: "/var/eksbg"}, c, "*journal.Local /var/eksbg"},
		{"s3", config.State{Backend: "s3", Bucket: "eksbg-state", Prefix: "p"}, c, "*journal.S3 eksbg-state p"},
		{"s3 without a client", config.State{Backend: "s3", Bucket: "eksbg-state"}, nil, "error: state backend s3 (bucket eksbg-state) needs an S3 client"},
		{"s3 without a bucket", config.State{Backend: "s3"}, c, "error: state backend s3 needs state.bucket"},
		{"unknown", config.State{Backend: "gcs"}, nil, `error: state backend "gcs" is not supported: use local or s3`},
	} {
		b, err := ForEnvironment(tt.st, "/proj", tt.s3c)
		var got string
		switch v := b.(type) {
		case *Local:
			got = fmt.Sprintf("%T %s", v, v.Dir)
		case *S3:
			got = fmt.Sprintf("%T %s %s", v, v.Bucket, v.Prefix)
		}
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestS3LockAcrossProcesses: eksbg processes on "different laptops" (each
// its own process and S3 client) race for the lock through the emulator;
// one wins and the others name it. The test binary is each eksbg: run with
// EKSBG_S3_LOCKER set, this test takes the lock and prints the outcome.
func TestS3LockAcrossProcesses(t *testing.T) {
	if url := os.Getenv("EKSBG_S3_LOCKER"); url != "" {
		s3LockerProcess(url)
		return
	}
	env := sandboxtest.StartYAML(t, stateScenario)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	outs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cmd := exec.CommandContext(t.Context(), self, "-test.run=^TestS3LockAcrossProcesses$")
			cmd.Env = append(os.Environ(), "EKSBG_S3_LOCKER="+env.URL)
			out, err := cmd.Output()
			if err != nil {
				outs[i] = "exec: " + err.Error()
				return
			}
			// The result is the line the locker printed; the test framework prints others.
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			for sc.Scan() {
				if r, ok := strings.CutPrefix(sc.Text(), "locker: "); ok {
					outs[i] = r
				}
			}
		})
	}
	wg.Wait()
	holder, err := (&S3{Client: NewS3Client(env.AWS), Bucket: "eksbg-state"}).LockHolder(t.Context(), "prod")
	if err != nil || holder == nil {
		t.Fatalf("holder: %+v, %v (outcomes %q)", holder, err, outs)
	}
	won := 0
	for _, o := range outs {
		switch o {
		case "won " + holder.ID:
			won++
		case "lost to " + holder.ID:
		default:
			t.Errorf("outcome %q; the holder is %s", o, holder.ID)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d processes won: %q", won, n, outs)
	}
}

func s3LockerProcess(url string) {
	cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: emulator.DefaultCredential.AccessKeyID, SecretAccessKey: emulator.DefaultCredential.SecretAccessKey}, nil
		})}
	b := &S3{Client: NewS3Client(cfg), Bucket: "eksbg-state"}
	info, err := b.Lock(context.Background(), "prod", LockInfo{Who: "proc", Host: "h", PID: os.Getpid(), Operation: "upgrade"})
	var le *LockedError
	switch {
	case err == nil:
		fmt.Println("locker: won " + info.ID)
	case errors.As(err, &le):
		fmt.Println("locker: lost to " + le.Holder.ID)
	default:
		fmt.Println("locker: error: " + err.Error())
	}
}
