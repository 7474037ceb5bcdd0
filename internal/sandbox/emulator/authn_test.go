package emulator_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/eksbg/eksbg/internal/ekstoken"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// authnScenario: the sandbox credential (creator of the scenario's
// clusters), a developer working through an assumed role, a viewer and a
// stranger; blue has access entries for the developer's role (named with a
// path) and the viewer.
const authnScenario = `
apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: us-east-1
credentials:
  - {accessKeyId: AKIASANDBOX000000000, secretAccessKey: sandbox-secret-access-key, arn: "arn:aws:iam::111122223333:user/admin"}
  - {accessKeyId: ASIADEVELOPER0000001, secretAccessKey: developer-secret, arn: "arn:aws:sts::111122223333:assumed-role/Developer/jane@example.com"}
  - {accessKeyId: AKIAVIEWER0000000001, secretAccessKey: viewer-secret, arn: "arn:aws:iam::111122223333:user/viewer"}
  - {accessKeyId: AKIASTRANGER00000001, secretAccessKey: stranger-secret, arn: "arn:aws:iam::111122223333:user/stranger"}
vpcs:
  - id: vpc-0a0000000000000a1
    cidr: 10.40.0.0/16
    subnets:
      - {id: subnet-0a00000000000a001, az: us-east-1a, cidr: 10.40.0.0/24}
      - {id: subnet-0a00000000000b001, az: us-east-1b, cidr: 10.40.1.0/24}
clusters:
  - name: blue
    version: "1.32"
    subnets: [subnet-0a00000000000a001, subnet-0a00000000000b001]
    accessEntries:
      - {principalArn: "arn:aws:iam::111122223333:role/teams/Developer", kubernetesGroups: [developers]}
      - {principalArn: "arn:aws:iam::111122223333:user/viewer", username: "viewer-{{AccountID}}", kubernetesGroups: [view, audit]}
  - name: green
    version: "1.32"
    subnets: [subnet-0a00000000000a001, subnet-0a00000000000b001]
`

// withSigningClock sets the clock the emulator judges signatures and EKS
// tokens by.
func withSigningClock(now func() time.Time) sandboxtest.Option {
	return func(o *emulator.Options) { o.SigningClock = now }
}

// authnStart is the emulator's clock at the start of the tests; 1.32 is
// supported then.
var authnStart = time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)

type signer struct{ akid, secret string }

var (
	admin     = signer{"AKIASANDBOX000000000", "sandbox-secret-access-key"}
	developer = signer{"ASIADEVELOPER0000001", "developer-secret"}
	viewer    = signer{"AKIAVIEWER0000000001", "viewer-secret"}
	stranger  = signer{"AKIASTRANGER00000001", "stranger-secret"}
)

func (s signer) config(env *sandboxtest.Env) aws.Config {
	cfg := env.AWS.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(s.akid, s.secret, "")
	return cfg
}

// token signs a token for cluster at the given time.
func (s signer) token(t *testing.T, env *sandboxtest.Env, cluster string, at time.Time) string {
	t.Helper()
	tok, err := ekstoken.Generate(context.Background(), s.config(env), cluster, ekstoken.WithClock(func() time.Time { return at }))
	if err != nil {
		t.Fatal(err)
	}
	return tok.Value
}

// review posts a TokenReview to a cluster's webhook as kube-apiserver does
// and returns the HTTP status and the decoded JSON answer.
func review(t *testing.T, env *sandboxtest.Env, cluster, apiVersion, token string) (int, map[string]any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"apiVersion": apiVersion, "kind": "TokenReview",
		"metadata": map[string]any{"creationTimestamp": nil}, "spec": map[string]any{"token": token}})
	if err != nil {
		t.Fatal(err)
	}
	return post(t, env.URL+emulator.AuthnWebhookPath(cluster), "application/json", body)
}

func post(t *testing.T, u, contentType string, body []byte) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(u, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer %d is not JSON: %s", resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return resp.StatusCode, out
}

var uidPattern = regexp.MustCompile(`^aws-iam-authenticator:111122223333:AIDA[A-Z0-9]{17}$`)

// accepted is the exact answer for an authenticated user; the uid is
// checked against uidPattern and then compared as returned.
func accepted(t *testing.T, got map[string]any, apiVersion, username string, groups []string, extra map[string]string) {
	t.Helper()
	status, _ := got["status"].(map[string]any)
	user, _ := status["user"].(map[string]any)
	uid, _ := user["uid"].(string)
	if !uidPattern.MatchString(uid) {
		t.Errorf("uid %q does not match %s", uid, uidPattern)
	}
	g := []any{}
	for _, s := range groups {
		g = append(g, s)
	}
	// principalId is GetCallerIdentity's UserId, the uid's last part.
	x := map[string]any{"principalId": []any{uid[strings.LastIndex(uid, ":")+1:]}}
	for k, v := range extra {
		x[k] = []any{v}
	}
	want := map[string]any{"apiVersion": apiVersion, "kind": "TokenReview", "status": map[string]any{
		"authenticated": true, "user": map[string]any{"username": username, "uid": uid, "groups": g, "extra": x}}}
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		t.Errorf("answer\n%s\nwant\n%s", gj, wj)
	}
}

// refused checks the exact shape of a refusal and that its reason is the
// wanted ekstoken error (nil: any reason).
func refused(t *testing.T, got map[string]any, reason error) {
	t.Helper()
	status, _ := got["status"].(map[string]any)
	msg, _ := status["error"].(string)
	want := map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
		"status": map[string]any{"authenticated": false, "error": msg}}
	if !reflect.DeepEqual(got, want) || msg == "" {
		gj, _ := json.Marshal(got)
		t.Errorf("answer %s, want a refusal with a reason", gj)
	}
	// The reason is Verify's error, which starts with its sentinel's text.
	if reason != nil && !strings.HasPrefix(msg, reason.Error()) {
		t.Errorf("refused because %q, want %q", msg, reason)
	}
}

func TestAuthnWebhook(t *testing.T) {
	clock := sandboxtest.NewClock(authnStart)
	env := sandboxtest.StartYAML(t, authnScenario, sandboxtest.WithClock(clock.Now), withSigningClock(clock.Now))
	now := authnStart
	const v1 = "authentication.k8s.io/v1"
	adminExtra := func(arn, akid, canonical, session string) map[string]string {
		return map[string]string{"arn": arn, "accessKeyId": akid, "canonicalArn": canonical, "sessionName": session}
	}
	tamper := func(token string) string {
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, ekstoken.Prefix))
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(string(raw))
		q := u.Query()
		sig := q.Get("X-Amz-Signature")
		q.Set("X-Amz-Signature", strings.Map(func(r rune) rune { // one hex digit changed
			if r == '0' {
				return '1'
			}
			return '0'
		}, sig[:1])+sig[1:])
		u.RawQuery = q.Encode()
		return ekstoken.Prefix + base64.RawURLEncoding.EncodeToString([]byte(u.String()))
	}

	tests := []struct {
		name       string
		cluster    string
		apiVersion string
		token      string
		// accepted
		username string
		groups   []string
		extra    map[string]string
		// refused
		reason error
	}{
		{name: "creator of blue", cluster: "blue", token: admin.token(t, env, "blue", now),
			username: "arn:aws:iam::111122223333:user/admin", groups: []string{"system:masters"},
			extra: adminExtra("arn:aws:iam::111122223333:user/admin", admin.akid, "arn:aws:iam::111122223333:user/admin", "")},
		{name: "creator of green", cluster: "green", token: admin.token(t, env, "green", now),
			username: "arn:aws:iam::111122223333:user/admin", groups: []string{"system:masters"},
			extra: adminExtra("arn:aws:iam::111122223333:user/admin", admin.akid, "arn:aws:iam::111122223333:user/admin", "")},
		{name: "v1beta1 review", cluster: "blue", apiVersion: "authentication.k8s.io/v1beta1", token: admin.token(t, env, "blue", now),
			username: "arn:aws:iam::111122223333:user/admin", groups: []string{"system:masters"},
			extra: adminExtra("arn:aws:iam::111122223333:user/admin", admin.akid, "arn:aws:iam::111122223333:user/admin", "")},
		{name: "role session through an access entry", cluster: "blue", token: developer.token(t, env, "blue", now),
			// EKS's default username for a role: its session's ARN, "@" made "-".
			username: "arn:aws:sts::111122223333:assumed-role/Developer/jane-example.com", groups: []string{"developers"},
			extra: adminExtra("arn:aws:sts::111122223333:assumed-role/Developer/jane@example.com", developer.akid,
				"arn:aws:iam::111122223333:role/Developer", "jane@example.com")},
		{name: "user through an access entry with a username template", cluster: "blue", token: viewer.token(t, env, "blue", now),
			username: "viewer-111122223333", groups: []string{"view", "audit"},
			extra: adminExtra("arn:aws:iam::111122223333:user/viewer", viewer.akid, "arn:aws:iam::111122223333:user/viewer", "")},
		{name: "no access entry on green", cluster: "green", token: viewer.token(t, env, "green", now)},
		{name: "neither creator nor entry", cluster: "blue", token: stranger.token(t, env, "blue", now)},
		{name: "token for another cluster", cluster: "blue", token: admin.token(t, env, "green", now), reason: ekstoken.ErrWrongCluster},
		{name: "token for an unknown cluster", cluster: "blue", token: admin.token(t, env, "red", now), reason: ekstoken.ErrBadSignature},
		{name: "signature tampered", cluster: "blue", token: tamper(admin.token(t, env, "blue", now)), reason: ekstoken.ErrBadSignature},
		{name: "wrong secret", cluster: "blue", token: signer{admin.akid, "guessed"}.token(t, env, "blue", now), reason: ekstoken.ErrBadSignature},
		{name: "unknown access key", cluster: "blue", token: signer{"AKIAUNKNOWN000000001", "x"}.token(t, env, "blue", now),
			reason: ekstoken.ErrUnknownAccessKey},
		{name: "signed 16 minutes ago", cluster: "blue", token: admin.token(t, env, "blue", now.Add(-16*time.Minute)), reason: ekstoken.ErrExpired},
		{name: "malformed", cluster: "blue", token: "k8s-aws-v1.bm90IGEgVVJM", reason: ekstoken.ErrMalformed},
		{name: "a Kubernetes service-account token", cluster: "blue", token: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", reason: ekstoken.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			apiVersion := tc.apiVersion
			if apiVersion == "" {
				apiVersion = v1
			}
			code, got := review(t, env, tc.cluster, apiVersion, tc.token)
			if code != http.StatusOK {
				t.Fatalf("HTTP %d: %v", code, got)
			}
			if tc.username != "" {
				accepted(t, got, apiVersion, tc.username, tc.groups, tc.extra)
				return
			}
			refused(t, got, tc.reason)
		})
	}

	t.Run("expires with the emulator's clock", func(t *testing.T) {
		tok := admin.token(t, env, "blue", clock.Now())
		clock.Advance(15 * time.Minute)
		_, got := review(t, env, "blue", v1, tok)
		if got["status"].(map[string]any)["authenticated"] != true {
			t.Fatalf("refused at 15 minutes: %v", got)
		}
		// The admin API's clock moves simulated AWS state, not token expiry:
		// tokens are signed at the real time.
		if code, out := post(t, env.URL+"/_sandbox/clock", "application/json", []byte(`{"advanceSeconds":3600}`)); code != http.StatusOK {
			t.Fatalf("advancing the admin clock: %d %v", code, out)
		}
		_, got = review(t, env, "blue", v1, tok)
		if got["status"].(map[string]any)["authenticated"] != true {
			t.Fatalf("refused after the admin clock moved: %v", got)
		}
		clock.Advance(time.Second)
		_, got = review(t, env, "blue", v1, tok)
		refused(t, got, ekstoken.ErrExpired)
	})
}

// TestAuthnCreator: a cluster made through CreateCluster is administered by
// its caller, unless bootstrapClusterCreatorAdminPermissions is false.
func TestAuthnCreator(t *testing.T) {
	clock := sandboxtest.NewClock(authnStart)
	// The SDK signs CreateCluster at the real time, so the tokens are
	// signed at it too.
	env := sandboxtest.StartYAML(t, authnScenario, sandboxtest.WithClock(clock.Now))
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		bootstrap *bool
		admin     bool
	}{
		{"purple", nil, true},
		{"orange", aws.Bool(true), true},
		{"black", aws.Bool(false), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &eks.CreateClusterInput{Name: aws.String(tc.name), RoleArn: aws.String("arn:aws:iam::111122223333:role/eks"),
				ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-0a00000000000a001", "subnet-0a00000000000b001"}}}
			if tc.bootstrap != nil {
				in.AccessConfig = &ekstypes.CreateAccessConfigRequest{BootstrapClusterCreatorAdminPermissions: tc.bootstrap}
			}
			if _, err := eks.NewFromConfig(viewer.config(env)).CreateCluster(ctx, in); err != nil {
				t.Fatal(err)
			}
			_, got := review(t, env, tc.name, "authentication.k8s.io/v1", viewer.token(t, env, tc.name, time.Now()))
			if tc.admin {
				accepted(t, got, "authentication.k8s.io/v1", "arn:aws:iam::111122223333:user/viewer", []string{"system:masters"},
					map[string]string{"arn": "arn:aws:iam::111122223333:user/viewer", "accessKeyId": viewer.akid,
						"canonicalArn": "arn:aws:iam::111122223333:user/viewer", "sessionName": ""})
			} else {
				refused(t, got, nil)
			}
			// The scenario's first credential made the scenario's clusters,
			// not this one.
			_, got = review(t, env, tc.name, "authentication.k8s.io/v1", admin.token(t, env, tc.name, time.Now()))
			refused(t, got, nil)
		})
	}
}

// TestAuthnRequests: what is not a TokenReview for a known cluster is an
// HTTP error, not a refusal.
func TestAuthnRequests(t *testing.T) {
	env := sandboxtest.StartYAML(t, authnScenario)
	blue := env.URL + emulator.AuthnWebhookPath("blue")
	for _, tc := range []struct {
		name, method, url, body string
		want                    int
	}{
		{"GET", http.MethodGet, blue, "", http.StatusMethodNotAllowed},
		{"unknown cluster", http.MethodPost, env.URL + emulator.AuthnWebhookPath("red"),
			`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"x"}}`, http.StatusNotFound},
		{"no cluster", http.MethodPost, env.URL + emulator.AuthnPathPrefix,
			`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"x"}}`, http.StatusNotFound},
		{"not JSON", http.MethodPost, blue, `token=x`, http.StatusBadRequest},
		{"another kind", http.MethodPost, blue, `{"apiVersion":"authentication.k8s.io/v1","kind":"SubjectAccessReview","spec":{}}`, http.StatusBadRequest},
		{"another version", http.MethodPost, blue, `{"apiVersion":"authentication.k8s.io/v2","kind":"TokenReview","spec":{"token":"x"}}`, http.StatusBadRequest},
		{"no spec", http.MethodPost, blue, `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview"}`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// TestAuthnAWSCLIToken: a token from `aws eks get-token` (AWS CLI v2),
// signed at the real time, passes the webhook like eksbg's own.
func TestAuthnAWSCLIToken(t *testing.T) {
	env := sandboxtest.StartYAML(t, authnScenario)
	out, stderr, err := env.RunCLI(t, sandboxtest.CLIv2, "eks", "get-token", "--cluster-name", "blue")
	if err != nil {
		t.Fatalf("aws eks get-token: %v\n%s", err, stderr)
	}
	var cred struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	if err := json.Unmarshal(out, &cred); err != nil {
		t.Fatal(err)
	}
	const v1 = "authentication.k8s.io/v1"
	extra := map[string]string{"arn": "arn:aws:iam::111122223333:user/admin", "accessKeyId": admin.akid,
		"canonicalArn": "arn:aws:iam::111122223333:user/admin", "sessionName": ""}
	_, got := review(t, env, "blue", v1, cred.Status.Token)
	accepted(t, got, v1, "arn:aws:iam::111122223333:user/admin", []string{"system:masters"}, extra)
	_, got = review(t, env, "green", v1, cred.Status.Token)
	refused(t, got, ekstoken.ErrWrongCluster)
	tok, err := ekstoken.Generate(context.Background(), env.AWS, "blue")
	if err != nil {
		t.Fatal(err)
	}
	_, got = review(t, env, "blue", v1, tok.Value)
	accepted(t, got, v1, "arn:aws:iam::111122223333:user/admin", []string{"system:masters"}, extra)
	// The uid names the principal as GetCallerIdentity does.
	caller, err := sts.NewFromConfig(env.AWS).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	user := got["status"].(map[string]any)["user"].(map[string]any)
	if want := "aws-iam-authenticator:111122223333:" + aws.ToString(caller.UserId); user["uid"] != want {
		t.Errorf("uid %v, want %s", user["uid"], want)
	}
}
