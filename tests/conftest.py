"""Fixtures shared across the suite."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest


class SyncASGITransport(httpx.BaseTransport):
    """Drives an ASGI app in-process from a blocking ``httpx.Client``, one event loop per
    request (starlette's TestClient wants a package this suite does not install)."""

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self._inner.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return asyncio.run(send())


@pytest.fixture
def asgi_client() -> Iterator[Callable[..., httpx.Client]]:
    """``asgi_client(app, base_url)``: a blocking httpx.Client talking to ``app`` in-process."""
    clients: list[httpx.Client] = []

    def make(app: Any, base_url: str) -> httpx.Client:
        client = httpx.Client(transport=SyncASGITransport(app), base_url=base_url)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real ``redis-server`` on a free loopback port, with AOF on (see tests/redis_server.py)."""
    from .redis_server import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
