package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/scenario"
)

// The admin API lives under /_sandbox/ (docs/sandbox.md):
//
//	GET    /_sandbox/health   liveness, account, region and scenario
//	GET    /_sandbox/calls    per-operation call counters
//	DELETE /_sandbox/calls    reset the counters
//	GET    /_sandbox/faults   fault rules in force
//	PUT    /_sandbox/faults   replace them (JSON list of rules)
//	GET    /_sandbox/traffic  the traffic model in force
//	PUT    /_sandbox/traffic  change it from now on
//	POST   /_sandbox/clock    move the emulator's clock forward
//	GET    /_sandbox/summary  resource counts
//	POST   /_sandbox/authn/<cluster>  TokenReview webhook of a cluster's API server (authn.go)
func (s *Server) serveAdmin(rw http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, AuthnPathPrefix) {
		s.serveAuthn(rw, r)
		return
	}
	switch r.URL.Path {
	case "/_sandbox/health":
		sv := s.Served()
		out := map[string]any{"status": "ok", "account": sv.Account, "region": sv.Region}
		if sv.Scenario != nil {
			out["scenario"], out["scenarioSha256"] = sv.Scenario.Name, sv.Scenario.SHA256
		}
		writeJSON(rw, http.StatusOK, out)
	case "/_sandbox/calls":
		switch r.Method {
		case http.MethodGet:
			stats := s.Stats()
			total := 0
			for _, st := range stats {
				total += st.Calls
			}
			writeJSON(rw, http.StatusOK, map[string]any{"total": total, "operations": stats})
		case http.MethodDelete:
			s.ResetStats()
			rw.WriteHeader(http.StatusNoContent)
		default:
			methodNotAllowed(rw)
		}
	case "/_sandbox/faults":
		switch r.Method {
		case http.MethodGet:
			s.mu.Lock()
			out := append([]scenario.Fault{}, s.world.Faults...)
			s.mu.Unlock()
			writeJSON(rw, http.StatusOK, out)
		case http.MethodPut:
			var faults []scenario.Fault
			if !readStrictJSON(rw, r, &faults) {
				return
			}
			if err := validateFaults(faults); err != nil {
				adminError(rw, http.StatusBadRequest, err.Error())
				return
			}
			s.mutate(func(w *World) { w.Faults = faults })
			writeJSON(rw, http.StatusOK, faults)
		default:
			methodNotAllowed(rw)
		}
	case "/_sandbox/traffic":
		switch r.Method {
		case http.MethodGet:
			writeJSON(rw, http.StatusOK, s.currentTraffic())
		case http.MethodPut:
			var in TrafficUpdate
			if !readStrictJSON(rw, r, &in) {
				return
			}
			if err := s.updateTraffic(in); err != nil {
				adminError(rw, http.StatusBadRequest, err.Error())
				return
			}
			writeJSON(rw, http.StatusOK, s.currentTraffic())
		default:
			methodNotAllowed(rw)
		}
	case "/_sandbox/clock":
		if r.Method != http.MethodPost {
			methodNotAllowed(rw)
			return
		}
		var in struct {
			AdvanceSeconds *float64 `json:"advanceSeconds"`
		}
		if !readStrictJSON(rw, r, &in) {
			return
		}
		if in.AdvanceSeconds == nil {
			adminError(rw, http.StatusBadRequest, `want {"advanceSeconds": <seconds>}`)
			return
		}
		now, err := s.advanceClock(*in.AdvanceSeconds)
		if err != nil {
			adminError(rw, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(rw, http.StatusOK, map[string]any{"now": now.UTC().Format(time.RFC3339Nano)})
	case "/_sandbox/summary":
		var out map[string]int
		s.View(func(w *World) {
			out = map[string]int{"vpcs": len(w.VPCs), "subnets": len(w.Subnets), "networkInterfaces": len(w.ENIs),
				"instances": len(w.Instances), "clusters": len(w.Clusters), "loadBalancers": len(w.LoadBalancers),
				"targetGroups": len(w.TargetGroups), "rules": len(w.Rules), "buckets": len(w.Buckets)}
		})
		writeJSON(rw, http.StatusOK, out)
	default:
		adminError(rw, http.StatusNotFound, "no such admin endpoint: "+r.URL.Path+" (see docs/sandbox.md)")
	}
}

// TrafficUpdate changes the traffic model from now on.
type TrafficUpdate struct {
	// Clusters maps a cluster name to how its pods answer from now on.
	Clusters map[string]scenario.ClusterTraffic `json:"clusters,omitempty"`
	// Rules maps a rule name (its Name tag) or ARN to requests per second.
	Rules map[string]float64 `json:"rules,omitempty"`
}

// Bounds of the admin API's numbers. Inputs are checked before anything
// changes: a value past them is a mistake (a typo, a unit slip), and a
// large enough one overflows (1e300 seconds is no time.Duration).
const (
	// maxClockOffset bounds how far POST /_sandbox/clock moves the clock
	// ahead, in all.
	maxClockOffset = 10 * 365.25 * 24 * time.Hour
	// maxLatencyMs bounds response times, as scenario.ValidateFault bounds
	// a fault's latency.
	maxLatencyMs = 600000
	// maxRuleRPS bounds a rule's requests per second.
	maxRuleRPS = 1e7
	// maxFaultRules bounds the rules of PUT /_sandbox/faults.
	maxFaultRules = 1000
	// maxTrafficClusters bounds the clusters of one traffic update.
	maxTrafficClusters = 1000
)

// errAdminInput marks an admin input out of range.
var errAdminInput = errors.New("out of range")

// inRange checks that v is a finite number within lo..hi.
func inRange(name string, v, lo, hi float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi {
		return fmt.Errorf("%s must be a number from %g to %g, got %g: %w", name, lo, hi, v, errAdminInput)
	}
	return nil
}

// advanceClock moves the emulator's clock forward by secs seconds.
func (s *Server) advanceClock(secs float64) (time.Time, error) {
	if math.IsNaN(secs) || secs < 0 {
		return time.Time{}, fmt.Errorf("advanceSeconds must not be negative, got %g: the clock only moves forward: %w", secs, errAdminInput)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	left := maxClockOffset - s.offset
	if err := inRange("advanceSeconds", secs, 0, left.Seconds()); err != nil {
		return time.Time{}, fmt.Errorf("%w (the clock is %s ahead already, at most %.0f years in all)",
			err, s.offset, maxClockOffset.Hours()/24/365.25)
	}
	s.offset += seconds(secs)
	return s.opts.Clock().Add(s.offset), nil
}

// validateFaults checks the rules of PUT /_sandbox/faults.
func validateFaults(faults []scenario.Fault) error {
	if len(faults) > maxFaultRules {
		return fmt.Errorf("%d fault rules, at most %d: %w", len(faults), maxFaultRules, errAdminInput)
	}
	for i, f := range faults {
		for _, c := range []struct {
			name   string
			v, max float64
		}{{"throttleRate", f.ThrottleRate, 1}, {"errorRate", f.ErrorRate, 1},
			{"latencyMs", f.LatencyMs, maxLatencyMs}, {"jitterMs", f.JitterMs, maxLatencyMs}} {
			if err := inRange(c.name, c.v, 0, c.max); err != nil {
				return fmt.Errorf("fault %d: %w", i, err)
			}
		}
		if err := scenario.ValidateFault(f); err != nil {
			return fmt.Errorf("fault %d: %w", i, err)
		}
		// One roll decides a call: below throttleRate it is throttled,
		// below throttleRate+errorRate it fails.
		if f.ThrottleRate+f.ErrorRate > 1 {
			return fmt.Errorf("fault %d: throttleRate + errorRate is %g, more than every call: %w", i, f.ThrottleRate+f.ErrorRate, errAdminInput)
		}
	}
	return nil
}

// validateTraffic checks a traffic update's numbers and names.
func validateTraffic(in TrafficUpdate) error {
	if len(in.Clusters) > maxTrafficClusters {
		return fmt.Errorf("%d clusters, at most %d: %w", len(in.Clusters), maxTrafficClusters, errAdminInput)
	}
	for _, name := range sortedKeys(in.Clusters) {
		ct := in.Clusters[name]
		if !clusterName.MatchString(name) {
			return fmt.Errorf("cluster %q: not an EKS cluster name: %w", name, errAdminInput)
		}
		for _, c := range []struct {
			name   string
			v, max float64
		}{{"errorRate", ct.ErrorRate, 1}, {"p99Ms", ct.P99Ms, maxLatencyMs}, {"p50Ms", ct.P50Ms, maxLatencyMs}} {
			if err := inRange(c.name, c.v, 0, c.max); err != nil {
				return fmt.Errorf("cluster %s: %w", name, err)
			}
		}
		if ct.P50Ms > ct.P99Ms {
			return fmt.Errorf("cluster %s: p50Ms %g exceeds p99Ms %g (the median is below the 99th percentile): %w", name, ct.P50Ms, ct.P99Ms, errAdminInput)
		}
	}
	for _, name := range sortedKeys(in.Rules) {
		if err := inRange("requests per second", in.Rules[name], 0, maxRuleRPS); err != nil {
			return fmt.Errorf("rule %s: %w", name, err)
		}
	}
	return nil
}

// clusterName is EKS's pattern for cluster names
// (https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html).
var clusterName = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$`)

func (s *Server) updateTraffic(in TrafficUpdate) error {
	if err := validateTraffic(in); err != nil {
		return err
	}
	var err error
	s.mutate(func(w *World) {
		now := s.opts.Clock().Add(s.offset)
		// Every name first: a bad one changes nothing.
		arns := map[string]string{}
		for _, name := range sortedKeys(in.Rules) {
			if arns[name] = w.ruleByNameOrARN(name); arns[name] == "" {
				err = fmt.Errorf("no rule named %q", name)
				return
			}
		}
		for name, rps := range in.Rules {
			arn := arns[name]
			w.Traffic.RuleRPS[arn] = append(w.Traffic.RuleRPS[arn], RPSChange{At: now, RPS: rps})
		}
		for name, ct := range in.Clusters {
			w.Traffic.Clusters[name] = append(w.Traffic.Clusters[name], ClusterTrafficChange{At: now, ClusterTraffic: ct})
		}
	})
	return err
}

func (w *World) ruleByNameOrARN(key string) string {
	if _, ok := w.Rules[key]; ok {
		return key
	}
	for _, arn := range sortedKeys(w.Rules) {
		if w.Rules[arn].Tags["Name"] == key {
			return arn
		}
	}
	return ""
}

func (s *Server) currentTraffic() TrafficUpdate {
	out := TrafficUpdate{Clusters: map[string]scenario.ClusterTraffic{}, Rules: map[string]float64{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, h := range s.world.Traffic.Clusters {
		if len(h) > 0 {
			out.Clusters[name] = h[len(h)-1].ClusterTraffic
		}
	}
	for arn, h := range s.world.Traffic.RuleRPS {
		if len(h) == 0 {
			continue
		}
		rps := h[len(h)-1].RPS
		key := arn
		if r, ok := s.world.Rules[arn]; ok && r.Tags["Name"] != "" {
			key = r.Tags["Name"]
		}
		out.Rules[key] = rps
	}
	return out
}

// mutate changes the world under the lock and saves it.
func (s *Server) mutate(f func(w *World)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.world)
	if s.opts.StatePath != "" {
		if err := SaveWorld(s.opts.StatePath, s.world); err != nil {
			s.opts.Logger.Error("saving sandbox state", "error", err)
		}
	}
}

func readJSON(rw http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		adminError(rw, http.StatusBadRequest, "decoding JSON body: "+err.Error())
		return false
	}
	return true
}

// readStrictJSON decodes an admin input as readJSON does, but refuses
// fields it does not know and anything after the value: a misspelt
// "advanceSecond" must not be read as 0.
func readStrictJSON(rw http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err = dec.Decode(v); err == nil && dec.More() {
			err = errors.New("unexpected data after the JSON value")
		}
	}
	if err != nil {
		adminError(rw, http.StatusBadRequest, "decoding JSON body: "+err.Error())
		return false
	}
	return true
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	enc := json.NewEncoder(rw)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func adminError(rw http.ResponseWriter, status int, msg string) {
	writeJSON(rw, status, map[string]string{"error": msg})
}

func methodNotAllowed(rw http.ResponseWriter) {
	adminError(rw, http.StatusMethodNotAllowed, "method not allowed")
}
