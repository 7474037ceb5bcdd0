package clusters

import (
	"os"
	"path/filepath"
	"testing"
)

// examplesDir and schemaPath are eksctl's published examples and schema,
// which live beside the checkout in ../shared/eksctl (its README: point at
// them, do not copy them; CI always has them there).
var (
	sharedEksctl = filepath.Join("..", "..", "shared", "eksctl")
	examplesDir  = filepath.Join(sharedEksctl, "examples")
	schemaPath   = filepath.Join(sharedEksctl, "schema.json")
)

// TestSharedEksctlPresent says plainly what is missing when the shared
// data is not beside the checkout, instead of 49 file-not-found failures.
func TestSharedEksctlPresent(t *testing.T) {
	if _, err := os.Stat(schemaPath); err != nil {
		t.Fatalf("eksctl's schema and examples are expected in %s, beside the checkout: %v", sharedEksctl, err)
	}
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	if err != nil || len(files) != 49 {
		t.Fatalf("want eksctl's 49 published examples in %s, found %d (%v)", examplesDir, len(files), err)
	}
}
