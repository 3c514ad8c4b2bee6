"""The SQL store: projections of the streams, their migrations, queries and rebuild.

SQLAlchemy 2 tables (`store.tables`) filled by `consumers.projector` through
`store.projection`, read through `store.queries`, migrated by `store.migrate`, rebuilt
from the streams by `store.rebuild`. SQLite by default, PostgreSQL in production.

Import from the modules (`store.engine`, `store.queries`, ...): this file imports nothing,
so that reading the store does not pay for alembic, which only migrating needs.
"""
