"""Interoperability with an independent implementation, ``http-message-signatures`` 3.x.

Signatures made here verify there and the other way round, for Ed25519 and ES256 (raw
``r||s``), and both build the same signature base for any request over plain RFC 9421
components. That library has no notion of ``Signature-Key``; it still signs the
``signature-key`` header as an ordinary field, so an ``hwk`` request it signs verifies
through ``verify_request`` here — the key itself is taken from ``Signature-Key``.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest
from aauth_signing import (
    Component,
    HttpRequest,
    Hwk,
    InvalidSignature,
    SignatureParams,
    SigningKey,
    VerificationPolicy,
    jwk_thumbprint,
    sign,
    signature_base,
    verify,
    verify_request,
)
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)
from http_message_signatures import (
    InvalidSignature as OracleInvalidSignature,
)
from hypothesis import given, settings
from hypothesis import strategies as st


class OracleRequest:
    """The request shape http-message-signatures reads (``method``, ``url``, ``headers``)."""

    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers = dict(headers)


ALGORITHMS: dict[str, Any] = {"Ed25519": algorithms.ED25519, "ES256": algorithms.ECDSA_P256_SHA256}
COMPONENTS = ["@method", "@authority", "@path", "@query", "date", "content-type"]
URL = "https://api.example/orders/7?expand=items&sort=-date"
HEADERS = {"Date": "Tue, 20 Apr 2021 02:07:55 GMT", "Content-Type": "application/json"}


def _resolver(key: SigningKey, key_id: str = "k1") -> MappingKeyResolver:
    return MappingKeyResolver(
        public_keys={key_id: key.public_key().key}, private_keys={key_id: key.key}
    )


@pytest.mark.parametrize("alg", sorted(ALGORITHMS))
def test_signed_here_verified_there(alg: str) -> None:
    key = SigningKey.generate(alg)
    request = HttpRequest("GET", URL, HEADERS)
    added = sign(request, key, COMPONENTS, label="sig", keyid="k1", include_alg=True)
    oracle = OracleRequest("GET", URL, {**HEADERS, **added})
    verifier = HTTPMessageVerifier(signature_algorithm=ALGORITHMS[alg], key_resolver=_resolver(key))
    (result,) = verifier.verify(oracle)
    assert result.label == "sig"
    assert list(result.covered_components)[:-1] == [f'"{c}"' for c in COMPONENTS]
    # The negative control: a changed covered header fails there too.
    oracle.headers["Content-Type"] = "text/plain"
    with pytest.raises(OracleInvalidSignature):
        verifier.verify(oracle)


@pytest.mark.parametrize("alg", sorted(ALGORITHMS))
def test_signed_there_verified_here(alg: str) -> None:
    key = SigningKey.generate(alg)
    oracle = OracleRequest("GET", URL, HEADERS)
    signer = HTTPMessageSigner(signature_algorithm=ALGORITHMS[alg], key_resolver=_resolver(key))
    signer.sign(oracle, key_id="k1", covered_component_ids=COMPONENTS, label="sig")
    request = HttpRequest("GET", URL, oracle.headers)
    verified = verify(request, key.public_key())  # the oracle includes alg: checked here
    assert verified.params.get("alg") == ALGORITHMS[alg].algorithm_id
    assert verified.covered == frozenset(COMPONENTS)
    with pytest.raises(InvalidSignature):
        verify(HttpRequest("GET", URL.replace("7", "8"), oracle.headers), key.public_key())


@pytest.mark.parametrize("alg", sorted(ALGORITHMS))
def test_an_hwk_request_signed_there_verifies_through_signature_key(alg: str) -> None:
    key = SigningKey.generate(alg)
    member = Hwk.from_public_key(key.public_key())
    headers = {**HEADERS, "Signature-Key": f"sig={member.serialize()}"}
    oracle = OracleRequest("GET", URL, headers)
    thumbprint = jwk_thumbprint(member.jwk)  # keyid, when sent, must name the same key
    resolver = _resolver(key, thumbprint)
    signer = HTTPMessageSigner(signature_algorithm=ALGORITHMS[alg], key_resolver=resolver)
    signer.sign(
        oracle,
        key_id=thumbprint,
        covered_component_ids=["@method", "@authority", "@path", "@query", "signature-key"],
        label="sig",
        include_alg=False,
    )
    policy = VerificationPolicy.aauth(accepted_schemes=("hwk",))
    verified = verify_request(HttpRequest("GET", URL, oracle.headers), policy)
    assert verified.thumbprint == jwk_thumbprint(member.jwk)


# Any simple request: both implementations build the same signature base.

hosts = st.from_regex(r"[a-zA-Z][a-zA-Z0-9]{0,8}\.example", fullmatch=True)
ports = st.sampled_from(["", ":443", ":8443", ":80"])
segments = st.from_regex(r"[a-zA-Z0-9._~!$&'()*+,;=:@-]{0,8}|%[0-9A-F]{2}", fullmatch=True)
paths = st.lists(segments, min_size=1, max_size=4).map(lambda s: "/" + "/".join(s))
query_names = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True)
query_values = st.from_regex(r"([a-zA-Z0-9._~*-]|%[0-9A-F]{2}|\+){0,8}", fullmatch=True)
queries = st.dictionaries(query_names, query_values, max_size=4)
field_values = st.from_regex(r"[!-~]([ -~]{0,20}[!-~])?", fullmatch=True)
field_names = st.sampled_from(["date", "content-type", "x-custom", "accept", "x-trace-id"])


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["GET", "POST", "DELETE"]),
    st.sampled_from(["https", "http"]),
    hosts,
    ports,
    paths,
    queries,
    st.dictionaries(field_names, field_values, max_size=4),
    st.data(),
)
def test_signature_bases_agree(
    method: str,
    scheme: str,
    host: str,
    port: str,
    path: str,
    query: dict[str, str],
    fields: dict[str, str],
    data: st.DataObject,
) -> None:
    url = f"{scheme}://{host}{port}{path}"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    derived = ["@method", "@authority", "@scheme", "@path", "@query", "@request-target"]
    derived += [f'"@query-param";name="{name}"' for name in query]
    chosen = data.draw(st.lists(st.sampled_from(derived + sorted(fields)), unique=True, max_size=8))
    created = int(time.time())
    oracle = HTTPMessageSigner(signature_algorithm=algorithms.ED25519)
    prepared = oracle.prepare(
        OracleRequest(method, url, fields),
        key_id="k1",
        created=datetime.datetime.fromtimestamp(created),
        include_alg=False,
        covered_component_ids=chosen,
    )
    components = tuple(Component.parse(c if c.startswith('"') else f'"{c}"') for c in chosen)
    params = SignatureParams(components, (("created", created), ("keyid", "k1")))
    assert signature_base(HttpRequest(method, url, fields), params) == prepared.signature_base
