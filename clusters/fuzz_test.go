package clusters

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzEdits edits arbitrary configs the way Derive does and checks that
// every edit that succeeds leaves a config that parses and holds the value
// written; and that the untouched config writes back unchanged.
func FuzzEdits(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: a}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data)
		if err != nil {
			return
		}
		if string(c.Bytes()) != string(data) {
			t.Fatal("Bytes differs from the parsed text")
		}
		if err := c.setKey([]step{"metadata"}, "name", strNode("green-x"), ""); err == nil {
			if got := scalarAt(c.root, "metadata", "name"); got != "green-x" {
				t.Fatalf("name %q after setting it", got)
			}
		}
		if err := c.setKey([]step{"vpc", "subnets"}, "private", subnetMapping(keyByZone([]Subnet{{ID: "subnet-1", AZ: "us-east-1a"}})), ""); err == nil {
			if got := scalarAt(c.root, "vpc", "subnets", "private", "us-east-1a", "id"); got != "subnet-1" {
				t.Fatalf("subnet %q after setting it", got)
			}
		}
		if err := c.removeKey(nil, "availabilityZones"); err == nil && lookup(c.root, "availabilityZones") != nil {
			t.Fatal("availabilityZones still there after removing it")
		}
		if _, err := Parse("again.yaml", c.Bytes()); err != nil {
			t.Fatalf("edited config does not parse: %v\n%s", err, c.Bytes())
		}
	})
}
