# The address plan of the network module, with no provider so that it can
# be evaluated (and tested) anywhere. Sizing is explained in
# docs/terraform.md.

locals {
  az_count   = length(var.availability_zones)
  vpc_prefix = tonumber(split("/", var.cidr_block)[1])

  # Node groups spread their nodes evenly over the zones; a zone gets the
  # rounded-up share.
  nodes_per_az = ceil(var.max_nodes_per_color / local.az_count)

  # With custom networking a node keeps only its primary address in the
  # node subnet; every pod address is in the zone's pod subnet.
  node_subnet_addresses_per_node = var.custom_networking ? 1 : var.addresses_per_node

  # Blue and green at their maximum at once, plus the 5 addresses AWS
  # reserves in every subnet.
  node_addresses_needed = 2 * local.nodes_per_az * local.node_subnet_addresses_per_node + 5
  pod_addresses_needed  = 2 * local.nodes_per_az * var.addresses_per_node + 5

  # The longest prefix (smallest subnet) that holds them. pow is exact on
  # whole numbers, where log(n, 2) is not.
  node_prefix_candidates = [for p in range(16, 29) : p if pow(2, 32 - p) >= local.node_addresses_needed]
  node_prefix            = coalesce(var.node_subnet_prefix_length, max(concat([16], local.node_prefix_candidates)...))

  # One request per subnet: its newbits within the VPC CIDR.
  newbits = {
    nodes          = local.node_prefix - local.vpc_prefix
    load_balancers = var.load_balancer_subnet_prefix_length - local.vpc_prefix
    control_plane  = var.control_plane_subnet_prefix_length - local.vpc_prefix
  }
  requests = flatten([
    for role, bits in local.newbits : [
      for i, az in var.availability_zones : { key = "${role}/${az}", bits = bits, order = format("%02d/%s/%02d", bits, role, i) }
    ]
  ])
  # Largest subnets first: blocks whose sizes are powers of two, laid out
  # in decreasing size, pack without alignment gaps, so they fit exactly
  # when their sizes add up to no more than the VPC's.
  by_order  = { for r in local.requests : r.order => r }
  ordered   = [for o in sort(keys(local.by_order)) : local.by_order[o]]
  fits      = alltrue([for r in local.requests : r.bits >= 0]) && sum([for r in local.requests : pow(2, 32 - local.vpc_prefix - r.bits)]) <= pow(2, 32 - local.vpc_prefix)
  cidrs     = local.fits ? zipmap([for r in local.ordered : r.key], cidrsubnets(var.cidr_block, [for r in local.ordered : r.bits]...)) : {}
  cidrs_for = { for role in keys(local.newbits) : role => local.fits ? { for az in var.availability_zones : az => local.cidrs["${role}/${az}"] } : {} }

  # The pod CIDR is cut into equal parts, one per zone.
  pod_newbits = [for b in range(0, 4) : b if pow(2, b) >= local.az_count][0]
  pod_prefix  = tonumber(split("/", var.pod_cidr_block)[1]) + local.pod_newbits
  pod_cidrs   = var.custom_networking ? { for i, az in var.availability_zones : az => cidrsubnet(var.pod_cidr_block, local.pod_newbits, i) } : {}
}
