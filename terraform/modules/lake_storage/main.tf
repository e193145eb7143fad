# The lake's object storage: ONE bucket holding the zones as top-level prefixes (landing/,
# bronze/, silver/, ...), encrypted with one customer-managed KMS key, versioned, never public,
# with access logs. Why one bucket and not one per zone: the lake addresses every table as
# <lake root>/<zone>/<table> (LAKEHOUSE_LAKE_ROOT, one s3a:// root; dbt, NiFi's landing paths
# and the ingest lease all build on it), so a bucket per zone would not be a lake the code can
# run on. Least privilege is kept per zone all the same: the IAM roles are scoped to the
# zones' prefixes (iam_roles), and the lifecycle rules expire landing/ and quarantine/ only.
# Landing and quarantine expire (bronze keeps every record with its raw payload; quarantine
# is kept long enough to act on); the other zones hold Delta tables whose history Delta itself
# manages, so only old object versions and unfinished uploads expire there.

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

# -- the lake bucket -------------------------------------------------------------------------

resource "aws_s3_bucket" "lake" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice per administration (data residency laws often forbid a second region); versioning and Delta history cover operator mistakes.
  bucket = var.name_prefix
  tags   = var.tags
}

resource "aws_s3_bucket_versioning" "lake" {
  bucket = aws_s3_bucket.lake.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.lake.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "lake" {
  bucket                  = aws_s3_bucket.lake.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_logging" "lake" {
  bucket        = aws_s3_bucket.lake.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "lake/"
}

resource "aws_s3_bucket_notification" "lake" {
  # Object events go to EventBridge: NiFi-landed files can trigger ingestion, and security
  # tooling can watch deletes.
  bucket      = aws_s3_bucket.lake.id
  eventbridge = true
}

resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id

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
    # Only these zones' prefixes expire; a zone missing from var.zones gets no rule.
    for_each = { for zone, days in local.expiring_zones : zone => days if contains(var.zones, zone) }
    content {
      id     = "expire-${rule.key}"
      status = "Enabled"
      filter {
        prefix = "${rule.key}/"
      }
      expiration {
        days = rule.value
      }
    }
  }
}

resource "aws_s3_bucket_policy" "lake" {
  # TLS only: the object store is never reached in clear text.
  bucket = aws_s3_bucket.lake.id
  policy = data.aws_iam_policy_document.tls_only.json
}

data "aws_iam_policy_document" "tls_only" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.lake.arn, "${aws_s3_bucket.lake.arn}/*"]
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
