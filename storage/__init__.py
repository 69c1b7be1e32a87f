"""Persistence: SQLAlchemy 2 tables, the journal's reads and writes, Alembic migrations."""
