"""Deployment code generated from a stack file (``strata export``), for tools other than Terraform."""
