# eksbg's least-privilege policy, as JSON, with no provider: the iam
# module creates it, and tests evaluate it anywhere.
#
# actions.json lists every AWS API call eksbg's code makes. It is generated
# (go generate ./terraform) and a test fails when it and the code differ.
# Reads (Describe*, List*, Get*) mostly cannot be narrowed to resources and
# get "*"; every other action is narrowed to the environment's clusters
# and load balancer resources.
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerserviceforkubernetes.html
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html

locals {
  actions = jsondecode(file("${path.module}/actions.json"))

  read_verbs = ["Describe", "List", "Get"]
  reads      = [for a in local.actions : a if anytrue([for v in local.read_verbs : startswith(split(":", a)[1], v)])]
  writes     = setsubtract(local.actions, local.reads)

  eks_writes   = sort([for a in local.writes : a if startswith(a, "eks:")])
  elb_writes   = sort([for a in local.writes : a if startswith(a, "elasticloadbalancing:")])
  other_writes = sort([for a in local.writes : a if !startswith(a, "eks:") && !startswith(a, "elasticloadbalancing:")])

  eks_arn_prefix = "arn:${var.partition}:eks:${var.region}:${var.account_id}"
  eks_resources = flatten([
    for c in var.cluster_names : [
      "${local.eks_arn_prefix}:cluster/${c}",
      "${local.eks_arn_prefix}:nodegroup/${c}/*/*",
      "${local.eks_arn_prefix}:addon/${c}/*/*",
    ]
  ])
  elb_resources = concat(var.listener_rule_arns, var.listener_arns, var.target_group_arns)

  statements = [
    for s in [
      { Sid = "Read", Action = sort(local.reads), Resource = ["*"] },
      { Sid = "Clusters", Action = local.eks_writes, Resource = local.eks_resources },
      { Sid = "Traffic", Action = local.elb_writes, Resource = local.elb_resources },
      { Sid = "Other", Action = local.other_writes, Resource = ["*"] },
    ] : merge(s, { Effect = "Allow" }) if length(s.Action) > 0
  ]
}
