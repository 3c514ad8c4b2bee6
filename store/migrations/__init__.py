"""Alembic migrations of the store (run them with `spamops store upgrade`; see store.migrate)."""
