# Least-privilege roles, one per actor of the lakehouse; they mirror the roles of the access
# policy (governance/access/policy.yml) at the storage layer:
#   nifi          writes landing only (it never reads back what it landed);
#   spark_jobs    the ingestion, dbt and export jobs: read and write their zones;
#   data_engineer the humans operating the jobs: read every zone, replay quarantine;
#   analyst       reads gold only;
#   model_service reads gold, writes scores;
#   auditor       reads the governance zone (audit log, lineage store).
# Column masks cannot be expressed in IAM: they are enforced by the query entry points.
# Zones are prefixes of the one lake bucket (lake_storage): every grant is scoped to the zone
# prefixes of the role, object by object and for listing (s3:prefix condition).

locals {
  roles = {
    nifi = {
      read     = []
      write    = ["landing"]
      services = ["ec2.amazonaws.com"]
    }
    spark_jobs = {
      read     = ["landing", "bronze", "silver", "gold", "scores", "quarantine", "_lease", "_checkpoints"]
      write    = ["bronze", "silver", "gold", "scores", "outbound", "quarantine", "governance", "_lease", "_checkpoints", "emr-logs"]
      services = ["ec2.amazonaws.com", "elasticmapreduce.amazonaws.com"]
    }
    data_engineer = {
      read     = ["landing", "bronze", "silver", "gold", "scores", "quarantine", "governance"]
      write    = ["quarantine"]
      services = []
    }
    analyst = {
      read     = ["gold"]
      write    = []
      services = []
    }
    model_service = {
      read     = ["gold"]
      write    = ["scores"]
      services = []
    }
    auditor = {
      read     = ["governance"]
      write    = []
      services = []
    }
  }
  principals = merge(var.human_principal_arns, { model_service = var.model_service_principal_arns })
}

data "aws_iam_policy_document" "assume" {
  for_each = local.roles

  dynamic "statement" {
    for_each = length(each.value.services) > 0 ? [each.value.services] : []
    content {
      sid     = "ServicesAssume"
      actions = ["sts:AssumeRole"]
      principals {
        type        = "Service"
        identifiers = statement.value
      }
    }
  }

  dynamic "statement" {
    for_each = length(lookup(local.principals, each.key, [])) > 0 ? [local.principals[each.key]] : []
    content {
      sid     = "PeopleAssume"
      actions = ["sts:AssumeRole"]
      principals {
        type        = "AWS"
        identifiers = statement.value
      }
    }
  }

  # A role nobody may assume yet still needs a valid trust policy: deny everyone.
  dynamic "statement" {
    for_each = length(each.value.services) == 0 && length(lookup(local.principals, each.key, [])) == 0 ? [1] : []
    content {
      sid     = "NobodyYet"
      effect  = "Deny"
      actions = ["sts:AssumeRole"]
      principals {
        type        = "AWS"
        identifiers = ["*"]
      }
    }
  }
}

resource "aws_iam_role" "this" {
  for_each             = local.roles
  name                 = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  assume_role_policy   = data.aws_iam_policy_document.assume[each.key].json
  max_session_duration = 3600
  tags                 = merge(var.tags, { lake_role = each.key })
}

data "aws_iam_policy_document" "access" {
  for_each = local.roles

  dynamic "statement" {
    for_each = length(each.value.read) > 0 ? [1] : []
    content {
      sid       = "ListZones"
      actions   = ["s3:ListBucket"]
      resources = [var.bucket_arn]
      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = flatten([for zone in distinct(concat(each.value.read, each.value.write)) : [zone, "${zone}/*"]])
      }
    }
  }

  statement {
    sid       = "LocateBucket"
    actions   = ["s3:GetBucketLocation"]
    resources = [var.bucket_arn]
  }

  dynamic "statement" {
    for_each = length(each.value.read) > 0 ? [1] : []
    content {
      sid       = "ReadZones"
      actions   = ["s3:GetObject", "s3:GetObjectVersion"]
      resources = flatten([for zone in each.value.read : ["${var.bucket_arn}/${zone}", "${var.bucket_arn}/${zone}/*"]])
    }
  }

  dynamic "statement" {
    for_each = length(each.value.write) > 0 ? [1] : []
    content {
      sid       = "WriteZones"
      actions   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      resources = [for zone in each.value.write : "${var.bucket_arn}/${zone}/*"]
    }
  }

  statement {
    sid       = "UseLakeKey"
    actions   = length(each.value.write) > 0 ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_policy" "access" {
  for_each    = local.roles
  name        = "${var.name_prefix}-${replace(each.key, "_", "-")}-lake-access"
  description = "Lake zones the ${each.key} role may read and write."
  policy      = data.aws_iam_policy_document.access[each.key].json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "access" {
  for_each   = local.roles
  role       = aws_iam_role.this[each.key].name
  policy_arn = aws_iam_policy.access[each.key].arn
}

resource "aws_iam_instance_profile" "ec2" {
  # Only the roles EC2 may assume get an instance profile (NiFi nodes, EMR instances).
  for_each = { for name, role in local.roles : name => role if contains(role.services, "ec2.amazonaws.com") }
  name     = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  role     = aws_iam_role.this[each.key].name
  tags     = var.tags
}
