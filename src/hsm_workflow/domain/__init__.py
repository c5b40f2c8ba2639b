"""Domain model: pure rules with no I/O."""
