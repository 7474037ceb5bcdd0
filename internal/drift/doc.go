// Package drift is eksbg's nightly drift check (`eksbg drift`): for each
// environment of eksbg.yaml it compares what runs with what should run and
// reports every difference as a Finding a CI job can act on.
//
// The checks, one Kind each:
//
//   - terraform: `terraform plan -detailed-exitcode` of the network stack's
//     workspace (package terraform); every resource or output it would change.
//   - cluster: the live cluster against the environment's eksctl config:
//     Kubernetes version, endpoint access, logging, tags; each managed node
//     group's instance types, capacity type, sizes, labels, taints and AMI
//     family; add-on versions.
//   - traffic: every listener rule sends all traffic to the live color, and
//     the live color's target groups have only healthy targets.
//   - argocd: the Applications on the live cluster are Synced and Healthy,
//     no cluster secret names a cluster that does not exist, and both colors
//     run the same Applications while both exist.
//   - capacity: the capacity model (package capacity) for a future green
//     against today's subnets and quotas.
//   - journal: no upgrade left open, and no upgrade lock held, for more than
//     a day.
//
// Environments are checked concurrently; what several environments share
// (an account and region's cluster list and capacity data, an Argo CD
// management cluster's Applications and secrets, a cluster's
// DescribeCluster) is read once. A check that cannot run is recorded as an
// error of its environment and the other checks and environments still run.
// Suppressions come from an ignore file (ParseIgnore); each one has a reason
// and an expiry date and is listed in the report. The report's JSON form is
// documented in docs/drift.md.
package drift
