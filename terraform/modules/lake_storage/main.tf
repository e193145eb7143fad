# The lake's object storage: one bucket per zone, all encrypted with one customer-managed KMS
# key, versioned, never public, with access logs. Landing and quarantine expire (bronze keeps
# every record with its raw payload; quarantine is kept long enough to act on); the other
# zones hold Delta tables whose history Delta itself manages, so only old object versions and
# unfinished uploads expire there.

data "aws_caller_identity" "current" {}

locals {
  expiring_zones = {
    landing    = var.landing_expiry_days
    quarantine = var.quarantine_expiry_days
  }
}

# -- encryption key --------------------------------------------------------------------------

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:A key policy's "*" resource is the key itself; the account must administer its own key.
  #checkov:skip=CKV_AWS_111:A key policy's "*" resource is the key itself; the account must administer its own key.
  #checkov:skip=CKV_AWS_356:A key policy's "*" resource is the key itself; the account must administer its own key.
  # The account administers the key; use of the key is granted by the IAM roles' own policies
  # (iam_roles module), which the account root delegation below makes effective.
  statement {
    sid       = "AccountAdministersKey"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy "*" means this key
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "lake" {
  description             = "${var.name_prefix}: encryption of every lake bucket"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = var.tags
}

resource "aws_kms_alias" "lake" {
  name          = "alias/${var.name_prefix}"
  target_key_id = aws_kms_key.lake.key_id
}

# -- zone buckets ----------------------------------------------------------------------------

resource "aws_s3_bucket" "zone" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice per administration (data residency laws often forbid a second region); versioning and Delta history cover operator mistakes.
  for_each = toset(var.zones)
  bucket   = "${var.name_prefix}-${each.key}"
  tags     = merge(var.tags, { zone = each.key })
}

resource "aws_s3_bucket_versioning" "zone" {
  for_each = toset(var.zones)
  bucket   = aws_s3_bucket.zone[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "zone" {
  for_each = toset(var.zones)
  bucket   = aws_s3_bucket.zone[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.lake.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "zone" {
  for_each                = toset(var.zones)
  bucket                  = aws_s3_bucket.zone[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "zone" {
  for_each = toset(var.zones)
  bucket   = aws_s3_bucket.zone[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_logging" "zone" {
  for_each      = toset(var.zones)
  bucket        = aws_s3_bucket.zone[each.key].id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "${each.key}/"
}

resource "aws_s3_bucket_notification" "zone" {
  # Object events go to EventBridge: NiFi-landed files can trigger ingestion, and security
  # tooling can watch deletes.
  for_each    = toset(var.zones)
  bucket      = aws_s3_bucket.zone[each.key].id
  eventbridge = true
}

resource "aws_s3_bucket_lifecycle_configuration" "zone" {
  for_each = toset(var.zones)
  bucket   = aws_s3_bucket.zone[each.key].id

  rule {
    id     = "housekeeping"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiry_days
    }
  }

  dynamic "rule" {
    for_each = contains(keys(local.expiring_zones), each.key) ? [local.expiring_zones[each.key]] : []
    content {
      id     = "expire-${each.key}"
      status = "Enabled"
      filter {}
      expiration {
        days = rule.value
      }
    }
  }
}

resource "aws_s3_bucket_policy" "zone" {
  # TLS only: the object store is never reached in clear text.
  for_each = toset(var.zones)
  bucket   = aws_s3_bucket.zone[each.key].id
  policy   = data.aws_iam_policy_document.tls_only[each.key].json
}

data "aws_iam_policy_document" "tls_only" {
  for_each = toset(var.zones)
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.zone[each.key].arn, "${aws_s3_bucket.zone[each.key].arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# -- access logs -----------------------------------------------------------------------------

resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log target; logging it to itself would loop.
  #checkov:skip=CKV_AWS_144:Access logs stay in the lake's region (data residency).
  #checkov:skip=CKV_AWS_145:S3 server access logging only delivers to SSE-S3 (AES256) buckets, not SSE-KMS.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to access-log delivery; events would only add noise.
  bucket = "${var.name_prefix}-access-logs"
  tags   = var.tags
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = 400
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}
