package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/upgrade/journal"
)

func TestForceUnlock(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("..", "config", "testdata", "eksbg.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "eksbg.yaml")
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// staging keeps the default state directory, beside eksbg.yaml.
	l := &journal.Local{Dir: filepath.Join(dir, ".eksbg", "state")}
	lock, err := l.Lock(t.Context(), "staging", journal.LockInfo{Who: "alice", Host: "gone-laptop", PID: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, "force-unlock", "--config", cfg, "--env", "staging", "0123456789abcdef")
	if code != ExitError || !strings.Contains(stderr, lock.ID) {
		t.Fatalf("wrong ID: exit %d, %q", code, stderr)
	}
	stdout, stderr, code := run(t, "force-unlock", "--config", cfg, "--env", "staging", lock.ID)
	if code != ExitOK || !strings.Contains(stdout, "removed") {
		t.Fatalf("right ID: exit %d, %q %q", code, stdout, stderr)
	}
	if h, err := l.LockHolder(t.Context(), "staging"); err != nil || h != nil {
		t.Errorf("lock still held: %+v, %v", h, err)
	}
	if _, stderr, code := run(t, "force-unlock", "x"); code != ExitError || !strings.Contains(stderr, "--env is required") {
		t.Errorf("without --env: exit %d, %q", code, stderr)
	}
}

// s3Project is an eksbg.yaml whose environment keeps its state in S3.
const s3Project = `apiVersion: eksbg.io/v1alpha1
kind: Project
environments:
  - name: prod
    aws: {region: eu-west-1, accountId: "111122223333"}
    network:
      terraform: {dir: infra, outputs: {vpcId: vpc_id, subnetIds: {nodes: subnets}}}
    cluster: {eksctlConfig: cluster.yaml}
    traffic:
      listenerRules:
        - arn: arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee
          targetGroups:
            blue: arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web-blue/73e2d6bc24d8a067
            green: arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web-green/2453ed029918f21f
    argocd:
      management: {eksCluster: mgmt}
    state: {backend: s3, bucket: eksbg-state, prefix: eksbg}
`

// TestForceUnlockS3: force-unlock reaches the s3 backend through the
// environment's AWS configuration (here the sandbox's endpoint, so
// path-style addresses).
func TestForceUnlockS3(t *testing.T) {
	env := sandboxtest.StartYAML(t, `
apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: eu-west-1
vpcs: []
buckets: [{name: eksbg-state}]
`)
	cred := emulator.DefaultCredential
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": env.URL, "AWS_ACCESS_KEY_ID": cred.AccessKeyID, "AWS_SECRET_ACCESS_KEY": cred.SecretAccessKey,
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_PROFILE": "", "AWS_REGION": ""} {
		t.Setenv(k, v)
	}
	cfg := filepath.Join(t.TempDir(), "eksbg.yaml")
	if err := os.WriteFile(cfg, []byte(s3Project), 0o600); err != nil {
		t.Fatal(err)
	}
	b := &journal.S3{Client: journal.NewS3Client(env.AWS), Bucket: "eksbg-state", Prefix: "eksbg"}
	lock, err := b.Lock(t.Context(), "prod", journal.LockInfo{Who: "alice", Host: "gone-laptop", PID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, "force-unlock", "--config", cfg, "--env", "prod", "0123456789abcdef"); code != ExitError || !strings.Contains(stderr, lock.ID) {
		t.Fatalf("wrong ID: exit %d, %q", code, stderr)
	}
	if stdout, stderr, code := run(t, "force-unlock", "--config", cfg, "--env", "prod", lock.ID); code != ExitOK || !strings.Contains(stdout, "removed") {
		t.Fatalf("right ID: exit %d, %q %q", code, stdout, stderr)
	}
	if h, err := b.LockHolder(t.Context(), "prod"); err != nil || h != nil {
		t.Errorf("lock still held: %+v, %v", h, err)
	}
}
