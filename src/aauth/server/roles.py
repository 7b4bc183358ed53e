"""``aauth serve ROLE``: load a role's configuration and run its service.

Without ``--config`` on a loopback host, a development configuration is used: the identifier
is ``http://HOST:PORT`` with ``allow_loopback_http`` on. Anything else needs a config file.

State goes where ``--store`` (or ``AAUTH_STORE``, or the configuration's ``store``) says: a
SQLite file by default, a ``redis://`` URL to share it between instances. With ``--workers N``
uvicorn runs N processes; each builds the app from the same settings, passed to it in the
environment (:func:`worker_app`).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import uvicorn

from ..store import STORE_ENV, StoreUnavailable, is_shared

__all__ = ["ROLES", "ServeSettings", "build_app", "serve_role", "worker_app"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_SETTINGS_ENV = "AAUTH_SERVE_SETTINGS"


@dataclass(frozen=True)
class ServeSettings:
    """What ``aauth serve`` was told; enough for a worker process to build the same app."""

    role: str
    config: str | None
    host: str
    port: int
    db: str | None = None
    store: str | None = None


def _dev_config(settings: ServeSettings) -> dict[str, Any]:
    host, port = settings.host, settings.port
    if host not in _LOOPBACK:
        raise ValueError("a --config file is required unless serving on a loopback address")
    authority = f"[{host}]" if ":" in host else host
    return {"identifier": f"http://{authority}:{port}", "allow_loopback_http": True}


def _store_location(settings: ServeSettings) -> str | None:
    """``--store``, else ``$AAUTH_STORE``, else ``--db``; None: the configuration decides."""
    return settings.store or os.environ.get(STORE_ENV) or settings.db


def _resource(settings: ServeSettings) -> Any:
    from .resource_server import ResourceServerConfig, create_resource_server

    config = ResourceServerConfig.load(settings.config or _dev_config(settings))
    location = _store_location(settings)
    if location is not None:
        config = replace(config, store=location)
    return create_resource_server(config)


def _agent_provider(settings: ServeSettings) -> Any:
    from .agent_provider import AgentProviderConfig, create_agent_provider

    source: Any = settings.config or {**_dev_config(settings), "agents": {}}
    config = AgentProviderConfig.load(source)
    location = _store_location(settings)
    if location is not None:
        config = replace(config, store=location)
    return create_agent_provider(config)


def _person(settings: ServeSettings) -> Any:
    from ..person.config import PersonServerConfig
    from .person_server import create_person_server

    if settings.config is None:
        raise ValueError("the person server needs a --config naming its people")
    config = PersonServerConfig.load(settings.config)
    location = _store_location(settings)
    if location is not None:
        config = config.with_store(location)
    return create_person_server(config)


ROLES: dict[str, Callable[[ServeSettings], Any]] = {
    "resource": _resource,
    "agent-provider": _agent_provider,
    "person": _person,
}


def build_app(settings: ServeSettings) -> Any:
    """The ASGI app for ``settings``; ValueError for a configuration problem."""
    try:
        return ROLES[settings.role](settings)
    except StoreUnavailable as exc:
        raise ValueError(exc.description) from None


def worker_app() -> Any:
    """uvicorn's app factory in each worker process of ``--workers N``."""
    settings = ServeSettings(**json.loads(os.environ[_SETTINGS_ENV]))
    return build_app(settings)


def serve_role(
    role: str,
    *,
    config: str | None,
    host: str,
    port: int,
    db: str | None = None,
    store: str | None = None,
    workers: int = 1,
) -> int:
    """Run ``role`` until interrupted; 2 for a configuration problem (reported, no trace)."""
    settings = ServeSettings(role, config, host, port, db, store)
    try:
        if workers < 1:
            raise ValueError("--workers must be at least 1")
        location = _store_location(settings)
        if workers > 1 and not (location and is_shared(location)):
            print(
                f"aauth serve {role}: warning: {workers} workers without a shared store; "
                "state in SQLite is shared, but long-poll wake-ups are not (use --store redis://…)",
                file=sys.stderr,
            )
        app = build_app(settings)  # every mistake is reported before anything listens
        if settings.config is None:
            print(
                f"aauth: development configuration (http://{host}:{port}, loopback http allowed)",
                file=sys.stderr,
            )
    except ValueError as exc:
        print(f"aauth serve {role}: {exc}", file=sys.stderr)
        return 2
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
        return 0
    os.environ[_SETTINGS_ENV] = json.dumps(asdict(settings))
    uvicorn.run(
        "aauth.server.roles:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
    )
    return 0
