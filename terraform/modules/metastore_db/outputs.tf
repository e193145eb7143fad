output "endpoint" {
  description = "host:port of the metastore; LAKEHOUSE_METASTORE_URL is jdbc:postgresql://<endpoint>/metastore?ssl=true&sslmode=verify-full."
  value       = aws_db_instance.metastore.endpoint
}

output "master_secret_arn" {
  description = "Secrets Manager secret holding the managed master password (rotated by RDS)."
  value       = aws_db_instance.metastore.master_user_secret[0].secret_arn
}
