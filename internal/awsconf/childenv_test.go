package awsconf

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// TestChildEnv: the shell's credentials belong to another account (a
// profile, static keys and a web identity); the child gets only the
// environment's, and its region.
func TestChildEnv(t *testing.T) {
	cfg := aws.Config{Region: "eu-west-1", Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("AKIAWORKLOAD", "workload-secret", "workload-token"))}
	ambient := []string{"PATH=/usr/bin", "HOME=/root", "AWS_PROFILE=management", "AWS_ACCESS_KEY_ID=AKIAMGMT", "AWS_SECRET_ACCESS_KEY=mgmt-secret",
		"AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/token", "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL=http://127.0.0.1:4566", "aws_default_region=us-west-2"}
	got, err := ChildEnv(context.Background(), cfg, ambient, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PATH=/usr/bin", "HOME=/root", "AWS_ENDPOINT_URL=http://127.0.0.1:4566", "AWS_ACCESS_KEY_ID=AKIAWORKLOAD",
		"AWS_SECRET_ACCESS_KEY=workload-secret", "AWS_SESSION_TOKEN=workload-token", "AWS_REGION=eu-west-1", "AWS_DEFAULT_REGION=eu-west-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"} {
		if !slices.Contains(got, want) {
			t.Errorf("child env lacks %s: %v", want, got)
		}
	}
	for _, kv := range got {
		for _, bad := range []string{"AKIAMGMT", "mgmt-secret", "management", "/var/run/token", "us-east-1", "us-west-2"} {
			if strings.Contains(kv, bad) {
				t.Errorf("the ambient %s reached the child: %s", bad, kv)
			}
		}
	}
}

// expiring hands out credentials that expire after ttl, counting them.
type expiring struct {
	ttl time.Duration
	n   int
}

func (e *expiring) Retrieve(context.Context) (aws.Credentials, error) {
	e.n++
	return aws.Credentials{AccessKeyID: "AKIA" + strings.Repeat("X", e.n), SecretAccessKey: "s", CanExpire: true, Expires: time.Now().Add(e.ttl)}, nil
}

func TestChildEnvRefreshesCredentialsAboutToExpire(t *testing.T) {
	p := &expiring{ttl: 10 * time.Minute}
	cfg := aws.Config{Region: "eu-west-1", Credentials: aws.NewCredentialsCache(p)}
	if _, err := cfg.Credentials.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.ttl = time.Hour
	got, err := ChildEnv(context.Background(), cfg, nil, 45*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if p.n != 2 || !slices.Contains(got, "AWS_ACCESS_KEY_ID=AKIAXX") {
		t.Errorf("retrievals %d, env %v: want the 10-minute credentials replaced before a 45-minute child", p.n, got)
	}
}
