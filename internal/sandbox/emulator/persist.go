package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/eksbg/eksbg/internal/atomicfile"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
)

// ScenarioRecord names the scenario a world was built from.
type ScenarioRecord struct {
	// Name is the built-in scenario's name or the file's path, as given.
	Name string `json:"name"`
	// SHA256 is ScenarioDigest of the scenario.
	SHA256 string `json:"sha256"`
}

// ScenarioDigest is the hex SHA-256 of a scenario's content: of its parsed
// form, so that comments and layout do not count and any change of what it
// builds does.
func ScenarioDigest(sc *scenario.Scenario) (string, error) {
	b, err := json.Marshal(sc)
	if err != nil {
		return "", fmt.Errorf("hashing the scenario: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// ErrScenarioMismatch is wrapped by every *ScenarioMismatchError.
var ErrScenarioMismatch = errors.New("the saved sandbox world was built from another scenario")

// ScenarioMismatchError says that a saved world was built from another
// scenario than the one asked for, and what to do.
type ScenarioMismatchError struct {
	StatePath string
	// Saved is the world's scenario; nil for a world saved before worlds
	// recorded theirs.
	Saved     *ScenarioRecord
	Requested ScenarioRecord
}

func (e *ScenarioMismatchError) Error() string {
	switch {
	case e.Saved == nil:
		return fmt.Sprintf("%v: %s records no scenario (it was saved by an older eksbg), so it cannot be checked against scenario %s: "+
			"start over from %s with --fresh (the saved world is discarded)", ErrScenarioMismatch, e.StatePath, e.Requested.Name, e.Requested.Name)
	case e.Saved.Name == e.Requested.Name:
		return fmt.Sprintf("%v: %s was built from scenario %s (sha256 %.12s), whose content has changed since (now sha256 %.12s): "+
			"start over from the new %s with --fresh (the saved world is discarded), or restore the old %s to resume it",
			ErrScenarioMismatch, e.StatePath, e.Saved.Name, e.Saved.SHA256, e.Requested.SHA256, e.Requested.Name, e.Saved.Name)
	}
	return fmt.Sprintf("%v: %s was built from scenario %s, not %s: start over from %s with --fresh (the saved world is discarded), "+
		"or resume the saved world with --scenario %s", ErrScenarioMismatch, e.StatePath, e.Saved.Name, e.Requested.Name,
		e.Requested.Name, e.Saved.Name)
}

func (e *ScenarioMismatchError) Unwrap() error { return ErrScenarioMismatch }

// checkScenario returns a *ScenarioMismatchError unless w was built from
// the scenario want. The content decides: the same scenario under another
// path is the same world.
func checkScenario(path string, w *World, want ScenarioRecord) error {
	if w.Scenario != nil && w.Scenario.SHA256 == want.SHA256 {
		return nil
	}
	return &ScenarioMismatchError{StatePath: path, Saved: w.Scenario, Requested: want}
}

// CheckSavedScenario reports whether the world saved at path may be
// resumed with scenario sc (named name): nil when it was built from sc or
// when nothing is saved there, a *ScenarioMismatchError when not.
func CheckSavedScenario(path, name string, sc *scenario.Scenario) error {
	digest, err := ScenarioDigest(sc)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading sandbox state: %w", err)
	}
	var saved struct {
		Scenario *ScenarioRecord `json:"scenario"`
	}
	if err := json.Unmarshal(b, &saved); err != nil {
		return fmt.Errorf("reading sandbox state %s: %w (start over with --fresh)", path, err)
	}
	return checkScenario(path, &World{Scenario: saved.Scenario}, ScenarioRecord{Name: name, SHA256: digest})
}

// SaveWorld writes the world to path atomically (temporary file, fsync,
// rename, fsync of the directory), readable by its owner only.
func SaveWorld(path string, w *World) error {
	b, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("encoding sandbox state: %w", err)
	}
	if err := atomicfile.Write(path, b, 0o600); err != nil {
		return fmt.Errorf("writing sandbox state: %w", err)
	}
	return nil
}

// LoadWorld reads a world saved by SaveWorld and rebuilds its address maps.
func LoadWorld(path string) (*World, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var w World
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("reading sandbox state %s: %w (delete it to start over from the scenario)", path, err)
	}
	if err := w.reindex(); err != nil {
		return nil, fmt.Errorf("reading sandbox state %s: %w", path, err)
	}
	return &w, nil
}

// reindex rebuilds every subnet's address map from the ENIs.
func (w *World) reindex() error {
	for _, sn := range w.Subnets {
		m, err := newIPAM(sn.CIDR)
		if err != nil {
			return err
		}
		sn.ipam = m
	}
	for _, id := range sortedKeys(w.ENIs) {
		e := w.ENIs[id]
		sn, ok := w.Subnets[e.SubnetID]
		if !ok {
			return fmt.Errorf("ENI %s is in unknown subnet %s", e.ID, e.SubnetID)
		}
		for _, ip := range e.PrivateIPs {
			if err := sn.ipam.take(ip); err != nil {
				return fmt.Errorf("ENI %s: %w", e.ID, err)
			}
		}
		for _, p := range e.Prefixes {
			if err := sn.ipam.takePrefix(p); err != nil {
				return fmt.Errorf("ENI %s: %w", e.ID, err)
			}
		}
	}
	return nil
}
