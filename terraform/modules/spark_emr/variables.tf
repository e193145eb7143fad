variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, e.g. \"customs-lake-prod\"."
}

variable "vpc_id" {
  type        = string
  description = "VPC the cluster runs in."
}

variable "subnet_id" {
  type        = string
  description = "Private subnet of the cluster (no route from the internet)."
}

variable "release_label" {
  type        = string
  description = "EMR release; it must ship the Spark line the jobs are pinned to (pyspark 4.x)."
  default     = "emr-7.9.0"
}

variable "core_instance_type" {
  type        = string
  description = "Instance type of the core nodes."
  default     = "m6g.xlarge"
}

variable "core_instance_count" {
  type        = number
  description = "Number of core nodes."
  default     = 2
}

variable "master_instance_type" {
  type        = string
  description = "Instance type of the primary node."
  default     = "m6g.xlarge"
}

variable "jobs_instance_profile" {
  type        = string
  description = "Instance profile of the spark_jobs role (iam_roles module): the cluster's data access."
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key encrypting local disks, EBS and EMRFS objects."
}

variable "log_bucket" {
  type        = string
  description = "Bucket name for EMR logs (the lake's governance bucket)."
}

variable "tls_certificates_s3_uri" {
  type        = string
  description = "s3:// URI of the zip of PEM certificates EMR uses for in-transit encryption between nodes."
}

variable "tags" {
  type        = map(string)
  description = "Tags put on every resource."
  default     = {}
}
