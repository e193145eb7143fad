output "lakehouse" {
  description = "Buckets, roles, cluster, NiFi nodes and metastore of this environment."
  value = {
    lake_buckets       = module.lakehouse.lake_buckets
    role_arns          = module.lakehouse.role_arns
    spark_cluster_id   = module.lakehouse.spark_cluster_id
    nifi_private_ips   = module.lakehouse.nifi_private_ips
    metastore_endpoint = module.lakehouse.metastore_endpoint
  }
}
