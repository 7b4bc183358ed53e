"""Run an ASGI app with uvicorn on a loopback ephemeral port, in a background thread.

Demos and tests use this to talk to real servers over real HTTP without fixed ports.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn

HTTP_OPTIONS: dict[str, Any] = {"http": "h11", "h11_max_incomplete_event_size": 128 * 1024}
"""uvicorn's HTTP/1.1 settings for every participant. h11, pinned: it hands a request with an
unknown method or odd bytes in a header to the application, which answers with problem+json
and an AAuth error code; httptools (chosen automatically when ``uvicorn[standard]`` is
installed) answers those itself with a bare ``400 Bad Request``. A header block up to 128 KiB
is buffered whole, so the application judges it whatever way it arrives in (h11's default,
16 KiB, answers a larger block split across reads with that bare 400); beyond that, uvicorn
refuses it as before."""

__all__ = ["RunningServer"]


class RunningServer:
    """A context manager: ``with RunningServer(app) as server: httpx.get(server.url)``."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self._app = app
        self._host = host
        # proto=IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections; without it a
        # response written in two parts waits ~40 ms for the peer's delayed ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", access_log=False, **HTTP_OPTIONS
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"uvicorn:{self.port}")

    @classmethod
    def with_own_url(cls, factory: Callable[[str], Any], host: str = "127.0.0.1") -> RunningServer:
        """A server whose app must know its own URL: participants' identifiers carry the
        ephemeral port, so the app is built by ``factory(url)`` once the port is bound."""
        server = cls.reserved(host)
        return server.mount(factory(server.url))

    @classmethod
    def reserved(cls, host: str = "127.0.0.1") -> RunningServer:
        """A server with its port bound and no app yet: participants that must know each
        other's URLs (a resource and its access server) are reserved first, then mounted."""
        return cls(None, host)

    def mount(self, app: Any) -> RunningServer:
        """Set the app of a :meth:`reserved` server before it starts."""
        self._server.config.app = app
        return self

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def _run(self) -> None:
        self._server.run(sockets=[self._socket])

    def start(self, timeout: float = 10.0) -> RunningServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> RunningServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
