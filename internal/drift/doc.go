// Package drift is eksbg's nightly drift check (`eksbg drift`): for each
// environment of eksbg.yaml it compares what runs with what should run and
// reports every difference as a finding (findings.Finding, eksbg's one
// finding type) a CI job can act on.
//
// A drift finding's Check is its Kind and its severity is findings.Fail,
// which a drift report calls "drift" (a difference between what runs and
// what should run), or findings.Warn, "warning" (something to look at that
// is not, or not yet, drift: an upgrade open for more than a day, green
// that would not fit tonight). It always has Environment, Resource,
// Expected, Actual and Fix, and Field when one attribute of the resource
// differs:
//
//   - Resource names what differs: a Terraform address, "cluster/NAME",
//     "nodegroup/CLUSTER/NAME", "addon/CLUSTER/NAME", a listener rule or
//     target group ARN, "application/NAMESPACE/NAME",
//     "secret/NAMESPACE/NAME", "az/ZONE", "subnet/ID",
//     "quota/SERVICE/CODE", "journal/ENV", "lock/ENV" (docs/drift.md lists
//     them);
//   - Field is the attribute of Resource that differs ("version",
//     "maxSize", "labels.team", "weights"); empty when the resource as a
//     whole is missing or extra;
//   - Expected is what eksbg.yaml, the eksctl config, the Terraform
//     configuration or the state backend say; Actual is what runs;
//   - Fix is the command to run or the file to change.
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
