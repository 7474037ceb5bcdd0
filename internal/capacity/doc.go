// Package capacity is eksbg's pre-flight check: before a green cluster is
// created beside the blue one, it computes how many subnet addresses and /28
// prefixes the green cluster will take in each availability zone, reads how
// many the subnets have left, and compares the green cluster's nodes,
// network interfaces and node groups with the account's service quotas.
//
// The per-node figures come from the VPC CNI model in internal/cni; this
// package adds placement (node groups spread evenly over their zones, each
// zone charged the worst case of an even spread), the control plane's
// addresses, the load balancer subnets' reserve, supply from the EC2 API
// (AvailableIpAddressCount, and free /28 blocks counted from every address and
// prefix of every network interface and the subnet CIDR reservations), and
// the quotas from Service Quotas. docs/capacity.md explains the model with a
// worked example and lists its sources.
//
// Check and CheckAll are the entry points: `eksbg capacity` and the first
// phase of `eksbg preflight` and of every upgrade call them. Collection is
// call-minimal and concurrent, under a limit on calls in flight: one
// paginated DescribeSubnets per VPC; after DescribeAvailabilityZones, one
// DescribeNetworkInterfaces and one DescribeInstances scan of the region per
// zone (the ENI pages are both the ENI quota's usage and the addresses that
// decide which /28 blocks are free; the instances are the vCPU quotas'
// usage), read by a streaming projector instead of the SDK's decoder; one
// call per quota.
package capacity
