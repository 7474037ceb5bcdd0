#!/usr/bin/env bash
# make demo: the sandbox up (AWS emulator and a real control plane per EKS
# cluster), eksbg's capacity report and upgrade plan against it, kubectl
# through an EKS token, the AWS CLI, and the sandbox down, leaving nothing
# running. Each act prints what it promises; the script exits non-zero if an
# act does not do it.
set -euo pipefail
eksbg=$(cd "$(dirname "${1:-bin/eksbg}")" && pwd)/$(basename "${1:-bin/eksbg}")
root=$(pwd)
work=$(mktemp -d)
addr=127.0.0.1:${EKSBG_DEMO_PORT:-4566}
state="$work/state/world.json"
ws="$work/sandbox"
cleanup() {
  "$eksbg" sandbox down --state "$state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

t0=$(date +%s.%N)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
took() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "   (%.1fs)\n", b - a }'; }
fail() { echo "demo: $*" >&2; exit 1; }

step "Sandbox up: the AWS emulator on $addr and a real Kubernetes control plane behind each EKS cluster"
s=$(date +%s.%N)
schema="$root/../shared/eksctl/schema.json"
[ -f "$schema" ] || schema=""
"$eksbg" sandbox up --addr "$addr" --state "$state" --workspace "$ws" --fresh ${schema:+--eksctl-schema "$schema"} | tee "$work/up.txt"
grep -q 'Sandbox ready' "$work/up.txt" || fail "the sandbox did not come up"
took "$s"

# What 'source sandbox/env' sets, for the rest of the demo.
# shellcheck disable=SC1091
source "$ws/env"
cd "$ws"

step "What the sandbox serves, read by eksbg through the AWS APIs (eksbg sandbox status)"
eksbg sandbox status --addr "$addr" --state "$state" | tee "$work/status.txt"
grep -q 'control-plane  demo-blue' "$work/status.txt" || fail "no control plane for demo-blue"

step "kubectl against demo-blue, authenticated by an EKS token eksbg signs (eksbg sandbox kubeconfig)"
eksbg sandbox kubeconfig > kubeconfig
kubectl --kubeconfig kubeconfig --context demo-blue get nodes -L topology.kubernetes.io/zone,eks.amazonaws.com/nodegroup | tee "$work/nodes.txt"
[ "$(grep -c ' Ready ' "$work/nodes.txt")" -eq 6 ] || fail "demo-blue does not have 6 Ready nodes"
kubectl --kubeconfig kubeconfig --context demo-blue auth whoami | tee "$work/whoami.txt"
grep -q 'system:masters' "$work/whoami.txt" || fail "the cluster creator is not system:masters"

step "Capacity for a green cluster beside blue (eksbg capacity): us-east-1c is nearly full"
s=$(date +%s.%N)
set +e; eksbg capacity --env demo --to 1.34 | tee "$work/capacity.txt"; rc=${PIPESTATUS[0]}; set -e
[ "$rc" -eq 0 ] || fail "eksbg capacity exited $rc, want 0 (a WARN, not a FAIL)"
grep -q 'us-east-1c.*WARN' "$work/capacity.txt" || fail "no WARN for us-east-1c"
took "$s"

step "An app team ships 'legacy' through Argo CD; its manifests use flowcontrol.apiserver.k8s.io/v1beta3, an API Kubernetes 1.32 removed"
repo=$(kubectl --kubeconfig kubeconfig --context mgmt -n argocd get applications.argoproj.io -o jsonpath='{.items[0].spec.source.repoURL}')
server=$(kubectl --kubeconfig kubeconfig --context demo-blue config view --minify -o jsonpath='{.clusters[0].cluster.server}')
kubectl --kubeconfig kubeconfig --context mgmt apply -f - <<YAML
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: legacy-demo-blue, namespace: argocd}
spec:
  project: default
  source: {repoURL: "$repo", targetRevision: HEAD, path: apps/legacy}
  destination: {server: "$server", namespace: legacy}
YAML
for _ in $(seq 1 60); do
  kubectl --kubeconfig kubeconfig --context mgmt -n argocd get application legacy-demo-blue -o jsonpath='{.status.resources[*].kind}' 2>/dev/null | grep -q FlowSchema && break
  sleep 1
done

step "The upgrade plan for a jump of two minor versions, 1.32 to 1.34 (eksbg plan)"
s=$(date +%s.%N)
set +e; eksbg plan --env demo --to 1.34 | tee "$work/plan.txt"; rc=${PIPESTATUS[0]}; set -e
[ "$rc" -eq 0 ] || fail "eksbg plan exited $rc"
grep -q '^  +  version: "1.34"' "$work/plan.txt" || fail "the plan's diff does not move green to 1.34"
grep -q 'v1beta3 FlowSchema has not been served' "$work/plan.txt" || fail "the plan did not find the removed API in legacy's manifests"
took "$s"

step "The team retires 'legacy' (its FlowSchema never applied anyway) before the upgrade"
kubectl --kubeconfig kubeconfig --context mgmt -n argocd delete application legacy-demo-blue

step "The same world through the AWS CLI: the demo ALB rule sends everything to blue"
awsbin=/usr/bin/aws; [ -x "$awsbin" ] || awsbin=aws
# Debian's AWS CLI v2 (2.9) predates AWS_ENDPOINT_URL: pass it explicitly.
aws() { AWS_PAGER="" AWS_CONFIG_FILE=/dev/null "$awsbin" --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
lb=$(aws elbv2 describe-load-balancers --names demo-alb --query 'LoadBalancers[0].LoadBalancerArn' --output text)
listener=$(aws elbv2 describe-listeners --load-balancer-arn "$lb" --query 'Listeners[0].ListenerArn' --output text)
aws elbv2 describe-rules --listener-arn "$listener" \
  --query "Rules[?Priority=='10'].Actions[0].ForwardConfig.TargetGroups[].[TargetGroupArn,Weight]" --output text | tee "$work/rules.txt"
grep -q 'targetgroup/demo-blue-web/.*100' "$work/rules.txt" || fail "the web rule does not send 100% to blue"

rule=$(aws elbv2 describe-rules --listener-arn "$listener" --query "Rules[?Priority=='10'].RuleArn" --output text)
green_weight() {
  aws elbv2 describe-rules --rule-arns "$rule" \
    --query "Rules[0].Actions[0].ForwardConfig.TargetGroups[?contains(TargetGroupArn, 'demo-green-web')].Weight" --output text
}

step "The upgrade (eksbg upgrade): green's error rate is raised to 20% during the 25% step; the gate fires and traffic goes back to blue"
s=$(date +%s.%N)
set +e
eksbg upgrade --env demo --to 1.34 --gate-interval 3s > "$work/upgrade1.txt" 2>&1 &
up=$!
tail -f "$work/upgrade1.txt" --pid "$up" &
tailer=$!
for _ in $(seq 1 600); do
  [ "$(green_weight 2>/dev/null)" = "25" ] && break
  kill -0 "$up" 2>/dev/null || break
  sleep 0.5
done
curl -fsS -X PUT "http://$addr/_sandbox/traffic" -d '{"clusters":{"demo-green":{"errorRate":0.2}}}' >/dev/null
echo "   >> demo: green now answers 20% of its requests with 5xx"
wait "$up"; rc=$?
wait "$tailer" 2>/dev/null
set -e
[ "$rc" -eq 1 ] || fail "the breached upgrade exited $rc, want 1"
grep -q 'gate breached at 25%' "$work/upgrade1.txt" || fail "no gate breach at 25%"
[ "$(green_weight)" = "0" ] || fail "green still has weight $(green_weight) after the breach"
echo "   every rule is back on blue"
took "$s"

step "Errors fixed; the same command resumes, and --approve tears blue down"
s=$(date +%s.%N)
curl -fsS -X PUT "http://$addr/_sandbox/traffic" -d '{"clusters":{"demo-green":{"errorRate":0}}}' >/dev/null
set +e; eksbg upgrade --env demo --to 1.34 --gate-interval 3s --approve | tee "$work/upgrade2.txt"; rc=${PIPESTATUS[0]}; set -e
[ "$rc" -eq 0 ] || fail "the resumed upgrade exited $rc"
grep -q 'resuming upgrade' "$work/upgrade2.txt" || fail "the upgrade did not resume from its journal"
grep -q ': completed' "$work/upgrade2.txt" || fail "the upgrade did not complete"
[ "$(green_weight)" = "100" ] || fail "green has weight $(green_weight), want 100"
eksbg status --env demo | tee "$work/status2.txt"
grep -q 'demo-green .*1.34 .*ACTIVE .*live' "$work/status2.txt" || fail "demo-green is not live at 1.34"
grep -q 'demo-blue .*absent' "$work/status2.txt" || fail "demo-blue is still there"
# The same from the AWS APIs: the clusters, and nothing of blue left.
[ "$(aws eks list-clusters --query 'clusters' --output text | tr '\t' ' ')" = "demo-green mgmt" ] || fail "clusters: $(aws eks list-clusters --output text)"
[ "$(aws ec2 describe-network-interfaces --filters Name=tag:cluster.k8s.amazonaws.com/name,Values=demo-blue --query 'length(NetworkInterfaces)')" = "0" ] || fail "ENIs of demo-blue are left"
echo "   the AWS APIs agree: demo-green and mgmt are the clusters; no ENI of demo-blue is left"
took "$s"

step "The nightly drift check (eksbg drift): clean after the upgrade"
s=$(date +%s.%N)
set +e; eksbg drift --env demo | tee "$work/drift1.txt"; rc=${PIPESTATUS[0]}; set -e
[ "$rc" -eq 0 ] || fail "eksbg drift exited $rc on a clean environment, want 0"
took "$s"

step "Someone sets the web rule to 50/50 in the console (here: the AWS CLI); drift reports it, exit 2"
s=$(date +%s.%N)
tgs=$(aws elbv2 describe-rules --rule-arns "$rule" --query 'Rules[0].Actions[0].ForwardConfig.TargetGroups[].TargetGroupArn' --output text)
set -- $tgs
aws elbv2 modify-rule --rule-arn "$rule" --actions "Type=forward,ForwardConfig={TargetGroups=[{TargetGroupArn=$1,Weight=50},{TargetGroupArn=$2,Weight=50}]}" >/dev/null
set +e; eksbg drift --env demo | tee "$work/drift2.txt"; rc=${PIPESTATUS[0]}; set -e
[ "$rc" -eq 2 ] || fail "eksbg drift exited $rc with the rule at 50/50, want 2"
grep -qi 'traffic' "$work/drift2.txt" || fail "drift did not report the rule's weights"
took "$s"

step "Sandbox down"
pids=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(str(p) for p in [d["pid"]]+d.get("processes",[])))' "$(dirname "$state")/sandbox.json")
eksbg sandbox down --state "$state"
for p in $pids; do
  if [ -r "/proc/$p/stat" ] && ! grep -q ') Z ' "/proc/$p/stat"; then fail "process $p still runs"; fi
done
if curl -fsS "http://$addr/_sandbox/health" >/dev/null 2>&1; then fail "something still answers on $addr"; fi
echo "   nothing left running"
awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "\nDemo finished in %.1fs.\n", b - a }'
