# NiFi 2 nodes: private instances (no public address), IMDSv2 only, encrypted disks for the
# content and provenance repositories, HTTPS only. Flows are deployed to them with
# `lakehouse flows deploy` (nipyapi); their instance role may only write the landing zone.

resource "aws_security_group" "nifi" {
  name        = "${var.name_prefix}-nifi"
  description = "NiFi nodes: HTTPS from operators, cluster traffic between nodes"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  for_each          = toset(var.client_cidrs)
  security_group_id = aws_security_group.nifi.id
  cidr_ipv4         = each.value
  from_port         = 8443
  to_port           = 8443
  ip_protocol       = "tcp"
  description       = "NiFi UI and REST API over HTTPS from ${each.value}"
}

resource "aws_vpc_security_group_ingress_rule" "cluster" {
  # Cluster protocol, load balancing and site-to-site between the nodes themselves.
  security_group_id            = aws_security_group.nifi.id
  referenced_security_group_id = aws_security_group.nifi.id
  from_port                    = 11443
  to_port                      = 11445
  ip_protocol                  = "tcp"
  description                  = "NiFi cluster traffic between nodes"
}

resource "aws_vpc_security_group_egress_rule" "sources" {
  # Out to the source systems (TLS ports of SFTP, MQTTS, PostgreSQL, HTTPS) and AWS endpoints.
  for_each = {
    for pair in setproduct(var.source_cidrs, [22, 443, 5432, 8883]) : "${pair[0]}:${pair[1]}" => pair
  }
  security_group_id = aws_security_group.nifi.id
  cidr_ipv4         = each.value[0]
  from_port         = each.value[1]
  to_port           = each.value[1]
  ip_protocol       = "tcp"
  description       = "to source systems ${each.key}"
}

resource "aws_instance" "nifi" {
  count                       = var.node_count
  ami                         = var.ami_id
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_ids[count.index % length(var.subnet_ids)]
  vpc_security_group_ids      = [aws_security_group.nifi.id]
  iam_instance_profile        = var.instance_profile
  associate_public_ip_address = false
  ebs_optimized               = true
  monitoring                  = true
  tags                        = merge(var.tags, { Name = "${var.name_prefix}-nifi-${count.index}" })

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = 200
    encrypted   = true
    kms_key_id  = var.kms_key_arn
  }
}
