# The output names are the ones docs/config.md uses for
# network.terraform.outputs in eksbg.yaml.

output "vpc_id" {
  description = "ID of the VPC (network.terraform.outputs.vpcId)."
  value       = aws_vpc.this.id
}

output "account_id" {
  description = "AWS account of the VPC. eksbg checks it against the environment's aws.accountId."
  value       = data.aws_caller_identity.current.account_id
}

output "private_subnet_ids" {
  description = "Node subnet IDs in availability zone order (network.terraform.outputs.subnetIds.nodes)."
  value       = [for az in var.availability_zones : aws_subnet.nodes[az].id]
}

output "control_plane_subnet_ids" {
  description = "Control plane subnet IDs in availability zone order (subnetIds.controlPlane)."
  value       = [for az in var.availability_zones : aws_subnet.control_plane[az].id]
}

output "pod_subnet_ids" {
  description = "Pod subnet IDs in availability zone order (subnetIds.pods); empty without custom_networking."
  value       = [for az in var.availability_zones : aws_subnet.pods[az].id if var.custom_networking]
}

output "pod_subnet_ids_by_az" {
  description = "Pod subnet ID by availability zone, for one ENIConfig per zone; empty without custom_networking."
  value       = { for az, s in aws_subnet.pods : az => s.id }
}

output "public_subnet_ids" {
  description = "Load balancer subnet IDs in availability zone order (subnetIds.loadBalancers); public unless public_load_balancers is false."
  value       = [for az in var.availability_zones : aws_subnet.load_balancers[az].id]
}

output "vpc_cidr_blocks" {
  description = "The VPC's CIDR blocks: the primary one, then the pod CIDR with custom_networking."
  value       = concat([aws_vpc.this.cidr_block], [for a in aws_vpc_ipv4_cidr_block_association.pods : a.cidr_block])
}

output "node_subnet_prefix_length" {
  description = "Prefix length the node subnets got."
  value       = module.layout.node_subnet_prefix_length
}

output "nat_public_ips" {
  description = "Public addresses of the NAT gateways, for allow lists."
  value       = [for e in aws_eip.nat : e.public_ip]
}
