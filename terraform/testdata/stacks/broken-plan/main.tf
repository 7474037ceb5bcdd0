# Parses, but terraform_data has no argument "cidr_block": terraform plan
# fails.
resource "terraform_data" "x" {
  cidr_block = "10.0.0.0/16"
}
