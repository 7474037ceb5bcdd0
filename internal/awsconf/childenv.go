package awsconf

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/eksbg/eksbg/internal/config"
)

// ambient are the environment variables through which a child process's
// AWS SDK or CLI would pick credentials, a profile or a region of its own
// (https://docs.aws.amazon.com/sdkref/latest/guide/settings-reference.html).
// ChildEnv removes them all, so that only the environment's resolved
// credentials reach eksctl and terraform.
var ambient = []string{
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_SDK_LOAD_CONFIG",
}

// ChildEnv is the environment a child process (eksctl, terraform) must run
// with to act as cfg does, in the same account and region: environ (the
// process's own, usually os.Environ()) without any variable that chooses
// credentials, a profile or a region, plus cfg's credentials resolved now
// and its region. Credentials that would expire within minValid are
// refreshed first, so that a long eksctl run does not outlive them (an
// assumed role's last an hour by default). Endpoint and CA settings
// (AWS_ENDPOINT_URL*, AWS_CA_BUNDLE) pass through. The values exist only in
// the child's environment: nothing is written to disk or logged.
func ChildEnv(ctx context.Context, cfg aws.Config, environ []string, minValid time.Duration) ([]string, error) {
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("resolving AWS credentials for a child process: the configuration has none")
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolving AWS credentials for a child process: %w", err)
	}
	if creds.CanExpire && time.Until(creds.Expires) < minValid {
		if c, ok := cfg.Credentials.(*aws.CredentialsCache); ok {
			c.Invalidate()
			if creds, err = c.Retrieve(ctx); err != nil {
				return nil, fmt.Errorf("refreshing AWS credentials for a child process: %w", err)
			}
		}
	}
	out := make([]string, 0, len(environ)+6)
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if !isAmbient(k) {
			out = append(out, kv)
		}
	}
	out = append(out, "AWS_ACCESS_KEY_ID="+creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey)
	if creds.SessionToken != "" {
		out = append(out, "AWS_SESSION_TOKEN="+creds.SessionToken)
	}
	if cfg.Region != "" {
		out = append(out, "AWS_REGION="+cfg.Region, "AWS_DEFAULT_REGION="+cfg.Region)
	}
	// The children's own config files could still name a default profile
	// or region; point them at nothing.
	out = append(out, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	return out, nil
}

func isAmbient(k string) bool {
	for _, a := range ambient {
		if strings.EqualFold(k, a) {
			return true
		}
	}
	return false
}

// ChildEnvirons returns, for terraform.WithEnviron, the child-process
// environment (ChildEnv) of each environment of eksbg.yaml, loading each
// one's AWS configuration (region, profile, role) once and keeping its
// credentials cached, as eksbg's own calls for that environment do.
func ChildEnvirons(minValid time.Duration) func(ctx context.Context, env *config.Environment) ([]string, error) {
	var mu sync.Mutex
	cfgs := map[string]aws.Config{}
	return func(ctx context.Context, env *config.Environment) ([]string, error) {
		mu.Lock()
		cfg, ok := cfgs[env.Name]
		mu.Unlock()
		if !ok {
			var err error
			if cfg, err = Load(ctx, Options{Region: env.AWS.Region, Profile: env.AWS.Profile, RoleARN: env.AWS.RoleARN}); err != nil {
				return nil, fmt.Errorf("environment %s: %w", env.Name, err)
			}
			mu.Lock()
			cfgs[env.Name] = cfg
			mu.Unlock()
		}
		return ChildEnv(ctx, cfg, os.Environ(), minValid)
	}
}
