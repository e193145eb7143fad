# The Hive-compatible metastore on RDS PostgreSQL (LAKEHOUSE_METASTORE_URL): an index of table
# names over the lake, shared by the jobs, dbt and `lakehouse serve`. Encrypted with the
# lake's key, TLS forced, Multi-AZ, master password managed by RDS in Secrets Manager, IAM
# authentication on, logs to CloudWatch, enhanced monitoring and Performance Insights.

resource "aws_security_group" "metastore" {
  name        = "${var.name_prefix}-metastore"
  description = "Metastore PostgreSQL: reachable from the Spark cluster only"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  for_each                     = toset(var.client_security_group_ids)
  security_group_id            = aws_security_group.metastore.id
  referenced_security_group_id = each.value
  from_port                    = 5432
  to_port                      = 5432
  ip_protocol                  = "tcp"
  description                  = "PostgreSQL from ${each.value}"
}

resource "aws_db_subnet_group" "metastore" {
  name       = "${var.name_prefix}-metastore"
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_db_parameter_group" "metastore" {
  name   = "${var.name_prefix}-metastore"
  family = "postgres16"
  tags   = var.tags

  parameter {
    name  = "rds.force_ssl" # no clear-text connection is accepted
    value = "1"
  }

  parameter {
    name  = "log_statement" # DDL is logged: who changed the catalog, and when
    value = "ddl"
  }

  parameter {
    name  = "log_min_duration_statement" # slow catalog queries show up in the logs
    value = "1000"
  }
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${var.name_prefix}-metastore-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "metastore" {
  identifier                            = "${var.name_prefix}-metastore"
  engine                                = "postgres"
  engine_version                        = "16"
  instance_class                        = var.instance_class
  allocated_storage                     = var.allocated_storage_gb
  db_name                               = "metastore"
  username                              = "metastore_admin"
  manage_master_user_password           = true
  master_user_secret_kms_key_id         = var.kms_key_arn
  iam_database_authentication_enabled   = true
  storage_encrypted                     = true
  kms_key_id                            = var.kms_key_arn
  multi_az                              = true
  publicly_accessible                   = false
  db_subnet_group_name                  = aws_db_subnet_group.metastore.name
  vpc_security_group_ids                = [aws_security_group.metastore.id]
  parameter_group_name                  = aws_db_parameter_group.metastore.name
  backup_retention_period               = var.backup_retention_days
  copy_tags_to_snapshot                 = true
  deletion_protection                   = true
  skip_final_snapshot                   = false
  final_snapshot_identifier             = "${var.name_prefix}-metastore-final"
  auto_minor_version_upgrade            = true
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = 7
  tags                                  = var.tags
}
