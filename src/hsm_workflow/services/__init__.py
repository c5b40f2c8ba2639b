"""Service layer: the only code that opens transactions. Entry points call these."""
