variable "partition" {
  description = "AWS partition of the ARNs: aws, aws-cn or aws-us-gov."
  type        = string
  default     = "aws"
}

variable "region" {
  description = "Region of the environment's clusters."
  type        = string
}

variable "account_id" {
  description = "Account of the environment's clusters."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "cluster_names" {
  description = "Names (IAM wildcards allowed) of the clusters eksbg may change: the environment's blue and green clusters, e.g. [\"prod-blue\", \"prod-green\"] or [\"prod-*\"]."
  type        = list(string)

  validation {
    condition     = length(var.cluster_names) > 0
    error_message = "cluster_names must name at least one cluster."
  }
}

variable "listener_rule_arns" {
  description = "Listener rules whose forward weights eksbg shifts (the traffic module's listener_rules[*].arn)."
  type        = list(string)
  default     = []
}

variable "listener_arns" {
  description = "Listeners eksbg may change."
  type        = list(string)
  default     = []
}

variable "target_group_arns" {
  description = "Target groups eksbg may register targets in or deregister them from."
  type        = list(string)
  default     = []
}
