variable "name_prefix" {
  type        = string
  description = "Prefix of every name, e.g. \"customs-lake-prod\"."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the database."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets (two availability zones at least, for Multi-AZ)."
}

variable "client_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to reach PostgreSQL (the Spark cluster's)."
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key encrypting storage, Performance Insights and the managed master password."
}

variable "instance_class" {
  type        = string
  description = "RDS instance class, e.g. db.t4g.medium (dev) or db.r6g.large (prod)."
}

variable "allocated_storage_gb" {
  type        = number
  description = "Storage of the metastore database; it holds names and locations only, not data."
  default     = 20
}

variable "backup_retention_days" {
  type        = number
  description = "Days of automated backups (the catalog can also be rebuilt from the lake's Delta logs)."
  default     = 14
}

variable "tags" {
  type        = map(string)
  description = "Tags put on every resource."
  default     = {}
}
