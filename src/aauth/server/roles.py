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
from typing import TYPE_CHECKING, Any, TypeVar

import uvicorn

from ..store import STORE_ENV, StoreUnavailable, is_shared

__all__ = ["ROLES", "ServeSettings", "build_app", "serve_role", "worker_app"]

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

C = TypeVar("C", bound="DataclassInstance")

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


def _with_store(config: C, settings: ServeSettings) -> C:
    """``config`` with its ``store`` set from ``--store``, else ``$AAUTH_STORE``, else
    ``--db``; unchanged when none is given (the configuration decides)."""
    location = settings.store or os.environ.get(STORE_ENV) or settings.db
    return config if location is None else replace(config, store=location)


def _serving(app: Any, location: str) -> Any:
    """``app``, noting where its state lives (for the ``--workers`` check)."""
    app.state.store_location = location
    return app


def _shares_state(app: Any) -> bool:
    """Whether the app's store is one several processes can share (Redis)."""
    return is_shared(app.state.store_location)


def _resource(settings: ServeSettings) -> Any:
    from .resource_server import ResourceServerConfig, create_resource_server

    config = ResourceServerConfig.load(settings.config or _dev_config(settings))
    config = _with_store(config, settings)
    return _serving(create_resource_server(config), config.store)


def _agent_provider(settings: ServeSettings) -> Any:
    from .agent_provider import AgentProviderConfig, create_agent_provider

    source: Any = settings.config or {**_dev_config(settings), "agents": {}}
    config = AgentProviderConfig.load(source)
    config = _with_store(config, settings)
    return _serving(create_agent_provider(config), config.store or config.db)


def _person(settings: ServeSettings) -> Any:
    from ..person.config import PersonServerConfig
    from .person_server import create_person_server

    if settings.config is None:
        raise ValueError("the person server needs a --config naming its people")
    config = PersonServerConfig.load(settings.config)
    config = _with_store(config, settings)
    return _serving(create_person_server(config), config.store_location)


def _access(settings: ServeSettings) -> Any:
    from ..access.config import AccessServerConfig
    from .access_server import create_access_server

    if settings.config is None:
        raise ValueError("the access server needs a --config naming its resources and trust list")
    config = AccessServerConfig.load(settings.config)
    config = _with_store(config, settings)
    return _serving(create_access_server(config), config.store_location)


ROLES: dict[str, Callable[[ServeSettings], Any]] = {
    "resource": _resource,
    "agent-provider": _agent_provider,
    "person": _person,
    "access": _access,
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
        app = build_app(settings)  # every mistake is reported before anything listens
        if workers > 1 and not _shares_state(app):
            print(
                f"aauth serve {role}: warning: {workers} workers without a shared store; "
                "state in SQLite is shared, but long-poll wake-ups are not (use --store redis://…)",
                file=sys.stderr,
            )
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
