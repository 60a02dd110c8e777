"""Data preparation for training: resolved events, time split, interaction matrices, and
the snapshot of everything known at one cutoff."""
