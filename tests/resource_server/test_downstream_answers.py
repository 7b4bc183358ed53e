"""What a downstream resource answers an intermediary is relayed as strict JSON (§D.4): a
body with ``NaN``, a lone surrogate or nesting past any real answer reaches the caller as
text (or, on a downstream error, in a 502 ``downstream_error``), never as a 500 of the
intermediary (V-41). Both are real servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aauth.keys import KeySet
from aauth.keysource import StaticKeySource
from aauth.server.resource_server import ResourceServerConfig, create_resource_server
from aauth.server.running import RunningServer

from ..security.conftest import AP, PS, LiveResource

_ANSWERS = {
    "nan": b'{"items": NaN}',
    "surrogate": b'{"items": "\\ud800"}',
    "deep": b"[" * 5000 + b"]" * 5000,
}


@pytest.fixture(scope="module")
def downstream() -> Iterator[str]:
    """A resource that answers every call at once (no auth needed) with a broken body."""

    async def answer(request: Request) -> Response:
        kind = request.path_params["kind"]
        body = _ANSWERS.get(kind, _ANSWERS["deep"])
        return Response(body, 500 if kind == "failed" else 200, media_type="application/json")

    with RunningServer(Starlette(routes=[Route("/{kind}", answer)])) as server:
        yield server.url


@pytest.mark.parametrize("kind", [*sorted(_ANSWERS), "failed"])
def test_v41_a_broken_downstream_body_is_relayed_as_text_not_a_500(
    downstream: str, kind: str
) -> None:
    ap, ps = KeySet.generate(), KeySet.generate()
    keys = StaticKeySource({AP: ap.jwks(), PS: ps.jwks()})

    def intermediary(url: str) -> Starlette:
        config = ResourceServerConfig(
            identifier=url,
            trusted_issuers=(PS,),
            downstream_url=f"{downstream}/{kind}",
            allow_loopback_http=True,
        )
        return create_resource_server(config, key_source=keys)

    with RunningServer.with_own_url(intermediary) as server:
        signer, auth_token = LiveResource(server.url, ap, ps).agent()
        url = f"{server.url}/chained"
        response = httpx.get(url, headers=signer.sign("GET", url, token=auth_token))
    if kind == "failed":
        assert response.status_code == 502, response.text
        assert response.json()["error"] == "downstream_error"
    else:
        assert response.status_code == 200, response.text
        assert isinstance(response.json()["text"], str)
