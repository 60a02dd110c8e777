"""Data preparation for training: time split, resolved events, interaction matrices."""
