"""FastAPI dependencies as `Annotated` aliases: routes declare what they need by type."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.services import Services
from bus.bus import RedisBus
from spamops.settings import Settings

__all__ = ["BusDep", "ServicesDep", "SettingsDep"]


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_settings(request: Request) -> Settings:
    return get_services(request).settings


def get_bus(request: Request) -> RedisBus:
    return get_services(request).bus


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
BusDep = Annotated[RedisBus, Depends(get_bus)]
