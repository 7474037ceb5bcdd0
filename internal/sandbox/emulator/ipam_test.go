package emulator

import "testing"

func TestIPAM(t *testing.T) {
	m, err := newIPAM("10.0.0.0/24")
	if err != nil {
		t.Fatal(err)
	}
	if m.Available() != 251 {
		t.Fatalf("a /24 has 251 usable addresses, got %d", m.Available())
	}
	// the first block holds 4 reserved addresses and the last the broadcast one, so 14 /28s are free
	if m.FreePrefixes() != 14 {
		t.Fatalf("free /28s = %d, want 14", m.FreePrefixes())
	}
	ip, _ := m.alloc()
	if ip != "10.0.0.4" {
		t.Fatalf("first free address = %s, want 10.0.0.4", ip)
	}
	p, ok := m.allocPrefix()
	if !ok || p != "10.0.0.16/28" {
		t.Fatalf("first free /28 = %s", p)
	}
	if m.Available() != 251-17 || m.FreePrefixes() != 13 {
		t.Fatalf("after one address and one prefix: %d free, %d /28s", m.Available(), m.FreePrefixes())
	}
	// scattered addresses break up every block they touch
	for i := 0; i < 13; i++ {
		if _, ok := m.allocScattered(); !ok {
			t.Fatal("scattered allocation failed")
		}
	}
	if m.FreePrefixes() != 0 || m.Available() != 251-17-13 {
		t.Fatalf("after scattering: %d free, %d /28s", m.Available(), m.FreePrefixes())
	}
	if _, ok := m.allocPrefix(); ok {
		t.Fatal("a /28 was allocated from a fragmented subnet")
	}
	m.releasePrefix(p)
	m.release(ip)
	if m.Available() != 251-13 || m.FreePrefixes() != 1 {
		t.Fatalf("after release: %d free, %d /28s", m.Available(), m.FreePrefixes())
	}
	if err := m.take("10.0.0.200"); err == nil {
		if err := m.take("10.0.0.200"); err == nil {
			t.Fatal("an address was taken twice")
		}
	}
	if err := m.take("10.0.1.1"); err == nil {
		t.Fatal("an address outside the subnet was taken")
	}
}
