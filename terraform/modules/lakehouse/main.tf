# One environment of the lakehouse: storage, roles, Spark, NiFi and the metastore, wired
# together. The environment roots (environments/dev, environments/prod) differ only in sizes
# and in who may assume which role.

locals {
  name_prefix = "${var.organisation}-lake-${var.environment}"
  tags = {
    project     = "customs-lakehouse"
    environment = var.environment
  }
}

module "storage" {
  source      = "../lake_storage"
  name_prefix = local.name_prefix
  tags        = local.tags
}

module "roles" {
  source                       = "../iam_roles"
  name_prefix                  = local.name_prefix
  bucket_arn                   = module.storage.bucket_arn
  kms_key_arn                  = module.storage.kms_key_arn
  human_principal_arns         = var.human_principal_arns
  model_service_principal_arns = var.model_service_principal_arns
  tags                         = local.tags
}

module "spark" {
  source                  = "../spark_emr"
  name_prefix             = local.name_prefix
  vpc_id                  = var.vpc_id
  subnet_id               = var.private_subnet_ids[0]
  core_instance_count     = var.spark_core_instance_count
  jobs_instance_profile   = module.roles.instance_profile_names["spark_jobs"]
  kms_key_arn             = module.storage.kms_key_arn
  log_bucket              = module.storage.bucket_name # under emr-logs/, written by spark_jobs
  tls_certificates_s3_uri = var.emr_tls_certificates_s3_uri
  tags                    = local.tags
}

module "nifi" {
  source           = "../nifi_nodes"
  name_prefix      = local.name_prefix
  vpc_id           = var.vpc_id
  subnet_ids       = var.private_subnet_ids
  node_count       = var.nifi_node_count
  ami_id           = var.nifi_ami_id
  instance_profile = module.roles.instance_profile_names["nifi"]
  kms_key_arn      = module.storage.kms_key_arn
  client_cidrs     = var.operator_cidrs
  source_cidrs     = var.source_system_cidrs
  tags             = local.tags
}

module "metastore" {
  source                    = "../metastore_db"
  name_prefix               = local.name_prefix
  vpc_id                    = var.vpc_id
  subnet_ids                = var.private_subnet_ids
  client_security_group_ids = [module.spark.primary_security_group_id, module.spark.core_security_group_id]
  kms_key_arn               = module.storage.kms_key_arn
  instance_class            = var.metastore_instance_class
  tags                      = local.tags
}
