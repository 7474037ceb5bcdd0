// Package argocd runs real Argo CD for the sandbox: its application
// controller, ApplicationSet controller and repo server (one argocd binary
// built from the Go module proxy by hack/argocd-bins.sh) against the
// management cluster's API server, with Debian's redis-server and the
// sandbox's app catalog (package catalog) served as a git repository by
// git daemon on loopback. Workload clusters are registered through Argo CD
// cluster secrets with awsAuthConfig, so Argo CD authenticates to them
// with EKS tokens it mints itself (argocd-k8s-auth), which the emulator's
// TokenReview webhook verifies.
package argocd

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/eksbg/eksbg/internal/sandbox/kube"
)

// Version is the pinned Argo CD version; hack/argocd-bins.sh builds it (a
// test keeps the two in step).
const Version = "v2.14.21"

// DirEnv names the environment variable that overrides the directory
// holding the build (bin/ and crds/).
const DirEnv = "EKSBG_ARGOCD_DIR"

// Binaries are what the sandbox's Argo CD runs.
type Binaries struct {
	// Argocd is the one binary that plays every role.
	Argocd string
	// BinDir holds argocd and the argocd-k8s-auth link Argo CD runs for
	// awsAuthConfig clusters; it goes first on the processes' PATH.
	BinDir string
	// CRDDir holds the CRDs of argo-cd's manifests/crds/.
	CRDDir string
	// RedisServer and Git are found on PATH (Debian packages).
	RedisServer string
	Git         string
	// GitDaemon is git's daemon program (git --exec-path), run directly so
	// that its process id is the daemon's.
	GitDaemon string
}

// DefaultDir is where hack/argocd-bins.sh (`make argocd-bins`) caches the
// build: $XDG_CACHE_HOME/eksbg/argocd/<version>.
func DefaultDir() (string, error) { return kube.CacheDir("argocd", Version) }

// LocateBinaries finds the build in $EKSBG_ARGOCD_DIR, else DefaultDir,
// and redis-server, git and git-daemon. It fails naming what is missing
// and how to get it; it never falls back to anything else.
func LocateBinaries() (Binaries, error) {
	dir := os.Getenv(DirEnv)
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return Binaries{}, err
		}
		dir = d
	}
	b := Binaries{BinDir: filepath.Join(dir, "bin"), CRDDir: filepath.Join(dir, "crds")}
	b.Argocd = filepath.Join(b.BinDir, "argocd")
	hint := fmt.Sprintf("run `make argocd-bins` (hack/argocd-bins.sh) or set %s", DirEnv)
	for _, p := range []string{b.Argocd, filepath.Join(b.BinDir, "argocd-k8s-auth")} {
		if err := kube.Executable(p); err != nil {
			return Binaries{}, fmt.Errorf("the sandbox's Argo CD %s needs %s: %w; %s", Version, filepath.Base(p), err, hint)
		}
	}
	if _, err := os.Stat(filepath.Join(b.CRDDir, "application-crd.yaml")); err != nil {
		return Binaries{}, fmt.Errorf("the sandbox's Argo CD needs its CRDs: %w; %s", err, hint)
	}
	var err error
	if b.RedisServer, err = exec.LookPath("redis-server"); err != nil {
		return Binaries{}, fmt.Errorf("the sandbox's Argo CD needs redis-server (Debian package redis-server): %w; %s", err, hint)
	}
	if b.Git, err = exec.LookPath("git"); err != nil {
		return Binaries{}, fmt.Errorf("the sandbox's Argo CD needs git: %w", err)
	}
	out, err := exec.Command(b.Git, "--exec-path").Output()
	if err != nil {
		return Binaries{}, fmt.Errorf("finding git's exec path: %w", err)
	}
	b.GitDaemon = filepath.Join(strings.TrimSpace(string(out)), "git-daemon")
	if err := kube.Executable(b.GitDaemon); err != nil {
		return Binaries{}, fmt.Errorf("the sandbox's catalog repository needs git daemon: %w", err)
	}
	return b, nil
}
