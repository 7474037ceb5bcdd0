package emulator

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/scenario"
	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// call is one API call being served, under the world's lock.
type call struct {
	w      *World
	req    *wire.Request
	sig    *sigv4 // the request's verified signature
	now    time.Time
	params map[string]string // REST path parameters
	dirty  bool
	events []Event
}

// changed marks the world as modified, so it is saved after the call.
func (c *call) changed() { c.dirty = true }

type opFunc func(c *call) (any, *wire.APIError)

// restRouter resolves a REST-JSON request to an operation and path parameters.
type restRouter func(method, path string) (op string, params map[string]string, ok bool)

// Options configure a Server.
type Options struct {
	// Scenario builds the world when StatePath holds none. A saved world
	// built from another scenario is refused (ScenarioMismatchError).
	Scenario *scenario.Scenario
	// ScenarioName is what the world records of Scenario: its built-in
	// name or its file (default "scenario").
	ScenarioName string
	// StatePath persists the world; "" keeps it in memory only.
	StatePath string
	// Clock returns the current time of the simulated world; default
	// time.Now. POST /_sandbox/clock moves the world ahead of it.
	Clock func() time.Time
	// SigningClock is the time request signatures are judged by (the
	// skew of X-Amz-Date, the expiry of presigned URLs) and responses'
	// Date headers carry: the clients' clock, default time.Now. It is not
	// Clock, which tests set to fake times while SDKs sign with the real
	// one, and which the admin API moves while clients' clocks stay.
	SigningClock func() time.Time
	// Logger receives one debug line per call; default discards.
	Logger *slog.Logger
	// OnEvent is called after a call that changed clusters or nodegroups.
	OnEvent func(Event)
	// Rand decides fault injection; default a random source.
	Rand *rand.Rand
}

// Server is the AWS API emulator: an http.Handler that serves the
// operations eksbg uses over the wire protocols of the real services.
type Server struct {
	opts Options

	mu      sync.Mutex // guards world, offset and faults
	world   *World
	offset  time.Duration
	ops     map[string]map[string]opFunc
	routers map[string]restRouter

	statsMu sync.Mutex
	stats   map[opKey]*OpStats
	rngMu   sync.Mutex
	rng     *rand.Rand
	hub     eventHub // subscribers (controlplane.go)
}

type opKey struct{ service, op string }

// OpStats counts the calls of one operation.
type OpStats struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	// Calls counts every request, including the throttled and failed ones
	// (so the retries of an SDK client show).
	Calls     int `json:"calls"`
	Throttled int `json:"throttled"`
	Failed    int `json:"failed"`
	// ServiceMs is the total time spent serving the calls, injected latency excluded.
	ServiceMs float64 `json:"serviceMs"`
	// MaxServiceMs is the longest single call's service time.
	MaxServiceMs float64 `json:"maxServiceMs"`
}

// New builds a server from saved state when opts.StatePath holds some,
// else from opts.Scenario.
func New(opts Options) (*Server, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.SigningClock == nil {
		opts.SigningClock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, ops: map[string]map[string]opFunc{}, routers: map[string]restRouter{},
		stats: map[opKey]*OpStats{}, rng: opts.Rand}
	if s.rng == nil {
		s.rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	var record ScenarioRecord
	if opts.Scenario != nil {
		digest, err := ScenarioDigest(opts.Scenario)
		if err != nil {
			return nil, err
		}
		record = ScenarioRecord{Name: opts.ScenarioName, SHA256: digest}
		if record.Name == "" {
			record.Name = "scenario"
		}
	}
	var w *World
	if opts.StatePath != "" {
		loaded, err := LoadWorld(opts.StatePath)
		switch {
		case err == nil:
			w = loaded
		case errors.Is(err, os.ErrNotExist):
		default:
			return nil, err
		}
	}
	if w != nil && opts.Scenario != nil {
		if err := checkScenario(opts.StatePath, w, record); err != nil {
			return nil, err
		}
	}
	if w == nil {
		if opts.Scenario == nil {
			return nil, fmt.Errorf("no scenario and no saved state at %q", opts.StatePath)
		}
		built, err := NewWorld(opts.Scenario, opts.Clock())
		if err != nil {
			return nil, fmt.Errorf("building the sandbox world: %w", err)
		}
		built.Scenario = &record
		w = built
		if opts.StatePath != "" {
			if err := SaveWorld(opts.StatePath, w); err != nil {
				return nil, err
			}
		}
	}
	s.world = w
	s.registerSTS()
	s.registerEC2()
	s.registerEKS()
	s.registerELBv2()
	s.registerQuotas()
	s.registerCloudWatch()
	s.registerS3()
	return s, nil
}

func (s *Server) register(service, op string, f opFunc) {
	if s.ops[service] == nil {
		s.ops[service] = map[string]opFunc{}
	}
	s.ops[service][op] = f
}

// Served describes the world a server serves: its account and region, and
// the scenario it was built from (nil for a world saved without a record).
type Served struct {
	Account  string
	Region   string
	Scenario *ScenarioRecord
	// Credential is the world's first credential, the one clients use.
	Credential scenario.Credential
}

// Served says which world s serves, which is the saved one when it
// resumed a state file.
func (s *Server) Served() Served {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.world
	out := Served{Account: w.Account, Region: w.Region, Credential: DefaultCredential}
	if w.Scenario != nil {
		rec := *w.Scenario
		out.Scenario = &rec
	}
	if len(w.Credentials) > 0 {
		out.Credential = w.Credentials[0]
	}
	return out
}

// Now is the emulator's current time (the clock plus any admin offset).
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.Clock().Add(s.offset)
}

// ServeHTTP serves AWS API calls and the /_sandbox/ admin API.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if len(r.URL.Path) >= 10 && r.URL.Path[:10] == "/_sandbox/" {
		s.serveAdmin(rw, r)
		return
	}
	// The server's time, as AWS sends it: SDKs correct their clock skew by it.
	rw.Header().Set("Date", s.signingNow().UTC().Format(http.TimeFormat))
	req, aerr := wire.Decode(r)
	if aerr != nil {
		wire.WriteError(rw, req, aerr)
		return
	}
	var (
		op     opFunc
		params map[string]string
	)
	if req.Protocol == wire.RestXML {
		// S3 routes on the host and query too (s3.go).
		req.Operation, params = s3Route(r)
		op = s.ops[req.Service][req.Operation]
	} else if req.Protocol == wire.RestJSON {
		if router, ok := s.routers[req.Service]; ok {
			name, p, found := router(r.Method, r.URL.EscapedPath())
			if found {
				req.Operation, params = name, p
				op = s.ops[req.Service][name]
			}
		}
	} else {
		op = s.ops[req.Service][req.Operation]
	}
	// AWS authenticates before it looks at the operation.
	sig, aerr := s.authenticate(req)
	if aerr != nil {
		if op != nil {
			s.count(s.statFor(req.Service, req.Operation), func(o *OpStats) { o.Failed++ })
		}
		wire.WriteError(rw, req, aerr)
		return
	}
	if op == nil {
		wire.WriteError(rw, req, unknownOperation(req))
		return
	}
	st := s.statFor(req.Service, req.Operation)
	if aerr := s.injectFaults(r.Context(), req, st); aerr != nil {
		wire.WriteError(rw, req, aerr)
		return
	}
	s.mu.Lock()
	// Service time is the emulator's own work for the call: the operation
	// under the world's lock and the encoding of its answer, not the wait
	// for the lock (queueing behind other calls) nor injected latency.
	start := time.Now()
	c := &call{w: s.world, req: req, sig: sig, now: s.opts.Clock().Add(s.offset), params: params}
	if changed, evs := s.world.advance(c.now); changed {
		c.dirty = true
		c.events = append(c.events, evs...)
	}
	out, aerr := op(c)
	var saveErr error
	if c.dirty && s.opts.StatePath != "" {
		saveErr = SaveWorld(s.opts.StatePath, s.world)
	}
	s.mu.Unlock()
	held := time.Since(start)
	if saveErr != nil {
		s.opts.Logger.Error("saving sandbox state", "error", saveErr)
	}
	s.publish(c.events)
	encStart := time.Now()
	if aerr != nil {
		wire.WriteError(rw, req, aerr)
	} else {
		wire.WriteResponse(rw, req, out)
	}
	elapsed := float64((held + time.Since(encStart)).Microseconds()) / 1000
	s.count(st, func(o *OpStats) {
		o.ServiceMs += elapsed
		o.MaxServiceMs = max(o.MaxServiceMs, elapsed)
		if aerr != nil {
			o.Failed++
		}
	})
	s.opts.Logger.Debug("aws call", "service", req.Service, "operation", req.Operation, "ms", elapsed, "error", aerr)
}

func unknownOperation(req *wire.Request) *wire.APIError {
	switch req.Protocol {
	case wire.EC2Query, wire.AWSQuery:
		return wire.BadRequest("InvalidAction", "The action %s is not valid for this web service.", req.Operation)
	case wire.RestJSON:
		return wire.Errorf(http.StatusNotFound, "UnknownOperationException", "no operation serves %s %s", req.HTTP.Method, req.HTTP.URL.Path)
	case wire.RestXML:
		return s3NotImplemented(req)
	}
	return wire.BadRequest("UnknownOperationException", "unknown operation %s", req.Operation)
}

// authenticate verifies a request's SigV4 signature (sigv4.go) with the
// scenario's credentials, and answers as the request's service does when it
// fails. The parsed signature is kept for a streaming body's chunks.
func (s *Server) authenticate(req *wire.Request) (*sigv4, *wire.APIError) {
	v, err := s.checkSignature(req)
	if err != nil {
		if v != nil && v.presigned {
			err.query = true
		}
		return nil, err.render(req)
	}
	return v, nil
}

func (s *Server) checkSignature(req *wire.Request) (*sigv4, *authError) {
	v, err := parseSigV4(req.HTTP)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, refuse(authMissing, "Request is missing Authentication Token")
	}
	s.mu.Lock()
	var cred scenario.Credential
	known := false
	for _, c := range s.world.Credentials {
		if c.AccessKeyID == v.accessKeyID {
			cred, known = c, true
		}
	}
	region := s.world.Region
	s.mu.Unlock()
	if !known {
		return v, refuse(authUnknownKey, "unknown access key %s", v.accessKeyID)
	}
	if v.sessionToken != "" {
		// The scenario's credentials are long-term keys: a session token
		// is one AWS never issued for them.
		return v, refuse(authBadToken, "access key %s has no session token", v.accessKeyID)
	}
	switch {
	case req.Service == wire.ServiceS3 && v.region != region:
		msg := "The authorization header is malformed; the region '%s' is wrong; expecting '%s'"
		if v.presigned {
			msg = "Error parsing the X-Amz-Credential parameter; the region '%s' is wrong; expecting '%s'"
		}
		return v, refuse(authWrongRegion, msg, v.region, region).with("Region", region)
	case v.region != region && req.Service != wire.ServiceSTS:
		// STS is exempt: its global endpoint is signed for us-east-1
		// whatever the region.
		return v, refuse(authWrongRegion, "Credential should be scoped to a valid region, not '%s'. The sandbox serves %s only: set AWS_REGION=%s.",
			v.region, region, region)
	case req.SignedService != req.Service:
		return v, refuse(authWrongService, "Credential should be scoped to correct service: '%s'. ", req.Service)
	}
	if err := v.checkTime(req.Service, s.signingNow()); err != nil {
		return v, err
	}
	if err := v.choosePayloadHash(req); err != nil {
		return v, err
	}
	if err := v.verify(req, cred.SecretAccessKey); err != nil {
		return v, err
	}
	if req.Service != wire.ServiceS3 {
		return v, nil
	}
	if err := v.checkS3Headers(req.HTTP); err != nil {
		return v, err
	}
	// The signature covers the hash the client claims; the body must
	// match it. (Streaming bodies are checked chunk by chunk, s3_request.go.)
	if len(v.payloadHash) == 2*sha256.Size {
		if got := hexSHA256(req.Payload); got != strings.ToLower(v.payloadHash) {
			return v, refuse(authPayloadMismatch, "body hash mismatch").
				with("ClientComputedContentSHA256", v.payloadHash).with("S3ComputedContentSHA256", got)
		}
	}
	return v, nil
}

// signingNow is the time signatures are judged by (sigv4.go).
func (s *Server) signingNow() time.Time { return s.opts.SigningClock() }

// throttleError is the throttling error each service really sends.
func throttleError(service string) *wire.APIError {
	switch service {
	case wire.ServiceEC2:
		return wire.ServerError(http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
	case wire.ServiceEKS:
		return wire.Errorf(http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
	case wire.ServiceQuotas:
		return wire.BadRequest("TooManyRequestsException", "Rate exceeded")
	case wire.ServiceS3:
		return wire.ServerError(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	}
	return wire.BadRequest("Throttling", "Rate exceeded")
}

// internalError is the 5xx each service really sends.
func internalError(service string) *wire.APIError {
	switch service {
	case wire.ServiceEC2:
		return wire.ServerError(http.StatusInternalServerError, "InternalError", "An internal error has occurred")
	case wire.ServiceEKS:
		return wire.ServerError(http.StatusInternalServerError, "ServerException", "An internal error occurred")
	case wire.ServiceQuotas:
		return wire.ServerError(http.StatusInternalServerError, "ServiceException", "An internal error occurred")
	case wire.ServiceS3:
		return wire.ServerError(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
	}
	return wire.ServerError(http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure.")
}

// matchFault picks the most specific fault rule for a call.
func matchFault(faults []scenario.Fault, service, op string) (scenario.Fault, bool) {
	best, score := scenario.Fault{}, -1
	for _, f := range faults {
		sc := 0
		switch f.Service {
		case service:
			sc += 2
		case "*":
		default:
			continue
		}
		switch f.Operation {
		case op:
			sc++
		case "*":
		default:
			continue
		}
		if sc > score {
			best, score = f, sc
		}
	}
	return best, score >= 0
}

func (s *Server) injectFaults(ctx context.Context, req *wire.Request, st *OpStats) *wire.APIError {
	s.count(st, func(o *OpStats) { o.Calls++ })
	s.mu.Lock()
	f, ok := matchFault(s.world.Faults, req.Service, req.Operation)
	s.mu.Unlock()
	if !ok {
		return nil
	}
	if lat := f.LatencyMs; lat > 0 || f.JitterMs > 0 {
		if f.JitterMs > 0 {
			s.rngMu.Lock()
			lat += s.rng.Float64() * f.JitterMs
			s.rngMu.Unlock()
		}
		t := time.NewTimer(time.Duration(lat * float64(time.Millisecond)))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return wire.ServerError(http.StatusServiceUnavailable, "RequestCanceled", "client went away")
		}
	}
	s.rngMu.Lock()
	roll := s.rng.Float64()
	s.rngMu.Unlock()
	switch {
	case roll < f.ThrottleRate:
		s.count(st, func(o *OpStats) { o.Throttled++ })
		return throttleError(req.Service)
	case roll < f.ThrottleRate+f.ErrorRate:
		s.count(st, func(o *OpStats) { o.Failed++ })
		return internalError(req.Service)
	}
	return nil
}

func (s *Server) statFor(service, op string) *OpStats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	k := opKey{service, op}
	st, ok := s.stats[k]
	if !ok {
		st = &OpStats{Service: service, Operation: op}
		s.stats[k] = st
	}
	return st
}

func (s *Server) count(st *OpStats, f func(*OpStats)) {
	s.statsMu.Lock()
	f(st)
	s.statsMu.Unlock()
}

// Stats returns a copy of the per-operation counters, sorted.
func (s *Server) Stats() []OpStats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	out := make([]OpStats, 0, len(s.stats))
	for _, st := range s.stats {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Operation < out[j].Operation
	})
	return out
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.statsMu.Lock()
	s.stats = map[opKey]*OpStats{}
	s.statsMu.Unlock()
}

// View runs f with the world locked, after applying due transitions; f
// must not keep the pointer. Tests and the sandbox read the world with it.
func (s *Server) View(f func(w *World)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.world.advance(s.opts.Clock().Add(s.offset))
	f(s.world)
}

// Serve answers on l until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	}
}
