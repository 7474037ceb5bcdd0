package iamactions

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestOperationActions: S3 operations map to S3's IAM actions, which are
// not their names, and reads of a key need s3:ListBucket for a 404.
func TestOperationActions(t *testing.T) {
	uses, err := Derive(t.Context(), Options{Root: filepath.Join("testdata", "s3"), ModuleDir: "."})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range uses {
		got = append(got, u.Action+" "+u.Pos)
	}
	want := []string{
		"s3:GetObject calls.go:12",
		"s3:GetObject calls.go:13",
		"s3:ListBucket calls.go:12",
		"s3:ListBucket calls.go:13",
		"s3:ListBucket calls.go:14",
		"s3:PutObject calls.go:11",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Derive() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
