"""Random UDP loss between clients and the cell's servers, with nftables.

One table of our own (``inet kafs_loss``) with one chain on the *input*
hook.  On loopback every packet passes output once and input once, so
hooking input alone drops each packet with the given probability exactly
once: packets to 127.1.0.1 (requests) and packets from it (replies) alike.
Input, not output: a packet dropped on the output hook fails the sender's
sendmsg() with EPERM, and Rx (OpenAFS's and ours) then simply sends it again
at once, so the "loss" would never be seen; dropped on input, it is lost
silently, as on a real network.
``numgen random mod 100 < N`` is the random choice (this kernel has no netem).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from . import config as C


class LossError(RuntimeError):
    pass


def _nft() -> str:
    for p in ("/usr/sbin/nft", "/sbin/nft"):
        if os.path.exists(p):
            return p
    nft = shutil.which("nft")
    if not nft:
        raise LossError("nft not found (install the Debian package nftables: scripts/setup-debian.sh)")
    return nft


def _run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([_nft(), *args], input=stdin, capture_output=True, text=True, timeout=30)


def ruleset(percent: int) -> str:
    t = f"{C.NFT_FAMILY} {C.NFT_TABLE}"
    h = C.SERVER_HOST
    # numgen's range is 0..99: nft rejects the constant 100
    rnd = "" if percent >= 100 else f"numgen random mod 100 < {percent} "
    # "table X; delete table X" first: replaces an existing table atomically
    return (
        f"table {t}\n"
        f"delete table {t}\n"
        f"table {t} {{\n"
        f"  chain in {{\n"
        f"    type filter hook input priority 0; policy accept;\n"
        f"    ip daddr {h} meta l4proto udp {rnd}counter drop\n"
        f"    ip saddr {h} ip daddr != {h} meta l4proto udp {rnd}counter drop\n"
        f"  }}\n"
        f"}}\n"
    )


def set_loss(percent: float) -> None:
    """Drop ``percent``% (an integer 0..100) of UDP packets to and from the servers."""
    try:
        pct = int(percent)
    except (TypeError, ValueError):
        raise LossError(f"bad loss percentage {percent!r}") from None
    if pct != percent or not 0 <= pct <= 100:
        raise LossError(f"loss must be a whole percentage 0..100, not {percent!r}")
    if pct == 0:
        clear_loss()
        return
    r = _run(["-f", "-"], ruleset(pct))
    if r.returncode != 0:
        raise LossError(f"nft failed: {(r.stderr.strip().splitlines() or ['?'])[-1]}")


def clear_loss() -> None:
    """Remove our table (nothing else); a no-op when it is not there."""
    try:
        nft = _nft()
    except LossError:
        return   # no nftables: no rule of ours can exist
    r = subprocess.run([nft, "list", "table", C.NFT_FAMILY, C.NFT_TABLE],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        return
    r = subprocess.run([nft, "delete", "table", C.NFT_FAMILY, C.NFT_TABLE],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise LossError(f"nft delete table failed: {r.stderr.strip()}")


def _our_table() -> str:
    """``nft list`` of our table ("" when it is not there)."""
    try:
        r = _run(["list", "table", C.NFT_FAMILY, C.NFT_TABLE])
    except (LossError, OSError, subprocess.TimeoutExpired):
        return ""
    return r.stdout if r.returncode == 0 else ""


def current_loss() -> int:
    """The loss percentage in force (0 when off)."""
    text = _our_table()
    m = re.search(r"numgen random mod 100 < (\d+)", text)
    if m:
        return int(m.group(1))
    return 100 if " drop" in text else 0


def dropped_packets() -> int:
    """Packets our rules have dropped since the loss was set (0 when off)."""
    return sum(int(n) for n in re.findall(r"counter packets (\d+)", _our_table()))
