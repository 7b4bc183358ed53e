"""Keys: generation, PEM and JWK round trips, thumbprints, and KeySet rotation and persistence."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from aauth_signing import InvalidKey, SigningKey, UnknownKey, jwk_thumbprint
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from aauth import jwt
from aauth.keys import (
    KeySet,
    default_kid,
    generate_key,
    jwk_from_public_key,
    load_private_pem,
    load_public_pem,
    private_jwk,
    public_key_from_jwk,
    signing_key_from_jwk,
    thumbprint,
)

CURVES = ["Ed25519", "ES256", "ES384"]


@pytest.mark.parametrize("alg", CURVES)
def test_generate_key_returns_a_key_bound_to_its_algorithm(alg: str) -> None:
    key = generate_key(alg)
    assert isinstance(key, SigningKey)
    assert key.algorithm.jose == alg
    key.public_key().verify(key.sign(b"data"), b"data")


def test_generate_key_defaults_to_ed25519_and_refuses_others() -> None:
    assert generate_key().algorithm.jose == "Ed25519"
    for alg in ("HS256", "RS256", "EdDSA"):
        with pytest.raises(ValueError, match="cannot generate"):
            generate_key(alg)


@pytest.mark.parametrize("alg", CURVES)
def test_private_pem_round_trip_infers_the_algorithm(alg: str) -> None:
    key = generate_key(alg)
    loaded = load_private_pem(key.private_bytes_pem())
    assert loaded.algorithm.jose == alg
    assert thumbprint(loaded) == thumbprint(key)


@pytest.mark.parametrize("alg", CURVES)
def test_public_pem_round_trip_infers_the_algorithm(alg: str) -> None:
    key = generate_key(alg)
    loaded = load_public_pem(key.public_key().public_bytes_pem())
    assert loaded.algorithm.jose == alg
    loaded.verify(key.sign(b"m"), b"m")


def test_encrypted_private_pem_needs_its_password() -> None:
    key = generate_key()
    pem = key.key.private_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    assert thumbprint(load_private_pem(pem, password=b"secret")) == thumbprint(key)
    with pytest.raises(InvalidKey):
        load_private_pem(pem)


def test_rsa_pem_needs_an_explicit_algorithm() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(InvalidKey, match="algorithm"):
        load_private_pem(pem)
    assert load_private_pem(pem, "PS256").algorithm.jose == "PS256"
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(InvalidKey, match="algorithm"):
        load_public_pem(public_pem)
    assert load_public_pem(public_pem, "PS256").algorithm.jose == "PS256"


def test_unsupported_curves_and_garbage_pem_are_invalid_keys() -> None:
    p521 = ec.generate_private_key(ec.SECP521R1())
    pem = p521.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(InvalidKey):
        load_private_pem(pem)
    with pytest.raises(InvalidKey):
        load_private_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(InvalidKey):
        load_public_pem(b"not a pem")


def test_pem_algorithm_must_match_the_key() -> None:
    with pytest.raises(InvalidKey):
        load_private_pem(generate_key("Ed25519").private_bytes_pem(), "ES256")


@pytest.mark.parametrize("alg", CURVES)
def test_private_jwk_round_trip(alg: str) -> None:
    key = generate_key(alg)
    jwk = private_jwk(key, kid="k1")
    assert jwk["alg"] == alg
    assert jwk["kid"] == "k1"
    assert "d" in jwk
    restored = signing_key_from_jwk(jwk)
    assert thumbprint(restored) == thumbprint(key)


def test_private_jwk_refuses_rsa() -> None:
    key = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=2048), "PS256")
    with pytest.raises(InvalidKey, match="PEM"):
        private_jwk(key)


@pytest.mark.parametrize("alg", CURVES)
def test_public_jwk_round_trip_carries_alg(alg: str) -> None:
    key = generate_key(alg).public_key()
    jwk = jwk_from_public_key(key)
    assert jwk["alg"] == alg
    assert "d" not in jwk
    assert thumbprint(public_key_from_jwk(jwk)) == thumbprint(key)


def test_thumbprint_matches_the_rfc7638_vector() -> None:
    # The RFC 9421 Ed25519 test key (digest §D.7).
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"}
    assert thumbprint(jwk) == "poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U"


def test_thumbprint_is_the_same_for_key_public_key_and_jwk_and_ignores_metadata() -> None:
    key = generate_key("ES256")
    jwk = jwk_from_public_key(key.public_key(), kid="anything")
    assert thumbprint(key) == thumbprint(key.public_key()) == thumbprint(jwk)
    assert thumbprint(jwk) == jwk_thumbprint(jwk)
    assert default_kid(key) == thumbprint(key)


# -- KeySet (AP-07, rotation) -------------------------------------------------------------------


def test_ap07_jwks_lists_every_key_with_kid_and_fully_specified_alg_and_no_secrets() -> None:
    keys = KeySet.generate()
    keys.rotate("ES256")
    document = keys.jwks()
    assert len(document["keys"]) == 2
    for jwk in document["keys"]:
        assert jwk["kid"]
        assert jwk["alg"] in ("Ed25519", "ES256")
        assert "d" not in jwk
        public_key_from_jwk(jwk)
    json.dumps(document)


def test_default_kid_is_the_thumbprint() -> None:
    keys = KeySet.generate()
    assert keys.current_kid == thumbprint(keys.current)
    assert KeySet.generate(kid="ap-1").current_kid == "ap-1"


def test_rotation_keeps_old_keys_published_until_removed() -> None:
    keys = KeySet.generate(kid="old")
    old_key = keys.current
    new_kid = keys.rotate(kid="new")
    assert new_kid == "new"
    assert keys.current_kid == "new"
    assert keys.current is not old_key
    assert keys.kids == ("old", "new")
    assert keys.select("old") is old_key
    assert [k["kid"] for k in keys.jwks()["keys"]] == ["old", "new"]
    keys.remove("old")
    assert keys.kids == ("new",)
    with pytest.raises(UnknownKey):
        keys.select("old")


def test_added_keys_are_published_before_they_sign() -> None:
    keys = KeySet.generate(kid="a")
    kid = keys.add(generate_key("ES256"))
    assert keys.current_kid == "a"
    assert kid in [k["kid"] for k in keys.jwks()["keys"]]
    keys.make_current(kid)
    assert keys.current_kid == kid


def test_current_key_cannot_be_removed() -> None:
    keys = KeySet.generate()
    with pytest.raises(InvalidKey, match="current"):
        keys.remove(keys.current_kid)


def test_unknown_kids_and_duplicates_are_refused() -> None:
    keys = KeySet.generate(kid="a")
    with pytest.raises(UnknownKey):
        keys.select("b")
    with pytest.raises(UnknownKey):
        keys.make_current("b")
    with pytest.raises(UnknownKey):
        keys.remove("b")
    with pytest.raises(InvalidKey, match="already"):
        keys.add(generate_key(), kid="a")
    with pytest.raises(InvalidKey, match="asymmetric"):
        keys.add(SigningKey.generate("HS256"), kid="h")
    with pytest.raises(UnknownKey):
        KeySet({"a": generate_key()}, "b")
    with pytest.raises(InvalidKey):
        KeySet({"": generate_key()}, "")


def test_save_writes_owner_only_and_load_restores_everything(tmp_path: Path) -> None:
    keys = KeySet.generate(kid="old")
    keys.rotate("ES256", kid="new")
    path = tmp_path / "keys.json"
    path.write_text("{}")
    path.chmod(0o644)
    keys.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = KeySet.load(path)
    assert loaded.current_kid == "new"
    assert loaded.kids == ("old", "new")
    assert loaded.jwks() == keys.jwks()
    token = jwt.encode({"iat": 1, "exp": 2}, keys.select("old"), typ="t", kid="old")
    jwt.verify(token, loaded.select("old").public_key(), typ="t", now=1)
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"keys": {}}',
        '{"keys": [], "current": "a"}',
        '{"keys": [{"kty": "OKP"}], "current": "a"}',
        '{"keys": [5], "current": "a"}',
    ],
)
def test_load_refuses_malformed_files(tmp_path: Path, content: str) -> None:
    path = tmp_path / "keys.json"
    path.write_text(content)
    with pytest.raises((InvalidKey, UnknownKey)):
        KeySet.load(path)


def test_load_refuses_duplicate_kids_missing_current_and_missing_files(tmp_path: Path) -> None:
    jwk = private_jwk(generate_key(), kid="a")
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [jwk, jwk], "current": "a"}))
    with pytest.raises(InvalidKey, match="twice"):
        KeySet.load(path)
    path.write_text(json.dumps({"keys": [jwk]}))
    with pytest.raises(InvalidKey, match="current"):
        KeySet.load(path)
    with pytest.raises(InvalidKey, match="cannot read"):
        KeySet.load(tmp_path / "missing.json")


def test_load_refuses_a_private_key_that_does_not_match_its_public_part(tmp_path: Path) -> None:
    jwk = private_jwk(generate_key(), kid="a")
    jwk["x"] = private_jwk(generate_key())["x"]
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [jwk], "current": "a"}))
    with pytest.raises(InvalidKey):
        KeySet.load(path)
