output "lakehouse" {
  description = "Lake root, roles, cluster, NiFi nodes and metastore of this environment."
  value = {
    lake_root          = module.lakehouse.lake_root
    role_arns          = module.lakehouse.role_arns
    spark_cluster_id   = module.lakehouse.spark_cluster_id
    nifi_private_ips   = module.lakehouse.nifi_private_ips
    metastore_endpoint = module.lakehouse.metastore_endpoint
  }
}
