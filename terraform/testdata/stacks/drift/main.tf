# A stack to plan: applied as it is in workspaces staging and prod, then
# changed by the tests (GENERATION, TF_VAR_*) to make plans with changes.

variable "size" {
  type    = number
  default = 1
}

variable "labels" {
  type    = map(string)
  default = {}
}

variable "note" {
  default = "none"
}

locals {
  # The tests raise prod's generation to change prod and nothing else.
  generation = {
    prod    = 1 # GENERATION
    staging = 1
  }
}

resource "terraform_data" "subnet" {
  input = {
    workspace  = terraform.workspace
    generation = lookup(local.generation, terraform.workspace, 0)
    size       = var.size
    labels     = var.labels
    note       = var.note
  }
}

resource "terraform_data" "vpc" {
  input = terraform.workspace
}

output "size" {
  value = var.size
}
