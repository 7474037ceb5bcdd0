package emulator

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/scenarios"
)

// checkAddresses verifies the invariants every world must keep: each ENI
// address lies in its subnet and is held once, and each subnet's free count
// is its size minus the 5 reserved minus what its ENIs hold.
func checkAddresses(t *testing.T, w *World) {
	t.Helper()
	held := map[string]int{}
	seen := map[string]string{}
	for _, e := range w.ENIs {
		sn, ok := w.Subnets[e.SubnetID]
		if !ok {
			t.Fatalf("ENI %s in unknown subnet %s", e.ID, e.SubnetID)
		}
		pfx := netip.MustParsePrefix(sn.CIDR)
		for _, ip := range e.PrivateIPs {
			if !pfx.Contains(netip.MustParseAddr(ip)) {
				t.Fatalf("ENI %s address %s outside %s", e.ID, ip, sn.CIDR)
			}
			if other, dup := seen[ip]; dup {
				t.Fatalf("address %s held by %s and %s", ip, other, e.ID)
			}
			seen[ip] = e.ID
			held[sn.ID]++
		}
		for _, p := range e.Prefixes {
			pp := netip.MustParsePrefix(p)
			if pp.Bits() != 28 || !pfx.Contains(pp.Addr()) || pp.Masked() != pp {
				t.Fatalf("ENI %s prefix %s is not a /28 inside %s", e.ID, p, sn.CIDR)
			}
			held[sn.ID] += 16
		}
	}
	for _, sn := range w.Subnets {
		size := 1 << (32 - netip.MustParsePrefix(sn.CIDR).Bits())
		if want := size - 5 - held[sn.ID]; sn.ipam.Available() != want {
			t.Fatalf("subnet %s: Available() = %d, want %d", sn.ID, sn.ipam.Available(), want)
		}
	}
}

func TestDemoWorld(t *testing.T) {
	s, err := scenarios.Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWorld(s, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	checkAddresses(t, w)
	c := w.Clusters["demo-blue"]
	if c == nil || c.Status != StatusActive || len(c.ControlPlaneENIs) != 3 {
		t.Fatalf("demo-blue: %+v", c)
	}
	ng := c.Nodegroups["general"]
	if len(ng.Instances) != 6 {
		t.Fatalf("general has %d instances, want 6", len(ng.Instances))
	}
	perAZ := map[string]int{}
	for _, id := range ng.Instances {
		inst := w.Instances[id]
		perAZ[inst.AZ]++
		// m5.large, 14 pods, WARM_ENI_TARGET=1: min(3, max(1, ceil(14/9)+1), ceil(29/9)) = 3 ENIs of 10 addresses
		if len(inst.ENIs) != 3 {
			t.Fatalf("instance %s has %d ENIs, want 3", id, len(inst.ENIs))
		}
		for _, e := range inst.ENIs {
			if n := len(w.ENIs[e].PrivateIPs); n != 10 {
				t.Fatalf("ENI %s holds %d addresses, want 10", e, n)
			}
		}
	}
	for az, n := range perAZ {
		if n != 2 {
			t.Fatalf("AZ %s has %d nodes, want 2 (even spread)", az, n)
		}
	}
	// us-east-1c's /23: 512 - 5 - 350 reserved - 2 nodes * 30 = 97
	if got := w.Subnets["subnet-0de00000000000c01"].ipam.Available(); got != 97 {
		t.Fatalf("us-east-1c node subnet has %d free, want 97", got)
	}
}

func TestWorldSurvivesSaveAndLoad(t *testing.T) {
	s, err := scenarios.Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWorld(s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "world.json")
	if err := SaveWorld(path, w); err != nil {
		t.Fatal(err)
	}
	got, err := LoadWorld(path)
	if err != nil {
		t.Fatal(err)
	}
	checkAddresses(t, got)
	for id, sn := range w.Subnets {
		if a, b := sn.ipam.Available(), got.Subnets[id].ipam.Available(); a != b {
			t.Fatalf("subnet %s: %d free before save, %d after load", id, a, b)
		}
	}
	if got.Counter != w.Counter || len(got.ENIs) != len(w.ENIs) {
		t.Fatalf("counter %d/%d, ENIs %d/%d", got.Counter, w.Counter, len(got.ENIs), len(w.ENIs))
	}
}

func TestLargeWorldShape(t *testing.T) {
	s, err := scenarios.Load("large")
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWorld(s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	checkAddresses(t, w)
	if len(w.VPCs) != 10 || len(w.Subnets) < 1000 || len(w.ENIs) < 20000 || len(w.Clusters) != 30 {
		t.Fatalf("large world: %d VPCs, %d subnets, %d ENIs, %d clusters", len(w.VPCs), len(w.Subnets), len(w.ENIs), len(w.Clusters))
	}
	t.Logf("large world: %d subnets, %d ENIs, %d instances", len(w.Subnets), len(w.ENIs), len(w.Instances))
}

func BenchmarkBuildLargeWorld(b *testing.B) {
	s, err := scenarios.Load("large")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := NewWorld(s, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
