package emulator_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// adminCall sends an admin request and returns the status and body.
func adminCall(t *testing.T, env *sandboxtest.Env, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, env.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAdminRangeChecks: every number the admin API takes is checked, and
// a refused input changes nothing. 1e300 seconds used to overflow
// time.Duration and put the clock in 1734.
func TestAdminRangeChecks(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	env := sandboxtest.StartScenario(t, "demo", sandboxtest.WithClock(sandboxtest.NewClock(start).Now))
	clock := func() string {
		t.Helper()
		code, body := adminCall(t, env, http.MethodPost, "/_sandbox/clock", `{"advanceSeconds":0}`)
		if code != http.StatusOK {
			t.Fatalf("advancing by 0: %d %s", code, body)
		}
		var out struct{ Now string }
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		return out.Now
	}
	state := func() (string, string, string) {
		_, faults := adminCall(t, env, http.MethodGet, "/_sandbox/faults", "")
		_, traffic := adminCall(t, env, http.MethodGet, "/_sandbox/traffic", "")
		return clock(), faults, traffic
	}
	c0, f0, tr0 := state()
	if c0 != start.Format(time.RFC3339Nano) {
		t.Fatalf("clock at %s, want %s", c0, start.Format(time.RFC3339Nano))
	}
	manyFaults := "[" + strings.TrimSuffix(strings.Repeat(`{"service":"*","operation":"*"},`, 1001), ",") + "]"
	for _, tc := range []struct{ method, path, body, want string }{
		{http.MethodPost, "/_sandbox/clock", `{"advanceSeconds":1e300}`, "advanceSeconds must be a number from 0 to"},
		{http.MethodPost, "/_sandbox/clock", `{"advanceSeconds":315576001}`, "at most 10 years in all"},
		{http.MethodPost, "/_sandbox/clock", `{"advanceSeconds":-1}`, "must not be negative"},
		{http.MethodPost, "/_sandbox/clock", `{"advanceSeconds":1e400}`, "decoding JSON body"},
		{http.MethodPost, "/_sandbox/clock", `{"advanceSecond":60}`, `unknown field "advanceSecond"`},
		{http.MethodPost, "/_sandbox/clock", `{}`, `want {"advanceSeconds": <seconds>}`},
		{http.MethodPost, "/_sandbox/clock", `{"advanceSeconds":60} {"advanceSeconds":60}`, "unexpected data"},
		{http.MethodPut, "/_sandbox/faults", `[{"service":"*","operation":"*","throttleRate":1.5}]`, "throttleRate must be a number from 0 to 1"},
		{http.MethodPut, "/_sandbox/faults", `[{"service":"*","operation":"*","errorRate":-0.1}]`, "errorRate must be a number from 0 to 1"},
		{http.MethodPut, "/_sandbox/faults", `[{"service":"*","operation":"*","throttleRate":0.6,"errorRate":0.6}]`, "throttleRate + errorRate is 1.2"},
		{http.MethodPut, "/_sandbox/faults", `[{"service":"*","operation":"*","latencyMs":-5}]`, "latencyMs must be a number from 0 to 600000"},
		{http.MethodPut, "/_sandbox/faults", `[{"service":"*","operation":"*","latencyMs":1e300}]`, "latencyMs must be a number from 0 to 600000"},
		{http.MethodPut, "/_sandbox/faults", `[{"service":"*","operation":"*","jitterMs":700000}]`, "jitterMs must be a number from 0 to 600000"},
		{http.MethodPut, "/_sandbox/faults", `[{"service":"*","operation":"*","throttle":0.5}]`, `unknown field "throttle"`},
		{http.MethodPut, "/_sandbox/faults", `[{"operation":"*","throttleRate":0.5}]`, "service and operation are required"},
		{http.MethodPut, "/_sandbox/faults", manyFaults, "1001 fault rules, at most 1000"},
		{http.MethodPut, "/_sandbox/traffic", `{"clusters":{"demo-green":{"errorRate":2}}}`, "errorRate must be a number from 0 to 1"},
		{http.MethodPut, "/_sandbox/traffic", `{"clusters":{"demo-green":{"p99Ms":-1}}}`, "p99Ms must be a number from 0 to 600000"},
		{http.MethodPut, "/_sandbox/traffic", `{"clusters":{"demo-green":{"p99Ms":1e300}}}`, "p99Ms must be a number from 0 to 600000"},
		{http.MethodPut, "/_sandbox/traffic", `{"clusters":{"demo-green":{"p99Ms":100,"p50Ms":200}}}`, "p50Ms 200 exceeds p99Ms 100"},
		{http.MethodPut, "/_sandbox/traffic", `{"clusters":{"no such cluster!":{"errorRate":0}}}`, "not an EKS cluster name"},
		{http.MethodPut, "/_sandbox/traffic", `{"rules":{"web":-1}}`, "requests per second must be a number from 0 to"},
		{http.MethodPut, "/_sandbox/traffic", `{"rules":{"web":1e300}}`, "requests per second must be a number from 0 to"},
		// A good rule with a bad one: neither is applied.
		{http.MethodPut, "/_sandbox/traffic", `{"rules":{"web":10,"nope":10}}`, `no rule named "nope"`},
		{http.MethodPut, "/_sandbox/traffic", `{"clusters":{"demo-green":{"errorRat":0.2}}}`, `unknown field "errorRat"`},
	} {
		t.Run(fmt.Sprintf("%s %s", tc.path, tc.body[:min(len(tc.body), 60)]), func(t *testing.T) {
			code, body := adminCall(t, env, tc.method, tc.path, tc.body)
			var out struct{ Error string }
			_ = json.Unmarshal([]byte(body), &out)
			if code != http.StatusBadRequest || !strings.Contains(out.Error, tc.want) {
				t.Fatalf("got %d %s, want 400 with %q", code, body, tc.want)
			}
		})
	}
	if c, f, tr := state(); c != c0 || f != f0 || tr != tr0 {
		t.Fatalf("refused inputs changed the emulator:\nclock %s -> %s\nfaults %s -> %s\ntraffic %s -> %s", c0, c, f0, f, tr0, tr)
	}

	// In range: accepted, and the clock adds up to its bound exactly.
	if code, body := adminCall(t, env, http.MethodPost, "/_sandbox/clock", `{"advanceSeconds":60.5}`); code != http.StatusOK ||
		!strings.Contains(body, start.Add(60500*time.Millisecond).Format(time.RFC3339Nano)) {
		t.Fatalf("advancing 60.5 s: %d %s", code, body)
	}
	tenYears := 10 * 365.25 * 24 * time.Hour
	rest := fmt.Sprintf(`{"advanceSeconds":%v}`, (tenYears - 60500*time.Millisecond).Seconds())
	if code, body := adminCall(t, env, http.MethodPost, "/_sandbox/clock", rest); code != http.StatusOK ||
		!strings.Contains(body, start.Add(tenYears).Format(time.RFC3339Nano)) {
		t.Fatalf("advancing to the 10-year bound: %d %s", code, body)
	}
	if code, body := adminCall(t, env, http.MethodPost, "/_sandbox/clock", `{"advanceSeconds":1}`); code != http.StatusBadRequest {
		t.Fatalf("advancing past the bound: %d %s", code, body)
	}
	for _, ok := range []struct{ method, path, body string }{
		{http.MethodPut, "/_sandbox/faults", `[{"service":"*","operation":"*","throttleRate":0.5,"errorRate":0.5,"latencyMs":600000}]`},
		{http.MethodPut, "/_sandbox/traffic", `{"clusters":{"demo-green":{"errorRate":1,"p99Ms":900,"p50Ms":900}},"rules":{"web":0}}`},
	} {
		if code, body := adminCall(t, env, ok.method, ok.path, ok.body); code != http.StatusOK {
			t.Errorf("%s %s: %d %s", ok.path, ok.body, code, body)
		}
	}
	_, traffic := adminCall(t, env, http.MethodGet, "/_sandbox/traffic", "")
	var got struct {
		Rules map[string]float64 `json:"rules"`
	}
	if err := json.Unmarshal([]byte(traffic), &got); err != nil || !reflect.DeepEqual(got.Rules, map[string]float64{"web": 0}) {
		t.Errorf("traffic rules after the update: %s (%v)", traffic, err)
	}
}
