package kube

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The versions the Go code looks for are the ones hack/kube-bins.sh builds.
func TestPinnedVersionsMatchTheBuildScript(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "..", "..", "hack", "kube-bins.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"KUBE_VERSION": KubeVersion, "KWOK_VERSION": KwokVersion} {
		m := regexp.MustCompile(name + `="\$\{` + name + `:-([^}]+)\}"`).FindSubmatch(script)
		if m == nil {
			t.Errorf("hack/kube-bins.sh sets no default %s", name)
			continue
		}
		if string(m[1]) != want {
			t.Errorf("hack/kube-bins.sh builds %s %s, the Go code wants %s", name, m[1], want)
		}
	}
}

// A missing binary is named, with the way to get it; nothing falls back.
func TestBinariesInNamesTheMissingOne(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"} {
		_, err := BinariesIn(dir)
		if err == nil {
			t.Fatalf("BinariesIn succeeded without %s", name)
		}
		for _, want := range []string{name, "make kube-bins", BinDirEnv} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := BinariesIn(dir)
	if err != nil {
		t.Fatalf("BinariesIn with every binary: %v", err)
	}
	if b.Kwok != filepath.Join(dir, "kwok") {
		t.Errorf("kwok at %s", b.Kwok)
	}
	t.Setenv(BinDirEnv, dir)
	if got, err := LocateBinaries(); err != nil || got != b {
		t.Errorf("LocateBinaries with %s set: %+v, %v", BinDirEnv, got, err)
	}
	if err := os.Chmod(filepath.Join(dir, "kwok"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := BinariesIn(dir); err == nil || !strings.Contains(err.Error(), "not an executable") {
		t.Errorf("a non-executable kwok: %v", err)
	}
}
