"""Batch jobs against the feature store: materialize a model version, export the event log."""
