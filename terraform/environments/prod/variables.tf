variable "region" {
  type        = string
  description = "AWS region of the environment."
}

variable "organisation" {
  type        = string
  description = "Short name of the administration (unique bucket names)."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the lakehouse."
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets in two or more availability zones."
}

variable "nifi_ami_id" {
  type        = string
  description = "AMI of the NiFi nodes."
}

variable "operator_cidrs" {
  type        = list(string)
  description = "Operators' networks (NiFi UI)."
}

variable "source_system_cidrs" {
  type        = list(string)
  description = "Networks of the source systems."
}

variable "emr_tls_certificates_s3_uri" {
  type        = string
  description = "s3:// URI of the PEM zip for EMR in-transit encryption."
}

variable "human_principal_arns" {
  type        = map(list(string))
  description = "Principals allowed to assume data_engineer, analyst and auditor."
  default     = {}
}

variable "model_service_principal_arns" {
  type        = list(string)
  description = "Principals allowed to assume model_service."
  default     = []
}
