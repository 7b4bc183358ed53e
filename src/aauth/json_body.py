"""One strict reader for the JSON bodies participants receive (token requests, pending-URL
answers, a resource's ``/authorize`` and API bodies).

Python's ``json`` module accepts more than RFC 8259: ``NaN`` and ``Infinity``, numbers that
overflow to infinity (``1e999``), lone surrogate escapes (``"\\ud800"``, which no UTF-8 encoder
can write back), duplicate member names (where two parsers would see two different values),
and nesting deep enough to exhaust the stack. Any of these, stored, poisons every later read
of the record; so every participant decodes request bodies here, and anything outside strict
JSON is ``invalid_request`` before it reaches protocol code or a store.

>>> parse_json_object(b'{"scope": "data.read"}')
{'scope': 'data.read'}
"""

from __future__ import annotations

from typing import Any

from aauth_signing.jws import STRICT_JSON

from .errors import InvalidRequest

__all__ = ["MAX_JSON_BYTES", "MAX_JSON_DEPTH", "parse_json", "parse_json_object"]

MAX_JSON_BYTES = 64 * 1024
"""The default cap on a JSON request body: token requests and answers are small."""

MAX_JSON_DEPTH = 32
"""The default cap on nesting (objects and arrays), far beyond any AAuth body."""


def _check_tree(value: Any, max_depth: int) -> None:
    """Depth within ``max_depth`` and every string (names too) encodable as UTF-8."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            node.encode("utf-8")  # UnicodeEncodeError on a lone surrogate
        elif isinstance(node, dict | list):
            if depth >= max_depth:
                raise ValueError(f"nested deeper than {max_depth} levels")
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)


def parse_json(
    raw: bytes,
    *,
    what: str = "the body",
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """``raw`` as strict JSON (any top-level value); InvalidRequest naming ``what``."""
    if len(raw) > max_bytes:
        raise InvalidRequest(f"{what} exceeds {max_bytes} bytes")
    try:
        value = STRICT_JSON.decode(raw.decode("utf-8"))
        _check_tree(value, max_depth)
    except UnicodeError:
        raise InvalidRequest(f"{what} is not valid UTF-8") from None
    except RecursionError:
        raise InvalidRequest(f"{what} is nested deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise InvalidRequest(f"{what} is not strict JSON: {exc}") from None
    return value


def parse_json_object(
    raw: bytes,
    *,
    what: str = "the body",
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> dict[str, Any]:
    """``raw`` as a strict JSON object; InvalidRequest for anything else."""
    value = parse_json(raw, what=what, max_bytes=max_bytes, max_depth=max_depth)
    if not isinstance(value, dict):
        raise InvalidRequest(f"{what} must be a JSON object")
    return value
