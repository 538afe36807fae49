"""Where webhooks may go: public internet addresses only, unless the operator allows the
others (`CANONE_WEBHOOKS_ALLOW_PRIVATE`, for receivers on the same machine or network).

Otherwise an account could point an endpoint at canone's own network — the database port
on loopback, a cloud's metadata service, an office intranet — and read the delivery log as
a port scanner. The rule is checked when an endpoint is registered and again when each
delivery connects, on the addresses the name resolves to then (a name may be re-pointed
after registration).
"""

from __future__ import annotations

import ipaddress
import socket

from canone.services.errors import RefusedDestination

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services: AWS, GCP, Azure, OpenStack (169.254.169.254), AWS over IPv6,
# Alibaba Cloud.
METADATA = {ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254",
                                              "100.100.100.200")}
UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")


def refusal(address: IPAddress) -> str | None:
    """Why a webhook may not go to `address` ("a loopback address", ...), or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:  # connecting to it reaches this machine
        return "the unspecified address"
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_link_local:
        return "a link-local address"
    if address in UNIQUE_LOCAL:
        return "a unique-local address"
    if address.is_private:
        return "a private address"
    if address.is_multicast or not address.is_global:
        return "not a public address"
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` stands for (itself, when it is an address); socket.gaierror
    when the name does not resolve."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def public_addresses(host: str, port: int) -> list[IPAddress]:
    """The addresses of `host`, all of them public; else RefusedDestination (a name with
    one private address among public ones is refused too: the connection could use it)."""
    addresses = resolve(host, port)
    for address in addresses:
        why = refusal(address)
        if why is None:
            continue
        if address == _literal(host):
            raise RefusedDestination(f"{_shown(address)} is {why}")
        raise RefusedDestination(f"{host} resolves to {_shown(address)}, {why}")
    return addresses


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _shown(address: IPAddress) -> str:
    """As people write it: ::ffff:127.0.0.1, not ::ffff:7f00:1 (Python before 3.13)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    return str(address)
