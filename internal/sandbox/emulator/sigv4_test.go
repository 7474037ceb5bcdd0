package emulator_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/eksbg/eksbg/internal/ekstoken"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
)

// sha256Hex is the hex SHA-256 of b, a SigV4 payload hash.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// signed returns req signed with SigV4 by aws-sdk-go-v2's signer, as an
// SDK client would sign it.
func signed(t testing.TB, req *http.Request, body []byte, akid, secret, service, region string, at time.Time) *http.Request {
	t.Helper()
	hash := req.Header.Get("X-Amz-Content-Sha256")
	if hash == "" {
		hash = sha256Hex(body)
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
		req, hash, service, region, at); err != nil {
		t.Fatal(err)
	}
	return req
}

// signedDefault signs req with the sandbox credential, now.
func signedDefault(t testing.TB, req *http.Request, body []byte, service, region string) *http.Request {
	c := emulator.DefaultCredential
	return signed(t, req, body, c.AccessKeyID, c.SecretAccessKey, service, region, time.Now())
}

// answer is an AWS error answer, decoded from whichever protocol.
type answer struct {
	status int
	code   string
	msg    string
	body   string
}

// do sends req and reads the error code of the answer: X-Amzn-ErrorType
// or __type (JSON), <Code> (XML).
func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, body: string(b), code: resp.Header.Get("X-Amzn-ErrorType")}
	if a.code == "" {
		var x struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
			Errors  []struct {
				Code    string `xml:"Code"`
				Message string `xml:"Message"`
			} `xml:"Errors>Error"`
			Error struct {
				Code    string `xml:"Code"`
				Message string `xml:"Message"`
			} `xml:"Error"`
		}
		if xml.Unmarshal(b, &x) == nil {
			switch {
			case x.Error.Code != "":
				a.code, a.msg = x.Error.Code, x.Error.Message
			case len(x.Errors) > 0:
				a.code, a.msg = x.Errors[0].Code, x.Errors[0].Message
			default:
				a.code, a.msg = x.Code, x.Message
			}
		}
	}
	return a
}

// TestSigV4Refusals: each way a signature can be wrong gets the error code
// and HTTP status the service answers with at AWS (sigv4.go says where
// each comes from).
func TestSigV4Refusals(t *testing.T) {
	env := sandboxtest.StartYAML(t, s3Scenario)
	cred := emulator.DefaultCredential
	now := time.Now()
	const region = "eu-west-1"

	type request struct {
		method, path, contentType, target string
		body                              string
		service                           string // its signing name
	}
	sts := request{method: http.MethodPost, path: "/", contentType: "application/x-www-form-urlencoded; charset=utf-8",
		body: "Action=GetCallerIdentity&Version=2011-06-15", service: "sts"}
	ec2 := request{method: http.MethodPost, path: "/", contentType: "application/x-www-form-urlencoded; charset=utf-8",
		body: "Action=DescribeVpcs&Version=2016-11-15", service: "ec2"}
	elb := request{method: http.MethodPost, path: "/", contentType: "application/x-www-form-urlencoded; charset=utf-8",
		body: "Action=DescribeLoadBalancers&Version=2015-12-01", service: "elasticloadbalancing"}
	eksList := request{method: http.MethodGet, path: "/clusters", service: "eks"}
	quotas := request{method: http.MethodPost, path: "/", contentType: "application/x-amz-json-1.1",
		target: "ServiceQuotasV20190624.ListServiceQuotas", body: `{"ServiceCode":"ec2"}`, service: "servicequotas"}
	s3List := request{method: http.MethodGet, path: "/" + s3Bucket + "?list-type=2", service: "s3"}
	s3Put := request{method: http.MethodPut, path: "/" + s3Bucket + "/k", body: "object", service: "s3"}

	build := func(r request) (*http.Request, []byte) {
		req, err := http.NewRequest(r.method, env.URL+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if r.contentType != "" {
			req.Header.Set("Content-Type", r.contentType)
		}
		if r.target != "" {
			req.Header.Set("X-Amz-Target", r.target)
		}
		if r.service == "s3" {
			req.Header.Set("X-Amz-Content-Sha256", sha256Hex([]byte(r.body)))
		}
		return req, []byte(r.body)
	}
	// sign signs r as given, then lets mutate change the request (after
	// signing: what a tampering proxy would do).
	type signing struct {
		secret, region, service string
		at                      time.Time
	}
	good := func(r request) signing { return signing{cred.SecretAccessKey, region, r.service, now} }
	send := func(r request, s signing, mutate func(*http.Request)) answer {
		req, body := build(r)
		signed(t, req, body, cred.AccessKeyID, s.secret, s.service, s.region, s.at)
		if mutate != nil {
			mutate(req)
		}
		return do(t, req)
	}
	tamperBody := func(req *http.Request) {
		b := []byte("Action=GetCallerIdentity&Version=2011-06-15&X=1")
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	}

	cases := []struct {
		name   string
		req    request
		sign   func(request) signing
		mutate func(*http.Request)
		status int
		code   string
	}{
		{"sts wrong secret", sts, func(r request) signing { s := good(r); s.secret = "wrong"; return s }, nil, 403, "SignatureDoesNotMatch"},
		{"ec2 wrong secret", ec2, func(r request) signing { s := good(r); s.secret = "wrong"; return s }, nil, 401, "AuthFailure"},
		{"elbv2 wrong secret", elb, func(r request) signing { s := good(r); s.secret = "wrong"; return s }, nil, 403, "SignatureDoesNotMatch"},
		{"eks wrong secret", eksList, func(r request) signing { s := good(r); s.secret = "wrong"; return s }, nil, 403, "InvalidSignatureException"},
		{"quotas wrong secret", quotas, func(r request) signing { s := good(r); s.secret = "wrong"; return s }, nil, 400, "InvalidSignatureException"},
		{"s3 wrong secret", s3List, func(r request) signing { s := good(r); s.secret = "wrong"; return s }, nil, 403, "SignatureDoesNotMatch"},

		{"sts tampered signed header", sts, good, func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, 403, "SignatureDoesNotMatch"},
		{"eks tampered signed host", eksList, good, func(r *http.Request) { r.Host = "eks.eu-west-1.amazonaws.com" }, 403, "InvalidSignatureException"},
		{"eks tampered query", eksList, good, func(r *http.Request) { r.URL.RawQuery = "maxResults=1" }, 403, "InvalidSignatureException"},
		{"s3 unsigned x-amz header", s3List, good, func(r *http.Request) { r.Header.Set("X-Amz-Expected-Bucket-Owner", "111122223333") }, 403, "AccessDenied"},

		{"sts tampered body", sts, good, tamperBody, 403, "SignatureDoesNotMatch"},
		{"sts date of another day than the scope", sts, good, func(r *http.Request) {
			r.Header.Set("X-Amz-Date", now.Add(-24*time.Hour).UTC().Format("20060102T150405Z"))
		}, 403, "SignatureDoesNotMatch"},
		{"eks signature not hex", eksList, good, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Signature=", "Signature=zz", 1))
		}, 403, "InvalidSignatureException"},
		{"eks host not signed", eksList, good, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=host;", "SignedHeaders=", 1))
		}, 403, "IncompleteSignature"},
		{"s3 tampered body", s3Put, good, func(r *http.Request) {
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader("tamper")), 6
		}, 400, "XAmzContentSHA256Mismatch"},
		{"s3 bad payload hash", s3List, good, func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "nonsense") }, 400, "InvalidArgument"},
		{"s3 no payload hash", s3List, good, func(r *http.Request) { r.Header.Del("X-Amz-Content-Sha256") }, 400, "InvalidRequest"},

		{"sts stale date", sts, func(r request) signing { s := good(r); s.at = now.Add(-16 * time.Minute); return s }, nil, 403, "SignatureDoesNotMatch"},
		{"ec2 stale date", ec2, func(r request) signing { s := good(r); s.at = now.Add(-16 * time.Minute); return s }, nil, 400, "RequestExpired"},
		{"elbv2 stale date", elb, func(r request) signing { s := good(r); s.at = now.Add(-6 * time.Minute); return s }, nil, 403, "SignatureDoesNotMatch"},
		{"eks stale date", eksList, func(r request) signing { s := good(r); s.at = now.Add(-6 * time.Minute); return s }, nil, 403, "InvalidSignatureException"},
		{"eks future date", eksList, func(r request) signing { s := good(r); s.at = now.Add(6 * time.Minute); return s }, nil, 403, "InvalidSignatureException"},
		{"quotas stale date", quotas, func(r request) signing { s := good(r); s.at = now.Add(-6 * time.Minute); return s }, nil, 400, "InvalidSignatureException"},
		{"s3 stale date", s3List, func(r request) signing { s := good(r); s.at = now.Add(-16 * time.Minute); return s }, nil, 403, "RequestTimeTooSkewed"},

		{"eks wrong region", eksList, func(r request) signing { s := good(r); s.region = "us-west-2"; return s }, nil, 403, "InvalidSignatureException"},
		{"ec2 wrong region", ec2, func(r request) signing { s := good(r); s.region = "us-west-2"; return s }, nil, 401, "AuthFailure"},
		{"elbv2 wrong region", elb, func(r request) signing { s := good(r); s.region = "us-west-2"; return s }, nil, 403, "SignatureDoesNotMatch"},
		{"s3 wrong region", s3List, func(r request) signing { s := good(r); s.region = "us-west-2"; return s }, nil, 400, "AuthorizationHeaderMalformed"},
		{"eks wrong service", eksList, func(r request) signing { s := good(r); s.service = "sts"; return s }, nil, 403, "InvalidSignatureException"},
		{"ec2 wrong service", ec2, func(r request) signing { s := good(r); s.service = "sts"; return s }, nil, 401, "AuthFailure"},
		{"quotas wrong service", quotas, func(r request) signing { s := good(r); s.service = "eks"; return s }, nil, 400, "InvalidSignatureException"},

		{"sts session token not issued", sts, good, func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "forged") }, 403, "InvalidClientTokenId"},
		{"eks unsigned", eksList, good, func(r *http.Request) { r.Header.Del("Authorization") }, 403, "UnrecognizedClientException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := send(tc.req, tc.sign(tc.req), tc.mutate)
			if a.status != tc.status || a.code != tc.code {
				t.Fatalf("got %d %s, want %d %s: %s", a.status, a.code, tc.status, tc.code, a.body)
			}
		})
	}
	// A body signed with a hash that is not its own: the signature holds,
	// the body does not.
	req, _ := build(s3Put)
	other := []byte("something else")
	req.Header.Set("X-Amz-Content-Sha256", sha256Hex(other))
	signed(t, req, other, cred.AccessKeyID, cred.SecretAccessKey, "s3", region, now)
	if a := do(t, req); a.status != 400 || a.code != "XAmzContentSHA256Mismatch" {
		t.Errorf("s3 wrong payload hash: got %d %s, want 400 XAmzContentSHA256Mismatch: %s", a.status, a.code, a.body)
	}
	// Sanity: each request is accepted when signed right, so the
	// refusals above are the tampering's doing.
	for _, r := range []request{sts, ec2, elb, eksList, quotas, s3List, s3Put} {
		if a := send(r, good(r), nil); a.status != http.StatusOK {
			t.Errorf("%s %s signed right: %d %s %s", r.method, r.path, a.status, a.code, a.body)
		}
	}
}

// TestSigV4SkewMessages: the message of a stale signature says the window,
// as AWS's do ("Signature expired: ... (... - 5 min.)").
func TestSigV4SkewMessages(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	for _, tc := range []struct {
		service, window string
		req             func() (*http.Request, []byte)
		skew            time.Duration
	}{
		{"elasticloadbalancing", "- 5 min.)", func() (*http.Request, []byte) {
			b := []byte("Action=DescribeLoadBalancers&Version=2015-12-01")
			r, _ := http.NewRequest(http.MethodPost, env.URL, bytes.NewReader(b))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r, b
		}, -6 * time.Minute},
		{"sts", "- 15 min.)", func() (*http.Request, []byte) {
			b := []byte("Action=GetCallerIdentity&Version=2011-06-15")
			r, _ := http.NewRequest(http.MethodPost, env.URL, bytes.NewReader(b))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r, b
		}, -16 * time.Minute},
		{"sts", "+ 15 min.)", func() (*http.Request, []byte) {
			b := []byte("Action=GetCallerIdentity&Version=2011-06-15")
			r, _ := http.NewRequest(http.MethodPost, env.URL, bytes.NewReader(b))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r, b
		}, 16 * time.Minute},
	} {
		req, body := tc.req()
		c := emulator.DefaultCredential
		a := do(t, signed(t, req, body, c.AccessKeyID, c.SecretAccessKey, tc.service, env.Region, time.Now().Add(tc.skew)))
		prefix := "Signature expired: "
		if tc.skew > 0 {
			prefix = "Signature not yet current: "
		}
		if a.code != "SignatureDoesNotMatch" || !strings.HasPrefix(a.msg, prefix) || !strings.HasSuffix(a.msg, tc.window) {
			t.Errorf("%s skewed %s: %s %q", tc.service, tc.skew, a.code, a.msg)
		}
	}
	// 4 minutes is within every window.
	req, _ := http.NewRequest(http.MethodGet, env.URL+"/clusters", nil)
	c := emulator.DefaultCredential
	if a := do(t, signed(t, req, nil, c.AccessKeyID, c.SecretAccessKey, "eks", env.Region, time.Now().Add(-4*time.Minute))); a.status != http.StatusOK {
		t.Errorf("signed 4 minutes ago: %d %s", a.status, a.body)
	}
}

// TestSigV4Presigned: presigned URLs verify, with their expiry; a
// tampered one does not.
func TestSigV4Presigned(t *testing.T) {
	_, c := startS3(t)
	if _, err := put(t, c, "report.json", "{}", nil); err != nil {
		t.Fatal(err)
	}
	presign := func(at time.Time, expires time.Duration) string {
		t.Helper()
		p := s3.NewPresignClient(c, func(o *s3.PresignOptions) {
			o.Expires = expires
			o.Presigner = clockPresigner{at}
		})
		out, err := p.PresignGetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String("report.json")})
		if err != nil {
			t.Fatal(err)
		}
		return out.URL
	}
	get := func(u string) answer {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		return do(t, req)
	}
	if a := get(presign(time.Now(), time.Minute)); a.status != http.StatusOK || a.body != "{}" {
		t.Fatalf("fresh presigned GET: %d %s", a.status, a.body)
	}
	if a := get(presign(time.Now().Add(-2*time.Minute), time.Minute)); a.status != http.StatusForbidden || a.code != "AccessDenied" ||
		!strings.Contains(a.body, "<X-Amz-Expires>60</X-Amz-Expires>") {
		t.Fatalf("expired presigned GET: %d %s %s", a.status, a.code, a.body)
	}
	tampered := strings.Replace(presign(time.Now(), time.Minute), "report.json", "other.json", 1)
	if a := get(tampered); a.status != http.StatusForbidden || a.code != "SignatureDoesNotMatch" {
		t.Fatalf("tampered presigned GET: %d %s %s", a.status, a.code, a.body)
	}
	u, _ := url.Parse(presign(time.Now(), time.Minute))
	q := u.Query()
	q.Set("X-Amz-Credential", strings.Replace(q.Get("X-Amz-Credential"), "/eu-west-1/", "/us-east-1/", 1))
	u.RawQuery = q.Encode()
	if a := get(u.String()); a.status != http.StatusBadRequest || a.code != "AuthorizationQueryParametersError" {
		t.Fatalf("presigned GET scoped to another region: %d %s %s", a.status, a.code, a.body)
	}
}

// clockPresigner presigns at a given time.
type clockPresigner struct{ at time.Time }

func (p clockPresigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string,
	_ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return v4.NewSigner().PresignHTTP(ctx, creds, r, payloadHash, service, region, p.at, optFns...)
}

// TestSigV4EKSTokenAtSTS: an EKS token is a presigned GetCallerIdentity
// that aws-iam-authenticator replays to STS with the x-k8s-aws-id header;
// the emulator's STS verifies it (with STS's 15 minutes whatever
// X-Amz-Expires says), and refuses it for another cluster or once stale.
func TestSigV4EKSTokenAtSTS(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	replay := func(token, cluster string) answer {
		t.Helper()
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, ekstoken.Prefix))
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodGet, string(raw), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(ekstoken.ClusterIDHeader, cluster)
		return do(t, req)
	}
	token := func(at time.Time) string {
		tok, err := ekstoken.Generate(t.Context(), env.AWS, "demo-blue", ekstoken.WithClock(func() time.Time { return at }))
		if err != nil {
			t.Fatal(err)
		}
		return tok.Value
	}
	if a := replay(token(time.Now().Add(-5*time.Minute)), "demo-blue"); a.status != http.StatusOK || !strings.Contains(a.body, "<Account>"+env.Account+"</Account>") {
		t.Fatalf("token signed 5 minutes ago (X-Amz-Expires 60): %d %s", a.status, a.body)
	}
	if a := replay(token(time.Now()), "demo-green"); a.status != http.StatusForbidden || a.code != "SignatureDoesNotMatch" {
		t.Fatalf("token for another cluster: %d %s", a.status, a.body)
	}
	if a := replay(token(time.Now().Add(-16*time.Minute)), "demo-blue"); a.status != http.StatusForbidden || a.code != "SignatureDoesNotMatch" ||
		!strings.HasPrefix(a.msg, "Signature expired") {
		t.Fatalf("token signed 16 minutes ago: %d %s", a.status, a.body)
	}
}

// TestSigV4ClockSkewCorrection: an SDK client whose clock is an hour
// behind is refused, learns the emulator's time from the Date header and
// retries, as against AWS; the answer it retries on is one the SDK's
// clock-skew handling knows.
func TestSigV4ClockSkewCorrection(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo", func(o *emulator.Options) {
		o.SigningClock = func() time.Time { return time.Now().Add(time.Hour) }
	})
	out, err := sts.NewFromConfig(env.AWS).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with the clock an hour behind: %v", err)
	}
	if aws.ToString(out.Account) != env.Account {
		t.Fatalf("account %q", aws.ToString(out.Account))
	}
	noRetry := eks.NewFromConfig(env.AWS, func(o *eks.Options) { o.RetryMaxAttempts = 1 })
	_, err = noRetry.ListClusters(t.Context(), &eks.ListClustersInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidSignatureException" {
		t.Fatalf("ListClusters an hour behind without retries: %v, want InvalidSignatureException", err)
	}
}

// TestSigV4SDKAndCLIs: real signers pass: aws-sdk-go-v2 for every service
// is covered by the other tests; here the AWS CLI v2 and v1 (botocore)
// sign a query, a JSON and a REST-JSON call.
func TestSigV4SDKAndCLIs(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	for _, cli := range [][]string{{sandboxtest.CLIv2}, {"python3", "-m", "awscli"}} {
		for _, args := range [][]string{{"sts", "get-caller-identity"}, {"eks", "list-clusters"},
			{"service-quotas", "get-service-quota", "--service-code", "ec2", "--quota-code", "L-1216C47A"}} {
			out, stderr, err := env.RunCLI(t, cli[0], append(cli[1:], args...)...)
			if err != nil {
				t.Errorf("%s %s: %v\n%s", strings.Join(cli, " "), strings.Join(args, " "), err, stderr)
				continue
			}
			if len(out) == 0 {
				t.Errorf("%s %s: no output", strings.Join(cli, " "), strings.Join(args, " "))
			}
		}
	}
}

// awsExampleScenario holds the credential and bucket of AWS's published
// SigV4 examples (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html).
const awsExampleScenario = `
apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: us-east-1
credentials:
  - {accessKeyId: AKIAIOSFODNN7EXAMPLE, secretAccessKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY}
vpcs: []
buckets:
  - name: examplebucket
`

// TestSigV4AWSStreamingExample replays AWS's published signed chunked
// upload, byte for byte, at its time: the seed signature and the chunk
// signatures are AWS's own, so a pass means the emulator computes them as
// S3 does, not merely as itself. A corrupted chunk is refused.
func TestSigV4AWSStreamingExample(t *testing.T) {
	sc, err := scenario.Parse("example.yaml", []byte(awsExampleScenario))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.New(emulator.Options{Scenario: sc,
		SigningClock: func() time.Time { return time.Date(2013, 5, 24, 0, 1, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	body := func(corrupt bool) []byte {
		var b bytes.Buffer
		for _, c := range []struct {
			size int
			sig  string
		}{
			{65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"},
			{1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"},
			{0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"},
		} {
			b.WriteString(strconv.FormatInt(int64(c.size), 16) + ";chunk-signature=" + c.sig + "\r\n")
			data := bytes.Repeat([]byte("a"), c.size)
			if corrupt && c.size == 1024 {
				data[10] = 'b'
			}
			b.Write(data)
			b.WriteString("\r\n")
		}
		return b.Bytes()
	}
	put := func(b []byte) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPut, "/examplebucket/chunkObject.txt", bytes.NewReader(b))
		r.Host = "s3.amazonaws.com"
		r.Header.Set("X-Amz-Date", "20130524T000000Z")
		r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
		r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
		r.Header.Set("Content-Encoding", "aws-chunked")
		r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
		r.Header.Set("Content-Length", strconv.Itoa(len(b)))
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"+
			"SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"+
			"Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		return rec
	}
	if len(body(false)) != 66824 {
		t.Fatalf("body is %d bytes, AWS's example 66824", len(body(false)))
	}
	if rec := put(body(false)); rec.Code != http.StatusOK {
		t.Fatalf("AWS's example: %d %s", rec.Code, rec.Body)
	}
	if rec := put(body(true)); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("AWS's example with a corrupted chunk: %d %s", rec.Code, rec.Body)
	}
}
