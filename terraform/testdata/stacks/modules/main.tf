# The three modules wired as a team would, planned with the real AWS
# provider against the sandbox's emulator. The tests copy the modules next
# to this file.

variable "endpoint" {
  description = "URL of the sandbox's AWS API emulator."
  type        = string
}

provider "aws" {
  region                  = "us-east-1"
  access_key              = "AKIASANDBOX000000000"
  secret_key              = "sandbox-secret-access-key"
  skip_metadata_api_check = true
  skip_region_validation  = true

  endpoints {
    ec2                  = var.endpoint
    elasticloadbalancing = var.endpoint
    elbv2                = var.endpoint
    iam                  = var.endpoint
    sts                  = var.endpoint
  }
}

module "network" {
  source = "./network"

  name                = "demo"
  cidr_block          = "10.20.0.0/16"
  availability_zones  = ["us-east-1a", "us-east-1b", "us-east-1c"]
  cluster_names       = ["demo-blue", "demo-green"]
  max_nodes_per_color = 30
  addresses_per_node  = 30
  custom_networking   = true
}

module "traffic" {
  source = "./traffic"

  name       = "demo"
  vpc_id             = module.network.vpc_id
  target_cidr_blocks = module.network.vpc_cidr_blocks
  subnet_ids         = module.network.public_subnet_ids
  hosts = {
    web = { host_headers = ["web.example.com"], priority = 10, port = 8080, health_check_path = "/healthz" }
    api = { host_headers = ["api.example.com"], priority = 20 }
  }
  deregistration_delay = 45
}

module "iam" {
  source = "./iam"

  region             = "us-east-1"
  cluster_names      = ["demo-blue", "demo-green"]
  listener_rule_arns = ["arn:aws:elasticloadbalancing:us-east-1:111122223333:listener-rule/app/demo/0123456789abcdef/0123456789abcdef/0123456789abcdef"]
}

output "network" {
  value = module.network
}

output "iam_actions" {
  value = module.iam.actions
}
