"""The whole verifier: a request whose method, path, body and three signature headers are
fuzzed goes through ``verify_request`` under the AAuth and the generic policies."""

from __future__ import annotations

from _harness import instrumented, main

with instrumented("aauth_signing", "http_sf"):
    from aauth_signing import (
        HttpRequest,
        Hwk,
        SigningKey,
        VerificationPolicy,
        sign_request,
        verify_request,
    )

NOW = 1_767_225_600
POLICIES = (
    VerificationPolicy.aauth(accepted_schemes=("hwk", "jkt-jwt"), clock=lambda: NOW),
    VerificationPolicy.generic(clock=lambda: NOW),
    VerificationPolicy.generic(allow_legacy_keys=True, label="sig", clock=lambda: NOW),
)
_KEY = SigningKey.generate("Ed25519")


def _seed(method: str, target: str, body: bytes | None) -> bytes:
    request = HttpRequest(method, target, {"content-type": "application/json"}, body)
    added = sign_request(request, _KEY, Hwk.from_public_key(_KEY.public_key()), created=NOW)
    fields = [method, target, added["Signature-Input"], added["Signature"]]
    fields += [added["Signature-Key"], added.get("Content-Digest", ""), (body or b"").decode()]
    return "\n".join(fields).encode("latin-1")


SEEDS = [
    _seed("GET", "https://api.example/items", None),
    _seed("POST", "https://api.example/items?x=1", b'{"a": 1}'),
]


def target(data: bytes) -> None:
    policy = POLICIES[data[-1] % len(POLICIES)] if data else POLICIES[0]
    lines = data.decode("latin-1").split("\n")
    lines += [""] * (7 - len(lines))
    method, uri, signature_input, signature, signature_key, digest, body = lines[:7]
    headers = {
        "signature-input": signature_input,
        "signature": signature,
        "signature-key": signature_key,
        "content-type": "application/json",
    }
    if digest:
        headers["content-digest"] = digest
    request = HttpRequest(method or "GET", uri or "https://api.example/", headers, body.encode())
    verify_request(request, policy)


if __name__ == "__main__":
    main(target, SEEDS)
