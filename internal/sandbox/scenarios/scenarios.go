// Package scenarios embeds the scenarios eksbg ships: "demo" (the default
// sandbox world, used by make demo) and "large" (for benchmarks).
package scenarios

//go:generate go run ./internal/gen -o large.yaml

import (
	"embed"
	"fmt"
	"sort"
	"strings"

	"github.com/eksbg/eksbg/internal/sandbox/scenario"
)

//go:embed *.yaml
var files embed.FS

// Names lists the embedded scenarios.
func Names() []string {
	entries, _ := files.ReadDir(".")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// Load parses an embedded scenario by name.
func Load(name string) (*scenario.Scenario, error) {
	data, err := files.ReadFile(name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in scenario %q (have: %s)", name, strings.Join(Names(), ", "))
	}
	return scenario.Parse("builtin:"+name+".yaml", data)
}
