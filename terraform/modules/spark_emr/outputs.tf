output "cluster_id" {
  description = "EMR cluster id (spark-submit steps are added to it)."
  value       = aws_emr_cluster.spark.id
}

output "primary_security_group_id" {
  description = "Security group of the primary node (the metastore admits it)."
  value       = aws_security_group.primary.id
}

output "core_security_group_id" {
  description = "Security group of the core nodes."
  value       = aws_security_group.core.id
}
