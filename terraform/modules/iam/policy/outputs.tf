output "json" {
  description = "The policy document, as JSON."
  value       = jsonencode({ Version = "2012-10-17", Statement = local.statements })

  precondition {
    condition     = length(local.elb_writes) == 0 || length(local.elb_resources) > 0
    error_message = "eksbg changes load balancer resources (${join(", ", local.elb_writes)}): set listener_rule_arns, listener_arns or target_group_arns."
  }
}

output "actions" {
  description = "Every action the policy allows, sorted."
  value       = sort(local.actions)
}
