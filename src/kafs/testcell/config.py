"""The fixed facts of the test cell: names, addresses, ports and paths.

Everything here must agree with the docs (README, shared reference notes):
cell ``test.example``, realm ``TEST.EXAMPLE``, servers on 127.1.0.1 (OpenAFS
treats 127.0.x.x as loopback and refuses to use it as a server address), KDC
on 127.0.0.1:88, admin principal ``admin``.
"""

from __future__ import annotations

import os
from pathlib import Path

CELL = "test.example"
REALM = CELL.upper()
SERVER_HOST = "127.1.0.1"
SERVER_SHORT = "afs1"                       # hostname of the server tree (own UTS ns)
SERVER_FQDN = f"{SERVER_SHORT}.{CELL}"
CLIENT_FAKE_ADDR = "127.1.0.254"            # what a FUSE cache manager would advertise
KDC_HOST = "127.0.0.1"
KDC_PORT = 88

PORTS = {
    "fileserver": 7000,
    "ptserver": 7002,
    "vlserver": 7003,
    "volserver": 7005,
    "bosserver": 7007,
}

ADMIN_USER = "admin"
ADMIN_PASSWORD = "openafs-admin-pw"
KDC_MASTER_PASSWORD = "openafs-kdc-master-pw"
AFS_SERVICE = f"afs/{CELL}"
ROOT_CELL_QUOTA_KB = 1048576                # vos create's default (5000 KB) is too small

# Our own scratch directory (the shell reference uses /var/tmp/openafs-cell;
# keeping them apart means the two never trample on each other's pid files).
SCRATCH = Path(os.environ.get("KAFS_TESTCELL_DIR", "/var/tmp/kafs-testcell"))
KRB_DIR = SCRATCH / "krb5"
LOG_DIR = SCRATCH / "log"
RUN_DIR = SCRATCH / "run"
STATE_DIR = SCRATCH / "state"
KRB5_CONFIG = KRB_DIR / "krb5.conf"
KDC_PROFILE = KRB_DIR / "kdc.conf"
AFS_KEYTAB = SCRATCH / "afs.keytab"
ADMIN_KEYTAB = SCRATCH / "admin.keytab"

# Locations compiled into Debian's OpenAFS binaries; they cannot be moved.
SRV_ETC = Path("/etc/openafs/server")       # ThisCell, CellServDB, KeyFileExt, UserList, krb.conf
CLI_ETC = Path("/etc/openafs")              # client ThisCell/CellServDB, BosConfig
SRV_LOCAL = Path("/var/lib/openafs/local")  # NetInfo, NetRestrict, sysid, pid files
SRV_DB = Path("/var/lib/openafs/db")        # prdb.DB0, vldb.DB0
SRV_LOGS = Path("/var/log/openafs")
LIBEXEC = Path("/usr/lib/openafs")
VICEP = Path("/vicepa")
# the file server's partitions: plain directories with AlwaysAttach
VICEPS = (VICEP, Path("/vicepb"))

HOSTS_TAG = "# kafs-testcell"

# The nftables table used for loss injection (ours alone).
NFT_FAMILY = "inet"
NFT_TABLE = "kafs_loss"

# The OpenAFS and Kerberos programs the cell needs / the tests use.
BINARIES = {
    "bos": "/usr/bin/bos",
    "vos": "/usr/bin/vos",
    "pts": "/usr/bin/pts",
    "fs": "/usr/bin/fs",
    "rxdebug": "/usr/sbin/rxdebug",
    "udebug": "/usr/bin/udebug",
    "tokens": "/usr/bin/tokens",
    "aklog": "/usr/bin/aklog",
    "afsio": "/usr/bin/afsio",
    "asetkey": "/usr/sbin/asetkey",
    "bosserver": "/usr/sbin/bosserver",
    "kinit": "/usr/bin/kinit",
    "klist": "/usr/bin/klist",
    "kvno": "/usr/bin/kvno",
    "kdestroy": "/usr/bin/kdestroy",
    "krb5kdc": "/usr/sbin/krb5kdc",
    "kadmin.local": "/usr/sbin/kadmin.local",
    "kdb5_util": "/usr/sbin/kdb5_util",
    "nft": "/usr/sbin/nft",
}
