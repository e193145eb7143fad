# Spark compute: an EMR cluster in a private subnet running the same jobs as the embedded
# default (spark-submit of spark_jobs/), with encryption at rest (KMS) and in transit (TLS),
# and the jobs' Hive metastore on the metastore_db module (its JDBC URL is a deploy-time
# setting: the password lives in Secrets Manager, never in this code).

data "aws_iam_policy_document" "emr_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["elasticmapreduce.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "emr_service" {
  name               = "${var.name_prefix}-emr-service"
  assume_role_policy = data.aws_iam_policy_document.emr_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "emr_service" {
  role       = aws_iam_role.emr_service.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2"
}

resource "aws_emr_security_configuration" "this" {
  name = "${var.name_prefix}-spark"
  configuration = jsonencode({
    EncryptionConfiguration = {
      EnableAtRestEncryption    = true
      EnableInTransitEncryption = true
      AtRestEncryptionConfiguration = {
        S3EncryptionConfiguration = {
          EncryptionMode = "SSE-KMS"
          AwsKmsKey      = var.kms_key_arn
        }
        LocalDiskEncryptionConfiguration = {
          EncryptionKeyProviderType = "AwsKms"
          AwsKmsKey                 = var.kms_key_arn
          EnableEbsEncryption       = true
        }
      }
      InTransitEncryptionConfiguration = {
        TLSCertificateConfiguration = {
          CertificateProviderType = "PEM"
          S3Object                = var.tls_certificates_s3_uri
        }
      }
    }
  })
}

resource "aws_security_group" "primary" {
  name        = "${var.name_prefix}-emr-primary"
  description = "EMR primary node: reachable only from the cluster itself"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_security_group" "core" {
  name        = "${var.name_prefix}-emr-core"
  description = "EMR core nodes: reachable only from the cluster itself"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "within_cluster" {
  # Nodes talk to each other (shuffle, HDFS, YARN); nothing else comes in.
  for_each = {
    primary_from_core = [aws_security_group.primary.id, aws_security_group.core.id]
    core_from_primary = [aws_security_group.core.id, aws_security_group.primary.id]
    core_from_core    = [aws_security_group.core.id, aws_security_group.core.id]
  }
  security_group_id            = each.value[0]
  referenced_security_group_id = each.value[1]
  ip_protocol                  = "-1"
  description                  = "intra-cluster traffic (${each.key})"
}

resource "aws_vpc_security_group_egress_rule" "https_out" {
  # Only TLS goes out: S3 and KMS endpoints, the metastore (PostgreSQL over TLS, port 5432).
  for_each = {
    primary_https    = [aws_security_group.primary.id, 443]
    core_https       = [aws_security_group.core.id, 443]
    primary_postgres = [aws_security_group.primary.id, 5432]
  }
  security_group_id = each.value[0]
  cidr_ipv4         = "10.0.0.0/8"
  from_port         = each.value[1]
  to_port           = each.value[1]
  ip_protocol       = "tcp"
  description       = "TLS to AWS endpoints and the metastore inside the VPC (${each.key})"
}

resource "aws_emr_cluster" "spark" {
  name                              = "${var.name_prefix}-spark"
  release_label                     = var.release_label
  applications                      = ["Spark", "Hive"]
  service_role                      = aws_iam_role.emr_service.arn
  security_configuration            = aws_emr_security_configuration.this.name
  log_uri                           = "s3://${var.log_bucket}/emr-logs/"
  termination_protection            = true
  keep_job_flow_alive_when_no_steps = true
  tags                              = var.tags

  ec2_attributes {
    subnet_id                         = var.subnet_id
    instance_profile                  = var.jobs_instance_profile
    emr_managed_master_security_group = aws_security_group.primary.id
    emr_managed_slave_security_group  = aws_security_group.core.id
  }

  master_instance_group {
    instance_type = var.master_instance_type
  }

  core_instance_group {
    instance_type  = var.core_instance_type
    instance_count = var.core_instance_count
    ebs_config {
      size                 = 128
      type                 = "gp3"
      volumes_per_instance = 1
    }
  }
}
