"""Reading participant configuration files: JSON objects whose members are dataclass fields.

Mistakes fail loudly before anything listens: an unknown member (a typo must not silently
drop a setting), a member of the wrong JSON type, a missing required member.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["build_config", "check_member_types", "read_config", "server_config_values"]

C = TypeVar("C")

_TYPES: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "str | None": lambda v: v is None or isinstance(v, str),
    "int": lambda v: type(v) is int,
    "int | None": lambda v: v is None or type(v) is int,
    "bool": lambda v: type(v) is bool,
    "tuple[str, ...]": lambda v: isinstance(v, tuple) and all(isinstance(i, str) for i in v),
}
"""Checks for the member types configurations use (annotations as written)."""


def check_member_types(config: Any) -> None:
    """Type-check every member whose annotation :data:`_TYPES` knows."""
    for member in fields(config):
        check = _TYPES.get(str(member.type))
        if check is not None and not check(getattr(config, member.name)):
            raise ValueError(
                f"configuration member {member.name!r} has the wrong type (expected {member.type})"
            )


def read_config(source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """A configuration object from a JSON file path or an already parsed mapping."""
    if isinstance(source, Mapping):
        return dict(source)
    try:
        data = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read configuration {os.fspath(source)!r}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("a configuration file must hold a JSON object")
    return data


def build_config(cls: type[C], data: dict[str, Any]) -> C:
    """``cls`` from a configuration object: unknown members fail, arrays become tuples."""
    known = {member.name for member in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown configuration members {unknown}")
    data = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    try:
        return cls(**data)
    except TypeError as exc:  # a required member is missing
        raise ValueError(f"invalid {cls.__name__}: {exc}") from None


def server_config_values(
    cls: type[Any], document: Any, base_dir: str | os.PathLike[str]
) -> dict[str, Any]:
    """The members of a stateful server's configuration ``document`` for ``cls``: a JSON
    object of known members with an ``identifier``, its ``db``, ``key_file`` and ``store``
    paths made relative to ``base_dir`` (``:memory:`` and URLs such as ``redis://…`` stay as
    they are)."""
    if not isinstance(document, Mapping):
        raise ValueError("the configuration must be a JSON object")
    unknown = sorted(set(document) - {member.name for member in fields(cls)})
    if unknown:
        raise ValueError(f"unknown configuration members {unknown}")
    if "identifier" not in document:
        raise ValueError("the configuration needs an 'identifier'")
    values = dict(document)
    for name in ("db", "key_file", "store"):
        value = values.get(name)
        if isinstance(value, str) and value != ":memory:" and "://" not in value:
            values[name] = str(Path(base_dir) / value)
    return values
