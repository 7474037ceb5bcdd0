output "policy_arn" {
  description = "ARN of the policy."
  value       = aws_iam_policy.eksbg.arn
}

output "policy_json" {
  description = "The policy document."
  value       = module.policy.json
}

output "actions" {
  description = "Every action the policy allows."
  value       = module.policy.actions
}
