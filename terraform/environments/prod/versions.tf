terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40, < 7.0"
    }
  }
  # State in S3 (encrypted, locked); the bucket is given at init:
  #   terraform init -backend-config="bucket=<state bucket>" -backend-config="region=<region>"
  backend "s3" {
    key          = "customs-lakehouse/prod.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
