output "lake_root" {
  description = "LAKEHOUSE_LAKE_ROOT of this environment: the lake bucket, zones as prefixes."
  value       = module.storage.lake_root
}

output "role_arns" {
  description = "IAM role per lakehouse role."
  value       = module.roles.role_arns
}

output "spark_cluster_id" {
  description = "EMR cluster id."
  value       = module.spark.cluster_id
}

output "nifi_private_ips" {
  description = "NiFi node addresses."
  value       = module.nifi.private_ips
}

output "metastore_endpoint" {
  description = "Metastore PostgreSQL endpoint."
  value       = module.metastore.endpoint
}
