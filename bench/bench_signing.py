"""How much aauth-signing adds on top of the raw Ed25519 operation, for an ``hwk`` GET.

Prints absolute times (µs per operation, best of several alternating repeats) and the
ratios ``RequestSigner.sign / raw sign`` and ``verify_request / raw verify``; the target
for both is ≤ 1.10 and the exit status is 1 when either is above it. Each verified request
is a fresh HttpRequest (nothing memoised on it carries over); requests cycle through 64
paths and 60 ``created`` values, as a server sees them from one client (so the bounded
``hwk`` and ``Signature-Input`` memos are warm, the per-request work is not). The raw
baselines sign and verify signature bases of the same size with the bare private/public key.

Run: ``.venv/bin/python bench/bench_signing.py``
"""

from __future__ import annotations

import itertools
import time

from aauth_signing import (
    HttpRequest,
    Hwk,
    RequestSigner,
    SigningKey,
    VerificationPolicy,
    sign_request,
    verify_request,
)
from timing import alternating

PATHS = 64
REPEATS = 15
NUMBER = 2000
TARGET = 1.10


def main() -> int:
    key = SigningKey.generate("Ed25519")
    private = key.key
    public = private.public_key()  # type: ignore[union-attr]
    hwk = Hwk.from_public_key(key.public_key())
    signer = RequestSigner(key, hwk)
    uris = [f"https://api.example/v1/items/{n}" for n in range(PATHS)]

    # Signing: RequestSigner.sign vs the bare private-key sign over an equivalent base.
    targets = list(itertools.islice(itertools.cycle(uris), NUMBER))
    sample = signer.sign("GET", targets[0])
    bases = [
        (
            f'"@method": GET\n"@authority": api.example\n"@path": {uri[19:]}\n'
            f'"signature-key": {sample["Signature-Key"]}\n"@signature-params": '
            f'("@method" "@authority" "@path" "signature-key");created={int(time.time())}'
        ).encode("ascii")
        for uri in targets
    ]

    def sign_library() -> None:
        for uri in targets:
            signer.sign("GET", uri)

    def sign_raw() -> None:
        for base in bases:
            private.sign(base)  # type: ignore[union-attr]

    # Verification: fresh requests signed at varying created times within the window.
    policy = VerificationPolicy.generic(accepted_schemes=("hwk",))
    now = int(time.time())
    signed = [
        (uri, sign_request(HttpRequest("GET", uri), key, hwk, created=now - 30 + n % 60))
        for n, uri in enumerate(targets)
    ]
    raw_pairs = [(private.sign(base), base) for base in bases]  # type: ignore[union-attr]
    requests: list[HttpRequest] = []

    def fresh_requests() -> None:
        requests[:] = [HttpRequest("GET", uri, headers) for uri, headers in signed]

    def verify_library() -> None:
        for request in requests:
            verify_request(request, policy)

    def verify_raw() -> None:
        for signature, base in raw_pairs:
            public.verify(signature, base)

    fresh_requests()
    verify_library()  # warm the hwk cache, as a server seeing this client again would have
    results = [
        ("sign", *alternating(sign_library, sign_raw, NUMBER, repeats=REPEATS)),
        (
            "verify",
            *alternating(verify_library, verify_raw, NUMBER, setup=fresh_requests, repeats=REPEATS),
        ),
    ]
    failed = False
    for name, library, raw in results:
        ratio = library / raw
        failed |= ratio > TARGET
        verdict = "  ABOVE TARGET" if ratio > TARGET else ""
        print(
            f"{name:6}  aauth-signing {library:7.2f} µs   raw Ed25519 {raw:7.2f} µs   "
            f"ratio {ratio:.3f}  (target ≤ {TARGET:.2f}){verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
