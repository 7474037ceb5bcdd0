package ekstoken

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Source hands out tokens for one cluster, generating a new one when the
// cached one reaches its Expiration. It is safe for concurrent use.
type Source struct {
	cfg     aws.Config
	cluster string
	opts    []Option
	now     func() time.Time

	mu  sync.Mutex
	tok Token
}

// NewSource returns a Source for the named cluster, signing with cfg.
func NewSource(cfg aws.Config, clusterName string, opts ...Option) *Source {
	var o options
	for _, f := range opts {
		f(&o)
	}
	now := o.clock
	if now == nil {
		now = time.Now
	}
	return &Source{cfg: cfg, cluster: clusterName, opts: opts, now: now}
}

// Token returns the cached token while it is before its Expiration, else a
// new one.
func (s *Source) Token(ctx context.Context) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.Value != "" && s.now().Before(s.tok.Expiration) {
		return s.tok, nil
	}
	tok, err := Generate(ctx, s.cfg, s.cluster, s.opts...)
	if err != nil {
		return Token{}, err
	}
	s.tok = tok
	return tok, nil
}

// forget drops the cached token if it is still tok, so the next request
// signs a new one.
func (s *Source) forget(tok Token) {
	s.mu.Lock()
	if s.tok.Value == tok.Value {
		s.tok = Token{}
	}
	s.mu.Unlock()
}

// WrapTransport wraps rt (http.DefaultTransport when nil) so every request
// without an Authorization header carries "Bearer <token>". Its type is
// client-go's transport.WrapperFunc: assign it to rest.Config.WrapTransport
// (and leave the config's BearerToken empty). A 401 answer drops the token,
// so the next request signs a fresh one.
func (s *Source) WrapTransport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &bearerTransport{src: s, next: rt}
}

type bearerTransport struct {
	src  *Source
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (b *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") != "" {
		return b.next.RoundTrip(req)
	}
	tok, err := b.src.Token(req.Context())
	if err != nil {
		// A RoundTripper must close the body, even on error.
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("getting an EKS token for cluster %s: %w", b.src.cluster, err)
	}
	// A RoundTripper must not modify the caller's request.
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok.Value)
	resp, err := b.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		b.src.forget(tok)
	}
	return resp, err
}

// WrappedRoundTripper returns the wrapped transport, which client-go's
// net.RoundTripperWrapper interface uses to reach the innermost one.
func (b *bearerTransport) WrappedRoundTripper() http.RoundTripper { return b.next }
