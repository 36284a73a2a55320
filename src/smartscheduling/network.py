"""A client's network, never the client: the unit audit events record and throttles count.

An IPv4 address counts as its /24 and an IPv6 address as its /48, so that the next
address of the same network is not a fresh throttle budget, and the audit log never
holds a full address.
"""

from __future__ import annotations

import ipaddress

IPV4_PREFIX = 24
IPV6_PREFIX = 48
#: The network of a client whose address is unknown or unreadable (all such share one).
UNKNOWN_NETWORK = "-"


def network_prefix(address: str | None) -> str | None:
    """``203.0.113.0/24``, ``2001:db8:1::/48``; ``None`` for no or an unreadable address."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:  # a dual-stack listener's IPv4 client
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
