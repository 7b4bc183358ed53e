"""Which IP addresses are publicly reachable, for egress admission (protocol-10 §H.3, V-20).

The answer comes from an explicit table, not from :attr:`ipaddress.IPv4Address.is_global`,
whose notion of "global" differs between Python releases and has admitted ``192.0.0.8``,
``fec0::/10`` and ``3fff::/20``. The table is the IANA IPv4 and IPv6 Special-Purpose Address
Registries, every block that is not globally reachable (a whole block is denied even where
the registry marks a few single addresses inside it global: no AAuth server lives on a PCP or
TURN anycast address), plus multicast and the reserved ``240.0.0.0/4``.

IPv6 is admitted only inside global unicast ``2000::/3`` (RFC 4291 §2.4); everything else is
reserved, unallocated or special-purpose (``fec0::/10`` site-local, ``fc00::/7``, ``fe80::/10``,
``ff00::/8``, ``5f00::/16`` ...). An IPv6 address that carries an IPv4 address is judged by it:

- IPv4-mapped ``::ffff:a.b.c.d`` and NAT64 ``64:ff9b::a.b.c.d`` are translations, so a
  connection really reaches ``a.b.c.d``: they are admitted exactly when that IPv4 is.
- 6to4 ``2002::/16``, Teredo ``2001::/32`` and IPv4-compatible ``::a.b.c.d`` tunnel to the
  IPv4 they embed; their prefixes are denied outright and the IPv4 inside is checked as well,
  so no wrapping of ``169.254.169.254`` gets through.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

__all__ = [
    "DENIED_IPV4",
    "DENIED_IPV6",
    "embedded_ipv4",
    "is_public_address",
    "translated_ipv4",
]

DENIED_IPV4: tuple[IPv4Network, ...] = tuple(
    IPv4Network(block)
    for block in (
        "0.0.0.0/8",  # "this network" (RFC 791)
        "10.0.0.0/8",  # private use (RFC 1918)
        "100.64.0.0/10",  # shared address space, carrier-grade NAT (RFC 6598)
        "127.0.0.0/8",  # loopback (RFC 1122)
        "169.254.0.0/16",  # link-local, cloud metadata (RFC 3927)
        "172.16.0.0/12",  # private use (RFC 1918)
        "192.0.0.0/24",  # IETF protocol assignments (RFC 6890), incl. 192.0.0.8 (RFC 7600)
        "192.0.2.0/24",  # documentation TEST-NET-1 (RFC 5737)
        "192.88.99.0/24",  # deprecated 6to4 relay anycast (RFC 7526)
        "192.168.0.0/16",  # private use (RFC 1918)
        "198.18.0.0/15",  # benchmarking (RFC 2544)
        "198.51.100.0/24",  # documentation TEST-NET-2 (RFC 5737)
        "203.0.113.0/24",  # documentation TEST-NET-3 (RFC 5737)
        "224.0.0.0/4",  # multicast (RFC 5771)
        "240.0.0.0/4",  # reserved (RFC 1112), incl. limited broadcast 255.255.255.255
    )
)
"""IPv4 blocks no outbound fetch may reach."""

DENIED_IPV6: tuple[IPv6Network, ...] = tuple(
    IPv6Network(block)
    for block in (
        "::/128",  # unspecified (RFC 4291)
        "::1/128",  # loopback (RFC 4291)
        "::/96",  # deprecated IPv4-compatible (RFC 4291 §2.5.5.1)
        "::ffff:0:0:0/96",  # IPv4-translated, SIIT (RFC 2765)
        "64:ff9b:1::/48",  # local-use IPv4/IPv6 translation (RFC 8215)
        "100::/64",  # discard-only (RFC 6666)
        "100:0:0:1::/64",  # dummy IPv6 prefix (RFC 9780)
        "2001::/23",  # IETF protocol assignments (RFC 2928), incl. Teredo 2001::/32
        "2001:db8::/32",  # documentation (RFC 3849)
        "2002::/16",  # 6to4 (RFC 3056)
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # segment routing SIDs (RFC 9602)
        "fc00::/7",  # unique local (RFC 4193)
        "fe80::/10",  # link-local (RFC 4291)
        "fec0::/10",  # deprecated site-local (RFC 3879)
        "ff00::/8",  # multicast (RFC 4291)
    )
)
"""IPv6 blocks no outbound fetch may reach (beyond everything outside ``2000::/3``)."""

_GLOBAL_UNICAST = IPv6Network("2000::/3")
_MAPPED = IPv6Network("::ffff:0:0/96")
_NAT64 = IPv6Network("64:ff9b::/96")
_COMPATIBLE = IPv6Network("::/96")


def translated_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address a connection to an IPv4-mapped or NAT64 (``64:ff9b::/96``) address
    actually reaches; None for any other address."""
    if address in _MAPPED or address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def embedded_ipv4(address: IPv6Address) -> tuple[IPv4Address, ...]:
    """Every IPv4 address ``address`` carries: the translated one, the 6to4 gateway, the
    Teredo server and client, or the IPv4-compatible one."""
    translated = translated_ipv4(address)
    if translated is not None:
        return (translated,)
    if address.sixtofour is not None:
        return (address.sixtofour,)
    if address.teredo is not None:
        return address.teredo
    if address in _COMPATIBLE:
        return (IPv4Address(int(address) & 0xFFFFFFFF),)
    return ()


def is_public_address(address: IPv4Address | IPv6Address) -> bool:
    """True when ``address`` (and every IPv4 address it carries) is globally reachable."""
    if isinstance(address, IPv4Address):
        return not any(address in block for block in DENIED_IPV4)
    translated = translated_ipv4(address)
    if translated is not None:
        return is_public_address(translated)
    if address not in _GLOBAL_UNICAST or any(address in block for block in DENIED_IPV6):
        return False
    return all(is_public_address(inner) for inner in embedded_ipv4(address))
