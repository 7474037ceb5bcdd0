// Package testenv finds what tests need from beside the checkout: eksctl's
// published schema and examples in ../shared/eksctl, which CI always has
// there (their README asks that they be pointed at, not copied).
package testenv

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/eksbg/eksbg/clusters"
)

// SharedEksctl returns the directory holding eksctl's schema.json and
// examples/, failing the test with what is missing if it is not there.
func SharedEksctl(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: no go.mod above the test's directory")
		}
		dir = parent
	}
	p := filepath.Join(filepath.Dir(dir), "shared", "eksctl")
	if _, err := os.Stat(filepath.Join(p, "schema.json")); err != nil {
		t.Fatalf("eksctl's schema is expected at %s (../shared/eksctl beside the checkout): %v", p, err)
	}
	return p
}

// EksctlSchemaPath is SharedEksctl's schema.json.
func EksctlSchemaPath(t testing.TB) string { return filepath.Join(SharedEksctl(t), "schema.json") }

// EksctlSchema compiles eksctl's schema.
func EksctlSchema(t testing.TB) (*clusters.Schema, []byte) {
	t.Helper()
	data, err := os.ReadFile(EksctlSchemaPath(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := clusters.CompileSchema(data)
	if err != nil {
		t.Fatal(err)
	}
	return s, data
}
