package scenarios

import (
	"bytes"
	"os"
	"testing"

	"github.com/eksbg/eksbg/internal/sandbox/scenarios/internal/large"
)

func TestBuiltinScenariosParse(t *testing.T) {
	names := Names()
	if len(names) < 2 {
		t.Fatalf("want at least the demo and large scenarios, have %v", names)
	}
	for _, n := range names {
		s, err := Load(n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if len(s.VPCs) == 0 {
			t.Fatalf("%s: no VPCs", n)
		}
	}
}

func TestLargeScenarioIsGenerated(t *testing.T) {
	got, err := os.ReadFile("large.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, large.Generate()) {
		t.Fatal("large.yaml is stale: run go generate ./internal/sandbox/scenarios")
	}
	s, err := Load("large")
	if err != nil {
		t.Fatal(err)
	}
	subnets := 0
	for _, v := range s.VPCs {
		subnets += len(v.Subnets)
	}
	if len(s.VPCs) != 10 || subnets < 1000 || len(s.Clusters) != 30 {
		t.Fatalf("large scenario shape: %d VPCs, %d subnets, %d clusters", len(s.VPCs), subnets, len(s.Clusters))
	}
}
