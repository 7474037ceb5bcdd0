package emulator

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/eksbg/eksbg/internal/atomicfile"
)

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
