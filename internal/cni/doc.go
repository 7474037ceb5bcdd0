// Package cni models how the Amazon VPC CNI plugin (aws-node / ipamd)
// allocates ENIs, secondary IPv4 addresses and /28 prefixes on one node,
// and therefore how many subnet addresses each node of a nodegroup holds.
//
// It is shared by the sandbox's AWS emulator, which creates the ENIs and
// secondary IPs / prefixes that the VPC CNI would have allocated, and by the
// capacity report, which predicts subnet-IP demand before a blue/green
// upgrade doubles the nodes.
//
// The model is deliberately a steady-state one: given the number of pods on a
// node it returns what ipamd converges to once its warm-pool targets are
// met, not the transient states in between. Per node, with L = IPv4 addresses
// per ENI, S = L-1, E = usable ENIs, MP = max pods and N = pods that are
// neither host-network nor on branch ENIs:
//
//   - secondary-IP mode with WARM_ENI_TARGET = W (default 1):
//     k = min(E, max(1, ceil(N/S)+W), ceil(MP/S)) ENIs; k*L subnet IPs.
//   - WARM_IP_TARGET = w and/or MINIMUM_IP_TARGET = m (override W):
//     T = min(max(N+w, m), E*S); k = max(1, ceil(T/S)); T+k subnet IPs.
//   - prefix delegation with WARM_PREFIX_TARGET = p:
//     P = min(ceil(N/16)+p, ceil(MP/16)), or with w or m set
//     P = max(ceil((N+w)/16), ceil(m/16)); k = max(1, ceil(P/S));
//     16*P+k subnet IPs, and the subnet must hold P free /28-aligned blocks.
//   - max pods: E*S+2; with prefix delegation min(E*S*16+2, 110), or 250
//     above 30 vCPUs; a nodegroup's maxPodsPerNode overrides both.
//   - custom networking: the node subnet holds only the primary ENI's primary
//     IP; all pod ENIs live in the AZ's ENIConfig subnet.
//   - security groups for pods: one trunk ENI (one ENI slot, one IP) plus one
//     branch ENI (one IP) per branch pod.
//
// Sources:
//   - https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/eni-and-ip-target.md
//   - https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/prefix-and-ip-target.md
//   - https://github.com/aws/amazon-vpc-cni-k8s/blob/master/README.md (environment variables)
//   - https://github.com/aws/amazon-vpc-cni-k8s/blob/master/misc/eni-max-pods.txt
//   - https://github.com/awslabs/amazon-eks-ami/blob/main/templates/al2/runtime/max-pods-calculator.sh
//   - https://docs.aws.amazon.com/eks/latest/userguide/cni-custom-network.html
//   - https://docs.aws.amazon.com/eks/latest/userguide/security-groups-for-pods.html
//
// Only IPv4 is modelled.
package cni
