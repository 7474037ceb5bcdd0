package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/eksbg/eksbg/internal/ekstoken"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
)

// EKS authentication. Each sandbox cluster's kube-apiserver runs with
// --authentication-token-webhook-config-file pointing at
// AuthnWebhookPath(cluster) on the emulator, and the emulator answers its
// TokenReviews as EKS's authenticator does: it accepts "k8s-aws-v1." tokens
// (internal/ekstoken) signed with a credential of the scenario for that
// cluster within the last 15 minutes, and maps the caller to Kubernetes:
//
//   - the cluster's creator, as EKS bootstraps it (CreateCluster's
//     bootstrapClusterCreatorAdminPermissions, default true; the scenario's
//     clusters count as made by its first credential): username its ARN,
//     group system:masters;
//   - a principal with one of the cluster's access entries: the entry's
//     username (default as EKS makes it) and kubernetesGroups;
//   - anyone else: not authenticated.
//
// The webhook's contract is Kubernetes's:
// https://kubernetes.io/docs/reference/access-authn-authz/authentication/#webhook-token-authentication

// AuthnPathPrefix is the path under which the emulator serves the TokenReview
// webhooks of the sandbox clusters' API servers.
const AuthnPathPrefix = "/_sandbox/authn/"

// AuthnWebhookPath is the path of the named cluster's TokenReview webhook.
func AuthnWebhookPath(cluster string) string { return AuthnPathPrefix + url.PathEscape(cluster) }

// The TokenReview API versions kube-apiserver's webhook authenticator sends
// (--authentication-token-webhook-version, v1beta1 by default); both have
// the same shape, and the answer carries the request's version.
var tokenReviewVersions = []string{"authentication.k8s.io/v1", "authentication.k8s.io/v1beta1"}

// tokenReview is authentication.k8s.io TokenReview, trimmed to what the
// webhook reads and writes.
type tokenReview struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Spec       *tokenReviewSpec   `json:"spec,omitempty"`
	Status     *tokenReviewStatus `json:"status,omitempty"`
}

type tokenReviewSpec struct {
	Token     string   `json:"token"`
	Audiences []string `json:"audiences,omitempty"`
}

// tokenReviewStatus leaves audiences out: EKS tokens are not bound to an
// audience, and an empty list tells the API server the token is good for
// its own audiences.
type tokenReviewStatus struct {
	Authenticated bool      `json:"authenticated"`
	User          *userInfo `json:"user,omitempty"`
	Error         string    `json:"error,omitempty"`
}

type userInfo struct {
	Username string              `json:"username"`
	UID      string              `json:"uid,omitempty"`
	Groups   []string            `json:"groups,omitempty"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

// authnView is what a review needs from the world, copied under its lock.
type authnView struct {
	cluster     string
	account     string
	creator     string // ARN; "" when the creator is not admin
	entries     []scenario.AccessEntry
	credentials map[string]scenario.Credential
	others      []string // the other clusters' names
}

// serveAuthn answers POST /_sandbox/authn/<cluster>.
func (s *Server) serveAuthn(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(rw)
		return
	}
	name, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), AuthnPathPrefix))
	if err != nil || name == "" || strings.Contains(name, "/") {
		adminError(rw, http.StatusNotFound, "no such authentication webhook: "+r.URL.Path+" (want "+AuthnPathPrefix+"<cluster name>)")
		return
	}
	var in tokenReview
	if !readJSON(rw, r, &in) {
		return
	}
	if in.Kind != "TokenReview" || !slices.Contains(tokenReviewVersions, in.APIVersion) || in.Spec == nil {
		adminError(rw, http.StatusBadRequest, fmt.Sprintf("want a TokenReview of %s with a spec, got kind %q apiVersion %q",
			strings.Join(tokenReviewVersions, " or "), in.Kind, in.APIVersion))
		return
	}
	v, ok := s.authnView(name)
	if !ok {
		adminError(rw, http.StatusNotFound, "no cluster named "+name)
		return
	}
	// The clock every signature is judged by (sigv4.go), not the
	// simulated one: POST /_sandbox/clock moves simulated AWS state
	// forward, and must not expire tokens signed at the real time. Tests
	// expire tokens by moving Options.SigningClock.
	st := v.review(in.Spec.Token, s.signingNow())
	if st.Authenticated {
		s.opts.Logger.Debug("EKS token accepted", "cluster", name, "username", st.User.Username)
	} else {
		s.opts.Logger.Info("EKS token refused", "cluster", name, "reason", st.Error)
	}
	writeJSON(rw, http.StatusOK, tokenReview{APIVersion: in.APIVersion, Kind: "TokenReview", Status: &st})
}

// authnView copies what a review needs. It reads the world without
// advancing it (as View would): an advance here would swallow the events of
// the transitions it makes, which start and stop control planes.
func (s *Server) authnView(cluster string) (authnView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.world
	c, found := w.Clusters[cluster]
	if !found {
		return authnView{}, false
	}
	v := authnView{cluster: cluster, account: w.Account, creator: c.CreatorAdminARN,
		entries: slices.Clone(c.AccessEntries), credentials: map[string]scenario.Credential{}}
	for _, cred := range w.Credentials {
		v.credentials[cred.AccessKeyID] = cred
	}
	for _, other := range sortedKeys(w.Clusters) {
		if other != cluster {
			v.others = append(v.others, other)
		}
	}
	return v, true
}

// review verifies a token for the view's cluster and maps its signer.
func (v authnView) review(token string, now time.Time) tokenReviewStatus {
	lookup := func(akid string) (ekstoken.Credential, bool) {
		c, ok := v.credentials[akid]
		return ekstoken.Credential{SecretAccessKey: c.SecretAccessKey, ARN: c.ARN}, ok
	}
	id, err := ekstoken.Verify(token, v.cluster, now, lookup, ekstoken.WithKnownClusters(v.others...))
	if err != nil {
		return tokenReviewStatus{Error: err.Error()}
	}
	user, err := v.user(id)
	if err != nil {
		return tokenReviewStatus{Error: err.Error()}
	}
	return tokenReviewStatus{Authenticated: true, User: user}
}

// user maps a verified identity to its Kubernetes user, with the uid and
// extra attributes EKS's authenticator sets
// (aws-iam-authenticator pkg/server/server.go, authenticateEndpoint). ARNs
// compare case-insensitively, as there (IAM names are unique regardless
// of case).
func (v authnView) user(id ekstoken.Identity) (*userInfo, error) {
	principalID := userID(id.AccessKeyID) // as the emulator's GetCallerIdentity answers
	u := &userInfo{UID: "aws-iam-authenticator:" + v.account + ":" + principalID,
		Extra: map[string][]string{"accessKeyId": {id.AccessKeyID}, "arn": {id.ARN}, "canonicalArn": {id.CanonicalARN},
			"principalId": {principalID}, "sessionName": {id.SessionName}}}
	if v.creator != "" && strings.EqualFold(withoutRolePath(ekstoken.CanonicalARN(v.creator)), id.CanonicalARN) {
		u.Username, u.Groups = id.ARN, []string{"system:masters"}
		return u, nil
	}
	for _, e := range v.entries {
		if !strings.EqualFold(withoutRolePath(e.PrincipalARN), id.CanonicalARN) {
			continue
		}
		u.Username, u.Groups = expandUsername(e, id), slices.Clone(e.KubernetesGroups)
		return u, nil
	}
	return nil, fmt.Errorf("%s is neither the creator of cluster %s nor in its access entries", id.ARN, v.cluster)
}

// withoutRolePath drops the path of an IAM role ARN: sessions of
// arn:aws:iam::111122223333:role/teams/Admin are arn:aws:sts::...:assumed-role/Admin/...,
// whose canonical ARN carries no path.
func withoutRolePath(principal string) string {
	a, err := arn.Parse(principal)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
		return principal
	}
	a.Resource = "role/" + a.Resource[strings.LastIndex(a.Resource, "/")+1:]
	return a.String()
}

// expandUsername is an access entry's username for a caller: the entry's,
// or EKS's default (the user's ARN; for a role, its session's STS ARN with
// {{SessionName}}), with the templates aws-iam-authenticator expands
// (pkg/server/server.go, renderTemplate): {{SessionName}} has "@" replaced
// by "-", {{SessionNameRaw}} has not.
func expandUsername(e scenario.AccessEntry, id ekstoken.Identity) string {
	name := e.Username
	if name == "" {
		name = e.PrincipalARN
		if a, err := arn.Parse(withoutRolePath(e.PrincipalARN)); err == nil && strings.HasPrefix(a.Resource, "role/") {
			name = arn.ARN{Partition: a.Partition, Service: "sts", AccountID: a.AccountID,
				Resource: "assumed-role/" + strings.TrimPrefix(a.Resource, "role/") + "/{{SessionName}}"}.String()
		}
	}
	return strings.NewReplacer("{{AccountID}}", id.AccountID, "{{AccessKeyID}}", id.AccessKeyID,
		"{{SessionNameRaw}}", id.SessionName, "{{SessionName}}", strings.ReplaceAll(id.SessionName, "@", "-")).Replace(name)
}

// creatorAdmin is the ARN of CreateCluster's caller when EKS makes it
// cluster admin, which it does unless told not to
// (https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessConfigRequest.html).
func (c *call) creatorAdmin(in *eksCreateClusterIn) string {
	if ac := in.AccessConfig; ac != nil && ac.BootstrapClusterCreatorAdminPermissions != nil && !*ac.BootstrapClusterCreatorAdminPermissions {
		return ""
	}
	for _, cred := range c.w.Credentials {
		if cred.AccessKeyID == c.req.AccessKeyID {
			return cred.ARN
		}
	}
	return ""
}
