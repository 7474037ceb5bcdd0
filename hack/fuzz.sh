#!/usr/bin/env bash
# Runs every Fuzz target of the module for a short time ($1, default 10s):
# `go test -fuzz` takes one target at a time.
set -euo pipefail
fuzztime=${1:-10s}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz: $pkg $target ($fuzztime)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/tmp/eksbg-fuzz.log 2>&1 || { cat /tmp/eksbg-fuzz.log; exit 1; }
  done
done
