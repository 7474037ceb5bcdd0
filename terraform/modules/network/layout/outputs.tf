output "node_subnet_cidrs" {
  description = "Node subnet CIDR by availability zone."
  value       = local.cidrs_for.nodes

  precondition {
    condition     = length(local.node_prefix_candidates) > 0 || var.node_subnet_prefix_length != null
    error_message = "No subnet of a /16 holds ${local.node_addresses_needed} addresses per zone: lower max_nodes_per_color or addresses_per_node, add availability zones, or turn on custom_networking."
  }
  precondition {
    condition     = local.fits
    error_message = "The subnets do not fit in ${var.cidr_block}: per zone a /${local.node_prefix} for nodes, a /${var.load_balancer_subnet_prefix_length} for load balancers and a /${var.control_plane_subnet_prefix_length} for the control plane. Use a larger cidr_block or smaller subnets."
  }
  precondition {
    condition     = pow(2, 32 - local.node_prefix) >= local.node_addresses_needed
    error_message = "A /${local.node_prefix} node subnet holds ${pow(2, 32 - local.node_prefix) - 5} addresses, but blue and green at their maximum need ${local.node_addresses_needed - 5} per zone."
  }
}

output "load_balancer_subnet_cidrs" {
  description = "Load balancer subnet CIDR by availability zone."
  value       = local.cidrs_for.load_balancers
}

output "control_plane_subnet_cidrs" {
  description = "Control plane subnet CIDR by availability zone."
  value       = local.cidrs_for.control_plane
}

output "pod_subnet_cidrs" {
  description = "Pod subnet CIDR by availability zone; empty without custom_networking."
  value       = local.pod_cidrs

  precondition {
    condition     = !var.custom_networking || pow(2, 32 - local.pod_prefix) >= local.pod_addresses_needed
    error_message = "A /${local.pod_prefix} pod subnet holds ${pow(2, 32 - local.pod_prefix) - 5} addresses, but blue and green at their maximum need ${local.pod_addresses_needed - 5} per zone: use a larger pod_cidr_block."
  }
}

output "node_subnet_prefix_length" {
  description = "Prefix length of the node subnets."
  value       = local.node_prefix
}

output "node_addresses_needed" {
  description = "Addresses a node subnet must hold for blue and green at their maximum at once, AWS's 5 reserved addresses included."
  value       = local.node_addresses_needed
}
