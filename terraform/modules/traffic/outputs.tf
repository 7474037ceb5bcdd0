output "load_balancer_arn" {
  description = "ARN of the ALB."
  value       = aws_lb.this.arn
}

output "dns_name" {
  description = "DNS name of the ALB, for the hosts' DNS records."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "Route 53 hosted zone of the ALB, for alias records."
  value       = aws_lb.this.zone_id
}

output "security_group_id" {
  description = "Security group of the ALB: allow it in the nodes' (or pods') security group on the target ports."
  value       = aws_security_group.alb.id
}

output "listener_arn" {
  description = "ARN of the listener that holds the host rules."
  value       = local.rules_listener_arn
}

output "target_group_arns" {
  description = "Target group ARN by host key and color, for the TargetGroupBinding in each cluster."
  value       = { for h in keys(var.hosts) : h => { for c in local.colors : c => aws_lb_target_group.this["${h}-${c}"].arn } }
}

output "listener_rules" {
  description = "The rules in the shape of eksbg.yaml's traffic.listenerRules: yamlencode it into the environment."
  value = [
    for h in sort(keys(var.hosts)) : {
      arn = aws_lb_listener_rule.host[h].arn
      targetGroups = {
        blue  = aws_lb_target_group.this["${h}-blue"].arn
        green = aws_lb_target_group.this["${h}-green"].arn
      }
    }
  ]
}
