"""IP address literals, cheaply.

Every command looks at a server address or two; the ``ipaddress`` module
costs a couple of milliseconds to import, which a short command notices.
IPv4 literals are parsed with ``socket.inet_pton`` (the same strict
dotted-quad form ``ipaddress`` accepts: four decimal parts of 0..255, no
leading zeros); anything with a colon is handed to ``ipaddress``, imported
then, so IPv6 behaves exactly as before.
"""

from __future__ import annotations

import socket


def ip_literal(text: str) -> str | None:
    """The canonical text of an IP address literal, or None if ``text`` is
    not one (a host name, say).  Anything but a str (an int, packed bytes,
    an ``ipaddress`` object) is read by ``ipaddress`` as before."""
    if not isinstance(text, str):
        import ipaddress
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            return None
    if ":" not in text:
        try:
            return socket.inet_ntop(socket.AF_INET, socket.inet_pton(socket.AF_INET, text))
        except (OSError, ValueError):
            return None
    import ipaddress
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def is_loopback(text: str) -> bool:
    """True for a loopback literal (127.0.0.0/8, ::1)."""
    if isinstance(text, str) and ":" not in text:
        lit = ip_literal(text)
        return lit is not None and lit.startswith("127.")
    import ipaddress
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False
