variable "environment" {
  type        = string
  description = "Environment name (dev, prod); part of every resource name."
}

variable "organisation" {
  type        = string
  description = "Short name of the administration; makes the global bucket names unique."
}

variable "vpc_id" {
  type        = string
  description = "VPC the lakehouse runs in (created by the administration's network stack)."
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets in two or more availability zones."
}

variable "nifi_ami_id" {
  type        = string
  description = "AMI of the NiFi nodes (Java 21 + NiFi 2)."
}

variable "nifi_node_count" {
  type        = number
  description = "Number of NiFi nodes."
}

variable "operator_cidrs" {
  type        = list(string)
  description = "Networks of the operators (VPN) that may open the NiFi UI."
}

variable "source_system_cidrs" {
  type        = list(string)
  description = "Networks of the CMS, ECTS, ERP and HR systems."
}

variable "spark_core_instance_count" {
  type        = number
  description = "Core nodes of the Spark cluster."
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

variable "metastore_instance_class" {
  type        = string
  description = "Instance class of the metastore database."
}
