output "bucket_name" {
  description = "The lake bucket."
  value       = aws_s3_bucket.lake.bucket
}

output "bucket_arn" {
  description = "ARN of the lake bucket (IAM policies scope it per zone prefix)."
  value       = aws_s3_bucket.lake.arn
}

output "lake_root" {
  description = "The value of LAKEHOUSE_LAKE_ROOT for this lake."
  value       = "s3a://${aws_s3_bucket.lake.bucket}"
}

output "zone_prefixes" {
  description = "Object key prefix per zone."
  value       = { for zone in var.zones : zone => "${zone}/" }
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the lake bucket."
  value       = aws_kms_key.lake.arn
}

output "access_log_bucket" {
  description = "Bucket receiving the S3 server access logs of the lake bucket (and the EMR logs)."
  value       = aws_s3_bucket.access_logs.bucket
}
