# The IAM policy eksbg needs, least privilege, generated from the AWS API
# calls eksbg makes (policy/actions.json). eksctl, which creates and
# deletes the clusters for eksbg, needs its own permissions:
# https://eksctl.io/usage/minimum-iam-policies/

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

module "policy" {
  source = "./policy"

  partition          = data.aws_partition.current.partition
  region             = var.region
  account_id         = data.aws_caller_identity.current.account_id
  cluster_names      = var.cluster_names
  listener_rule_arns = var.listener_rule_arns
  listener_arns      = var.listener_arns
  target_group_arns  = var.target_group_arns
}

resource "aws_iam_policy" "eksbg" {
  name        = var.name
  description = "What eksbg calls to upgrade the EKS clusters ${join(", ", var.cluster_names)} blue/green."
  policy      = module.policy.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "eksbg" {
  for_each = toset(var.role_names)

  role       = each.value
  policy_arn = aws_iam_policy.eksbg.arn
}
