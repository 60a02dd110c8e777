"""Ranker features: one row per candidate, named columns, float32."""
