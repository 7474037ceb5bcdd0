package ekstoken_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/eksbg/eksbg/internal/ekstoken"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// t0 is when the tests' tokens are signed.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// The credentials the tests sign with: an IAM user's long-term key and an
// assumed-role session's temporary one.
const (
	userKey, userSecret, userARN          = "AKIAEXAMPLEUSER00001", "user-secret", "arn:aws:iam::111122223333:user/ops/alice"
	sessionKey, sessionSecret, sessionTok = "ASIAEXAMPLESESSION01", "session-secret", "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
	sessionARN                            = "arn:aws:sts::111122223333:assumed-role/Admin/bob@example.com"
)

func lookup(akid string) (ekstoken.Credential, bool) {
	switch akid {
	case userKey:
		return ekstoken.Credential{SecretAccessKey: userSecret, ARN: userARN}, true
	case sessionKey:
		return ekstoken.Credential{SecretAccessKey: sessionSecret, ARN: sessionARN}, true
	}
	return ekstoken.Credential{}, false
}

func sdkConfig(akid, secret, session string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:4566"),
		Credentials: credentials.NewStaticCredentialsProvider(akid, secret, session)}
}

// sign makes a token for cluster signed at t.
func sign(t *testing.T, cfg aws.Config, cluster string, at time.Time) string {
	t.Helper()
	tok, err := ekstoken.Generate(context.Background(), cfg, cluster, ekstoken.WithClock(func() time.Time { return at }))
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Add(14 * time.Minute); !tok.Expiration.Equal(want) {
		t.Fatalf("Expiration = %s, want %s (signing time + 14 minutes)", tok.Expiration, want)
	}
	return tok.Value
}

// presignedURL decodes a token.
func presignedURL(t *testing.T, token string) *url.URL {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, ekstoken.Prefix))
	if err != nil || !strings.HasPrefix(token, ekstoken.Prefix) {
		t.Fatalf("token %q is not %q + base64url: %v", token, ekstoken.Prefix, err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// edit changes a token's URL and encodes it again.
func edit(t *testing.T, token string, f func(u *url.URL, q url.Values)) string {
	t.Helper()
	u := presignedURL(t, token)
	q := u.Query()
	f(u, q)
	u.RawQuery = q.Encode()
	return ekstoken.Prefix + base64.RawURLEncoding.EncodeToString([]byte(u.String()))
}

var sentinels = []error{ekstoken.ErrMalformed, ekstoken.ErrExpired, ekstoken.ErrNotYetValid, ekstoken.ErrUnknownAccessKey,
	ekstoken.ErrBadSignature, ekstoken.ErrWrongCluster}

func TestVerify(t *testing.T) {
	user := sign(t, sdkConfig(userKey, userSecret, ""), "blue", t0)
	session := sign(t, sdkConfig(sessionKey, sessionSecret, sessionTok), "blue", t0)
	wrongSecret := sign(t, sdkConfig(userKey, "not-the-secret", ""), "blue", t0)
	unknown := sign(t, sdkConfig("AKIANOBODYKNOWSTHIS1", "x", ""), "blue", t0)
	userID := ekstoken.Identity{ARN: userARN, CanonicalARN: userARN, AccountID: "111122223333", AccessKeyID: userKey}
	sessionID := ekstoken.Identity{ARN: sessionARN, CanonicalARN: "arn:aws:iam::111122223333:role/Admin", SessionName: "bob@example.com",
		AccountID: "111122223333", AccessKeyID: sessionKey}
	flip := func(s string) string { // change the last hex digit
		last := s[len(s)-1]
		return s[:len(s)-1] + map[bool]string{true: "1", false: "0"}[last == '0']
	}
	tests := []struct {
		name    string
		token   string
		cluster string
		now     time.Time
		opts    []ekstoken.VerifyOption
		want    ekstoken.Identity
		wantErr error
	}{
		{name: "accepted when signed", token: user, now: t0, want: userID},
		{name: "accepted 14m59s later", token: user, now: t0.Add(14*time.Minute + 59*time.Second), want: userID},
		{name: "accepted at exactly 15 minutes", token: user, now: t0.Add(15 * time.Minute), want: userID},
		{name: "accepted from a clock 10 minutes fast", token: user, now: t0.Add(-10 * time.Minute), want: userID},
		{name: "assumed-role session", token: session, now: t0.Add(time.Minute), want: sessionID},
		{name: "expired after 15 minutes", token: user, now: t0.Add(15*time.Minute + time.Second), wantErr: ekstoken.ErrExpired},
		{name: "signed more than 15 minutes ahead", token: user, now: t0.Add(-15*time.Minute - time.Second), wantErr: ekstoken.ErrNotYetValid},
		{name: "other cluster", token: user, cluster: "green", now: t0, wantErr: ekstoken.ErrBadSignature},
		{name: "other cluster, known", token: user, cluster: "green", now: t0,
			opts: []ekstoken.VerifyOption{ekstoken.WithKnownClusters("red", "blue")}, wantErr: ekstoken.ErrWrongCluster},
		{name: "other clusters known, none matches", token: wrongSecret, now: t0,
			opts: []ekstoken.VerifyOption{ekstoken.WithKnownClusters("green")}, wantErr: ekstoken.ErrBadSignature},
		{name: "wrong secret", token: wrongSecret, now: t0, wantErr: ekstoken.ErrBadSignature},
		{name: "unknown access key", token: unknown, now: t0, wantErr: ekstoken.ErrUnknownAccessKey},
		{name: "signature tampered", now: t0, wantErr: ekstoken.ErrBadSignature,
			token: edit(t, user, func(_ *url.URL, q url.Values) { q.Set("X-Amz-Signature", flip(q.Get("X-Amz-Signature"))) })},
		{name: "date moved", now: t0, wantErr: ekstoken.ErrBadSignature,
			token: edit(t, user, func(_ *url.URL, q url.Values) { q.Set("X-Amz-Date", "20260301T120001Z") })},
		{name: "scope moved to another region", now: t0, wantErr: ekstoken.ErrBadSignature,
			token: edit(t, user, func(_ *url.URL, q url.Values) {
				q.Set("X-Amz-Credential", strings.Replace(q.Get("X-Amz-Credential"), "us-east-1", "eu-west-1", 1))
			})},
		{name: "host changed", now: t0, wantErr: ekstoken.ErrBadSignature,
			token: edit(t, user, func(u *url.URL, _ url.Values) { u.Host = "sts.amazonaws.com" })},
		{name: "session token dropped", now: t0, wantErr: ekstoken.ErrBadSignature,
			token: edit(t, session, func(_ *url.URL, q url.Values) { q.Del("X-Amz-Security-Token") })},
		{name: "X-Amz-Expires changed", now: t0, wantErr: ekstoken.ErrBadSignature,
			token: edit(t, user, func(_ *url.URL, q url.Values) { q.Set("X-Amz-Expires", "900") })},
		{name: "another action", now: t0, wantErr: ekstoken.ErrMalformed,
			token: edit(t, user, func(_ *url.URL, q url.Values) { q.Set("Action", "GetSessionToken") })},
		{name: "another version", now: t0, wantErr: ekstoken.ErrMalformed,
			token: edit(t, user, func(_ *url.URL, q url.Values) { q.Set("Version", "2011-06-16") })},
		{name: "another algorithm", now: t0, wantErr: ekstoken.ErrMalformed,
			token: edit(t, user, func(_ *url.URL, q url.Values) { q.Set("X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256") })},
		{name: "cluster header not signed", now: t0, wantErr: ekstoken.ErrMalformed,
			token: edit(t, user, func(_ *url.URL, q url.Values) { q.Set("X-Amz-SignedHeaders", "host") })},
		{name: "X-Amz-Expires over 900", now: t0, wantErr: ekstoken.ErrMalformed,
			token: edit(t, user, func(_ *url.URL, q url.Values) { q.Set("X-Amz-Expires", "901") })},
		{name: "X-Amz-Expires missing", now: t0, wantErr: ekstoken.ErrMalformed,
			token: edit(t, user, func(_ *url.URL, q url.Values) { q.Del("X-Amz-Expires") })},
		{name: "X-Amz-Date garbled", now: t0, wantErr: ekstoken.ErrMalformed,
			token: edit(t, user, func(_ *url.URL, q url.Values) { q.Set("X-Amz-Date", "2026-03-01T12:00:00Z") })},
		{name: "extra parameter", now: t0, wantErr: ekstoken.ErrMalformed,
			token: edit(t, user, func(_ *url.URL, q url.Values) { q.Set("RoleArn", "arn:aws:iam::111122223333:role/x") })},
		{name: "parameter twice", now: t0, wantErr: ekstoken.ErrMalformed,
			token: edit(t, user, func(_ *url.URL, q url.Values) { q.Add("Action", "GetCallerIdentity") })},
		{name: "credential scope of another service", now: t0, wantErr: ekstoken.ErrMalformed,
			token: edit(t, user, func(_ *url.URL, q url.Values) {
				q.Set("X-Amz-Credential", strings.Replace(q.Get("X-Amz-Credential"), "/sts/", "/iam/", 1))
			})},
		{name: "signature not hex", now: t0, wantErr: ekstoken.ErrMalformed,
			token: edit(t, user, func(_ *url.URL, q url.Values) { q.Set("X-Amz-Signature", "zz"+q.Get("X-Amz-Signature")[2:]) })},
		{name: "another path", now: t0, wantErr: ekstoken.ErrMalformed,
			token: edit(t, user, func(u *url.URL, _ url.Values) { u.Path = "/admin" })},
		{name: "another scheme", now: t0, wantErr: ekstoken.ErrMalformed,
			token: edit(t, user, func(u *url.URL, _ url.Values) { u.Scheme = "ftp" })},
		{name: "no prefix", token: strings.TrimPrefix(user, ekstoken.Prefix), now: t0, wantErr: ekstoken.ErrMalformed},
		{name: "version 2 prefix", token: "k8s-aws-v2." + strings.TrimPrefix(user, ekstoken.Prefix), now: t0, wantErr: ekstoken.ErrMalformed},
		{name: "padded base64", token: user + "==", now: t0, wantErr: ekstoken.ErrMalformed},
		{name: "not base64url", token: ekstoken.Prefix + "a+b/c", now: t0, wantErr: ekstoken.ErrMalformed},
		{name: "empty", token: "", now: t0, wantErr: ekstoken.ErrMalformed},
		{name: "too long", token: user + strings.Repeat("A", 4096), now: t0, wantErr: ekstoken.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cluster := tc.cluster
			if cluster == "" {
				cluster = "blue"
			}
			got, err := ekstoken.Verify(tc.token, cluster, tc.now, lookup, tc.opts...)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if got != tc.want {
					t.Fatalf("identity = %+v, want %+v", got, tc.want)
				}
				return
			}
			for _, s := range sentinels {
				if errors.Is(err, s) != (s == tc.wantErr) {
					t.Fatalf("Verify error %v: errors.Is(%v) = %v", err, s, errors.Is(err, s))
				}
			}
			if got != (ekstoken.Identity{}) {
				t.Errorf("a refused token yielded identity %+v", got)
			}
			// Refusals are logged: they must not quote the secret parts.
			u := presignedURL(t, user)
			for _, secret := range []string{userSecret, u.Query().Get("X-Amz-Signature"), sessionTok} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes a secret", err)
				}
			}
		})
	}
}

// TestGenerateEndpoint: the presigned URL points where the SDK config sends
// STS calls, so sandbox tokens name the emulator.
func TestGenerateEndpoint(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	load := func(t *testing.T, region string, env map[string]string) aws.Config {
		t.Helper()
		for k, v := range env {
			t.Setenv(k, v)
		}
		cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(region),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(userKey, userSecret, "")))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	tests := []struct {
		name     string
		cfg      func(t *testing.T) aws.Config
		wantHost string
	}{
		{"regional STS endpoint", func(t *testing.T) aws.Config { return load(t, "eu-west-1", nil) }, "sts.eu-west-1.amazonaws.com"},
		{"BaseEndpoint", func(*testing.T) aws.Config { return sdkConfig(userKey, userSecret, "") }, "127.0.0.1:4566"},
		{"AWS_ENDPOINT_URL", func(t *testing.T) aws.Config {
			return load(t, "us-east-1", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"})
		}, "127.0.0.1:4566"},
		{"AWS_ENDPOINT_URL_STS", func(t *testing.T) aws.Config {
			return load(t, "us-east-1", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_STS": "http://sts.sandbox.test:4566"})
		}, "sts.sandbox.test:4566"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := ekstoken.Generate(context.Background(), tc.cfg(t), "blue")
			if err != nil {
				t.Fatal(err)
			}
			if u := presignedURL(t, tok.Value); u.Host != tc.wantHost || u.Path != "/" {
				t.Fatalf("token URL %s://%s%s, want host %s and path /", u.Scheme, u.Host, u.Path, tc.wantHost)
			}
			if _, err := ekstoken.Verify(tok.Value, "blue", time.Now(), lookup); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
	t.Run("no cluster name", func(t *testing.T) {
		if _, err := ekstoken.Generate(context.Background(), sdkConfig(userKey, userSecret, ""), ""); err == nil {
			t.Fatal("Generate with no cluster name succeeded")
		}
	})
	t.Run("no region", func(t *testing.T) {
		cfg := sdkConfig(userKey, userSecret, "")
		cfg.Region, cfg.BaseEndpoint = "", nil
		if _, err := ekstoken.Generate(context.Background(), cfg, "blue"); err == nil {
			t.Fatal("Generate with no region succeeded")
		}
	})
}

// TestAWSCLIGetToken: `aws eks get-token` (AWS CLI v2) and Generate make
// tokens of the same shape, and Verify accepts the CLI's.
func TestAWSCLIGetToken(t *testing.T) {
	env := sandboxtest.StartYAML(t, `
apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: us-east-1
vpcs: []
`)
	out, stderr, err := env.RunCLI(t, sandboxtest.CLIv2, "eks", "get-token", "--cluster-name", "demo-blue")
	if err != nil {
		t.Fatalf("aws eks get-token: %v\n%s", err, stderr)
	}
	var cred struct {
		Kind   string `json:"kind"`
		Status struct {
			ExpirationTimestamp time.Time `json:"expirationTimestamp"`
			Token               string    `json:"token"`
		} `json:"status"`
	}
	if err := json.Unmarshal(out, &cred); err != nil || cred.Kind != "ExecCredential" {
		t.Fatalf("aws eks get-token printed %s (%v), want an ExecCredential", out, err)
	}
	cli := cred.Status.Token
	def := emulator.DefaultCredential
	lookupDefault := func(akid string) (ekstoken.Credential, bool) {
		return ekstoken.Credential{SecretAccessKey: def.SecretAccessKey, ARN: "arn:aws:iam::111122223333:user/sandbox"}, akid == def.AccessKeyID
	}
	// The CLI signs at the real time, so verify at it.
	if id, err := ekstoken.Verify(cli, "demo-blue", time.Now(), lookupDefault); err != nil || id.AccessKeyID != def.AccessKeyID {
		t.Fatalf("Verify(CLI token) = %+v, %v", id, err)
	}
	if _, err := ekstoken.Verify(cli, "demo-green", time.Now(), lookupDefault, ekstoken.WithKnownClusters("demo-blue")); !errors.Is(err, ekstoken.ErrWrongCluster) {
		t.Fatalf("Verify(CLI token, another cluster) = %v, want ErrWrongCluster", err)
	}

	ours, err := ekstoken.Generate(context.Background(), env.AWS, "demo-blue")
	if err != nil {
		t.Fatal(err)
	}
	cu, ou := presignedURL(t, cli), presignedURL(t, ours.Value)
	cq, oq := cu.Query(), ou.Query()
	keys := func(q url.Values) []string {
		var k []string
		for name := range q {
			k = append(k, name)
		}
		slices.Sort(k)
		return k
	}
	if !slices.Equal(keys(cq), keys(oq)) {
		t.Errorf("query parameters: CLI %v, ours %v", keys(cq), keys(oq))
	}
	for _, p := range []string{"Action", "Version", "X-Amz-Algorithm", "X-Amz-Expires", "X-Amz-SignedHeaders"} {
		if cq.Get(p) != oq.Get(p) {
			t.Errorf("%s: CLI %q, ours %q", p, cq.Get(p), oq.Get(p))
		}
	}
	// AKID/date/region/sts/aws4_request: all but the date agree.
	cs, ourScope := strings.Split(cq.Get("X-Amz-Credential"), "/"), strings.Split(oq.Get("X-Amz-Credential"), "/")
	if len(cs) != 5 || len(ourScope) != 5 || cs[0] != ourScope[0] || !slices.Equal(cs[2:], ourScope[2:]) {
		t.Errorf("X-Amz-Credential: CLI %q, ours %q", cq.Get("X-Amz-Credential"), oq.Get("X-Amz-Credential"))
	}
	if cu.Path != "/" || ou.Path != "/" {
		t.Errorf("paths: CLI %q, ours %q", cu.Path, ou.Path)
	}
	// Ours follows the SDK config to the emulator. CLI 2.9's get-token builds
	// its STS client without --endpoint-url, so its URL names real STS; the
	// host is signed either way.
	if want := strings.TrimPrefix(env.URL, "http://"); ou.Host != want {
		t.Errorf("our token's host is %s, want the emulator's %s", ou.Host, want)
	}
	t.Logf("CLI token host %s, ours %s", cu.Host, ou.Host)
	// Both report an expiry 14 minutes after signing (the CLI counts from
	// when it prints, a moment after it signs).
	cliSigned, err := time.Parse("20060102T150405Z", cq.Get("X-Amz-Date"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cred.Status.ExpirationTimestamp.Sub(cliSigned); d < 14*time.Minute || d >= 15*time.Minute {
		t.Errorf("CLI token expires %s after signing, want 14 minutes", d)
	}
	ourSigned, _ := time.Parse("20060102T150405Z", oq.Get("X-Amz-Date"))
	if d := ours.Expiration.Sub(ourSigned); d != 14*time.Minute {
		t.Errorf("our token expires %s after signing, want 14 minutes", d)
	}
}

// TestSource: tokens are reused until their Expiration, and the transport
// wrapper authenticates requests with them against a server that verifies
// them as EKS does.
func TestSource(t *testing.T) {
	clock := sandboxtest.NewClock(t0)
	src := ekstoken.NewSource(sdkConfig(userKey, userSecret, ""), "blue", ekstoken.WithClock(clock.Now))
	ctx := context.Background()
	token := func() string {
		t.Helper()
		tok, err := src.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return tok.Value
	}
	first := token()
	if token() != first {
		t.Fatal("a second Token call signed a new token")
	}
	clock.Advance(14*time.Minute - time.Second)
	if token() != first {
		t.Fatal("the token was replaced before its Expiration")
	}
	clock.Advance(time.Second)
	second := token()
	if second == first {
		t.Fatal("the token was kept at its Expiration")
	}
	if u := presignedURL(t, second); u.Query().Get("X-Amz-Date") != "20260301T121400Z" {
		t.Fatalf("the new token was signed at %s, want the clock's 20260301T121400Z", u.Query().Get("X-Amz-Date"))
	}
	// Concurrent callers share the cached token (run with -race).
	got := make(chan string, 8)
	for range 8 {
		go func() {
			tok, err := src.Token(ctx)
			if err != nil {
				t.Error(err)
			}
			got <- tok.Value
		}()
	}
	for range 8 {
		if v := <-got; v != second {
			t.Fatal("a concurrent caller got another token")
		}
	}

	// A stand-in API server: 401 unless the bearer token verifies for
	// "blue" now, and 401 once more when told to.
	var (
		seen   []string
		refuse bool
	)
	apiserver := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		seen = append(seen, auth)
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if _, err := ekstoken.Verify(tok, "blue", clock.Now(), lookup); !ok || err != nil || refuse {
			refuse = false
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		rw.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(apiserver.Close)
	client := &http.Client{Transport: src.WrapTransport(nil)}
	get := func(header string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiserver.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if req.Header.Get("Authorization") != header {
			t.Fatal("the transport modified the caller's request")
		}
		return resp.StatusCode
	}
	if code := get(""); code != http.StatusOK || seen[0] != "Bearer "+second {
		t.Fatalf("request answered %d with Authorization %q, want 200 with the current token", code, seen[0])
	}
	if code := get("Bearer someone-else"); code != http.StatusUnauthorized || seen[1] != "Bearer someone-else" {
		t.Fatalf("a request with its own Authorization: answered %d, server saw %q", code, seen[1])
	}
	// A 401 for our token drops it: the next request signs a new one, well
	// before the old one's Expiration.
	refuse = true
	clock.Advance(time.Second)
	if code := get(""); code != http.StatusUnauthorized || seen[2] != "Bearer "+second {
		t.Fatalf("refused request: %d with %q", code, seen[2])
	}
	if code := get(""); code != http.StatusOK || seen[3] == seen[2] {
		t.Fatalf("after a 401: %d, token replaced: %v", code, seen[3] != seen[2])
	}
	if got := token(); "Bearer "+got != seen[3] {
		t.Fatal("Token does not return the token the transport sent")
	}
}

// BenchmarkGenerate: signing a token (no network: static credentials).
func BenchmarkGenerate(b *testing.B) {
	cfg := sdkConfig(userKey, userSecret, "")
	for b.Loop() {
		if _, err := ekstoken.Generate(context.Background(), cfg, "blue"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify: what the sandbox's webhook spends on one TokenReview.
func BenchmarkVerify(b *testing.B) {
	tok, err := ekstoken.Generate(context.Background(), sdkConfig(userKey, userSecret, ""), "blue",
		ekstoken.WithClock(func() time.Time { return t0 }))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ekstoken.Verify(tok.Value, "blue", t0, lookup); err != nil {
			b.Fatal(err)
		}
	}
}
