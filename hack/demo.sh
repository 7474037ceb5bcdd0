#!/usr/bin/env bash
# make demo: start the sandbox, show what it serves through eksbg itself,
# and stop it, leaving nothing running. Each act prints what it promises and
# the script exits non-zero if an act does not do it.
set -euo pipefail
eksbg=${1:-bin/eksbg}
work=$(mktemp -d)
addr=127.0.0.1:${EKSBG_DEMO_PORT:-4566}
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -INT "$pid"; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

t0=$(date +%s.%N)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
took() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "   (%.1fs)\n", b - a }'; }

step "Starting the sandbox's AWS endpoint on $addr (demo scenario)"
s=$(date +%s.%N)
"$eksbg" sandbox serve --addr "$addr" --state "$work/world.json" --fresh >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://$addr/_sandbox/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log"; echo "demo: the sandbox did not start"; exit 1; }
  sleep 0.1
done
curl -fsS "http://$addr/_sandbox/health" >/dev/null || { cat "$work/serve.log"; echo "demo: the sandbox does not answer"; exit 1; }
sed -n '1,9p' "$work/serve.log"
took "$s"

step "What the sandbox serves, read by eksbg through the AWS APIs (eksbg sandbox status)"
s=$(date +%s.%N)
"$eksbg" sandbox status --addr "$addr" | tee "$work/status.txt"
grep -q 'demo-blue' "$work/status.txt" || { echo "demo: demo-blue cluster missing"; exit 1; }
took "$s"

step "The same world through the AWS CLI: the demo ALB rule's weights"
# AWS_ENDPOINT_URL is read by the SDKs and by AWS CLI v2 from 2.13; Debian's
# 2.9 needs --endpoint-url.
export AWS_ENDPOINT_URL="http://$addr" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIASANDBOX000000000 \
  AWS_SECRET_ACCESS_KEY=sandbox-secret-access-key AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
awsbin=/usr/bin/aws; [ -x "$awsbin" ] || awsbin=aws
aws() { "$awsbin" --endpoint-url "http://$addr" "$@"; }
lb=$(aws elbv2 describe-load-balancers --names demo-alb --query 'LoadBalancers[0].LoadBalancerArn' --output text)
listener=$(aws elbv2 describe-listeners --load-balancer-arn "$lb" --query 'Listeners[0].ListenerArn' --output text)
aws elbv2 describe-rules --listener-arn "$listener" \
  --query "Rules[?Priority=='10'].Actions[0].ForwardConfig.TargetGroups[].[TargetGroupArn,Weight]" --output text | tee "$work/rules.txt"
grep -q 'targetgroup/demo-blue-web/.*100' "$work/rules.txt" || { echo "demo: the web rule does not send 100% to blue"; exit 1; }

step "Stopping the sandbox"
kill -INT "$pid"; wait "$pid" || true
if kill -0 "$pid" 2>/dev/null; then echo "demo: the sandbox is still running"; exit 1; fi
pid=""
if curl -fsS "http://$addr/_sandbox/health" >/dev/null 2>&1; then echo "demo: something still answers on $addr"; exit 1; fi
echo "   nothing left running"
awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "\nDemo finished in %.1fs.\n", b - a }'
