package config

import (
	"strings"
	"testing"
	"time"
)

func TestStateS3(t *testing.T) {
	for _, tt := range []struct {
		name  string
		state string
		want  State  // when valid
		err   string // the error, when not
	}{
		{"bucket and prefix", "{backend: s3, bucket: acme-eksbg-state, prefix: eksbg/state}",
			State{Backend: "s3", Bucket: "acme-eksbg-state", Prefix: "eksbg/state", Region: "eu-west-1", LockLease: DefaultLockLease}, ""},
		{"bucket in another region", "{backend: s3, bucket: acme.state, region: us-east-1}",
			State{Backend: "s3", Bucket: "acme.state", Region: "us-east-1", LockLease: DefaultLockLease}, ""},
		{"local ignores the s3 fields", "{bucket: acme-eksbg-state}",
			State{Backend: "local", Dir: "conf/.eksbg/state", Bucket: "acme-eksbg-state", LockLease: DefaultLockLease}, ""},
		{"no bucket", "{backend: s3}", State{},
			`conf/eksbg.yaml:15:12: environments[0].state.bucket: required: an S3 bucket name (3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit)`},
		{"bad bucket", "{backend: s3, bucket: Acme_State}", State{},
			`conf/eksbg.yaml:15:34: environments[0].state.bucket: expected an S3 bucket name (3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit), got "Acme_State"`},
		{"bucket that is an address", "{backend: s3, bucket: 10.0.0.1}", State{}, `environments[0].state.bucket: expected an S3 bucket name`},
		{"prefix with slashes", "{backend: s3, bucket: acme, prefix: /eksbg/}", State{},
			`eksbg.yaml:15:48: environments[0].state.prefix: expected a key prefix such as "eksbg/state" (no leading, trailing or double '/'), got "/eksbg/"`},
		{"lease", "{lockLease: 15s}", State{Backend: "local", Dir: "conf/.eksbg/state", LockLease: 15 * time.Second}, ""},
		{"lease too short", "{lockLease: 500ms}", State{}, `environments[0].state.lockLease: expected a duration from 1s to 1h, such as 1m, got 500ms`},
		{"bad region", "{backend: s3, bucket: acme, region: mars}", State{},
			`eksbg.yaml:15:48: environments[0].state.region: expected an AWS region such as "eu-west-1", got "mars"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(minimal, "    argocd:\n", "    state: "+tt.state+"\n    argocd:\n", 1)
			p, err := Parse("conf/eksbg.yaml", []byte(src))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Environments[0].State; got != tt.want {
				t.Errorf("state = %+v, want %+v", got, tt.want)
			}
		})
	}
}
