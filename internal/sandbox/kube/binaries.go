// Package kube runs a real Kubernetes control plane behind every sandbox
// EKS cluster: one shared etcd, and per cluster a kube-apiserver,
// kube-controller-manager, kube-scheduler and a kwok controller that plays
// the kubelets of the emulator's EC2 instances. The Manager starts and
// stops them as the emulator's clusters come and go, and publishes each
// API server's endpoint and CA into DescribeCluster.
package kube

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The pinned versions; hack/kube-bins.sh builds these (a test keeps the
// two in step).
const (
	// KubeVersion is the version of kube-apiserver, kube-controller-manager
	// and kube-scheduler, built from the Go module proxy.
	KubeVersion = "v1.33.4"
	// KwokVersion is the version of sigs.k8s.io/kwok.
	KwokVersion = "v0.8.0"
)

// BinDirEnv names the environment variable that overrides the directory
// holding the binaries.
const BinDirEnv = "EKSBG_KUBE_BIN"

// Binaries are the paths of the control-plane executables.
type Binaries struct {
	Etcd              string
	APIServer         string
	ControllerManager string
	Scheduler         string
	Kwok              string
}

// DefaultBinDir is where hack/kube-bins.sh (`make kube-bins`) caches the
// binaries: $XDG_CACHE_HOME/eksbg/kube/<kube>-kwok-<kwok>/bin.
func DefaultBinDir() (string, error) {
	return CacheDir("kube", KubeVersion+"-kwok-"+KwokVersion, "bin")
}

// CacheDir is $XDG_CACHE_HOME/eksbg/<parts...> (~/.cache by default),
// where the build scripts cache what they build.
func CacheDir(parts ...string) (string, error) {
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding the cache directory: %w", err)
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(append([]string{cache, "eksbg"}, parts...)...), nil
}

// LocateBinaries finds the binaries in $EKSBG_KUBE_BIN, else in
// DefaultBinDir. It fails naming the first binary missing and how to get
// it; it never falls back to anything else.
func LocateBinaries() (Binaries, error) {
	dir := os.Getenv(BinDirEnv)
	if dir == "" {
		d, err := DefaultBinDir()
		if err != nil {
			return Binaries{}, err
		}
		dir = d
	}
	return BinariesIn(dir)
}

// BinariesIn finds the binaries in dir.
func BinariesIn(dir string) (Binaries, error) {
	b := Binaries{
		Etcd:              filepath.Join(dir, "etcd"),
		APIServer:         filepath.Join(dir, "kube-apiserver"),
		ControllerManager: filepath.Join(dir, "kube-controller-manager"),
		Scheduler:         filepath.Join(dir, "kube-scheduler"),
		Kwok:              filepath.Join(dir, "kwok"),
	}
	for _, p := range []string{b.Etcd, b.APIServer, b.ControllerManager, b.Scheduler, b.Kwok} {
		if err := Executable(p); err != nil {
			return Binaries{}, fmt.Errorf("the sandbox's control planes need %s (Kubernetes %s, kwok %s): %w; run `make kube-bins` (hack/kube-bins.sh) or set %s to a directory holding it",
				filepath.Base(p), KubeVersion, KwokVersion, err, BinDirEnv)
		}
	}
	return b, nil
}

// Executable checks that path is an executable file, naming what is wrong.
func Executable(path string) error {
	st, err := os.Stat(path) // follows the etcd symlink
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist", path)
	case err != nil:
		return err
	case st.IsDir() || st.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}
