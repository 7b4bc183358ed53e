"""The cache entries behind discovery: one per document, with its expiry, its last error
and how many fetches failed in a row, plus the in-flight marker that lets concurrent
callers share one fetch (single flight)."""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from aauth_signing import SignatureError

from .errors import AAuthError

__all__ = [
    "CacheEntry",
    "Document",
    "Failure",
    "Fetch",
    "FetchFlow",
    "Flight",
    "fresh_error",
    "max_age",
    "settle",
    "unwrap",
]

T = TypeVar("T")
Document = dict[str, Any]
Failure = AAuthError | SignatureError
_MAX_AGE = re.compile(r"max-age=\"?([0-9]{1,10})\"?")


@dataclass(frozen=True)
class Fetch:
    """One cacheable document: its cache key, the URLs to try in order, and its check.

    ``refresh`` asks for a refetch unless the last attempt is younger than the floor.
    """

    key: tuple[str, str]
    urls: tuple[str, ...]
    check: Callable[[Document], None]
    refresh: bool = False


FetchFlow = Generator[Fetch, Document, T]


@dataclass
class CacheEntry:
    attempted_at: float
    expires_at: float
    value: Document | None = None
    error: Failure | None = None
    failures: int = 0


@dataclass
class Flight:
    """A fetch in progress that other threads wait for; no outcome means "try again"."""

    done: threading.Event = field(default_factory=threading.Event)
    outcome: CacheEntry | None = None


def fresh_error(error: Failure) -> Failure:
    """A copy to raise: a cached instance re-raised would grow its traceback forever."""
    return copy.copy(error).with_traceback(None)


def unwrap(entry: CacheEntry) -> Document:
    if entry.error is not None:
        raise fresh_error(entry.error)
    assert entry.value is not None
    return entry.value


def settle(stored: CacheEntry | None, failure: Failure | None) -> Document:
    """What a fetch's leader gets: its own error (cause intact) if that is what was stored,
    else the stored document (a failed refresh keeps a still-fresh one)."""
    assert stored is not None
    if failure is not None and stored.error is not None:
        raise failure
    return unwrap(stored)


def max_age(headers: httpx.Headers) -> int | None:
    directives = [d.strip().lower() for d in headers.get("cache-control", "").split(",")]
    if "no-store" in directives or "no-cache" in directives:
        return None
    for directive in directives:
        match = _MAX_AGE.fullmatch(directive)
        if match:
            return int(match.group(1))
    return None
