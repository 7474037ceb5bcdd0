// Package terraform runs the real terraform binary, in terraform-exec's
// manner, against the Terraform stacks that own an
// environment's long-lived infrastructure: it reads the network stack's
// outputs into a typed Network (checked against EC2, not trusted), and plans
// a stack for the drift check.
//
// Terraform's work is per stack: each stack directory gets one TF_DATA_DIR,
// initialised once (providers from a plugin cache) and listed once; each
// workspace's commands choose it with TF_WORKSPACE and run with their own
// environment, so two environments sharing one stack through workspaces
// are read and planned at the same time without one switching the
// other's workspace or credentials. A plan is one terraform process. See
// docs/terraform.md.
//
// The HCL modules eksbg expects (network, traffic, iam) live under
// terraform/modules.
package terraform

//go:generate go run ./internal/iamgen -out modules/iam/policy/actions.json
