// Package sandboxtest starts the sandbox for tests: the AWS API emulator
// in-process, with real aws-sdk-go-v2 configurations and AWS CLI runners
// for it (Start, StartYAML, StartScenario), and a real control plane per
// EKS cluster over it (StartKube). It is the one place tests start the
// sandbox, and where `go test -short` skips what needs external programs
// (SkipShort).
package sandboxtest

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/eksbg/eksbg/internal/awsconf"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
	"github.com/eksbg/eksbg/internal/sandbox/scenarios"
)

// Env is a running emulator.
type Env struct {
	URL    string
	Server *emulator.Server
	// AWS is an SDK configuration pointed at the emulator with the standard retryer.
	AWS     aws.Config
	Account string
	Region  string
	dir     string
}

// Option adjusts the emulator's options before it starts.
type Option func(*emulator.Options)

// WithClock sets the emulator's clock.
func WithClock(f func() time.Time) Option { return func(o *emulator.Options) { o.Clock = f } }

// WithState persists the world at path.
func WithState(path string) Option { return func(o *emulator.Options) { o.StatePath = path } }

// WithRand makes fault injection deterministic.
func WithRand(r *rand.Rand) Option { return func(o *emulator.Options) { o.Rand = r } }

// Start runs the emulator on the given scenario (parsed YAML) for the test's lifetime.
func Start(t testing.TB, s *scenario.Scenario, opts ...Option) *Env {
	t.Helper()
	o := emulator.Options{Scenario: s}
	for _, f := range opts {
		f(&o)
	}
	srv, err := emulator.New(o)
	if err != nil {
		t.Fatalf("starting emulator: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cred := emulator.DefaultCredential
	if len(s.Credentials) > 0 {
		cred = s.Credentials[0]
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(s.Region),
		config.WithBaseEndpoint(hs.URL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.SecretAccessKey, "")),
	)
	if err != nil {
		t.Fatalf("loading SDK config: %v", err)
	}
	awsconf.WholeBodies(&cfg)
	return &Env{URL: hs.URL, Server: srv, AWS: cfg, Account: s.Account, Region: s.Region, dir: t.TempDir()}
}

// StartScenario starts the emulator on a built-in scenario ("demo", "large").
func StartScenario(t testing.TB, name string, opts ...Option) *Env {
	t.Helper()
	s, err := scenarios.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return Start(t, s, opts...)
}

// StartYAML starts the emulator on a scenario given as YAML text.
func StartYAML(t testing.TB, yaml string, opts ...Option) *Env {
	t.Helper()
	s, err := scenario.Parse("test-scenario.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("parsing test scenario: %v", err)
	}
	return Start(t, s, opts...)
}

// CLIv2 is the path of the AWS CLI v2 (Debian's awscli package).
const CLIv2 = "/usr/bin/aws"

// RunCLI runs an AWS CLI against the emulator: bin is CLIv2, or "python3"
// with "-m awscli" first in args for the v1 CLI. It returns stdout, and
// stderr with the error on failure. The environment is isolated from the
// user's AWS configuration. Under -short the test is skipped here
// (SkipShort): the CLIs take a second or more per call.
func (e *Env) RunCLI(t testing.TB, bin string, args ...string) (stdout []byte, stderr string, err error) {
	t.Helper()
	SkipShort(t, "the AWS CLI")
	cred := emulator.DefaultCredential
	home := filepath.Join(e.dir, "home")
	_ = os.MkdirAll(home, 0o700)
	full := append([]string{}, args...)
	full = append(full, "--endpoint-url", e.URL, "--output", "json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AWS_ACCESS_KEY_ID=" + cred.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + cred.SecretAccessKey,
		"AWS_DEFAULT_REGION=" + e.Region, "AWS_REGION=" + e.Region,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_PAGER=", "AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard",
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.Bytes(), errb.String(), err
}
