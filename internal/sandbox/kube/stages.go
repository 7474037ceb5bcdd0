package kube

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
)

// stageFS holds the kwok stages the sandbox's kubelets play: node
// initialisation and lease heartbeat, pod ready, complete and delete. The
// kwok binary has none built in (kwokctl passes its embedded defaults);
// these are copies of kwok's, pod-ready changed so that the sandbox
// assigns pod IPs (see stages/pod-ready.yaml).
//
//go:embed stages/*.yaml
var stageFS embed.FS

// writeKwokConfig writes kwok's --config file: the stages, as one
// multi-document YAML file.
func writeKwokConfig(path string) error {
	names, err := fs.Glob(stageFS, "stages/*.yaml")
	if err != nil {
		return fmt.Errorf("listing kwok stages: %w", err)
	}
	sort.Strings(names)
	docs := make([]string, 0, len(names))
	for _, n := range names {
		b, err := stageFS.ReadFile(n)
		if err != nil {
			return fmt.Errorf("reading kwok stage %s: %w", n, err)
		}
		docs = append(docs, strings.TrimSpace(string(b)))
	}
	if err := os.WriteFile(path, []byte(strings.Join(docs, "\n---\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing kwok config: %w", err)
	}
	return nil
}
