# A network stack without providers: its outputs have the shapes eksbg
# accepts (list, map of AZ to ID, objects with an id, a single ID), with the
# IDs of the sandbox's demo scenario (internal/sandbox/scenarios/demo.yaml).
# One workspace per environment; "default" is left unapplied.

locals {
  networks = {
    staging = {
      account_id = "111122223333"
      vpc_id     = "vpc-0de00000000000001"
      nodes      = ["subnet-0de00000000000a01", "subnet-0de00000000000b01", "subnet-0de00000000000c01"]
      control_plane = {
        "us-east-1b" = "subnet-0de00000000000b02"
        "us-east-1a" = "subnet-0de00000000000a02"
        "us-east-1c" = "subnet-0de00000000000c02"
      }
      load_balancers = [
        { id = "subnet-0de00000000000a03", cidr_block = "10.20.250.0/24" },
        { id = "subnet-0de00000000000b03", cidr_block = "10.20.251.0/24" },
      ]
      pods = "subnet-0de00000000000c03"
    }
    prod = {
      account_id     = "444455556666"
      vpc_id         = "vpc-0de00000000000001"
      nodes          = ["subnet-0de00000000000a01"]
      control_plane  = ["subnet-0de00000000000a02", "subnet-0de00000000000b02"]
      load_balancers = ["subnet-0de00000000000a03"]
      pods           = "subnet-0de00000000000c03"
    }
  }
}

resource "terraform_data" "network" {
  input = local.networks[terraform.workspace]
}

output "account_id" {
  value = terraform_data.network.output.account_id
}

output "vpc_id" {
  value = terraform_data.network.output.vpc_id
}

output "private_subnet_ids" {
  value = terraform_data.network.output.nodes
}

output "control_plane_subnet_ids" {
  value = terraform_data.network.output.control_plane
}

output "public_subnet_ids" {
  value = terraform_data.network.output.load_balancers
}

output "pod_subnet_ids" {
  value     = terraform_data.network.output.pods
  sensitive = true
}
