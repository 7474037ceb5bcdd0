package ekstoken

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Why a token is refused. Verify's errors wrap exactly one of these.
var (
	// ErrMalformed: not an EKS token, or not a presigned GetCallerIdentity
	// URL of the shape EKS accepts.
	ErrMalformed = errors.New("malformed EKS token")
	// ErrExpired: signed more than 15 minutes ago.
	ErrExpired = errors.New("expired EKS token")
	// ErrNotYetValid: signed more than 15 minutes in the future.
	ErrNotYetValid = errors.New("EKS token not yet valid")
	// ErrUnknownAccessKey: signed with an access key nobody issued
	// (STS's InvalidClientTokenId).
	ErrUnknownAccessKey = errors.New("EKS token signed with an unknown access key")
	// ErrBadSignature: the signature does not match the key's secret and the
	// expected cluster (STS's SignatureDoesNotMatch).
	ErrBadSignature = errors.New("EKS token signature does not match")
	// ErrWrongCluster: the signature is good, but for another cluster named
	// with WithKnownClusters.
	ErrWrongCluster = errors.New("EKS token is for another cluster")
)

// maxTokenLen bounds a token as aws-iam-authenticator does
// (maxTokenLenBytes in pkg/token/token.go).
const maxTokenLen = 4 << 10

// emptySHA256 is the payload hash of a presigned GET: SHA-256 of its empty
// body (the AWS CLI and the SDKs sign presigned STS calls with it).
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Credential is what the verifier knows about an access key: its secret and
// the IAM principal it belongs to (what STS's GetCallerIdentity would answer).
type Credential struct {
	SecretAccessKey string
	// ARN of the principal, as GetCallerIdentity returns it: an IAM user, or
	// an STS assumed-role session.
	ARN string
}

// Identity is who signed a valid token.
type Identity struct {
	// ARN as GetCallerIdentity returns it.
	ARN string
	// CanonicalARN is the IAM form: an assumed-role session
	// arn:aws:sts::111122223333:assumed-role/Admin/alice becomes
	// arn:aws:iam::111122223333:role/Admin (EKS access entries name that).
	CanonicalARN string
	// SessionName is the assumed-role session name, "" for IAM users.
	SessionName string
	AccountID   string
	AccessKeyID string
}

// VerifyOption adjusts Verify.
type VerifyOption func(*verifyOptions)

type verifyOptions struct {
	others []string
}

// WithKnownClusters names the other clusters a token could have been made
// for, so that a token for one of them is reported as ErrWrongCluster rather
// than ErrBadSignature. (The cluster name is signed, not sent: a verifier
// can only recognise names it tries.)
func WithKnownClusters(names ...string) VerifyOption {
	return func(o *verifyOptions) { o.others = append(o.others, names...) }
}

// Verify checks a token for clusterName at time now the way EKS does:
// aws-iam-authenticator's checks on the URL (pkg/token/token.go), then the
// SigV4 signature STS would check, recomputed here from the secret that
// lookup returns for the token's access key, with clusterName as the
// x-k8s-aws-id header. So a token made for another cluster fails on its
// signature, as it does against real STS.
//
// The URL's host is not checked: it is signed, and the sandbox's STS is
// wherever the emulator listens. X-Amz-Expires must be 0..900 seconds but
// does not shorten the 15 minutes, because STS ignores it and the AWS CLI
// sets 60 while telling clients to use the token for 14 minutes.
func Verify(token, clusterName string, now time.Time, lookup func(accessKeyID string) (Credential, bool), opts ...VerifyOption) (Identity, error) {
	var o verifyOptions
	for _, f := range opts {
		f(&o)
	}
	p, err := parse(token)
	if err != nil {
		return Identity{}, err
	}
	switch {
	case now.After(p.date.Add(Validity)):
		return Identity{}, fmt.Errorf("%w: signed at %s, more than %s ago", ErrExpired, p.date.Format(time.RFC3339), Validity)
	case p.date.After(now.Add(Validity)):
		return Identity{}, fmt.Errorf("%w: signed at %s, more than %s ahead", ErrNotYetValid, p.date.Format(time.RFC3339), Validity)
	}
	cred, ok := lookup(p.accessKeyID)
	if !ok {
		return Identity{}, fmt.Errorf("%w: %s", ErrUnknownAccessKey, p.accessKeyID)
	}
	creds := aws.Credentials{AccessKeyID: p.accessKeyID, SecretAccessKey: cred.SecretAccessKey, SessionToken: p.sessionToken}
	good, err := p.signedFor(clusterName, creds)
	if err != nil {
		return Identity{}, err
	}
	if !good {
		for _, other := range o.others {
			if other == clusterName {
				continue
			}
			if ok, err := p.signedFor(other, creds); err == nil && ok {
				return Identity{}, fmt.Errorf("%w: made for cluster %s, presented to %s", ErrWrongCluster, other, clusterName)
			}
		}
		return Identity{}, fmt.Errorf("%w for access key %s and cluster %s", ErrBadSignature, p.accessKeyID, clusterName)
	}
	id := Identity{ARN: cred.ARN, CanonicalARN: cred.ARN, AccessKeyID: p.accessKeyID}
	if a, err := arn.Parse(cred.ARN); err == nil {
		id.AccountID = a.AccountID
		id.CanonicalARN, id.SessionName = canonical(a)
	}
	return id, nil
}

// CanonicalARN returns the IAM form of a principal's ARN: for an
// assumed-role session, its role's ARN (with no path: session ARNs do not
// carry the role's path); any other ARN unchanged.
func CanonicalARN(principal string) string {
	a, err := arn.Parse(principal)
	if err != nil {
		return principal
	}
	c, _ := canonical(a)
	return c
}

// canonical turns an assumed-role session ARN into its role's IAM ARN, as
// aws-iam-authenticator's arn.Canonicalize does; other ARNs are kept.
func canonical(a arn.ARN) (canonicalARN, session string) {
	parts := strings.Split(a.Resource, "/")
	if a.Service == "sts" && len(parts) == 3 && parts[0] == "assumed-role" {
		return arn.ARN{Partition: a.Partition, Service: "iam", AccountID: a.AccountID, Resource: "role/" + parts[1]}.String(), parts[2]
	}
	return a.String(), ""
}

// presignedURL is a decoded token that passed the shape checks.
type presignedURL struct {
	u            *url.URL
	query        url.Values // every parameter but the signature and what the signer adds
	signature    string
	accessKeyID  string
	region       string
	sessionToken string
	date         time.Time
}

// allowedParams are the query parameters of a presigned GetCallerIdentity
// URL (aws-iam-authenticator's parameterWhitelist), lower-cased.
var allowedParams = map[string]bool{
	"action": true, "version": true, "x-amz-algorithm": true, "x-amz-credential": true, "x-amz-date": true,
	"x-amz-expires": true, "x-amz-security-token": true, "x-amz-signature": true, "x-amz-signedheaders": true,
}

// parse decodes a token and checks its URL's shape. Error messages never
// quote the signature or the session token.
func parse(token string) (*presignedURL, error) {
	if len(token) > maxTokenLen {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(token), maxTokenLen)
	}
	encoded, ok := strings.CutPrefix(token, Prefix)
	if !ok {
		return nil, fmt.Errorf("%w: no %q prefix", ErrMalformed, Prefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("%w: decoding base64url: %v", ErrMalformed, err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: not a URL", ErrMalformed)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("%w: not an http(s) URL with a host", ErrMalformed)
	}
	if u.Path != "/" {
		return nil, fmt.Errorf("%w: unexpected path %q", ErrMalformed, u.Path)
	}
	all, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed query string", ErrMalformed)
	}
	get := map[string]string{}
	for k, vs := range all {
		lk := strings.ToLower(k)
		if !allowedParams[lk] {
			return nil, fmt.Errorf("%w: unexpected query parameter %q", ErrMalformed, k)
		}
		if len(vs) != 1 {
			return nil, fmt.Errorf("%w: query parameter %q given %d times", ErrMalformed, k, len(vs))
		}
		if _, dup := get[lk]; dup {
			return nil, fmt.Errorf("%w: query parameter %q given twice", ErrMalformed, k)
		}
		get[lk] = vs[0]
	}
	if get["action"] != "GetCallerIdentity" {
		return nil, fmt.Errorf("%w: Action is %q, want GetCallerIdentity", ErrMalformed, get["action"])
	}
	if get["version"] != "2011-06-15" {
		return nil, fmt.Errorf("%w: Version is %q, want 2011-06-15", ErrMalformed, get["version"])
	}
	if get["x-amz-algorithm"] != "AWS4-HMAC-SHA256" {
		return nil, fmt.Errorf("%w: X-Amz-Algorithm is %q, want AWS4-HMAC-SHA256", ErrMalformed, get["x-amz-algorithm"])
	}
	// The verifier can only rebuild host and x-k8s-aws-id; a URL signing
	// anything else could not be replayed to STS either.
	if get["x-amz-signedheaders"] != "host;"+ClusterIDHeader {
		return nil, fmt.Errorf("%w: X-Amz-SignedHeaders is %q, want %q", ErrMalformed, get["x-amz-signedheaders"], "host;"+ClusterIDHeader)
	}
	expires, err := strconv.Atoi(get["x-amz-expires"])
	if err != nil || expires < 0 || expires > int(Validity/time.Second) {
		return nil, fmt.Errorf("%w: X-Amz-Expires is %q, want 0 to 900 seconds", ErrMalformed, get["x-amz-expires"])
	}
	date, err := time.Parse(amzDateFormat, get["x-amz-date"])
	if err != nil {
		return nil, fmt.Errorf("%w: X-Amz-Date %q is not of the form %s", ErrMalformed, get["x-amz-date"], amzDateFormat)
	}
	// Credential scope: AKID/yyyymmdd/region/sts/aws4_request.
	scope := strings.Split(get["x-amz-credential"], "/")
	if len(scope) != 5 || scope[0] == "" || scope[2] == "" || scope[3] != "sts" || scope[4] != "aws4_request" {
		return nil, fmt.Errorf("%w: X-Amz-Credential is not an STS credential scope", ErrMalformed)
	}
	sig := get["x-amz-signature"]
	if _, err := hex.DecodeString(sig); err != nil || len(sig) != 2*sha256.Size {
		return nil, fmt.Errorf("%w: X-Amz-Signature is not 64 hex digits", ErrMalformed)
	}
	// Keep what the client chose (Action, Version, X-Amz-Expires); the
	// signer adds the rest again from the credentials and the time.
	q := url.Values{}
	for k, vs := range all {
		switch strings.ToLower(k) {
		case "x-amz-signature", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signedheaders", "x-amz-security-token":
		default:
			q[k] = vs
		}
	}
	return &presignedURL{u: u, query: q, signature: sig, accessKeyID: scope[0], region: scope[2],
		sessionToken: get["x-amz-security-token"], date: date}, nil
}

// signedFor reports whether the URL's signature is the one STS computes for
// a request carrying "x-k8s-aws-id: cluster", signed with creds at the URL's
// X-Amz-Date in its credential scope's region. A scope dated another day
// than X-Amz-Date cannot match, as with STS.
func (p *presignedURL) signedFor(cluster string, creds aws.Credentials) (bool, error) {
	u := *p.u
	u.RawQuery = p.query.Encode()
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		return false, fmt.Errorf("%w: rebuilding the request: %v", ErrMalformed, err)
	}
	req.Header.Set(ClusterIDHeader, cluster)
	// Signing is pure computation; the signer uses its context for logging only.
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, emptySHA256, "sts", p.region, p.date)
	if err != nil {
		return false, fmt.Errorf("recomputing the signature: %w", err)
	}
	su, err := url.Parse(signed)
	if err != nil {
		return false, fmt.Errorf("recomputing the signature: %w", err)
	}
	want := su.Query().Get("X-Amz-Signature")
	return hmac.Equal([]byte(want), []byte(p.signature)), nil
}
