"""Use cases: the only layer that combines parsing, matching and persistence."""
