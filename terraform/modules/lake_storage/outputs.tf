output "bucket_names" {
  description = "Bucket name per zone."
  value       = { for zone, bucket in aws_s3_bucket.zone : zone => bucket.bucket }
}

output "bucket_arns" {
  description = "Bucket ARN per zone (IAM policies are written against these)."
  value       = { for zone, bucket in aws_s3_bucket.zone : zone => bucket.arn }
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts every lake bucket."
  value       = aws_kms_key.lake.arn
}

output "access_log_bucket" {
  description = "Bucket receiving the S3 server access logs of the lake buckets."
  value       = aws_s3_bucket.access_logs.bucket
}
