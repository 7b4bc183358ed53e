"""aauth 0.3's framework-neutral request and response objects.

``aauth.AAuthRequest(method, authority, path, …)`` (0.3's call) builds a
:class:`LegacyAAuthRequest`, a subclass of the typed :class:`aauth.resource.AAuthRequest`,
so both calls work on the one public name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..resource.dependency import AAuthRequest
from . import warn_legacy_call

__all__ = ["AAuthResponse", "LegacyAAuthRequest", "is_legacy_request_call"]

_LEGACY_KEYWORDS = frozenset({"authority", "path", "query"})


def is_legacy_request_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether ``AAuthRequest(*args, **kwargs)`` is 0.3's ``(method, authority, path, …)``."""
    return bool(_LEGACY_KEYWORDS.intersection(kwargs)) or (
        len(args) >= 3 and isinstance(args[2], str)
    )


def _header(headers: Any, name: str, default: str | None) -> str | None:
    wanted = name.lower()
    items = headers.items() if hasattr(headers, "items") else headers
    for key, value in items:
        if key.lower() == wanted:
            return str(value)
    return default


class LegacyAAuthRequest(AAuthRequest):
    """0.3's mutable request: ``method``, ``authority``, ``path``, ``query``, ``headers``
    (a dict), ``body``; ``target_uri`` is rebuilt as ``https://authority/path?query``."""

    authority: str
    path: str
    query: str | None

    __setattr__ = object.__setattr__
    __delattr__ = object.__delattr__
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __init__(
        self,
        method: str,
        authority: str,
        path: str,
        query: str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> None:
        warn_legacy_call("AAuthRequest")
        # The typed base is a frozen dataclass; 0.3's request was a plain mutable object.
        set_ = object.__setattr__
        set_(self, "method", method.upper())
        set_(self, "authority", authority)
        set_(self, "path", path or "/")
        set_(self, "query", query)
        set_(self, "headers", headers or {})
        set_(self, "body", body)

    @property
    def target_uri(self) -> str:
        return f"https://{self.authority}{self.path}" + (f"?{self.query}" if self.query else "")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LegacyAAuthRequest:
        return cls(
            method=data["method"],
            authority=data["authority"],
            path=data.get("path", "/"),
            query=data.get("query"),
            headers=data.get("headers"),
            body=data.get("body"),
        )

    @classmethod
    def from_fastapi_request(cls, request: Any) -> LegacyAAuthRequest:
        """From a FastAPI/Starlette request; ``body`` is set only when the framework has
        already read it (read it with ``await request.body()`` otherwise, as in 0.3)."""
        url = urlsplit(str(request.url))
        return cls(
            method=request.method,
            authority=url.netloc,
            path=url.path,
            query=url.query or None,
            headers=dict(request.headers),
            body=getattr(request, "_body", None),
        )

    def get_header(self, name: str, default: str | None = None) -> str | None:
        """The header ``name`` (any case), or ``default``."""
        return _header(self.headers, name, default)

    def __repr__(self) -> str:
        return (
            f"AAuthRequest(method={self.method!r}, authority={self.authority!r}, "
            f"path={self.path!r}, query={self.query!r})"
        )


class AAuthResponse:
    """0.3's response: ``status_code``, ``headers`` (a dict), ``body``."""

    def __init__(
        self,
        status_code: int,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> None:
        self.status_code = status_code
        self.headers = headers or {}
        self.body = body

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AAuthResponse:
        return cls(data["status_code"], data.get("headers"), data.get("body"))

    @classmethod
    def from_fastapi_response(cls, response: Any) -> AAuthResponse:
        return cls(response.status_code, dict(response.headers), getattr(response, "body", None))

    def get_header(self, name: str, default: str | None = None) -> str | None:
        return _header(self.headers, name, default)

    def __repr__(self) -> str:
        return f"AAuthResponse(status_code={self.status_code}, headers={len(self.headers)} headers)"
