variable "name" {
  description = "Name of the IAM policy."
  type        = string
  default     = "eksbg"
}

variable "region" {
  description = "Region of the environment's clusters."
  type        = string
}

variable "cluster_names" {
  description = "Names (IAM wildcards allowed) of the clusters eksbg may change, e.g. [\"prod-blue\", \"prod-green\"]."
  type        = list(string)
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

variable "role_names" {
  description = "Existing IAM roles to attach the policy to: the role eksbg runs as (aws.roleArn in eksbg.yaml), for example."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags of the policy."
  type        = map(string)
  default     = {}
}
