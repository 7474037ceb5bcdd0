package emulator_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
)

// TestSavedWorldRecordsItsScenario: a saved world is resumed with its own
// scenario only; one saved without a record cannot be checked and is
// refused too.
func TestSavedWorldRecordsItsScenario(t *testing.T) {
	parse := func(name, yaml string) *scenario.Scenario {
		sc, err := scenario.Parse(name, []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	s3, example := parse("s3.yaml", s3Scenario), parse("example.yaml", awsExampleScenario)
	state := filepath.Join(t.TempDir(), "world.json")
	open := func(name string, sc *scenario.Scenario) error {
		_, err := emulator.New(emulator.Options{Scenario: sc, ScenarioName: name, StatePath: state})
		return err
	}
	if err := open("s3", s3); err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.New(emulator.Options{Scenario: s3, ScenarioName: "elsewhere/s3.yaml", StatePath: state})
	if err != nil {
		t.Fatalf("the same content under another name: %v", err)
	}
	if got := srv.Served(); got.Scenario == nil || got.Scenario.Name != "s3" || got.Region != "eu-west-1" {
		t.Errorf("served %+v: want the saved world, recorded as s3", got)
	}
	err = open("example", example)
	var mismatch *emulator.ScenarioMismatchError
	if !errors.As(err, &mismatch) || !errors.Is(err, emulator.ErrScenarioMismatch) ||
		!strings.Contains(err.Error(), "built from scenario s3, not example") || !strings.Contains(err.Error(), "--scenario s3") {
		t.Fatalf("another scenario: %v", err)
	}
	if err := emulator.CheckSavedScenario(state, "example", example); !errors.As(err, &mismatch) {
		t.Fatalf("CheckSavedScenario with another scenario: %v", err)
	}
	if err := emulator.CheckSavedScenario(state, "s3", s3); err != nil {
		t.Fatalf("CheckSavedScenario with its own: %v", err)
	}
	if err := emulator.CheckSavedScenario(filepath.Join(t.TempDir(), "none.json"), "s3", s3); err != nil {
		t.Fatalf("CheckSavedScenario with nothing saved: %v", err)
	}

	// A world saved before worlds recorded their scenario.
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	delete(raw, "scenario")
	if b, err = json.Marshal(raw); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := open("s3", s3); !errors.As(err, &mismatch) || mismatch.Saved != nil || !strings.Contains(err.Error(), "--fresh") {
		t.Fatalf("a world without a record: %v", err)
	}
	// Without a scenario to check against, the saved world is served as is.
	if _, err := emulator.New(emulator.Options{StatePath: state}); err != nil {
		t.Fatalf("the state alone: %v", err)
	}
}
