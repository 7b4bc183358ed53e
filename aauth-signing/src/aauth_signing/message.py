"""The HTTP messages that are signed and verified, independent of any HTTP library.

Field lines are kept in order and by line, because RFC 9421 §2.1 canonicalises a field that
arrives on several lines differently from one that arrives on one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple, Union, overload
from urllib.parse import urlsplit

from .errors import InvalidRequest

__all__ = ["Fields", "HeadersInput", "HttpRequest", "HttpResponse", "TargetURI", "split_target"]

HeadersInput = Union[Mapping[str, str], Iterable[tuple[str, str]], "Fields"]

_DEFAULT_PORTS = {"http": "80", "https": "443"}


class Fields:
    """Ordered, case-insensitive HTTP field lines (headers); never changed once built."""

    __slots__ = ("_index", "_lines")
    _lines: list[tuple[str, str]]
    _index: dict[str, list[str]]

    def __init__(self, lines: HeadersInput = ()) -> None:
        pairs: list[tuple[str, str]]
        if isinstance(lines, Fields):  # never changed once built, so it can be shared
            self._lines, self._index = lines._lines, lines._index
            return
        if isinstance(lines, Mapping):
            pairs = [(str(k), str(v)) for k, v in lines.items()]
        else:
            pairs = [(str(k), str(v)) for k, v in lines]
        self._lines = pairs
        index: dict[str, list[str]] = {}
        for name, value in pairs:
            key = name.lower()
            if key in index:
                index[key].append(value)
            else:
                index[key] = [value]
        self._index = index

    @classmethod
    def from_latin1(cls, lines: Iterable[tuple[bytes, bytes]]) -> Fields:
        """Field lines as a server hands them over (ASGI ``scope["headers"]``): bytes,
        decoded as ISO-8859-1 (byte for byte), indexed in the same pass."""
        fields = cls.__new__(cls)
        pairs: list[tuple[str, str]] = []
        index: dict[str, list[str]] = {}
        for raw_name, raw_value in lines:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            pairs.append((name, value))
            key = name.lower()
            found = index.get(key)
            if found is None:
                index[key] = [value]
            else:
                found.append(value)
        fields._lines, fields._index = pairs, index
        return fields

    def get_all(self, name: str) -> list[str]:
        """Every line of field ``name`` (lowercase), in order; empty when absent."""
        return self._index.get(name, [])

    def get(self, name: str) -> str | None:
        """The combined value (lines joined by ``", "``), or None when absent."""
        lines = self._index.get(name)
        if lines is None:
            return None
        if len(lines) == 1:
            return lines[0]
        return ", ".join(lines)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def items(self) -> list[tuple[str, str]]:
        return list(self._lines)

    def merged(self, extra: Mapping[str, str]) -> Fields:
        """A copy where each field in ``extra`` replaces every line of that field."""
        replaced = {k.lower() for k in extra}
        kept = [(k, v) for k, v in self._lines if k.lower() not in replaced]
        return Fields([*kept, *extra.items()])

    def __repr__(self) -> str:
        return f"Fields({self._lines!r})"


class TargetURI(NamedTuple):
    """The parts of a target URI the derived components use (RFC 9421 §2.2).

    ``authority`` is normalised per RFC 9110 §4.2.3 (lowercase host, default port
    dropped), ``path`` is ``/`` when empty, ``query`` is None when the URI has no ``?``.
    """

    scheme: str
    authority: str
    path: str
    query: str | None


@lru_cache(maxsize=1024)
def split_target(target_uri: str) -> TargetURI:
    """Split ``target_uri`` once; signer and verifier derive every component from this.

    Raises InvalidRequest for a URI that cannot be split (e.g. an unbalanced IPv6 bracket).
    """
    try:
        parts = urlsplit(target_uri)
    except ValueError as exc:
        raise InvalidRequest(f"target URI cannot be parsed: {exc}") from None
    scheme = parts.scheme.lower()
    host = parts.netloc.rpartition("@")[2].lower()
    if host.startswith("["):
        name, _, port = host.partition("]")
        name, port = name + "]", port[1:]
    else:
        name, _, port = host.partition(":")
    authority = name if not port or port == _DEFAULT_PORTS.get(scheme) else f"{name}:{port}"
    query = parts.query if parts.query or "?" in target_uri.partition("#")[0] else None
    return TargetURI(scheme, authority, parts.path or "/", query)


class _SplitTarget:
    """``HttpRequest.target``: the split, normalised target URI, computed on first use and
    then a plain instance attribute (every derived component reads it; no lock, no call)."""

    @overload
    def __get__(self, request: None, owner: type) -> _SplitTarget: ...

    @overload
    def __get__(self, request: HttpRequest, owner: type | None = None) -> TargetURI: ...

    def __get__(
        self, request: HttpRequest | None, owner: type | None = None
    ) -> TargetURI | _SplitTarget:
        if request is None:
            return self
        target = request.__dict__["target"] = split_target(request.target_uri)
        return target


@dataclass(frozen=True)
class HttpRequest:
    """A request as the signer sends it or the verifier receives it.

    ``target_uri`` is the absolute URI (``https://host/path?query``); ``body`` is the content
    as transmitted, or None when the request has none.
    """

    method: str
    target_uri: str
    headers: Fields = field(default_factory=Fields)
    body: bytes | None = None

    def __init__(
        self,
        method: str,
        target_uri: str,
        headers: HeadersInput = (),
        body: bytes | None = None,
    ) -> None:
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "target_uri", target_uri)
        object.__setattr__(self, "headers", Fields(headers))
        object.__setattr__(self, "body", body)

    target = _SplitTarget()  # not a field (unannotated): split on first use

    def with_headers(self, extra: Mapping[str, str]) -> HttpRequest:
        """A copy with ``extra`` set (replacing fields of the same name)."""
        return HttpRequest(self.method, self.target_uri, self.headers.merged(extra), self.body)


@dataclass(frozen=True)
class HttpResponse:
    """A response; ``request`` is needed only to resolve ``;req`` components."""

    status: int
    headers: Fields = field(default_factory=Fields)
    body: bytes | None = None
    request: HttpRequest | None = None

    def __init__(
        self,
        status: int,
        headers: HeadersInput = (),
        body: bytes | None = None,
        request: HttpRequest | None = None,
    ) -> None:
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "headers", Fields(headers))
        object.__setattr__(self, "body", body)
        object.__setattr__(self, "request", request)

    def with_headers(self, extra: Mapping[str, str]) -> HttpResponse:
        """A copy with ``extra`` set (replacing fields of the same name)."""
        return HttpResponse(self.status, self.headers.merged(extra), self.body, self.request)
