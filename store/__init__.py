"""The SQL store: projections of the streams, their migrations, queries and rebuild.

SQLAlchemy 2 tables (`store.tables`) filled by `consumers.projector` through
`store.projection`, read through `store.queries`, migrated by `store.migrate`, rebuilt
from the streams by `store.rebuild`. SQLite by default, PostgreSQL in production.
"""

from store import queries
from store.engine import create_store_engine, engine_for_url, read_session, write_session
from store.errors import (
    SchemaNotCurrentError,
    StoreError,
    StoreNotEmptyError,
    StoreUnavailableError,
    UnsupportedDatabaseError,
)
from store.migrate import current_revision, ensure_current, head_revision, upgrade
from store.projection import Projection, ProjectionResult
from store.rows import PROJECTED_STREAMS, PROJECTED_TYPES

__all__ = [
    "PROJECTED_STREAMS",
    "PROJECTED_TYPES",
    "Projection",
    "ProjectionResult",
    "SchemaNotCurrentError",
    "StoreError",
    "StoreNotEmptyError",
    "StoreUnavailableError",
    "UnsupportedDatabaseError",
    "create_store_engine",
    "current_revision",
    "engine_for_url",
    "ensure_current",
    "head_revision",
    "queries",
    "read_session",
    "upgrade",
    "write_session",
]
