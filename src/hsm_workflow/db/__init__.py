"""Database adapter: SQLAlchemy models and sessions."""
