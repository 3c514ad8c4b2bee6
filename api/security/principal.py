"""Who is calling, and what they may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

__all__ = ["ROLES", "AuthError", "Principal", "Role"]

Role = Literal["predict", "feedback", "operator", "auditor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)


class AuthError(Exception):
    """A request without valid credentials (401) or without the role it needs (403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    role: Role
    method: Literal["jwt", "api_key"]

    def may(self, allowed: frozenset[Role]) -> bool:
        """`admin` may do everything; every other role only what it is granted."""
        return self.role == "admin" or self.role in allowed
