#!/usr/bin/env bash
# Provides the sandbox's Argo CD, cached under
# $XDG_CACHE_HOME/eksbg/argocd/<version>/ and rebuilt only when the pinned
# version (or the way it is built) changes:
#   bin/argocd                 github.com/argoproj/argo-cd/v2/cmd at ARGOCD_VERSION,
#                              built from the Go module proxy in a build module
#                              that carries argo-cd's own replace block (read
#                              from its go.mod); one binary plays every role
#                              (it picks the role from ARGOCD_BINARY_NAME or
#                              the name it is run by)
#   bin/argocd-k8s-auth        a symlink to it: the credential plugin Argo CD
#                              runs for clusters with awsAuthConfig
#   crds/*.yaml                the CRDs of the module's manifests/crds/
#   bin/redis-server           Debian's redis-server (apt-get when missing)
# Prints the version directory on its last line. Fails naming what it could
# not provide; it never falls back to anything else.
set -euo pipefail
ARGOCD_VERSION="${ARGOCD_VERSION:-v2.14.21}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/eksbg/argocd/${ARGOCD_VERSION}"
bin="$cache/bin"
mkdir -p "$bin" "$cache/crds"
GO="${GO:-go}"
step() { printf 'argocd-bins: %s\n' "$*" >&2; }

# redis-server: Debian's package puts it in /usr/bin.
if ! command -v redis-server >/dev/null 2>&1; then
  step "installing redis-server (Debian package redis-server)"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null; } \
    || { step "cannot install redis-server: apt-get install redis-server failed"; exit 1; }
  # The package starts a system redis on 6379; the sandbox runs its own on a
  # free port, so this only saves the memory.
  { $sudo systemctl disable --now redis-server 2>/dev/null || $sudo service redis-server stop 2>/dev/null || true; } >/dev/null 2>&1
fi
ln -sf "$(command -v redis-server)" "$bin/redis-server"
command -v git >/dev/null 2>&1 || { step "git is missing: the repo server and the catalog's git daemon need it"; exit 1; }

# The version variables argo-cd's Makefile sets with -X (common/version.go).
ldflags="-s -w -X github.com/argoproj/argo-cd/v2/common.version=${ARGOCD_VERSION#v} -X github.com/argoproj/argo-cd/v2/common.gitTag=$ARGOCD_VERSION -X github.com/argoproj/argo-cd/v2/common.gitTreeState=clean -X github.com/argoproj/argo-cd/v2/common.gitCommit=$ARGOCD_VERSION"
stamp="$cache/argocd.stamp"
want_stamp="$ARGOCD_VERSION ldflags=$ldflags"

if [ ! -x "$bin/argocd" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want_stamp" ] || [ ! -s "$cache/crds/application-crd.yaml" ]; then
  mod="$cache/build"
  mkdir -p "$mod"
  step "building argocd $ARGOCD_VERSION from the module proxy (several minutes, once)"
  info=$(cd "$mod" && GOFLAGS=-mod=mod $GO mod download -json "github.com/argoproj/argo-cd/v2@$ARGOCD_VERSION")
  gomod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p' <<<"$info")
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p' <<<"$info")
  [ -f "$gomod" ] && [ -d "$dir" ] || { step "cannot read github.com/argoproj/argo-cd/v2@$ARGOCD_VERSION from the module proxy"; exit 1; }
  {
    echo "module eksbg.local/argocdbuild"
    echo
    echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")"
    echo
    echo "require github.com/argoproj/argo-cd/v2 $ARGOCD_VERSION"
    echo
    # Replace directives apply only in the main module, so argo-cd's own
    # (k8s.io at the versions it was built with, forks) must be repeated
    # here: both the block form and single-line replaces.
    awk '/^replace \($/ {inblock=1; print; next}
         inblock && /^\)$/ {inblock=0; print; next}
         inblock {print; next}
         /^replace / {print}' "$gomod"
  } >"$mod/go.mod"
  cat >"$mod/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/argoproj/argo-cd/v2/cmd"
GO
  (cd "$mod" && GOFLAGS=-mod=mod $GO mod tidy -e >/dev/null 2>&1 || true)
  t0=$SECONDS
  (cd "$mod" && env GOFLAGS=-mod=mod CGO_ENABLED=0 $GO build -trimpath -ldflags "$ldflags" -o "$bin/argocd.tmp" github.com/argoproj/argo-cd/v2/cmd) \
    || { step "cannot build argocd $ARGOCD_VERSION (see the go build output above)"; exit 1; }
  step "  done in $((SECONDS - t0))s"
  mv "$bin/argocd.tmp" "$bin/argocd"
  for f in application-crd.yaml applicationset-crd.yaml appproject-crd.yaml; do
    install -m 0644 "$dir/manifests/crds/$f" "$cache/crds/$f"
  done
  echo "$want_stamp" >"$stamp"
fi
# Argo CD runs the credential plugin by this name for awsAuthConfig
# (pkg/apis/application/v1alpha1/types.go, RawRestConfig); the sandbox puts
# bin/ first on the PATH of the Argo CD processes.
ln -sf argocd "$bin/argocd-k8s-auth"
echo "$cache"
