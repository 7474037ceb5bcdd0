#!/usr/bin/env bash
# Installs what the tests need and is not part of Go's module graph:
# the AWS CLI v2 (Debian's awscli), moto's server (for the differential
# test) and tmux (the TUI's end-to-end test). The AWS CLI v1 comes with
# the machine's Python (botocore).
set -euo pipefail
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ! -x /usr/bin/aws ]; then
  echo "test-deps: installing the AWS CLI v2 (Debian package awscli)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq awscli >/dev/null
fi
if ! command -v tmux >/dev/null; then
  echo "test-deps: installing tmux"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq tmux >/dev/null
fi
if ! python3 -c 'import awscli' 2>/dev/null; then
  echo "test-deps: installing the AWS CLI v1 for python3"
  python3 -m pip install --quiet awscli || { echo "test-deps: cannot install the AWS CLI v1 (pip install awscli failed)"; exit 1; }
fi
if ! python3 -c 'import moto.server' 2>/dev/null; then
  echo "test-deps: installing moto[server]"
  python3 -m pip install --quiet 'moto[server]' || { echo "test-deps: cannot install moto[server] with pip"; exit 1; }
fi
/usr/bin/aws --version >/dev/null
