"""Audit events keep networks, not addresses."""

from __future__ import annotations

import pytest

from smartscheduling.network import network_prefix


@pytest.mark.parametrize(
    ("address", "kept"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("testclient", None),
        ("", None),
        (None, None),
    ],
)
def test_ip_addresses_are_truncated_to_their_network(address: str | None, kept: str | None) -> None:
    assert network_prefix(address) == kept
