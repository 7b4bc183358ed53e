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
import signal
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import uvicorn

from ..store import STORE_ENV, StoreUnavailable, is_shared
from .access_log import AccessLog, logging_config
from .running import HTTP_OPTIONS

__all__ = ["ROLES", "Built", "ServeSettings", "build", "build_app", "serve_role", "worker_app"]

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


@dataclass(frozen=True)
class Built:
    """A role's ASGI app (access log included) and the identifier it serves as."""

    app: Any
    identifier: str
    store: str
    """Where its state lives (a SQLite file, ``:memory:`` or a ``redis://`` URL)."""


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


def _resource(settings: ServeSettings) -> Built:
    from .resource_server import ResourceServerConfig, create_resource_server

    config = ResourceServerConfig.load(settings.config or _dev_config(settings))
    config = _with_store(config, settings)
    return Built(create_resource_server(config), config.identifier, config.store)


def _agent_provider(settings: ServeSettings) -> Built:
    from .agent_provider import AgentProviderConfig, create_agent_provider

    source: Any = settings.config or {**_dev_config(settings), "agents": {}}
    config = AgentProviderConfig.load(source)
    config = _with_store(config, settings)
    return Built(create_agent_provider(config), config.identifier, config.store or config.db)


def _person(settings: ServeSettings) -> Built:
    from ..person.config import PersonServerConfig
    from .person_server import create_person_server

    if settings.config is None:
        raise ValueError("the person server needs a --config naming its people")
    config = PersonServerConfig.load(settings.config)
    config = _with_store(config, settings)
    return Built(create_person_server(config), config.identifier, config.store_location)


def _access(settings: ServeSettings) -> Built:
    from ..access.config import AccessServerConfig
    from .access_server import create_access_server

    if settings.config is None:
        raise ValueError("the access server needs a --config naming its resources and trust list")
    config = AccessServerConfig.load(settings.config)
    config = _with_store(config, settings)
    return Built(create_access_server(config), config.identifier, config.store_location)


ROLES: dict[str, Callable[[ServeSettings], Built]] = {
    "resource": _resource,
    "agent-provider": _agent_provider,
    "person": _person,
    "access": _access,
}


def build(settings: ServeSettings) -> Built:
    """The role's app, logging each request; ValueError for a configuration problem, a
    file that cannot be created (a missing folder) or a store that cannot be opened."""
    try:
        built = ROLES[settings.role](settings)
    except StoreUnavailable as exc:
        raise ValueError(exc.description) from None
    except OSError as exc:
        name = f"{exc.filename}: " if exc.filename else ""
        raise ValueError(f"cannot create {name}{exc.strerror} (does the folder exist?)") from None
    except sqlite3.Error as exc:
        raise ValueError(f"cannot open the database: {exc} (does its folder exist?)") from None
    return replace(built, app=AccessLog(built.app))


def build_app(settings: ServeSettings) -> Any:
    """The ASGI app for ``settings``; ValueError for a configuration problem."""
    return build(settings).app


def worker_app() -> Any:
    """uvicorn's app factory in each worker process of ``--workers N``."""
    settings = ServeSettings(**json.loads(os.environ[_SETTINGS_ENV]))
    return build_app(settings)


def _identifier_port(identifier: str) -> int:
    parts = urlsplit(identifier)
    return parts.port or (443 if parts.scheme == "https" else 80)


def _announce(role: str, built: Built, host: str, port: int, workers: int) -> None:
    """What is listening where, and a warning when the identifier names another port (a
    proxy in front may explain it; otherwise clients will not reach this server)."""
    authority = f"[{host}]" if ":" in host else host
    extra = f", {workers} workers" if workers > 1 else ""
    print(
        f"aauth serve: {role} {built.identifier} listening on http://{authority}:{port}{extra}",
        file=sys.stderr,
    )
    named = _identifier_port(built.identifier)
    if named != port:
        print(
            f"aauth serve: warning: the identifier {built.identifier} names port {named} but "
            f"this server listens on {port}; clients reach it only through a proxy forwarding "
            f"{named} to {port}",
            file=sys.stderr,
        )


class _Server(uvicorn.Server):
    """uvicorn's server, remembering whether it was stopped by Ctrl+C (exit 130, like every
    other verb) rather than by SIGTERM."""

    interrupted = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.interrupted = self.interrupted or sig == signal.SIGINT
        super().handle_exit(sig, frame)


def serve_role(
    role: str,
    *,
    config: str | None,
    host: str,
    port: int,
    db: str | None = None,
    store: str | None = None,
    workers: int = 1,
    log_level: str = "info",
    log_format: str = "text",
) -> int:
    """Run ``role`` until interrupted; 2 for a configuration problem (one line, no trace)."""
    settings = ServeSettings(role, config, host, port, db, store)
    try:
        if workers < 1:
            raise ValueError("--workers must be at least 1")
        built = build(settings)  # every mistake is reported before anything listens
        if workers > 1 and not is_shared(built.store):
            print(
                f"aauth serve: warning: {workers} workers without a shared store; "
                "state in SQLite is shared, but long-poll wake-ups are not (use --store redis://…)",
                file=sys.stderr,
            )
    except ValueError as exc:
        print(f"aauth serve: error: {role}: {exc}", file=sys.stderr)
        return 2
    if settings.config is None:
        print("aauth serve: development configuration (loopback http allowed)", file=sys.stderr)
    _announce(role, built, host, port, workers)
    logs = logging_config(log_level, log_format)
    if workers == 1:
        server = _Server(
            uvicorn.Config(
                built.app,
                host=host,
                port=port,
                log_config=logs,
                access_log=False,
                **HTTP_OPTIONS,
            )
        )
        server.run()
        return 130 if server.interrupted else 0
    os.environ[_SETTINGS_ENV] = json.dumps(asdict(settings))
    uvicorn.run(
        "aauth.server.roles:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=logs,
        access_log=False,
        **HTTP_OPTIONS,
    )
    return 0
