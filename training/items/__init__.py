"""The items task: CF factors, candidate generation, popularity, the item ranker's training."""
