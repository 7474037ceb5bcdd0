package kube_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/kube"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// DeletePrefix removes the keys under a prefix and no others (a prefix
// that is another's beginning included).
func TestEtcdDeletePrefix(t *testing.T) {
	sandboxtest.SkipShort(t, "etcd")
	bins, err := kube.LocateBinaries()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := kube.StartEtcd(ctx, bins, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := e.Stop(ctx); err != nil {
			t.Error(err)
		}
	}()
	call := func(path string, body map[string]any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := http.Post(e.URL+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s %v", path, resp.Status, err)
		}
		return out
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, k := range []string{"/clusters/a-1/pods/x", "/clusters/a-1/nodes/y", "/clusters/a-10/pods/z"} {
		call("/v3/kv/put", map[string]any{"key": b64(k), "value": b64("v")})
	}
	if err := e.DeletePrefix(ctx, "/clusters/a-1/"); err != nil {
		t.Fatal(err)
	}
	count := func(prefix string) any {
		end := []byte(prefix)
		end[len(end)-1]++
		return call("/v3/kv/range", map[string]any{"key": b64(prefix), "range_end": b64(string(end)), "count_only": true})["count"]
	}
	if n := count("/clusters/a-1/"); n != nil {
		t.Errorf("%v keys left under /clusters/a-1/", n)
	}
	if n := count("/clusters/a-10/"); n != "1" {
		t.Errorf("%v keys under /clusters/a-10/, want 1", n)
	}
	if err := e.DeletePrefix(ctx, ""); err == nil {
		t.Error("DeletePrefix of everything succeeded")
	}
}
