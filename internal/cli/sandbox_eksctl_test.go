package cli

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eksbg/eksbg/internal/eksctl"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
	"github.com/eksbg/eksbg/internal/sandbox/scenarios"
	"github.com/eksbg/eksbg/internal/testenv"
)

// TestMain lets the test binary play eksbg: with EKSBG_TEST_AS_EKSBG set it
// runs Main on its arguments (the sandbox's eksctl shim execs it).
func TestMain(m *testing.M) {
	if os.Getenv("EKSBG_TEST_AS_EKSBG") != "" {
		// As cmd/eksbg's main: Ctrl-C and SIGTERM cancel the context.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Main(ctx, os.Args[1:], StdIO())
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestEksctlRunnerDrivesSandboxEksctl is the integration of eksbg's eksctl
// runner with the sandbox's eksctl, through a shim named eksctl on PATH as
// the sandbox workspace installs it.
func TestEksctlRunnerDrivesSandboxEksctl(t *testing.T) {
	// The demo world with one-second transitions: the runner and the shim
	// are what is under test, not the demo's pacing.
	s, err := scenarios.Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	s.Timing = scenario.Timing{ClusterCreate: 1, ClusterDelete: 1, NodegroupCreate: 1, NodegroupDelete: 1, AddonCreate: 1, AddonDelete: 1}
	env := sandboxtest.Start(t, s)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	shim := "#!/bin/sh\nexec " + self + " sandbox eksctl \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "eksctl"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	for k, v := range map[string]string{
		"EKSBG_TEST_AS_EKSBG": "1", EksctlSchemaEnv: testenv.EksctlSchemaPath(t),
		"AWS_ENDPOINT_URL": env.URL, "AWS_REGION": env.Region,
		"AWS_ACCESS_KEY_ID": emulator.DefaultCredential.AccessKeyID, "AWS_SECRET_ACCESS_KEY": emulator.DefaultCredential.SecretAccessKey,
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
	} {
		t.Setenv(k, v)
	}
	var mu sync.Mutex
	var events []eksctl.Event
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	e, err := eksctl.New(ctx, "", eksctl.WithEvents(func(ev eksctl.Event) { mu.Lock(); events = append(events, ev); mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	if e.Version().String() != "0.231.0" {
		t.Fatalf("version = %s", e.Version())
	}
	schema, err := e.Schema(ctx)
	if err != nil || !strings.Contains(string(schema), "ClusterConfig") {
		t.Fatalf("utils schema: %v", err)
	}
	cfg := filepath.Join(t.TempDir(), "green.yaml")
	if err := os.WriteFile(cfg, []byte(`apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: demo-green, region: us-east-1, version: "1.33"}
vpc:
  subnets:
    private:
      a: {id: subnet-0de00000000000a01}
      b: {id: subnet-0de00000000000b01}
  controlPlaneSubnetIDs: [subnet-0de00000000000a02, subnet-0de00000000000b02]
managedNodeGroups:
  - {name: general, instanceType: m5.large, desiredCapacity: 2, privateNetworking: true}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.CreateCluster(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	c, err := e.GetCluster(ctx, "demo-green", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != "ACTIVE" || c.Version != "1.33" || len(c.ResourcesVpcConfig.SubnetIds) != 2 {
		t.Fatalf("cluster = %+v", c)
	}
	if err := e.DeleteCluster(ctx, "demo-green", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	_, err = e.GetCluster(ctx, "demo-green", "us-east-1")
	var xe *eksctl.ExitError
	if !errors.As(err, &xe) || xe.ExitCode != 1 || !strings.Contains(xe.Output, "ResourceNotFoundException") {
		t.Fatalf("get after delete: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	var ready bool
	for _, ev := range events {
		if ev.Level == eksctl.LevelSuccess && strings.Contains(ev.Message, `EKS cluster "demo-green" in "us-east-1" region is ready`) {
			ready = true
		}
	}
	if !ready {
		t.Fatalf("no success event for the cluster among %d events", len(events))
	}
}
