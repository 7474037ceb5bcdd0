variable "cidr_block" {
  description = "Primary IPv4 CIDR of the VPC, e.g. 10.0.0.0/16. Node, load balancer and control plane subnets are carved out of it in that order."
  type        = string

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) >= 16 && tonumber(split("/", var.cidr_block)[1]) <= 24
    error_message = "cidr_block must be an IPv4 CIDR between /16 (the largest VPC block AWS allows) and /24."
  }
}

variable "availability_zones" {
  description = "Availability zones to spread the subnets over, one subnet of each role per zone. EKS needs at least two."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 8 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must list 2 to 8 distinct zones: the EKS control plane needs subnets in at least two."
  }
}

variable "max_nodes_per_color" {
  description = "Most worker nodes one color (cluster) can reach: the sum of max size over its node groups. The node subnets hold blue and green at this size at once."
  type        = number

  validation {
    condition     = var.max_nodes_per_color >= 1 && floor(var.max_nodes_per_color) == var.max_nodes_per_color
    error_message = "max_nodes_per_color must be a whole number of at least 1."
  }
}

variable "addresses_per_node" {
  description = "Subnet addresses one node holds at most. With the VPC CNI in secondary-IP mode and WARM_ENI_TARGET=1 that is ENIs x IPv4 addresses per ENI of the instance type (m5.large: 3 x 10 = 30); see docs/terraform.md for prefix delegation. With custom_networking these addresses are in the pod subnets and a node holds one address in its node subnet."
  type        = number
  default     = 30

  validation {
    condition     = var.addresses_per_node >= 1 && var.addresses_per_node <= 1000 && floor(var.addresses_per_node) == var.addresses_per_node
    error_message = "addresses_per_node must be a whole number from 1 to 1000."
  }
}

variable "node_subnet_prefix_length" {
  description = "Prefix length of the node subnets. null (the default) computes the smallest one that holds blue and green at their maximum at once."
  type        = number
  default     = null

  validation {
    condition     = var.node_subnet_prefix_length == null ? true : var.node_subnet_prefix_length >= 16 && var.node_subnet_prefix_length <= 28
    error_message = "node_subnet_prefix_length must be null or from 16 to 28."
  }
}

variable "control_plane_subnet_prefix_length" {
  description = "Prefix length of the dedicated subnets for the EKS control plane's network interfaces. EKS asks for at least /28; blue and green each put up to one interface per subnet, a few more during control plane updates."
  type        = number
  default     = 28

  validation {
    condition     = var.control_plane_subnet_prefix_length >= 20 && var.control_plane_subnet_prefix_length <= 28
    error_message = "control_plane_subnet_prefix_length must be from 20 to 28 (EKS needs at least a /28)."
  }
}

variable "load_balancer_subnet_prefix_length" {
  description = "Prefix length of the load balancer subnets. An ALB needs at least a /27 with 8 free addresses per subnet."
  type        = number
  default     = 24

  validation {
    condition     = var.load_balancer_subnet_prefix_length >= 16 && var.load_balancer_subnet_prefix_length <= 27
    error_message = "load_balancer_subnet_prefix_length must be from 16 to 27 (an ALB needs at least a /27)."
  }
}

variable "custom_networking" {
  description = "Give pods their own subnets in a secondary CIDR (VPC CNI custom networking)."
  type        = bool
  default     = false
}

variable "pod_cidr_block" {
  description = "Secondary CIDR for the pod subnets when custom_networking is on, split evenly over the availability zones."
  type        = string
  default     = "100.64.0.0/16"

  validation {
    condition     = can(cidrhost(var.pod_cidr_block, 0))
    error_message = "pod_cidr_block must be an IPv4 CIDR."
  }
}
