"""What every target shares: the Target interface, its results, the Terraform lifecycle, the specs shipped to agents."""
