"""The participants' uvicorn settings (``HTTP_OPTIONS``): requests that h11 can parse reach
the application, which answers with an AAuth error code, however they arrive."""

from __future__ import annotations

import socket
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from aauth.server.running import RunningServer


async def seen(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"app saw {len(request.headers.get('x-big', ''))} bytes")


def exchange(port: int, parts: list[bytes]) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for part in parts:
            conn.sendall(part)
            time.sleep(0.05)  # separate reads at the server: nothing to wait on from here
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_a_large_header_block_split_across_reads_reaches_the_application() -> None:
    app = Starlette(routes=[Route("/", seen)])
    big = b"a" * 65536
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Big: "
    with RunningServer(app) as server:
        answer = exchange(server.port, [head + big[:30000], big[30000:] + b"\r\n\r\n"])
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert answer.endswith(b"app saw 65536 bytes")


def test_an_unknown_method_reaches_the_application() -> None:
    app = Starlette(routes=[Route("/", seen)])
    with RunningServer(app) as server:
        answer = exchange(server.port, [b"FOO / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"])
    assert answer.startswith(b"HTTP/1.1 405"), answer[:200]  # Starlette's, not uvicorn's 400
