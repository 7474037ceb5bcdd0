package clusters

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestRoundTripUnchanged(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse(f, data)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.Bytes(), data) {
			t.Errorf("%s: Bytes differs from the file", f)
		}
		if !bytes.Equal(c.Clone().Bytes(), data) {
			t.Errorf("%s: Clone().Bytes differs from the file", f)
		}
	}
}

func seqNode(items ...string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, i := range items {
		n.Content = append(n.Content, strNode(i))
	}
	return n
}

func mapNode(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		v, ok := kv[i+1].(*yaml.Node)
		if !ok {
			v = strNode(kv[i+1].(string))
		}
		n.Content = append(n.Content, strNode(kv[i].(string)), v)
	}
	return n
}

func TestEdits(t *testing.T) {
	const doc = `# head comment
---
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig

metadata:
    name: blue   # the name
    region: "eu-west-1"
    version: '1.29'

# node groups
nodeGroups:
- name: ng-1 # first
  ami: ami-123
  instanceType: m5.large

  # about labels
  labels: {role: worker}
- name: ng-2
  amiFamily: AmazonLinux2
  overrideBootstrapCommand: |
    #!/bin/bash
    /etc/eks/bootstrap.sh blue

  minSize: 1
addons:
  - name: vpc-cni
    version: v1.0.0-eksbuild.1
flow: {a: 1, b: 2}
`
	withTags := strings.Replace(doc, "metadata:\n", "metadata:\n    tags: # none yet\n", 1)
	tests := []struct {
		name    string
		edit    func(c *Config) error
		want    string // the whole document after the edit
		spliced bool
	}{
		{"scalar keeps comment", func(c *Config) error {
			return c.setKey([]step{"metadata"}, "name", strNode("green"), "")
		}, strings.Replace(doc, "name: blue   # the name", "name: green   # the name", 1), true},
		{"scalar keeps double quotes", func(c *Config) error {
			return c.setKey([]step{"metadata"}, "region", strNode("eu-west-2"), "")
		}, strings.Replace(doc, `region: "eu-west-1"`, `region: "eu-west-2"`, 1), true},
		{"scalar keeps single quotes", func(c *Config) error {
			return c.setKey([]step{"metadata"}, "version", strNode("1.33"), "")
		}, strings.Replace(doc, `version: '1.29'`, `version: '1.33'`, 1), true},
		{"insert after a key", func(c *Config) error {
			return c.setKey([]step{"metadata"}, "tags", mapNode("eksbg.io/color", "green"), "region")
		}, strings.Replace(doc, "    region: \"eu-west-1\"\n", "    region: \"eu-west-1\"\n    tags:\n        eksbg.io/color: green\n", 1), true},
		{"insert at the end of a dash item", func(c *Config) error {
			return c.setKey([]step{"nodeGroups", 0}, "amiFamily", strNode("AmazonLinux2023"), "")
		}, strings.Replace(doc, "  labels: {role: worker}\n", "  labels: {role: worker}\n  amiFamily: AmazonLinux2023\n", 1), true},
		{"remove keeps the next key's comment", func(c *Config) error {
			return c.removeKey([]step{"nodeGroups", 0}, "instanceType")
		}, strings.Replace(doc, "  instanceType: m5.large\n", "", 1), true},
		{"remove the first key of a dash item", func(c *Config) error {
			return c.removeKey([]step{"nodeGroups", 1}, "name")
		}, strings.Replace(doc, "- name: ng-2\n  amiFamily", "- amiFamily", 1), true},
		{"remove a block scalar", func(c *Config) error {
			return c.removeKey([]step{"nodeGroups", 1}, "overrideBootstrapCommand")
		}, strings.Replace(doc, "  overrideBootstrapCommand: |\n    #!/bin/bash\n    /etc/eks/bootstrap.sh blue\n", "", 1), true},
		{"replace a block scalar by a plain one", func(c *Config) error {
			return c.setKey([]step{"nodeGroups", 1}, "overrideBootstrapCommand", strNode("x"), "")
		}, strings.Replace(doc, "  overrideBootstrapCommand: |\n    #!/bin/bash\n    /etc/eks/bootstrap.sh blue\n", "  overrideBootstrapCommand: x\n", 1), true},
		{"replace a nested sequence item key", func(c *Config) error {
			return c.setKey([]step{"addons", 0}, "version", strNode("v1.19.0-eksbuild.1"), "")
		}, strings.Replace(doc, "v1.0.0-eksbuild.1", "v1.19.0-eksbuild.1", 1), true},
		{"new top-level mapping", func(c *Config) error {
			return c.setKey([]step{"vpc"}, "id", strNode("vpc-1"), "")
		}, doc + "vpc:\n    id: vpc-1\n", true},
		{"new nested mapping", func(c *Config) error {
			return c.setKey([]step{"vpc", "subnets"}, "private", mapNode("a", mapNode("id", "subnet-1")), "")
		}, doc + "vpc:\n    subnets:\n        private:\n            a:\n                id: subnet-1\n", true},
		{"fill an empty value", func(c *Config) error {
			return c.setKey([]step{"metadata", "tags"}, "a", strNode("b"), "")
		}, strings.Replace(withTags, "    tags: # none yet\n", "    tags: # none yet\n        a: b\n", 1), true},
		{"replace a block mapping", func(c *Config) error {
			return c.setKey([]step{}, "metadata", mapNode("name", "x", "region", "y"), "")
		}, strings.Replace(doc, "metadata:\n    name: blue   # the name\n    region: \"eu-west-1\"\n    version: '1.29'\n", "metadata:\n    name: x\n    region: y\n", 1), true},
		{"edit in a flow mapping rewrites its entry", func(c *Config) error {
			return c.setKey([]step{"flow"}, "b", strNode("3"), "")
		}, strings.Replace(doc, "flow: {a: 1, b: 2}\n", "flow: {a: 1, b: \"3\"}\n", 1), false},
		{"remove a missing key", func(c *Config) error {
			return c.removeKey([]step{"nodeGroups", 5}, "ami")
		}, doc, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := doc
			if strings.HasPrefix(tt.name, "fill") {
				in = withTags
			}
			c, err := Parse("doc.yaml", []byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.edit(c); err != nil {
				t.Fatal(err)
			}
			if got := string(c.Bytes()); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			if spliced := c.rewrites == 0; spliced != tt.spliced {
				t.Errorf("spliced = %v, want %v", spliced, tt.spliced)
			}
		})
	}
}

func TestEditBlankLines(t *testing.T) {
	const doc = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\n\nmetadata:\n  name: a\n\navailabilityZones: [x]\n\nvpc:\n  # the endpoints\n  clusterEndpoints: {publicAccess: true}\n\nnodeGroups: []\n"
	tests := []struct {
		name string
		edit func(c *Config) error
		want string
	}{
		{"remove between blank lines", func(c *Config) error { return c.removeKey(nil, "availabilityZones") },
			"apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\n\nmetadata:\n  name: a\n\nvpc:\n  # the endpoints\n  clusterEndpoints: {publicAccess: true}\n\nnodeGroups: []\n"},
		{"append a top-level entry after a blank line", func(c *Config) error { return c.setKey(nil, "addons", seqNode("x"), "") },
			doc + "\naddons:\n  - x\n"},
		{"insert first, above the first key's comment", func(c *Config) error { return c.setKey([]step{"vpc"}, "id", strNode("vpc-1"), "^") },
			strings.Replace(doc, "vpc:\n", "vpc:\n  id: vpc-1\n", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("doc.yaml", []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.edit(c); err != nil {
				t.Fatal(err)
			}
			if got := string(c.Bytes()); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			if c.rewrites != 0 {
				t.Error("not spliced")
			}
		})
	}
}

func TestInsertAfterTrailingComments(t *testing.T) {
	const doc = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: a\n  # region: x\n# tags: {}\nauto:\n  enabled: true\n#  nodeRoleARN: \"\"\n"
	tests := []struct {
		name string
		path []step
		want string
	}{
		{"top level: after the commented-out field", nil,
			doc + "k: v\n"},
		{"nested: after its own comments, before the parent's", []step{"metadata"},
			strings.Replace(doc, "  # region: x\n", "  # region: x\n  k: v\n", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("doc.yaml", []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.setKey(tt.path, "k", strNode("v"), ""); err != nil {
				t.Fatal(err)
			}
			if got := string(c.Bytes()); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
