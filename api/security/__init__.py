"""Authentication (JWT, API keys), authorisation by role, rate limits, the access log."""

from api.security.guard import Authenticator, allow
from api.security.principal import ROLES, AuthError, Principal, Role

__all__ = ["ROLES", "AuthError", "Authenticator", "Principal", "Role", "allow"]
