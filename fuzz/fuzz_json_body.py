"""JSON bodies a participant reads: the person server's token request, a resource's
``read_json_object``, and the strict parser behind every metadata/JWKS fetch. Whatever the
bytes (bad UTF-8, NaN, deep nesting, duplicate members, wrong types), the answer is a value
or a library error, never another exception."""

from __future__ import annotations

import asyncio
import contextlib

from _harness import attempt, instrumented, main

with instrumented("aauth.person.request_body", "aauth.resource.dependency", "aauth.egress"):
    from starlette.requests import Request

    from aauth.egress import _json_object
    from aauth.person.request_body import TokenRequestBody
    from aauth.resource.dependency import AAuthHTTPException, read_json_object

SEEDS = [
    b'{"resource_token": "eyJ.e30.AA", "capabilities": ["interaction"], "device": "laptop"}',
    b'{"resource_token": "x", "prompt": "consent login", "platform": "macos", "tenant": "t"}',
    b'{"resource_token": "x", "justification": "line one\\nline two", "login_hint": "a@b"}',
    b'{"a": NaN, "b": 1e999, "c": "\\ud800"}',
    b"[" * 64 + b"]" * 64,
    b'{"issuer": "https://ap.example", "jwks_uri": "https://ap.example/jwks.json"}',
    b'{"a": 1, "a": 2}',
]


def _request(body: bytes) -> Request:
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "headers": [], "path": "/", "query_string": b""}
    return Request(scope, receive)


async def _read(body: bytes) -> None:
    with contextlib.suppress(AAuthHTTPException):
        await read_json_object(_request(body))


def target(data: bytes) -> None:
    attempt(TokenRequestBody.parse, data)
    attempt(_json_object, data, "https://ap.example/")
    asyncio.run(_read(data))


if __name__ == "__main__":
    main(target, SEEDS)
