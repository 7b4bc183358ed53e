"""Phase 1: pseudonymous access. The agent signs with an inline key (``hwk``); the resource
verifies the signature with no discovery and knows the caller only by key thumbprint.
"""

from __future__ import annotations

import httpx
from aauth_signing import (
    HttpRequest,
    Hwk,
    RequestSigner,
    SignatureError,
    SigningKey,
    VerificationPolicy,
    verify_request,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..server.running import RunningServer
from .printer import Printer

POLICY = VerificationPolicy.generic(accepted_schemes=("hwk",))


def _target_uri(request: Request) -> str:
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    uri = f"{request.url.scheme}://{request.headers.get('host', '')}{raw_path.decode('latin-1')}"
    return uri + (f"?{query.decode('latin-1')}" if query else "")


async def whoami(request: Request) -> Response:
    body = await request.body()
    message = HttpRequest(request.method, _target_uri(request), request.headers.items(), body)
    if "signature" not in request.headers:
        return JSONResponse(
            {"error": "invalid_request", "detail": "sign the request"},
            status_code=401,
            headers={"Accept-Signature-Scheme": "hwk"},
        )
    try:
        verified = verify_request(message, POLICY)
    except SignatureError as exc:
        return JSONResponse(exc.problem(), status_code=exc.status, headers=exc.response_headers())
    return JSONResponse({"caller": f"jkt:{verified.thumbprint}", "scheme": verified.scheme})


def app() -> Starlette:
    return Starlette(routes=[Route("/whoami", whoami)])


def run(printer: Printer) -> None:
    printer.title("Phase 1 — pseudonymous access with an inline key (hwk)")
    key = SigningKey.generate("Ed25519")
    signer = RequestSigner(key, Hwk.from_public_key(key.public_key()))
    with RunningServer(app()) as server, httpx.Client() as client:
        url = f"{server.url}/whoami"
        unsigned = client.get(url)
        printer.exchange(unsigned)
        if unsigned.status_code != 401:
            raise RuntimeError(f"expected 401 for an unsigned request, got {unsigned.status_code}")
        signed = client.get(url, headers=signer.sign("GET", url))
        printer.exchange(signed)
        if signed.status_code != 200:
            raise RuntimeError(f"signed request failed: {signed.status_code} {signed.text}")
        printer.note(f"resource identified the caller as {signed.json()['caller']}")
