output "role_arns" {
  description = "IAM role ARN per lakehouse role."
  value       = { for name, role in aws_iam_role.this : name => role.arn }
}

output "instance_profile_names" {
  description = "Instance profile per EC2-assumable role (nifi, spark_jobs)."
  value       = { for name, profile in aws_iam_instance_profile.ec2 : name => profile.name }
}
