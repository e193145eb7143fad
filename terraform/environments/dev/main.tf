# The dev environment: the lakehouse module with dev sizes.

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      project     = "customs-lakehouse"
      environment = "dev"
    }
  }
}

module "lakehouse" {
  source                       = "../../modules/lakehouse"
  environment                  = "dev"
  organisation                 = var.organisation
  vpc_id                       = var.vpc_id
  private_subnet_ids           = var.private_subnet_ids
  nifi_ami_id                  = var.nifi_ami_id
  nifi_node_count              = 1
  operator_cidrs               = var.operator_cidrs
  source_system_cidrs          = var.source_system_cidrs
  spark_core_instance_count    = 1
  emr_tls_certificates_s3_uri  = var.emr_tls_certificates_s3_uri
  human_principal_arns         = var.human_principal_arns
  model_service_principal_arns = var.model_service_principal_arns
  metastore_instance_class     = "db.t4g.medium"
}
