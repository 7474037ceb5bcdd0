// Package terraform runs the real terraform binary, through
// hashicorp/terraform-exec, against the Terraform stacks that own an
// environment's long-lived infrastructure: it reads the network stack's
// outputs into a typed Network (checked against EC2, not trusted), and plans
// a stack for the drift check.
//
// Every (stack, workspace) pair gets its own TF_DATA_DIR, because the
// selected workspace is stored in the data directory
// (<data dir>/environment): two environments sharing one stack through
// workspaces can then be read and planned at the same time without one
// switching the other's workspace. See docs/terraform.md.
//
// The HCL modules eksbg expects (network, traffic, iam) live under
// terraform/modules.
package terraform

//go:generate go run ./internal/iamgen -out modules/iam/policy/actions.json
