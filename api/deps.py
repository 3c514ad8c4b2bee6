"""FastAPI dependencies as `Annotated` aliases: routes declare what they need by type."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.services import Services
from bus.bus import RedisBus
from spamops.settings import Settings

__all__ = ["BusDep", "ServicesDep", "SettingsDep"]


# `async def` on purpose: FastAPI runs a plain `def` dependency in its thread pool, a
# thread hop per request that cost more than the whole /feedback handler.


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_settings(request: Request) -> Settings:
    services: Services = request.app.state.services
    return services.settings


async def get_bus(request: Request) -> RedisBus:
    services: Services = request.app.state.services
    return services.bus


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
BusDep = Annotated[RedisBus, Depends(get_bus)]
