variable "name_prefix" {
  type        = string
  description = "Name of the lake bucket and prefix of the other names, e.g. \"customs-lake-prod\"; bucket names are global, so include the account or organisation."
}

variable "zones" {
  type        = list(string)
  description = "Lake zones: top-level prefixes of the lake bucket (<lake root>/<zone>/...). The writer of each zone is one engine, so IAM grants per zone prefix say who writes where. _lease and _checkpoints hold the ingest lease and streaming checkpoints, emr-logs the Spark cluster's logs."
  default     = ["landing", "bronze", "silver", "gold", "scores", "outbound", "quarantine", "governance", "_lease", "_checkpoints", "emr-logs"]
}

variable "landing_expiry_days" {
  type        = number
  description = "Days a landed file is kept before expiry. Bronze keeps every record with its raw payload, so landing is a buffer; keep it long enough to replay a bad night."
  default     = 90
}

variable "quarantine_expiry_days" {
  type        = number
  description = "Days a quarantined record is kept before expiry: long enough for a person to act on it and replay it."
  default     = 365
}

variable "noncurrent_version_expiry_days" {
  type        = number
  description = "Days an overwritten or deleted object version is kept (versioning protects against a bad job; Delta's own log keeps table history)."
  default     = 30
}


variable "tags" {
  type        = map(string)
  description = "Tags put on every resource."
  default     = {}
}
