"""Debian package installation: the one place that knows what kafs needs.

Used by ``scripts/setup-debian.sh`` (everything the project needs) and by
``kafs-testcell up`` (only the packages the cell needs, and only when one is
missing).  Stdlib only, so it runs under a bare system ``python3`` before any
virtualenv exists::

    python3 -m kafs.testcell.debian [--cell-only] [--check]

Rules learnt the hard way (see the shared reference notes):

* maintainer scripts must not start daemons: without systemd ``invoke-rc.d``
  runs the SysV scripts, and openafs-fileserver's postinst would start a
  bosserver on every interface.  A temporary ``/usr/sbin/policy-rc.d`` that
  exits 101 forbids it; whatever policy-rc.d was there before is put back.
* every debconf question is answered in advance (cell name, realm, KDC on
  loopback, no AFSDB lookups, no client started, no kdc.conf written).
* ``--no-install-recommends``: no DKMS kernel module build.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from . import config as C

# What the test cell needs at run time.
CELL_PACKAGES = [
    "openafs-dbserver",     # ptserver, vlserver
    "openafs-fileserver",   # bosserver, dafileserver, davolserver, salvager, asetkey
    "openafs-client",       # bos, vos, pts, fs, udebug, rxdebug, afsio
    "openafs-krb5",         # aklog, asetkey's krb5 support
    "openafs-fuse",         # afsd.fuse: makes the root.afs mount points once
    "krb5-kdc",             # krb5kdc, kdb5_util
    "krb5-admin-server",    # kadmin.local (kadmind itself is never run)
    "krb5-user",            # kinit, klist, kvno
    "iproute2",             # ip (interface addresses for NetRestrict)
    "nftables",             # loss injection
    "procps",               # ps (status)
]

# What the rest of the project needs (venv, C accelerators).
PROJECT_PACKAGES = [
    "python3",
    "python3-venv",
    "python3-dev",
    "gcc",
    "libc6-dev",            # gcc alone has no libc headers with --no-install-recommends
    "libkrb5-dev",          # auth/krb5: builds the krb5 (pykrb5) and gssapi wheels
    "libkeyutils1",         # auth/keyring: the token store in the kernel keyring
    "fuse3",                # fusermount3: the client's FUSE mount
    "libfuse3-dev",         # builds the pyfuse3 wheel
    "pkg-config",           # pyfuse3's build finds libfuse3 with it
]

POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
_POLICY_DENY = "#!/bin/sh\n# kafs: no daemon may start during package installation\nexit 101\n"


def debconf_selections() -> str:
    cell, realm, kdc = C.CELL, C.REALM, C.KDC_HOST
    rows = [
        ("openafs-client", "openafs-client/thiscell", "string", cell),
        ("openafs-client", "openafs-client/cachesize", "string", "50000"),
        ("openafs-client", "openafs-client/run-client", "boolean", "false"),
        ("openafs-client", "openafs-client/afsdb", "boolean", "false"),
        ("openafs-client", "openafs-client/crypt", "boolean", "true"),
        ("openafs-client", "openafs-client/dynroot", "select", "Yes"),
        ("openafs-client", "openafs-client/fakestat", "boolean", "true"),
        ("openafs-client", "openafs-client/cell-info", "string", C.SERVER_FQDN),
        ("openafs-fileserver", "openafs-fileserver/thiscell", "string", cell),
        ("krb5-config", "krb5-config/default_realm", "string", realm),
        ("krb5-config", "krb5-config/add_servers_realm", "string", realm),
        ("krb5-config", "krb5-config/add_servers", "boolean", "true"),
        ("krb5-config", "krb5-config/kerberos_servers", "string", kdc),
        ("krb5-config", "krb5-config/admin_server", "string", kdc),
        ("krb5-config", "krb5-config/read_conf", "boolean", "true"),
        ("krb5-kdc", "krb5-kdc/debconf", "boolean", "false"),
        ("krb5-kdc", "krb5-kdc/purge_data_too", "boolean", "false"),
    ]
    return "".join(f"{p} {q} {t} {v}\n" for p, q, t, v in rows)


class InstallError(RuntimeError):
    pass


def _log(msg: str) -> None:
    print(f"[kafs-testcell {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def installed(pkg: str) -> bool:
    r = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status}", pkg],
                       capture_output=True, text=True)
    return r.returncode == 0 and r.stdout.strip() == "installed"


def missing(pkgs: list[str]) -> list[str]:
    if not pkgs:
        return []
    # one dpkg-query call for all of them (this runs on every `up`)
    r = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *pkgs],
                       capture_output=True, text=True)
    ok = set()
    for line in r.stdout.splitlines():
        name, _, status = line.partition(" ")
        if status.strip() == "installed":
            ok.add(name.split(":")[0])
    return [p for p in pkgs if p not in ok]


def _apt_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(DEBIAN_FRONTEND="noninteractive", DEBCONF_NONINTERACTIVE_SEEN="true",
               LC_ALL="C.UTF-8")
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin:" + env.get("PATH", "")
    return env


def _lists_usable() -> bool:
    """Do the package lists know every package we want?"""
    lists = Path("/var/lib/apt/lists")
    if not any(lists.glob("*_Packages*")):
        return False
    r = subprocess.run(["apt-cache", "policy", "openafs-fileserver", "krb5-kdc", "nftables"],
                       capture_output=True, text=True, env=_apt_env())
    return r.stdout.count("Candidate: ") == 3 and "Candidate: (none)" not in r.stdout


def _apt_update() -> None:
    _log("apt-get update")
    # A failing third-party source makes update exit non-zero while the
    # Debian lists are fine; the install that follows is the real test.
    subprocess.run(["apt-get", "update", "-q"], env=_apt_env(), stdout=sys.stderr)


class _NoDaemons:
    """Context manager: a policy-rc.d forbidding daemon starts, restored after."""

    def __enter__(self):
        self.saved: tuple[bytes, int] | None = None
        if POLICY_RC_D.exists() or POLICY_RC_D.is_symlink():
            try:
                self.saved = (POLICY_RC_D.read_bytes(), POLICY_RC_D.stat().st_mode & 0o7777)
            except OSError:
                self.saved = None
        tmp = POLICY_RC_D.with_name(".policy-rc.d.kafs")
        tmp.write_text(_POLICY_DENY)
        tmp.chmod(0o755)
        os.replace(tmp, POLICY_RC_D)
        return self

    def __exit__(self, *exc):
        if self.saved is None:
            POLICY_RC_D.unlink(missing_ok=True)
        else:
            data, mode = self.saved
            tmp = POLICY_RC_D.with_name(".policy-rc.d.kafs")
            tmp.write_bytes(data)
            tmp.chmod(mode)
            os.replace(tmp, POLICY_RC_D)
        return False


def install(pkgs: list[str], *, quiet: bool = False) -> list[str]:
    """Install those of ``pkgs`` that are missing; returns what was installed."""
    todo = missing(pkgs)
    if not todo:
        if not quiet:
            _log("Debian packages: all present")
        return []
    if os.geteuid() != 0:
        raise InstallError(f"missing Debian packages ({' '.join(todo)}) and not root")
    _log(f"installing Debian packages: {' '.join(todo)}")
    env = _apt_env()
    subprocess.run(["debconf-set-selections"], input=debconf_selections(), text=True,
                   env=env, check=True)
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends",
           "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
           *todo]
    with _NoDaemons():
        if not _lists_usable():
            _apt_update()
        r = subprocess.run(cmd, env=env, stdout=sys.stderr)
        if r.returncode != 0:
            _log("apt-get install failed; refreshing the package lists and retrying once")
            _apt_update()
            r = subprocess.run(cmd, env=env, stdout=sys.stderr)
    still = missing(pkgs)
    if r.returncode != 0 or still:
        raise InstallError(f"apt-get install failed (still missing: {' '.join(still) or '-'})")
    return todo


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m kafs.testcell.debian",
                                 description="install the Debian packages kafs needs")
    ap.add_argument("--cell-only", action="store_true", help="only what the test cell needs")
    ap.add_argument("--check", action="store_true", help="list missing packages; exit 1 if any")
    ap.add_argument("--list", action="store_true", help="print the package list and exit")
    a = ap.parse_args(argv)
    pkgs = CELL_PACKAGES + ([] if a.cell_only else PROJECT_PACKAGES)
    if a.list:
        print("\n".join(pkgs))
        return 0
    if a.check:
        todo = missing(pkgs)
        if todo:
            print("missing: " + " ".join(todo))
        return 1 if todo else 0
    try:
        install(pkgs)
    except (InstallError, subprocess.CalledProcessError, OSError) as e:
        print(f"kafs-testcell: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
