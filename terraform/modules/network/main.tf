# A VPC for blue/green EKS: node subnets sized for both colors at their
# maximum, small control plane subnets, load balancer subnets and, with
# custom networking, pod subnets in a secondary CIDR. See docs/terraform.md.

module "layout" {
  source = "./layout"

  cidr_block                         = var.cidr_block
  availability_zones                 = var.availability_zones
  max_nodes_per_color                = var.max_nodes_per_color
  addresses_per_node                 = var.addresses_per_node
  node_subnet_prefix_length          = var.node_subnet_prefix_length
  control_plane_subnet_prefix_length = var.control_plane_subnet_prefix_length
  load_balancer_subnet_prefix_length = var.load_balancer_subnet_prefix_length
  custom_networking                  = var.custom_networking
  pod_cidr_block                     = var.pod_cidr_block
}

locals {
  # Both colors' clusters may use these subnets. The AWS Load Balancer
  # Controller skips subnets tagged for other clusters only, so each
  # cluster must be named.
  # https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/subnet_discovery/
  cluster_tags = { for c in var.cluster_names : "kubernetes.io/cluster/${c}" => "shared" }

  # The tag the load balancer controller and EKS look for to place load
  # balancers. Node subnets get neither role tag: load balancers there
  # would take addresses the nodes of both colors need.
  # https://docs.aws.amazon.com/eks/latest/userguide/network-load-balancing.html
  load_balancer_role_tag = var.public_load_balancers ? { "kubernetes.io/role/elb" = "1" } : { "kubernetes.io/role/internal-elb" = "1" }

  nat_azs = var.nat_gateways == "none" ? [] : var.nat_gateways == "single" ? [var.availability_zones[0]] : var.availability_zones
}

data "aws_caller_identity" "current" {}

resource "aws_vpc" "this" {
  cidr_block = var.cidr_block
  # EKS needs both for private endpoint access and node registration.
  # https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_vpc_ipv4_cidr_block_association" "pods" {
  count = var.custom_networking ? 1 : 0

  vpc_id     = aws_vpc.this.id
  cidr_block = var.pod_cidr_block
}

resource "aws_subnet" "nodes" {
  for_each = module.layout.node_subnet_cidrs

  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = each.value

  tags = merge(var.tags, local.cluster_tags, {
    Name            = "${var.name}-nodes-${each.key}"
    "eksbg.io/role" = "nodes"
  })
}

resource "aws_subnet" "control_plane" {
  for_each = module.layout.control_plane_subnet_cidrs

  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = each.value

  tags = merge(var.tags, {
    Name            = "${var.name}-control-plane-${each.key}"
    "eksbg.io/role" = "control-plane"
  })
}

resource "aws_subnet" "load_balancers" {
  for_each = module.layout.load_balancer_subnet_cidrs

  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = each.value

  tags = merge(var.tags, local.cluster_tags, local.load_balancer_role_tag, {
    Name            = "${var.name}-load-balancers-${each.key}"
    "eksbg.io/role" = "load-balancers"
  })
}

resource "aws_subnet" "pods" {
  for_each = module.layout.pod_subnet_cidrs

  # The secondary CIDR must be associated before subnets can use it.
  vpc_id            = aws_vpc_ipv4_cidr_block_association.pods[0].vpc_id
  availability_zone = each.key
  cidr_block        = each.value

  tags = merge(var.tags, {
    Name            = "${var.name}-pods-${each.key}"
    "eksbg.io/role" = "pods"
  })
}

resource "aws_internet_gateway" "this" {
  count = var.public_load_balancers ? 1 : 0

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = var.name })
}

resource "aws_route_table" "public" {
  count = var.public_load_balancers ? 1 : 0

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_internet" {
  count = var.public_load_balancers ? 1 : 0

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this[0].id
}

resource "aws_route_table_association" "load_balancers" {
  for_each = var.public_load_balancers ? aws_subnet.load_balancers : {}

  subnet_id      = each.value.id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_eip" "nat" {
  for_each = toset(local.nat_azs)

  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.name}-nat-${each.key}" })
}

resource "aws_nat_gateway" "this" {
  for_each = toset(local.nat_azs)

  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.load_balancers[each.key].id
  tags          = merge(var.tags, { Name = "${var.name}-${each.key}" })

  depends_on = [aws_internet_gateway.this]

  lifecycle {
    precondition {
      condition     = var.public_load_balancers
      error_message = "NAT gateways live in the public load balancer subnets: set nat_gateways = \"none\" when public_load_balancers is false."
    }
  }
}

# One private route table per zone: nodes, control plane and pods of a zone
# leave through that zone's NAT gateway (or the single one).
resource "aws_route_table" "private" {
  for_each = toset(var.availability_zones)

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-private-${each.key}" })
}

resource "aws_route" "private_nat" {
  for_each = var.nat_gateways == "none" ? toset([]) : toset(var.availability_zones)

  route_table_id         = aws_route_table.private[each.key].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.nat_gateways == "single" ? var.availability_zones[0] : each.key].id
}

resource "aws_route_table_association" "nodes" {
  for_each = aws_subnet.nodes

  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}

resource "aws_route_table_association" "control_plane" {
  for_each = aws_subnet.control_plane

  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}

resource "aws_route_table_association" "pods" {
  for_each = aws_subnet.pods

  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}

resource "aws_route_table_association" "private_load_balancers" {
  for_each = var.public_load_balancers ? {} : aws_subnet.load_balancers

  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}
