"""How much aauth-signing adds on top of the raw Ed25519 operation, for an ``hwk`` GET.

Prints absolute times (µs per operation, best of several alternating repeats) and the
ratios of ``RequestSigner.sign`` and ``verify_request`` to the raw operation through
``cryptography`` (targets ≤ 0.80 for sign, ≤ 0.70 for verify: libsodium's Ed25519 is that
much cheaper) and through libsodium (≤ 1.15, one operation each); the exit status is 1 when
any target is missed. Each verified request
is a fresh HttpRequest (nothing memoised on it carries over); requests cycle through 64
paths and 60 ``created`` values, as a server sees them from one client (so the bounded
``hwk`` and ``Signature-Input`` memos are warm, the per-request work is not). The raw
baselines sign and verify the same signature bases with a bare key.

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
from timing import RawEd25519, alternating, report_floors

PATHS = 64
REPEATS = 15
NUMBER = 2000
SIGN_TARGET = 0.80
VERIFY_TARGET = 0.70


def main() -> int:
    key = SigningKey.generate("Ed25519")
    hwk = Hwk.from_public_key(key.public_key())
    signer = RequestSigner(key, hwk)
    raw = RawEd25519()
    uris = [f"https://api.example/v1/items/{n}" for n in range(PATHS)]

    # Signing: RequestSigner.sign vs the bare private-key sign over the same bases.
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

    # Verification: fresh requests signed at varying created times within the window.
    policy = VerificationPolicy.generic(accepted_schemes=("hwk",))
    now = int(time.time())
    signed = [
        (uri, sign_request(HttpRequest("GET", uri), key, hwk, created=now - 30 + n % 60))
        for n, uri in enumerate(targets)
    ]
    requests: list[HttpRequest] = []

    def fresh_requests() -> None:
        requests[:] = [HttpRequest("GET", uri, headers) for uri, headers in signed]

    def verify_library() -> None:
        for request in requests:
            verify_request(request, policy)

    fresh_requests()
    verify_library()  # warm the hwk cache, as a server seeing this client again would have
    sign = alternating(
        [sign_library, raw.sign_openssl(bases), raw.sign_sodium(bases)], NUMBER, repeats=REPEATS
    )
    verify = alternating(
        [verify_library, raw.verify_openssl(bases), raw.verify_sodium(bases)],
        NUMBER,
        setup=fresh_requests,
        repeats=REPEATS,
    )
    missed = False
    for name, (library, openssl, sodium), target in (
        ("hwk sign (RequestSigner)", sign, SIGN_TARGET),
        ("hwk verify (verify_request)", verify, VERIFY_TARGET),
    ):
        line, miss = report_floors(name, library, openssl, sodium, target)
        missed |= miss
        print(line)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
