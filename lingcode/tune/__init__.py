"""Fine-tuning the hosted model on the user's own code: training data generated from the repository."""
