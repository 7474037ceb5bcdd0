variable "name" {
  description = "Name of the network: the prefix of every Name tag."
  type        = string
}

variable "cidr_block" {
  description = "Primary IPv4 CIDR of the VPC. Node, load balancer and control plane subnets are carved out of it."
  type        = string
  default     = "10.0.0.0/16"
}

variable "availability_zones" {
  description = "Availability zones to use, one subnet of each role in each. EKS needs at least two."
  type        = list(string)
}

variable "cluster_names" {
  description = "Names of the EKS clusters that use this network, normally the environment's blue and green clusters (e.g. [\"prod-blue\", \"prod-green\"]). Each gets a kubernetes.io/cluster/<name> = shared tag on the node and load balancer subnets."
  type        = list(string)
  default     = []
}

variable "max_nodes_per_color" {
  description = "Most worker nodes one color can reach (the sum of its node groups' max size). The node subnets are sized to hold blue and green at this size at once."
  type        = number
}

variable "addresses_per_node" {
  description = "Subnet addresses one node holds at most: ENIs x IPv4 addresses per ENI of the instance type in the VPC CNI's secondary-IP mode with WARM_ENI_TARGET=1 (m5.large: 3 x 10 = 30). See docs/terraform.md."
  type        = number
  default     = 30
}

variable "node_subnet_prefix_length" {
  description = "Prefix length of the node subnets; null computes it from max_nodes_per_color and addresses_per_node."
  type        = number
  default     = null
}

variable "control_plane_subnet_prefix_length" {
  description = "Prefix length of the dedicated EKS control plane subnets."
  type        = number
  default     = 28
}

variable "load_balancer_subnet_prefix_length" {
  description = "Prefix length of the load balancer subnets (at least /27 for an ALB)."
  type        = number
  default     = 24
}

variable "public_load_balancers" {
  description = "Make the load balancer subnets public (routed to an internet gateway, tagged kubernetes.io/role/elb) rather than private (tagged kubernetes.io/role/internal-elb). NAT gateways need public subnets."
  type        = bool
  default     = true
}

variable "nat_gateways" {
  description = "NAT gateways for the private subnets: \"per_az\" (one per zone, no cross-zone dependency), \"single\" (cheaper) or \"none\" (the VPC has its own egress, or none)."
  type        = string
  default     = "per_az"

  validation {
    condition     = contains(["per_az", "single", "none"], var.nat_gateways)
    error_message = "nat_gateways must be per_az, single or none."
  }
}

variable "custom_networking" {
  description = "Associate pod_cidr_block with the VPC and create pod subnets in it, for VPC CNI custom networking (ENIConfig per zone)."
  type        = bool
  default     = false
}

variable "pod_cidr_block" {
  description = "Secondary CIDR of the pod subnets when custom_networking is on."
  type        = string
  default     = "100.64.0.0/16"
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
