#!/usr/bin/env bash
# make demo-tui: the sandbox up, then eksbg's terminal UI on it (docs/tui.md).
# Quitting the TUI takes the sandbox down and leaves nothing running.
set -euo pipefail
eksbg=$(cd "$(dirname "${1:-bin/eksbg}")" && pwd)/$(basename "${1:-bin/eksbg}")
root=$(pwd)
[ -t 0 ] && [ -t 1 ] || { echo "demo-tui: run it in a terminal" >&2; exit 1; }
work=$(mktemp -d)
addr=127.0.0.1:${EKSBG_DEMO_PORT:-4566}
state="$work/state/world.json"
ws="$work/sandbox"
cleanup() {
  "$eksbg" sandbox down --state "$state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

schema="$root/../shared/eksctl/schema.json"
[ -f "$schema" ] || schema=""
"$eksbg" sandbox up --addr "$addr" --state "$state" --workspace "$ws" --fresh ${schema:+--eksctl-schema "$schema"}
# shellcheck disable=SC1091
source "$ws/env"
cd "$ws"
cat <<MSG

The TUI opens on the sandbox's environment, demo. To see a gate fire while
traffic moves, give green errors from another terminal:
  curl -X PUT http://$addr/_sandbox/traffic -d '{"clusters":{"demo-green":{"errorRate":0.2}}}'
and take them away again with "errorRate":0. Press enter to open the TUI.
MSG
read -r _
"$eksbg" tui --gate-interval 3s
