"""``aauth serve ROLE``: load a role's configuration and run its service.

Without ``--config`` on a loopback host, a development configuration is used: the identifier
is ``http://HOST:PORT`` with ``allow_loopback_http`` on. Anything else needs a config file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["ROLES", "serve_role"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _dev_config(host: str, port: int) -> dict[str, Any]:
    if host not in _LOOPBACK:
        raise ValueError("a --config file is required unless serving on a loopback address")
    authority = f"[{host}]" if ":" in host else host
    print(
        f"aauth: development configuration (http://{authority}:{port}, loopback http allowed)",
        file=sys.stderr,
    )
    return {"identifier": f"http://{authority}:{port}", "allow_loopback_http": True}


def _resource(config: str | None, host: str, port: int, db: str | None) -> None:
    from .resource_server import ResourceServerConfig, serve

    serve(ResourceServerConfig.load(config or _dev_config(host, port)), host, port)


def _agent_provider(config: str | None, host: str, port: int, db: str | None) -> None:
    from .agent_provider import AgentProviderConfig, serve

    source: Any = config or {**_dev_config(host, port), "agents": {}}
    serve(AgentProviderConfig.load(source), host, port)


def _person(config: str | None, host: str, port: int, db: str | None) -> None:
    from ..person.config import PersonServerConfig
    from .person_server import serve

    if config is None:
        raise ValueError("the person server needs a --config naming its people")
    loaded = PersonServerConfig.load(config)
    if db is not None:
        loaded = loaded.with_db(db)
    serve(loaded, host, port)


def _access(config: str | None, host: str, port: int, db: str | None) -> None:
    from ..access.config import AccessServerConfig
    from .access_server import serve

    if config is None:
        raise ValueError("the access server needs a --config naming its resources and trust list")
    loaded = AccessServerConfig.load(config)
    if db is not None:
        loaded = loaded.with_db(db)
    serve(loaded, host, port)


ROLES: dict[str, Callable[[str | None, str, int, str | None], None]] = {
    "resource": _resource,
    "agent-provider": _agent_provider,
    "person": _person,
    "access": _access,
}


def serve_role(role: str, *, config: str | None, host: str, port: int, db: str | None) -> int:
    """Run ``role`` until interrupted; 2 for a configuration problem (reported, no trace)."""
    try:
        ROLES[role](config, host, port, db)
    except ValueError as exc:
        print(f"aauth serve {role}: {exc}", file=sys.stderr)
        return 2
    return 0
