"""The offers task: who answers which offer on which channel."""
