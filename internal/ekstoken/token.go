// Package ekstoken generates and verifies Amazon EKS bearer tokens: the
// "k8s-aws-v1." tokens that `aws eks get-token` and aws-iam-authenticator
// print, which EKS's API servers accept in place of a kubeconfig credential.
//
// A token is a presigned STS GetCallerIdentity URL whose signature also
// covers the header "x-k8s-aws-id: <cluster name>", base64url-encoded
// without padding behind the prefix. Whoever holds it can prove their IAM
// identity to that one cluster for 15 minutes and to nothing else
// (https://github.com/kubernetes-sigs/aws-iam-authenticator#how-does-it-work).
//
// eksbg generates tokens with aws-sdk-go-v2 alone: no aws or
// aws-iam-authenticator binary is needed at run time. The sandbox's AWS
// emulator verifies them with Verify.
package ekstoken

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	// Prefix starts every EKS token (version 1 of the format).
	Prefix = "k8s-aws-v1."
	// ClusterIDHeader is the signed header that binds a token to one cluster.
	ClusterIDHeader = "x-k8s-aws-id"

	// presignExpires is the X-Amz-Expires the AWS CLI and aws-iam-authenticator
	// put in the URL. STS ignores it for GetCallerIdentity: a presigned call is
	// good for 15 minutes after X-Amz-Date whatever it says
	// (https://github.com/aws/aws-sdk-go/issues/2167); 60 keeps tokens
	// byte-compatible with theirs.
	presignExpires = 60
	// Validity is how long STS honours a presigned GetCallerIdentity URL after
	// its X-Amz-Date, and so how long an EKS token is good for.
	Validity = 15 * time.Minute
	// clientLifetime is the Expiration reported with a token: one minute
	// short of Validity, as the AWS CLI (TOKEN_EXPIRATION_MINS = 14 in
	// awscli/customizations/eks/get_token.py) and aws-iam-authenticator
	// (presignedURLExpiration - 1 minute in pkg/token/token.go) report it. The
	// minute absorbs clock skew with STS and requests still in flight when a
	// client switches tokens.
	clientLifetime = Validity - time.Minute
)

// Token is an EKS bearer token.
type Token struct {
	// Value is what goes after "Authorization: Bearer ".
	Value string
	// Expiration is when a client should stop using the token: 14 minutes
	// after it was signed, one minute before EKS stops accepting it.
	Expiration time.Time
}

// Option adjusts Generate and NewSource.
type Option func(*options)

type options struct {
	clock func() time.Time
}

// WithClock signs with the given clock instead of the SDK's (time.Now), and
// makes a Source judge expiry by it. The sandbox's tests use it to sign at
// the emulator's fake time.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// Generate returns a token for the named EKS cluster, signed with cfg's
// credentials. The presigned URL points at whatever STS endpoint cfg
// resolves: the regional endpoint of cfg.Region, or cfg.BaseEndpoint /
// AWS_ENDPOINT_URL(_STS) when set, which is how sandbox tokens point at the
// emulator. Generating makes no network call (unless the credential
// provider needs one to fetch credentials).
func Generate(ctx context.Context, cfg aws.Config, clusterName string, opts ...Option) (Token, error) {
	if clusterName == "" {
		return Token{}, fmt.Errorf("generating an EKS token: no cluster name")
	}
	var o options
	for _, f := range opts {
		f(&o)
	}
	// The header and X-Amz-Expires go in at the build step, after the
	// request is serialised and before the presigner signs it, as
	// aws-iam-authenticator's WithClusterIDHeader does
	// (pkg/token/cluster_id_header.go).
	addClusterID := func(stack *middleware.Stack) error {
		return stack.Build.Add(middleware.BuildMiddlewareFunc("EKSTokenClusterID",
			func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
				req, ok := in.Request.(*smithyhttp.Request)
				if !ok {
					return middleware.BuildOutput{}, middleware.Metadata{}, fmt.Errorf("unexpected transport request type %T", in.Request)
				}
				req.Header.Set(ClusterIDHeader, clusterName)
				q := req.URL.Query()
				q.Set("X-Amz-Expires", fmt.Sprint(presignExpires))
				req.URL.RawQuery = q.Encode()
				return next.HandleBuild(ctx, in)
			}), middleware.After)
	}
	presignOpts := []func(*sts.PresignOptions){sts.WithPresignClientFromClientOptions(sts.WithAPIOptions(addClusterID))}
	if o.clock != nil {
		presignOpts = append(presignOpts, func(po *sts.PresignOptions) {
			po.Presigner = clockPresigner{signer: v4.NewSigner(), now: o.clock}
		})
	}
	presigned, err := sts.NewPresignClient(sts.NewFromConfig(cfg), presignOpts...).
		PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Token{}, fmt.Errorf("presigning sts:GetCallerIdentity for cluster %s: %w", clusterName, err)
	}
	if presigned.Method != http.MethodGet {
		return Token{}, fmt.Errorf("presigning sts:GetCallerIdentity: got a %s request, want GET", presigned.Method)
	}
	u, err := url.Parse(presigned.URL)
	if err != nil {
		return Token{}, fmt.Errorf("parsing the presigned URL: %w", err)
	}
	signed, err := time.Parse(amzDateFormat, u.Query().Get("X-Amz-Date"))
	if err != nil {
		return Token{}, fmt.Errorf("reading the presigned URL's X-Amz-Date: %w", err)
	}
	return Token{
		Value:      Prefix + base64.RawURLEncoding.EncodeToString([]byte(presigned.URL)),
		Expiration: signed.Add(clientLifetime),
	}, nil
}

// amzDateFormat is SigV4's X-Amz-Date layout.
const amzDateFormat = "20060102T150405Z"

// clockPresigner signs at the time of an injected clock; the SDK's presign
// middleware otherwise signs at its own time.Now.
type clockPresigner struct {
	signer *v4.Signer
	now    func() time.Time
}

func (p clockPresigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string,
	_ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.signer.PresignHTTP(ctx, creds, r, payloadHash, service, region, p.now(), optFns...)
}
