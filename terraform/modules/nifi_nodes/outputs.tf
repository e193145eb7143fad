output "private_ips" {
  description = "Private addresses of the NiFi nodes (for the flows deploy URL)."
  value       = aws_instance.nifi[*].private_ip
}

output "security_group_id" {
  description = "Security group of the NiFi nodes."
  value       = aws_security_group.nifi.id
}
