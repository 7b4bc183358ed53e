"""Fields built from a server's raw header lines (ASGI) equal Fields built from decoded text."""

from __future__ import annotations

from aauth_signing import Fields
from hypothesis import given
from hypothesis import strategies as st

names = st.sampled_from([b"host", b"Signature", b"signature", b"x-a", b"X-A", b"accept"])
values = st.binary(max_size=40)


@given(st.lists(st.tuples(names, values), max_size=12))
def test_from_latin1_is_the_decoded_fields(raw: list[tuple[bytes, bytes]]) -> None:
    decoded = Fields([(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw])
    built = Fields.from_latin1(raw)
    assert built.items() == decoded.items()
    for name in {k.decode("latin-1").lower() for k, _ in raw}:
        assert built.get_all(name) == decoded.get_all(name)  # every line, in order
        assert built.get(name) == decoded.get(name)


def test_from_latin1_keeps_every_byte() -> None:
    fields = Fields.from_latin1([(b"x-bin", bytes(range(256)))])
    assert fields.get("x-bin") == bytes(range(256)).decode("latin-1")
