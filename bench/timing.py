"""Timing shared by the benchmarks: the library and its baselines measured alternately, best
of N, and every figure reported against both Ed25519 floors.

Alternating the functions in one loop means all of them see the same machine load, so the
ratios are stable even when the absolute figures are not. Time is this process's CPU time
(``time.process_time``): on a shared machine, time the scheduler gives to other work would
otherwise land on whichever function happened to be running. The two baselines are the raw
Ed25519 operation through ``cryptography`` (OpenSSL, what Python implementations usually build
on) and through libsodium (PyNaCl's ``crypto_sign_open``/``crypto_sign``, what aauth-signing
uses): the first says how we compare with the usual floor, the second how much our own code
adds on top of the operation it cannot skip.
"""

from __future__ import annotations

import time
import timeit
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.bindings import crypto_sign, crypto_sign_open, crypto_sign_seed_keypair

SODIUM_TARGET = 1.15
"""Each path may cost at most this multiple of its libsodium floor."""


def alternating(
    functions: Sequence[Callable[[], None]],
    operations: int,
    *,
    setup: Callable[[], None] = lambda: None,
    repeats: int = 15,
) -> list[float]:
    """µs per operation for each of ``functions``: each the fastest of ``repeats`` runs, where
    one run of a callable performs ``operations`` operations. The functions take turns."""
    times: list[list[float]] = [[] for _ in functions]
    for _ in range(repeats):
        setup()
        for function, measured in zip(functions, times, strict=True):
            measured.append(timeit.Timer(function, timer=time.process_time).timeit(number=1))
    return [min(measured) / operations * 1e6 for measured in times]


class RawEd25519:
    """One Ed25519 key held both ways, for the raw baselines over given messages."""

    def __init__(self) -> None:
        self.private = Ed25519PrivateKey.generate()
        self.public = self.private.public_key()
        public, self._secret = crypto_sign_seed_keypair(self.private.private_bytes_raw())
        self._public = public

    def _signed(self, messages: Sequence[bytes]) -> list[tuple[bytes, bytes]]:
        memo: dict[bytes, bytes] = {}
        return [(memo.setdefault(m, self.private.sign(m)), m) for m in messages]

    def verify_openssl(self, messages: Sequence[bytes]) -> Callable[[], None]:
        """One cryptography verify of each message (repeat a message to verify it again)."""
        pairs, verify = self._signed(messages), self.public.verify

        def run() -> None:
            for signature, message in pairs:
                verify(signature, message)

        return run

    def verify_sodium(self, messages: Sequence[bytes]) -> Callable[[], None]:
        """One libsodium verify of each message."""
        pairs, public = self._signed(messages), self._public

        def run() -> None:
            for signature, message in pairs:
                crypto_sign_open(signature + message, public)

        return run

    def sign_openssl(self, messages: Sequence[bytes]) -> Callable[[], None]:
        sign = self.private.sign

        def run() -> None:
            for message in messages:
                sign(message)

        return run

    def sign_sodium(self, messages: Sequence[bytes]) -> Callable[[], None]:
        secret = self._secret

        def run() -> None:
            for message in messages:
                crypto_sign(message, secret)

        return run


def report(name: str, library: float, baseline: float, target: float, above: bool) -> str:
    """One result line for a comparison with a baseline other than Ed25519's floors;
    ``above`` is whether a ratio *above* ``target`` misses it."""
    ratio = library / baseline
    missed = ratio > target if above else ratio < target
    sign = "≤" if above else "≥"
    verdict = "  MISSES TARGET" if missed else ""
    return (
        f"{name:40s} {library:8.1f} µs  baseline {baseline:7.1f} µs  ratio {ratio:5.3f}"
        f"  (target {sign} {target}){verdict}"
    )


def report_floors(
    name: str, library: float, openssl: float, sodium: float, target: float, floor: int = 1
) -> tuple[str, bool]:
    """One result line, and whether a target was missed.

    ``openssl`` is one raw cryptography operation, the issue's unit (``target`` applies to
    ``library / openssl``); ``sodium`` is the libsodium floor of ``floor`` operations, which
    the path may exceed by at most :data:`SODIUM_TARGET`.
    """
    to_openssl, to_sodium = library / openssl, library / sodium
    missed = to_openssl > target or to_sodium > SODIUM_TARGET
    return (
        f"{name:36s} {library:7.1f} µs | cryptography {openssl:6.1f} µs: {to_openssl:5.3f}"
        f" (≤ {target:.2f}) | libsodium {floor}× {sodium:6.1f} µs: {to_sodium:5.3f}"
        f" (≤ {SODIUM_TARGET:.2f}){'  MISSES TARGET' if missed else ''}",
        missed,
    )
