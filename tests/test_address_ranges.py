"""The egress address table (V-20, §H.3): every IANA special-purpose block, and every way an
IPv6 address can carry an IPv4 one. Each row is ``(address, why)``."""

from __future__ import annotations

import ipaddress

import pytest

from aauth.address_ranges import (
    DENIED_IPV4,
    DENIED_IPV6,
    embedded_ipv4,
    is_public_address,
    translated_ipv4,
)
from aauth.egress import EgressDenied, EgressPolicy

from .test_egress import policy_for

DENIED = [
    # IPv4 special-purpose registry
    ("0.0.0.0", "this host"),
    ("0.1.2.3", "this network 0/8"),
    ("10.0.0.1", "private 10/8"),
    ("100.64.0.1", "shared address space 100.64/10"),
    ("100.127.255.254", "end of 100.64/10"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback 127/8"),
    ("169.254.169.254", "link-local cloud metadata"),
    ("172.16.0.1", "private 172.16/12"),
    ("172.31.255.254", "end of 172.16/12"),
    ("192.0.0.8", "IPv4 dummy address in 192.0.0/24"),
    ("192.0.0.9", "PCP anycast: the whole 192.0.0/24 is denied"),
    ("192.0.0.170", "NAT64 discovery in 192.0.0/24"),
    ("192.0.2.1", "TEST-NET-1"),
    ("192.88.99.1", "6to4 relay anycast"),
    ("192.168.1.1", "private 192.168/16"),
    ("198.18.0.1", "benchmarking 198.18/15"),
    ("198.19.255.254", "end of 198.18/15"),
    ("198.51.100.1", "TEST-NET-2"),
    ("203.0.113.1", "TEST-NET-3"),
    ("224.0.0.1", "multicast 224/4"),
    ("239.255.255.250", "multicast SSDP"),
    ("240.0.0.1", "reserved 240/4"),
    ("255.255.255.255", "limited broadcast"),
    # IPv6 special-purpose registry and the rest outside 2000::/3
    ("::", "unspecified ::/128"),
    ("::1", "loopback"),
    ("::ffff:10.0.0.1", "IPv4-mapped private"),
    ("::ffff:169.254.169.254", "IPv4-mapped metadata"),
    ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
    ("::ffff:0:808:808", "IPv4-translated (SIIT) ::ffff:0:0:0/96"),
    ("::8.8.8.8", "IPv4-compatible (deprecated), even of a public address"),
    ("::169.254.169.254", "IPv4-compatible metadata"),
    ("64:ff9b::a9fe:a9fe", "NAT64 of 169.254.169.254"),
    ("64:ff9b::a00:1", "NAT64 of 10.0.0.1"),
    ("64:ff9b::7f00:1", "NAT64 of 127.0.0.1"),
    ("64:ff9b:1::808:808", "local-use NAT64 64:ff9b:1::/48"),
    ("100::1", "discard-only 100::/64"),
    ("100:0:0:1::1", "dummy prefix 100:0:0:1::/64"),
    ("2001::1", "Teredo 2001::/32"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo (the RFC 4380 example)"),
    ("2001:0:a9fe:a9fe::5601:5601", "Teredo wrapping 169.254.169.254"),
    ("2001:1::1", "PCP anycast: the whole 2001::/23 is denied"),
    ("2001:2::1", "benchmarking 2001:2::/48"),
    ("2001:10::1", "deprecated ORCHID"),
    ("2001:20::1", "ORCHIDv2 in 2001::/23"),
    ("2001:1ff::1", "end of 2001::/23"),
    ("2001:db8::1", "documentation 2001:db8::/32"),
    ("2002:a9fe:a9fe::1", "6to4 wrapping 169.254.169.254"),
    ("2002:808:808::1", "6to4 of a public address: 2002::/16 is denied outright"),
    ("2002:7f00:1::1", "6to4 wrapping loopback"),
    ("3fff::1", "documentation 3fff::/20"),
    ("3fff:fff::1", "end of 3fff::/20"),
    ("4000::1", "unallocated, outside 2000::/3"),
    ("5f00::1", "segment routing SIDs 5f00::/16"),
    ("fc00::1", "unique local fc00::/7"),
    ("fd12:3456::1", "unique local fd00::/8"),
    ("fe80::1", "link-local fe80::/10"),
    ("febf::1", "end of fe80::/10"),
    ("fec0::1", "deprecated site-local fec0::/10"),
    ("feff::1", "end of fec0::/10"),
    ("ff02::1", "multicast all nodes"),
    ("ff0e::1", "global multicast"),
]

ADMITTED = [
    ("93.184.216.34", "public IPv4"),
    ("8.8.8.8", "public IPv4"),
    ("1.1.1.1", "public IPv4"),
    ("100.63.255.255", "just below 100.64/10"),
    ("100.128.0.0", "just above 100.64/10"),
    ("172.15.255.255", "just below 172.16/12"),
    ("172.32.0.0", "just above 172.16/12"),
    ("192.0.1.1", "just above 192.0.0/24"),
    ("198.17.255.255", "just below 198.18/15"),
    ("198.20.0.0", "just above 198.18/15"),
    ("223.255.255.254", "just below multicast"),
    ("::ffff:8.8.8.8", "IPv4-mapped public: reaches 8.8.8.8"),
    ("64:ff9b::808:808", "NAT64 of a public address (DNS64 on an IPv6-only host)"),
    ("2606:4700::1", "public IPv6"),
    ("2001:200::1", "just above 2001::/23"),
    ("2001:db9::1", "just above 2001:db8::/32"),
    ("2003::1", "just above 2002::/16"),
    ("3fff:1000::1", "just above 3fff::/20"),
    ("2a00:1450:4001::1", "public IPv6"),
]


@pytest.mark.parametrize(("address", "why"), DENIED, ids=[row[0] for row in DENIED])
def test_v20_special_purpose_address_is_denied(address: str, why: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address)), why
    policy = policy_for({"ap.example": [address]})
    with pytest.raises(EgressDenied) as info:
        policy.admit("https://ap.example/.well-known/aauth-agent.json")
    assert info.value.code == "egress_denied"
    assert info.value.status == 400


@pytest.mark.parametrize(("address", "why"), ADMITTED, ids=[row[0] for row in ADMITTED])
def test_v20_globally_reachable_address_is_admitted(address: str, why: str) -> None:
    assert is_public_address(ipaddress.ip_address(address)), why
    policy = policy_for({"ap.example": [address]})
    assert policy.admit("https://ap.example/") == [ipaddress.ip_address(address)]


@pytest.mark.parametrize(
    ("literal", "why"),
    [
        ("https://192.0.0.8/", "the issue's 192.0.0.8"),
        ("https://[fec0::1]/", "the issue's fec0::/10"),
        ("https://[2002:a9fe:a9fe::]/", "the issue's 6to4 metadata"),
        ("https://[3fff::1]/", "the issue's 3fff::/20"),
        ("https://[2001:0:4136:e378:8000:63bf:5601:5601]/", "Teredo client 169.254.169.254"),
    ],
)
def test_v20_literal_addresses_from_the_attack_run_are_denied(literal: str, why: str) -> None:
    with pytest.raises(EgressDenied):
        EgressPolicy().admit(literal)


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("::ffff:169.254.169.254", ("169.254.169.254",)),
        ("64:ff9b::a9fe:a9fe", ("169.254.169.254",)),
        ("2002:a9fe:a9fe::1", ("169.254.169.254",)),
        ("2001:0:4136:e378:8000:63bf:5601:5601", ("65.54.227.120", "169.254.169.254")),
        ("::169.254.169.254", ("169.254.169.254",)),
        ("2606:4700::1", ()),
    ],
)
def test_embedded_ipv4_is_unwrapped_from_every_carrier(
    address: str, inner: tuple[str, ...]
) -> None:
    carried = embedded_ipv4(ipaddress.IPv6Address(address))
    assert tuple(str(a) for a in carried) == inner


def test_only_translations_change_the_destination() -> None:
    assert str(translated_ipv4(ipaddress.IPv6Address("::ffff:1.2.3.4"))) == "1.2.3.4"
    assert str(translated_ipv4(ipaddress.IPv6Address("64:ff9b::102:304"))) == "1.2.3.4"
    assert translated_ipv4(ipaddress.IPv6Address("2002:102:304::")) is None


def test_the_tables_hold_every_block_the_issue_names() -> None:
    names = {str(n) for n in (*DENIED_IPV4, *DENIED_IPV6)}
    for block in ("192.0.0.0/24", "2002::/16", "3fff::/20", "fec0::/10", "2001::/23"):
        assert block in names
    # 255.255.255.255 and 240/4 are one reserved block
    assert ipaddress.ip_address("255.255.255.255") in ipaddress.ip_network("240.0.0.0/4")


def test_allowed_networks_still_admit_a_mapped_internal_address() -> None:
    policy = policy_for(
        {"ps.internal": ["::ffff:10.1.2.3"]},
        allowed_networks=(ipaddress.ip_network("10.0.0.0/8"),),
    )
    assert policy.admit("https://ps.internal/") == [ipaddress.ip_address("::ffff:10.1.2.3")]
