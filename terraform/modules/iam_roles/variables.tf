variable "name_prefix" {
  type        = string
  description = "Prefix of every role and policy name, e.g. \"customs-lake-prod\"."
}

variable "bucket_arn" {
  type        = string
  description = "ARN of the lake bucket (output of the lake_storage module); zones are its top-level prefixes."
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of the KMS key encrypting the lake buckets."
}

variable "human_principal_arns" {
  type        = map(list(string))
  description = "Per human role (data_engineer, analyst, auditor), the IAM principals (SSO roles, users) allowed to assume it. An empty list leaves the role assumable by nobody."
  default     = {}
}

variable "model_service_principal_arns" {
  type        = list(string)
  description = "Principals allowed to assume the model_service role (the scoring workload's own role, e.g. an EKS service-account role)."
  default     = []
}

variable "tags" {
  type        = map(string)
  description = "Tags put on every resource."
  default     = {}
}
