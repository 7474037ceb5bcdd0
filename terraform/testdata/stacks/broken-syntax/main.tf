# Does not parse: terraform init fails.
resource "terraform_data" "x" {
  input = 
}
