package eksctl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fake eksctl is this test binary re-executed (terraform-exec's
// pattern): TestMain acts as eksctl when EKSBG_FAKE_EKSCTL names a
// behaviour.
func TestMain(m *testing.M) {
	if mode := os.Getenv("EKSBG_FAKE_EKSCTL"); mode != "" {
		os.Exit(fakeEksctl(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fakeEksctl(mode string, args []string) int {
	if len(args) > 0 && args[0] == "version" {
		if mode == "old" {
			fmt.Println("0.150.0")
		} else {
			fmt.Println("0.231.0")
		}
		return 0
	}
	switch mode {
	case "create":
		fmt.Println("2025-06-01 12:00:00 [ℹ]  eksctl version 0.231.0")
		fmt.Println(`2025-06-01 12:00:01 [ℹ]  deploying stack "eksctl-demo-green-cluster"`)
		fmt.Println("some table line")
		fmt.Fprintln(os.Stderr, "2025-06-01 12:00:02 [!]  a warning on stderr")
		fmt.Println(`2025-06-01 12:10:00 [✔]  EKS cluster "demo-green" in "us-east-1" region is ready`)
		fmt.Fprintln(os.Stderr, "ARGS:"+strings.Join(args, " "))
		return 0
	case "fail":
		fmt.Println("2025-06-01 12:00:00 [ℹ]  eksctl version 0.231.0")
		fmt.Println(`2025-06-01 12:00:01 [✖]  creating CloudFormation stack "eksctl-x-cluster": AlreadyExistsException`)
		fmt.Fprintln(os.Stderr, "Error: failed to create cluster \"x\"")
		return 1
	case "hang":
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		fmt.Println("2025-06-01 12:00:00 [ℹ]  waiting for CloudFormation stack")
		select {
		case <-sig:
			fmt.Println("2025-06-01 12:00:05 [!]  interrupted; stack eksctl-x-cluster left in CREATE_IN_PROGRESS")
			return 130
		case <-time.After(time.Minute):
			return 0
		}
	case "get":
		fmt.Fprintln(os.Stderr, "2025-06-01 12:00:00 [ℹ]  eksctl version 0.231.0")
		fmt.Println(`[{"Name":"demo-blue","Arn":"arn:aws:eks:us-east-1:111122223333:cluster/demo-blue","Version":"1.32","Status":"ACTIVE","Endpoint":"https://127.0.0.1:6443","CreatedAt":"2025-06-01T12:00:00Z","Tags":{"a":"b"},"ResourcesVpcConfig":{"VpcId":"vpc-1","SubnetIds":["subnet-1","subnet-2"]}}]`)
		return 0
	}
	return 2
}

func newFake(t *testing.T, mode string, opts ...Option) *Eksctl {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A directory holding "eksctl" as a link to the test binary, so the
	// PATH lookup is exercised too.
	dir := t.TempDir()
	link := filepath.Join(dir, "eksctl")
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("EKSBG_FAKE_EKSCTL", mode)
	e, err := New(t.Context(), "", opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if e.Path() != link {
		t.Fatalf("Path = %s, want %s", e.Path(), link)
	}
	return e
}

func TestNewRefusesOldAndMissing(t *testing.T) {
	self, _ := os.Executable()
	t.Setenv("EKSBG_FAKE_EKSCTL", "old")
	_, err := New(t.Context(), self)
	if err == nil || !strings.Contains(err.Error(), "0.150.0") || !strings.Contains(err.Error(), MinVersion.String()) {
		t.Fatalf("old eksctl: err = %v, want one naming 0.150.0 and %s", err, MinVersion)
	}
	_, err = New(t.Context(), filepath.Join(t.TempDir(), "no-eksctl"))
	if err == nil || !strings.Contains(err.Error(), "install it") {
		t.Fatalf("missing eksctl: err = %v, want advice to install it", err)
	}
}

func TestArgs(t *testing.T) {
	tests := []struct {
		got, want []string
	}{
		{CreateClusterArgs("/w/green.yaml"), []string{"create", "cluster", "-f", "/w/green.yaml", "--write-kubeconfig=false"}},
		{DeleteClusterArgs("demo-blue", "us-east-1"), []string{"delete", "cluster", "--name", "demo-blue", "--wait", "--region", "us-east-1"}},
		{DeleteClusterArgs("demo-blue", ""), []string{"delete", "cluster", "--name", "demo-blue", "--wait"}},
		{GetClusterArgs("demo-blue", "eu-west-1"), []string{"get", "cluster", "--name", "demo-blue", "-o", "json", "--region", "eu-west-1"}},
	}
	for _, tt := range tests {
		if !slices.Equal(tt.got, tt.want) {
			t.Errorf("args = %q, want %q", tt.got, tt.want)
		}
	}
	e := &Eksctl{path: "/usr/local/bin/eksctl", env: []string{"AWS_REGION=us-east-1"}, waitDelay: time.Second}
	cmd := e.Cmd(t.Context(), CreateClusterArgs("c.yaml")...)
	if cmd.Path != "/usr/local/bin/eksctl" || cmd.Args[1] != "create" || cmd.WaitDelay != time.Second || cmd.Cancel == nil {
		t.Fatalf("Cmd = %+v", cmd)
	}
	if !slices.Contains(cmd.Env, "AWS_REGION=us-east-1") {
		t.Fatalf("Cmd env lacks the option's variables")
	}

	// WithEnviron replaces the process's environment: the shell's
	// credentials never reach eksctl.
	t.Setenv("AWS_PROFILE", "management")
	e.environ = func(context.Context) ([]string, error) {
		return []string{"PATH=/usr/bin", "AWS_ACCESS_KEY_ID=AKIAWORKLOAD"}, nil
	}
	cmd = e.Cmd(t.Context(), "get", "cluster")
	if !slices.Contains(cmd.Env, "AWS_ACCESS_KEY_ID=AKIAWORKLOAD") || slices.Contains(cmd.Env, "AWS_PROFILE=management") {
		t.Fatalf("Cmd env = %v, want the environ function's, not the process's", cmd.Env)
	}
	// And when the credentials cannot be had, nothing starts.
	e.environ = func(context.Context) ([]string, error) { return nil, errors.New("no credentials") }
	cmd = e.Cmd(t.Context(), "get", "cluster")
	if err := cmd.Start(); err == nil || !strings.Contains(err.Error(), "no credentials") {
		t.Fatalf("Start = %v, want the credentials error", err)
	}
}

func TestCreateClusterStreamsEvents(t *testing.T) {
	var mu sync.Mutex
	var evs []Event
	e := newFake(t, "create", WithEvents(func(ev Event) { mu.Lock(); evs = append(evs, ev); mu.Unlock() }))
	if err := e.CreateCluster(t.Context(), "green.yaml"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(evs) != 4 {
		t.Fatalf("got %d events, want 4 (the table line and ARGS are not log lines): %+v", len(evs), evs)
	}
	byLevel := map[Level]Event{}
	for _, ev := range evs {
		byLevel[ev.Level] = ev
	}
	if ev := byLevel[LevelWarning]; !ev.Stderr || ev.Message != "a warning on stderr" {
		t.Errorf("warning event = %+v", ev)
	}
	if ev := byLevel[LevelSuccess]; !strings.Contains(ev.Message, "is ready") || ev.Time.Minute() != 10 {
		t.Errorf("success event = %+v", ev)
	}
	// stdout and stderr are read concurrently: find the stack line.
	i := slices.IndexFunc(evs, func(ev Event) bool { return ev.Stack != "" })
	if i < 0 || evs[i].Stack != "eksctl-demo-green-cluster" {
		t.Errorf("no event names the stack eksctl-demo-green-cluster: %+v", evs)
	}
}

func TestFailureCarriesOutput(t *testing.T) {
	e := newFake(t, "fail")
	err := e.CreateCluster(t.Context(), "x.yaml")
	var xe *ExitError
	if !errors.As(err, &xe) {
		t.Fatalf("err = %v, want *ExitError", err)
	}
	if xe.ExitCode != 1 || !strings.Contains(xe.Error(), "AlreadyExistsException") || !strings.Contains(xe.Error(), `failed to create cluster "x"`) {
		t.Fatalf("ExitError = %v (code %d), want code 1 with stdout and stderr lines", xe, xe.ExitCode)
	}
}

func TestCancelSendsInterrupt(t *testing.T) {
	var mu sync.Mutex
	var msgs []string
	started := make(chan struct{}, 1)
	e := newFake(t, "hang", WithWaitDelay(10*time.Second), WithEvents(func(ev Event) {
		mu.Lock()
		msgs = append(msgs, ev.Message)
		mu.Unlock()
		select {
		case started <- struct{}{}:
		default:
		}
	}))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.DeleteCluster(ctx, "x", "") }()
	<-started
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	// The fake prints this only when it receives SIGINT: eksctl got the
	// chance to say what it left behind.
	if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, "interrupted") }) {
		t.Fatalf("eksctl did not get SIGINT: events %q", msgs)
	}
}

func TestGetCluster(t *testing.T) {
	e := newFake(t, "get")
	c, err := e.GetCluster(t.Context(), "demo-blue", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "demo-blue" || c.Version != "1.32" || c.Status != "ACTIVE" || c.ResourcesVpcConfig.VpcId != "vpc-1" ||
		len(c.ResourcesVpcConfig.SubnetIds) != 2 || c.Tags["a"] != "b" || c.CreatedAt.Year() != 2025 {
		t.Fatalf("cluster = %+v", c)
	}
}

func TestParseLineAndVersion(t *testing.T) {
	for _, tt := range []struct {
		line string
		ok   bool
		lvl  Level
	}{
		{"2025-06-01 12:00:00 [ℹ]  using region us-east-1", true, LevelInfo},
		{"2025-06-01 12:00:00 [✖]  boom", true, LevelError},
		{"2025-06-01 12:00:00 [▶]  debug", true, LevelDebug},
		{"2025-06-01 12:00:00 [?]  unknown icon", false, ""},
		{"NAME\tREGION", false, ""},
		{"", false, ""},
	} {
		ev, ok := ParseLine(tt.line)
		if ok != tt.ok || ev.Level != tt.lvl {
			t.Errorf("ParseLine(%q) = %+v, %v", tt.line, ev, ok)
		}
	}
	for s, want := range map[string]Version{"0.231.0": {0, 231, 0}, "0.231.0-dev+abc": {0, 231, 0}, "v1.2.3": {1, 2, 3}} {
		if v, err := ParseVersion(s); err != nil || v != want {
			t.Errorf("ParseVersion(%q) = %v, %v", s, v, err)
		}
	}
	for _, s := range []string{"", "0.231", "a.b.c", "0.-1.0"} {
		if _, err := ParseVersion(s); err == nil {
			t.Errorf("ParseVersion(%q) succeeded", s)
		}
	}
	if !(Version{0, 207, 9}).Less(MinVersion) || MinVersion.Less(Version{0, 207, 9}) {
		t.Error("Less is wrong")
	}
}
