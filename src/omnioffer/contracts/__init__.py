"""Data contract v1: table schemas, loading and validation of history files."""
