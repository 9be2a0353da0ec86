"""What the two CloudWatch exporters share: boto3 clients and error classes, units, histogram values,
cumulative-to-delta before queueing. Not a component (no factory)."""
