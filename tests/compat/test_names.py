"""Issue 10: every public name of aauth 0.3.4 resolves from ``import aauth`` with its 0.3.4
signature (parameter order, keyword names, defaults). The table is
``seed_0_3_4_api.md``, a copy of the project's SEED-0.3.4-API.md."""

from __future__ import annotations

import ast
import inspect
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

import aauth
import aauth.compat

TABLE = (Path(__file__).parent / "seed_0_3_4_api.md").read_text(encoding="utf-8")
ROWS = re.findall(r"^\| `(\w+)` \| ([\w ]+) \| `(.+?)` \|", TABLE, re.MULTILINE)
LEGACY_CALLS: dict[str, tuple[Any, ...]] = {
    "RequestVerifier": (["api.example"],),
    "ResourceTokenIssuer": (
        "https://r.example",
        aauth.generate_ed25519_keypair()[0],
        "k",
        "https://as.example",
    ),
    "AAuthRequest": ("GET", "api.example", "/"),
}


def expected_parameters(signature: str) -> list[tuple[str, Any]] | None:
    """(name, default or inspect.Parameter.empty) per parameter of a table signature;
    None for ``(/, *args, **kwargs)`` (a class without its own constructor)."""
    args = signature[signature.index("(") :].rsplit(" -> ", 1)[0]
    if args.startswith("(/,"):
        return None
    node = ast.parse(f"def f{args}: pass").body[0]
    assert isinstance(node, ast.FunctionDef)
    params = node.args
    empty = inspect.Parameter.empty
    defaults = [empty] * (len(params.args) - len(params.defaults))
    defaults += [ast.literal_eval(d) for d in params.defaults]
    out = [(a.arg, d) for a, d in zip(params.args, defaults, strict=True)]
    for a, kw in zip(params.kwonlyargs, params.kw_defaults, strict=True):
        out.append((a.arg, empty if kw is None else ast.literal_eval(kw)))
    if params.kwarg:
        out.append((f"**{params.kwarg.arg}", empty))
    return out


def actual_parameters(obj: Any) -> list[tuple[str, Any]]:
    target = obj.__init__ if inspect.isclass(obj) else obj
    out = []
    for p in inspect.signature(target).parameters.values():
        if p.name == "self":
            continue
        out.append((f"**{p.name}" if p.kind is p.VAR_KEYWORD else p.name, p.default))
    return out


def test_the_table_has_every_name() -> None:
    assert len(ROWS) == 107


@pytest.mark.parametrize(("name", "kind", "signature"), ROWS, ids=[r[0] for r in ROWS])
def test_name_resolves_with_its_0_3_4_signature(name: str, kind: str, signature: str) -> None:
    obj = getattr(aauth, name)
    if kind.strip() == "constant":
        assert obj == ast.literal_eval(signature.split(" = ", 1)[1])
        return
    if name in LEGACY_CALLS:
        obj = type(obj(*LEGACY_CALLS[name]))  # the 0.3 call builds the 0.3 form
        assert issubclass(obj, getattr(aauth, name))
    if "async" in kind:
        assert inspect.iscoroutinefunction(obj)
    else:
        assert not inspect.iscoroutinefunction(obj)
    expected = expected_parameters(signature)
    if expected is not None:
        assert actual_parameters(obj) == expected


@pytest.mark.parametrize(
    "name", ["SignatureError", "TokenError", "ChallengeError", "MetadataError", "JWKSError"]
)
def test_error_classes_sit_under_aauth_error(name: str) -> None:
    assert issubclass(getattr(aauth, name), aauth.AAuthError)


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        aauth.no_such_name  # noqa: B018
    assert "sign_request" in dir(aauth)


def test_no_warning_by_default_and_an_opt_in_deprecation_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aauth.sign_request  # noqa: B018
    aauth.compat.warn_on_use()
    try:
        with pytest.warns(DeprecationWarning, match="migration"):
            aauth.sign_request  # noqa: B018
        for name, args in LEGACY_CALLS.items():
            with pytest.warns(DeprecationWarning, match=f"aauth.{name}"):
                getattr(aauth, name)(*args)
    finally:
        aauth.compat.warn_on_use(False)


def test_the_compat_package_is_the_one_entry_point() -> None:
    from aauth.compat import create_auth_token, sign_request

    assert sign_request is aauth.sign_request
    assert create_auth_token is aauth.create_auth_token
    assert set(aauth.compat.NAMES) | {
        "AAuthError",
        "SignatureError",
        "AAuthRequest",
        "RequestVerifier",
        "ResourceTokenIssuer",
    } == {row[0] for row in ROWS}
    with pytest.raises(AttributeError):
        aauth.compat.no_such_name  # noqa: B018
