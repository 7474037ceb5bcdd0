#!/usr/bin/env bash
# Provides the sandbox's Kubernetes control-plane binaries, cached under
# $XDG_CACHE_HOME/eksbg/kube/<kube>-kwok-<kwok>/bin and rebuilt only when the
# pinned versions (or the build flags, kube.stamp) change. internal/sandbox/kube
# looks there (or in $EKSBG_KUBE_BIN) for:
#   etcd                      Debian's etcd-server (apt-get when missing)
#   kube-apiserver,
#   kube-controller-manager,
#   kube-scheduler            built from the Go module proxy: k8s.io/kubernetes
#                             at KUBE_VERSION, with a replace line per staging
#                             module (read from kubernetes' own go.mod)
#   kwok                      sigs.k8s.io/kwok/cmd/kwok at KWOK_VERSION
# Prints the bin directory on its last line. Fails naming the binary it could
# not provide; it never falls back to anything else.
set -euo pipefail
KUBE_VERSION="${KUBE_VERSION:-v1.33.4}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/eksbg/kube/${KUBE_VERSION}-kwok-${KWOK_VERSION}"
bin="$cache/bin"
mkdir -p "$bin"
GO="${GO:-go}"
step() { printf 'kube-bins: %s\n' "$*" >&2; }
timed() { local t0=$SECONDS; "$@"; step "  done in $((SECONDS - t0))s"; }

# etcd: Debian's package puts it in /usr/bin.
if ! command -v etcd >/dev/null 2>&1; then
  step "installing etcd (Debian package etcd-server)"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq etcd-server >/dev/null; } \
    || { step "cannot install etcd: apt-get install etcd-server failed"; exit 1; }
  # The package starts a system etcd on 2379; the sandbox runs its own on
  # free ports, so this only saves the memory.
  { $sudo systemctl disable --now etcd 2>/dev/null || $sudo service etcd stop 2>/dev/null || true; } >/dev/null 2>&1
fi
ln -sf "$(command -v etcd)" "$bin/etcd"

# The binaries carry their version as release builds do (kube-apiserver's
# /version, kubectl's skew warning): kubernetes' hack/lib/version.sh sets
# these variables with -X. The stamp file records how the binaries were
# built, so a change of flags here rebuilds them.
minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitTreeState=clean"
done
stamp="$cache/kube.stamp"
want_stamp="$KUBE_VERSION ldflags=$ldflags"

need_kube=0
for b in kube-apiserver kube-controller-manager kube-scheduler; do
  [ -x "$bin/$b" ] || need_kube=1
done
[ "$(cat "$stamp" 2>/dev/null)" = "$want_stamp" ] || need_kube=1
if [ "$need_kube" = 1 ]; then
  mod="$cache/build"
  mkdir -p "$mod"
  step "building kube-apiserver, kube-controller-manager, kube-scheduler $KUBE_VERSION from the module proxy (several minutes, once)"
  gomod=$(cd "$mod" && GOFLAGS=-mod=mod $GO mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
  [ -f "$gomod" ] || { step "cannot read k8s.io/kubernetes@$KUBE_VERSION's go.mod from the module proxy"; exit 1; }
  staging="v0.${KUBE_VERSION#v1.}"
  {
    echo "module eksbg.local/kubebuild"
    echo
    echo "go 1.24"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    # kubernetes' go.mod replaces each staging module with ./staging/src/...;
    # outside its tree the same modules come from the proxy at v0.<minor>.<patch>.
    grep -oE '^[[:space:]]*k8s\.io/[a-z0-9-]+ => \./staging/src/k8s\.io/[a-z0-9-]+' "$gomod" \
      | awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}'
  } >"$mod/go.mod"
  cat >"$mod/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
  (cd "$mod" && GOFLAGS=-mod=mod $GO mod tidy -e >/dev/null 2>&1 || true)
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    step "  go build $b"
    (cd "$mod" && timed env GOFLAGS=-mod=mod CGO_ENABLED=0 $GO build -trimpath -ldflags "$ldflags" -o "$bin/$b.tmp" "k8s.io/kubernetes/cmd/$b") \
      || { step "cannot build $b $KUBE_VERSION (see the go build output above)"; exit 1; }
    mv "$bin/$b.tmp" "$bin/$b"
  done
  echo "$want_stamp" >"$stamp"
fi

if [ ! -x "$bin/kwok" ]; then
  step "installing kwok $KWOK_VERSION from the module proxy"
  timed env GOBIN="$bin" CGO_ENABLED=0 $GO install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" \
    || { step "cannot install kwok $KWOK_VERSION"; exit 1; }
fi
echo "$bin"
