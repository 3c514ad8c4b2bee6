"""API keys: the only table that is not a projection of the streams (credentials are never
put on the bus). The secret part of a key is stored only as a scrypt hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from store.tables.base import Base

__all__ = ["ApiKeyRow"]


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    __table_args__ = {"info": {"projection": False}}  # noqa: RUF012 - read by SQLAlchemy

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    secret_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
