"""Ways to run lingcode without the terminal UI: headless runs, batches, reviews and the git hook."""
