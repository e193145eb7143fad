variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, e.g. \"customs-lake-prod\"."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the NiFi nodes."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets; nodes are spread over them."
}

variable "node_count" {
  type        = number
  description = "NiFi cluster size (3 or more for a quorum in production)."
  default     = 3
}

variable "instance_type" {
  type        = string
  description = "Instance type of a NiFi node."
  default     = "m6i.xlarge"
}

variable "ami_id" {
  type        = string
  description = "AMI with Java 21 and NiFi 2 installed (built by the administration's image pipeline)."
}

variable "instance_profile" {
  type        = string
  description = "Instance profile of the nifi role (iam_roles module): writes the landing zone only."
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key encrypting the nodes' disks (content and provenance repositories)."
}

variable "client_cidrs" {
  type        = list(string)
  description = "Networks allowed to reach the NiFi UI/API over HTTPS (operators' VPN)."
}

variable "source_cidrs" {
  type        = list(string)
  description = "Networks of the source systems NiFi pulls from or that push to it (CMS, ECTS MQTT, ERP, HR)."
}

variable "tags" {
  type        = map(string)
  description = "Tags put on every resource."
  default     = {}
}
