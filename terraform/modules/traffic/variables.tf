variable "name" {
  description = "Name of the load balancer (at most 32 characters) and prefix of its target groups' names."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$", var.name))
    error_message = "name must be 1-32 letters, digits and hyphens, not starting or ending with a hyphen (an ALB name)."
  }
}

variable "vpc_id" {
  description = "VPC of the load balancer and target groups (the network module's vpc_id)."
  type        = string
}

variable "target_cidr_blocks" {
  description = "CIDRs the load balancer may reach targets in: the VPC's CIDR blocks, secondary ones included (the network module's vpc_cidr_blocks)."
  type        = list(string)

  validation {
    condition     = length(var.target_cidr_blocks) > 0
    error_message = "target_cidr_blocks must list at least the VPC's CIDR."
  }
}

variable "subnet_ids" {
  description = "Subnets of the load balancer, in at least two availability zones (the network module's public_subnet_ids)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "An ALB needs subnets in at least two availability zones."
  }
}

variable "internal" {
  description = "Make the load balancer internal rather than internet-facing."
  type        = bool
  default     = false
}

variable "ingress_cidr_blocks" {
  description = "IPv4 CIDRs allowed to reach the listeners."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "certificate_arn" {
  description = "ACM certificate for an HTTPS listener on 443, with HTTP on 80 redirecting to it. null: a single HTTP listener on 80 carries the rules."
  type        = string
  default     = null
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "hosts" {
  description = <<-EOT
    One listener rule per entry, forwarding the requests for its host names to a
    blue and a green target group (type ip, for the AWS Load Balancer
    Controller's TargetGroupBinding in each cluster). The key names the target
    groups: <name>-<key>-blue and <name>-<key>-green (at most 32 characters).
    port and protocol are the pods'; priority must be unique.
  EOT
  type = map(object({
    host_headers      = list(string)
    priority          = number
    port              = optional(number, 80)
    protocol          = optional(string, "HTTP")
    health_check_path = optional(string, "/")
  }))

  validation {
    condition     = length(var.hosts) > 0 && length(distinct([for h in values(var.hosts) : h.priority])) == length(var.hosts)
    error_message = "hosts must have at least one entry, each with its own priority."
  }
  validation {
    condition     = alltrue([for k in keys(var.hosts) : can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", k))])
    error_message = "hosts keys must be lower-case letters, digits and hyphens: they become part of target group names."
  }
}

variable "initial_color" {
  description = "Color that takes all the traffic when a rule is created. eksbg moves the weights afterwards; Terraform never touches them again."
  type        = string
  default     = "blue"

  validation {
    condition     = contains(["blue", "green"], var.initial_color)
    error_message = "initial_color must be blue or green."
  }
}

variable "deregistration_delay" {
  description = "Seconds a target group keeps sending in-flight requests to a target being deregistered (AWS's default is 300). eksbg's preflight checks that pods behind these target groups get at least this long to drain (terminationGracePeriodSeconds and preStop)."
  type        = number
  default     = 60

  validation {
    condition     = var.deregistration_delay >= 0 && var.deregistration_delay <= 3600
    error_message = "deregistration_delay must be from 0 to 3600 seconds."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
