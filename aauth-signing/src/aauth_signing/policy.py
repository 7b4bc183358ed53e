"""What a verifier demands of a signature, as one immutable object.

The defaults are the AAuth profile (protocol-10 §C): ``@method``, ``@authority``, ``@path``
and ``signature-key`` always covered, ``@query`` when there is a query, ``content-digest``
when there is a body, ``created`` within 60 seconds. ``signature-key`` coverage cannot be
switched off: without it a key or identity could be swapped under a valid signature.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .algorithms import ALGORITHMS
from .errors import InvalidRequest, InvalidSignature, SignatureError

__all__ = ["ALL_SCHEMES", "VerificationPolicy"]

ALL_SCHEMES = ("jwt", "hwk", "jkt-jwt", "jwks_uri", "jwks", "x509")
_AAUTH_ALGORITHMS = ("Ed25519", "ES256")
_ALL_ASYMMETRIC = (
    "Ed25519",
    "ES256",
    "ES384",
    "PS256",
    "PS384",
    "PS512",
    "RS256",
    "RS384",
    "RS512",
)


@dataclass(frozen=True)
class VerificationPolicy:
    """Requirements for accepting a signature.

    ``label``/``tag`` select which signature to verify when a message carries several; with
    neither, the first label that has a ``Signature-Key`` member is used.
    ``covered_when_present`` lists fields that must be covered whenever the request carries
    them (AAuth: ``authorization``, ``aauth-mission``).
    """

    required_components: tuple[str, ...] = ("@method", "@authority", "@path", "signature-key")
    covered_when_present: tuple[str, ...] = ("authorization", "aauth-mission")
    require_query: bool = True
    require_content_digest: bool = True
    required_params: tuple[str, ...] = ("created",)
    max_age: int = 60
    max_future_skew: int = 60
    accepted_algorithms: tuple[str, ...] = _AAUTH_ALGORITHMS
    accepted_schemes: tuple[str, ...] = ALL_SCHEMES
    label: str | None = None
    tag: str | None = None
    ignore_alg_parameter: bool = True
    allow_legacy_keys: bool = False
    jwt_leeway: int = 60
    missing_headers_error: type[SignatureError] = InvalidRequest
    clock: Callable[[], float] = field(default=time.time, compare=False)

    def __post_init__(self) -> None:
        """Refuse an accepted list that ``Accept-Signature-Alg`` could not honestly send
        (V-18): ``none``, unknown names, and — whenever a ``Signature-Key`` scheme is
        accepted — symmetric algorithms, which a public key can never verify."""
        for name in self.accepted_algorithms:
            alg = ALGORITHMS.get(name)
            if alg is None:
                raise ValueError(f"accepted_algorithms: {name!r} is not a supported algorithm")
            if self.accepted_schemes and not alg.asymmetric:
                raise ValueError(
                    f"accepted_algorithms: {name!r} is symmetric; Signature-Key schemes need "
                    "asymmetric algorithms"
                )

    @classmethod
    def aauth(cls, **overrides: object) -> VerificationPolicy:
        """The AAuth profile: only the ``jwt`` scheme, Ed25519/ES256, 60 s window."""
        return replace(cls(accepted_schemes=("jwt",)), **overrides)  # type: ignore[arg-type]

    @classmethod
    def generic(cls, **overrides: object) -> VerificationPolicy:
        """Plain signature-key-08: every scheme and asymmetric algorithm, errors per -08."""
        base = cls(
            accepted_algorithms=_ALL_ASYMMETRIC,
            missing_headers_error=InvalidSignature,
            ignore_alg_parameter=False,
        )
        return replace(base, **overrides)  # type: ignore[arg-type]

    def with_components(self, *names: str) -> VerificationPolicy:
        """A copy that also requires ``names`` (e.g. a resource's additional components)."""
        extra = tuple(n for n in names if n not in self.required_components)
        return replace(self, required_components=self.required_components + extra)
