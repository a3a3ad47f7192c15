"""The steering benchmark: samplers x models x synthetic users x d x noise x seeds, with
external baselines, run in parallel processes and reported as CSV, Markdown and plots."""
