// Package awsconf loads the AWS SDK configuration the standard way: the
// SDK's own chain (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL and the
// per-service AWS_ENDPOINT_URL_<SERVICE> variables, shared config files,
// IMDS), narrowed by what an environment of eksbg.yaml pins (region,
// profile, a role to assume). eksbg has no endpoint settings of its own.
package awsconf

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Options pin parts of the chain; empty fields leave the SDK's defaults.
type Options struct {
	Region  string
	Profile string
	// RoleARN is assumed on top of the base credentials.
	RoleARN string
	// SessionName for the assumed role; default "eksbg".
	SessionName string
}

// Load resolves an aws.Config.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	opts = append(opts, config.WithRetryer(Retryer))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	WholeBodies(&cfg)
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region: set AWS_REGION, or region in the environment of eksbg.yaml")
	}
	if o.RoleARN != "" {
		name := o.SessionName
		if name == "" {
			name = "eksbg"
		}
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), o.RoleARN, func(a *stscreds.AssumeRoleOptions) {
			a.RoleSessionName = name
		})
		cfg.Credentials = aws.NewCredentialsCache(provider)
	}
	return cfg, nil
}

// MaxAttempts is how often eksbg tries an AWS call. An upgrade makes
// hundreds of calls over an hour and must not stop halfway because one
// of them was throttled three times in a row (the SDK's default); with
// 10% of calls throttled, three failures in a row happen once in a
// thousand calls, eight once in a hundred million.
const MaxAttempts = 8

// Retryer is the SDK's standard retryer (exponential backoff with jitter,
// the SDK's list of retryable and throttling errors) with MaxAttempts and
// no client-side retry quota: the quota's token bucket empties under
// sustained throttling and then fails calls without trying them, and
// without backing off (https://github.com/aws/aws-sdk-go-v2/issues/3413;
// eksctl turned it off for the same reason,
// https://github.com/eksctl-io/eksctl/issues/7877). That is the wrong
// trade for a long-running operation that must finish.
func Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = 20 * time.Second
		o.RateLimiter = ratelimit.None
	})
}
