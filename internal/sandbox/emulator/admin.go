package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/scenario"
)

// The admin API lives under /_sandbox/ (docs/sandbox.md):
//
//	GET    /_sandbox/health   liveness, account and region
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
		s.mu.Lock()
		out := map[string]any{"status": "ok", "account": s.world.Account, "region": s.world.Region}
		s.mu.Unlock()
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
			if !readJSON(rw, r, &faults) {
				return
			}
			for i, f := range faults {
				if err := scenario.ValidateFault(f); err != nil {
					adminError(rw, http.StatusBadRequest, fmt.Sprintf("fault %d: %v", i, err))
					return
				}
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
			if !readJSON(rw, r, &in) {
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
			AdvanceSeconds float64 `json:"advanceSeconds"`
		}
		if !readJSON(rw, r, &in) {
			return
		}
		if in.AdvanceSeconds < 0 {
			adminError(rw, http.StatusBadRequest, "advanceSeconds must not be negative: the clock only moves forward")
			return
		}
		s.mu.Lock()
		s.offset += seconds(in.AdvanceSeconds)
		now := s.opts.Clock().Add(s.offset)
		s.mu.Unlock()
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

func (s *Server) updateTraffic(in TrafficUpdate) error {
	for name, ct := range in.Clusters {
		if ct.ErrorRate < 0 || ct.ErrorRate > 1 || ct.P99Ms < 0 || ct.P50Ms < 0 {
			return fmt.Errorf("cluster %s: errorRate must be 0..1 and latencies non-negative", name)
		}
	}
	var err error
	s.mutate(func(w *World) {
		now := s.opts.Clock().Add(s.offset)
		for name, rps := range in.Rules {
			arn := w.ruleByNameOrARN(name)
			if arn == "" {
				err = fmt.Errorf("no rule named %q", name)
				return
			}
			if rps < 0 {
				err = fmt.Errorf("rule %s: requests per second must not be negative", name)
				return
			}
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
