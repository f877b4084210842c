"""IP address literals, cheaply.

Every command looks at a server address or two; the ``ipaddress`` module
costs a couple of milliseconds to import, which a short command notices.
IPv4 literals are checked here by the rules ``ipaddress`` applies (four
parts of one to three ASCII digits, 0..255, no leading zeros), in plain
Python, so that the sans-I/O Rx core can use this module too; anything with
a colon, and anything but a str, is handed to ``ipaddress``, imported then,
so IPv6 behaves exactly as before.
"""

from __future__ import annotations


def _ipv4(text: str) -> bool:
    parts = text.split(".")
    if len(parts) != 4:
        return False
    for p in parts:
        if not (0 < len(p) <= 3 and p.isascii() and p.isdigit()):
            return False
        if (len(p) > 1 and p[0] == "0") or int(p) > 255:
            return False
    return True


def ip_literal(text: str) -> str | None:
    """The canonical text of an IP address literal, or None if ``text`` is
    not one (a host name, say).  Anything but a str (an int, packed bytes,
    an ``ipaddress`` object) is read by ``ipaddress`` as before."""
    if isinstance(text, str) and ":" not in text:
        return text if _ipv4(text) else None
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
