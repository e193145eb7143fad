variable "name_prefix" {
  type        = string
  description = "Prefix of every bucket and key name, e.g. \"customs-lake-prod\"; bucket names are global, so include the account or organisation."
}

variable "zones" {
  type        = list(string)
  description = "Lake zones, one bucket each. The writer of each zone is one engine (see ARCHITECTURE.md), so a bucket per zone lets IAM say who writes where."
  default     = ["landing", "bronze", "silver", "gold", "scores", "outbound", "quarantine", "governance"]
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
