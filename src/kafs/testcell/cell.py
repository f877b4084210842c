"""The test cell: a real OpenAFS 1.8.9 cell and an MIT KDC on loopback.

Layout and pitfalls (details in the shared reference notes):

* servers live on 127.1.0.1: OpenAFS treats 127.0.x.x as loopback and will
  not use it as a server address; 127/8 is routed to ``lo`` anyway.
* every server gets ``-rxbind``; NetInfo holds ``f 127.1.0.1`` (a fake entry,
  the address is on no interface) and NetRestrict every real interface
  address, so nothing listens on or registers a real interface.
* ubik and the fileserver take "my address" from
  gethostbyname(gethostname()): bosserver runs in its own UTS namespace with
  hostname ``afs1``, which /etc/hosts maps to 127.1.0.1.
* KeyFileExt (``asetkey add rxkad_krb5``) and UserList exist before
  bosserver starts, so ``-localauth`` works from the first ``bos create``.
* ``bos status`` exits 0 even for unknown instances: its text is parsed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import config as C
from . import debian, dump

INSTANCES = ("ptserver", "vlserver", "dafs")
SERVER_COMMS = ("bosserver", "ptserver", "vlserver", "dafileserver", "davolserver",
                "salvageserver", "dasalvager")


class TestCellError(RuntimeError):
    """Something the operator has to look at; the message is one line."""

    __test__ = False   # not a pytest test class


@dataclasses.dataclass(frozen=True)
class CellInfo:
    """What a test needs to talk to the cell."""

    __test__ = False

    cell: str
    realm: str
    host: str                       # server address (127.1.0.1)
    server_name: str                # afs1.test.example, resolvable via /etc/hosts
    ports: dict[str, int]           # fileserver, ptserver, vlserver, volserver, bosserver
    kdc: tuple[str, int]
    admin_user: str
    admin_principal: str
    admin_password: str
    admin_keytab: str
    service_principal: str
    service_keytab: str
    krb5_config: str
    kdc_profile: str
    scratch: str
    partition: str                  # /vicepa
    binaries: dict[str, str]        # name -> absolute path (bos, vos, pts, rxdebug, udebug ...)
    server_etc: str = str(C.SRV_ETC)
    client_etc: str = str(C.CLI_ETC)
    partitions: tuple[str, ...] = tuple(str(p) for p in C.VICEPS)   # /vicepa, /vicepb

    def bin(self, name: str) -> str:
        return self.binaries[name]

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment for running OpenAFS/Kerberos tools against the cell."""
        env = dict(os.environ if base is None else base)
        env.update(env_vars(self))
        env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin:" + env.get("PATH", "")
        return env

    def tool(self, name: str, *args: str, **kw) -> subprocess.CompletedProcess:
        """Run an OpenAFS/Kerberos program with the cell's environment."""
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", 120)
        return subprocess.run([self.bin(name), *args], env=self.env(), **kw)


def env_vars(info: CellInfo) -> dict[str, str]:
    return {
        "KRB5_CONFIG": info.krb5_config,
        "KAFS_TESTCELL_CELL": info.cell,
        "KAFS_TESTCELL_REALM": info.realm,
        "KAFS_TESTCELL_HOST": info.host,
        "KAFS_TESTCELL_SERVER_NAME": info.server_name,
        "KAFS_TESTCELL_KDC": f"{info.kdc[0]}:{info.kdc[1]}",
        "KAFS_TESTCELL_ADMIN": info.admin_principal,
        "KAFS_TESTCELL_ADMIN_PASSWORD": info.admin_password,
        "KAFS_TESTCELL_ADMIN_KEYTAB": info.admin_keytab,
        "KAFS_TESTCELL_SERVICE_KEYTAB": info.service_keytab,
        "KAFS_TESTCELL_SERVER_ETC": info.server_etc,
        "KAFS_TESTCELL_CLIENT_ETC": info.client_etc,
    }


def _find_bin(name: str) -> str:
    for d in ("/usr/bin", "/usr/sbin", "/bin", "/sbin"):
        p = Path(d, name)
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    return shutil.which(name) or str(Path(C.BINARIES.get(name, f"/usr/bin/{name}")))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["KRB5_CONFIG"] = str(C.KRB5_CONFIG)
    env["KRB5_KDC_PROFILE"] = str(C.KDC_PROFILE)
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin:" + env.get("PATH", "")
    env.setdefault("LC_ALL", "C.UTF-8")
    return env


# ------------------------------------------------------------ processes ----

def _comm(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def _zombie(pid: int) -> bool:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("State:"):
                return "Z" in line.split()[1]
    except OSError:
        return True
    return False


def _pid_from(path: Path, comm: str) -> int | None:
    try:
        pid = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if _comm(pid) == comm and not _zombie(pid):
        return pid
    return None


def _uts_hostname(pid: int) -> str | None:
    """The hostname in pid's UTS namespace (nsenter-free: compare ns inodes)."""
    try:
        theirs = os.readlink(f"/proc/{pid}/ns/uts")
        ours = os.readlink("/proc/self/ns/uts")
    except OSError:
        return None
    if theirs == ours:
        return os.uname().nodename
    r = subprocess.run(["nsenter", "-t", str(pid), "-u", "hostname"], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _tree(pid: int) -> list[int]:
    res = [pid]
    for c in _children(pid):
        res += _tree(c)
    return res


def _terminate(pids: list[int], timeout: float) -> None:
    for p in pids:
        # a file server shuts down cleanly on SIGQUIT (as bosserver stops it);
        # SIGTERM only makes it log its open descriptors
        sig = signal.SIGQUIT if _comm(p) in ("fileserver", "dafileserver") else signal.SIGTERM
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, sig)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if all(_comm(p) is None or _zombie(p) for p in pids):
            return
        time.sleep(0.1)
    for p in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)


# ------------------------------------------------------------------ cell ----

class TestCell:
    """Bring up / check / tear down the loopback OpenAFS cell.

    >>> info = TestCell().up()          # idempotent; ~1 s when already healthy
    """

    __test__ = False

    def __init__(self, *, verbose: bool = True, log=None):
        self.verbose = verbose
        self._log_stream = log if log is not None else sys.stderr

    # ----------------------------------------------------------- logging --
    def log(self, msg: str, *, to_file: bool = True) -> None:
        line = f"[kafs-testcell {time.strftime('%H:%M:%S')}] {msg}"
        if self.verbose:
            print(line, file=self._log_stream, flush=True)
        if not to_file:
            return
        with contextlib.suppress(OSError):
            C.LOG_DIR.mkdir(parents=True, exist_ok=True)
            with open(C.LOG_DIR / "testcell.log", "a") as f:
                f.write(line + "\n")

    # --------------------------------------------------------------- info --
    def info(self) -> CellInfo:
        names = list(C.BINARIES) + ["afsd.fuse"]
        return CellInfo(
            cell=C.CELL, realm=C.REALM, host=C.SERVER_HOST, server_name=C.SERVER_FQDN,
            ports=dict(C.PORTS), kdc=(C.KDC_HOST, C.KDC_PORT),
            admin_user=C.ADMIN_USER, admin_principal=f"{C.ADMIN_USER}@{C.REALM}",
            admin_password=C.ADMIN_PASSWORD, admin_keytab=str(C.ADMIN_KEYTAB),
            service_principal=f"{C.AFS_SERVICE}@{C.REALM}", service_keytab=str(C.AFS_KEYTAB),
            krb5_config=str(C.KRB5_CONFIG), kdc_profile=str(C.KDC_PROFILE),
            scratch=str(C.SCRATCH), partition=str(C.VICEP),
            binaries={n: _find_bin(n) for n in names},
        )

    # ------------------------------------------------------------ helpers --
    def _run(self, *cmd: str, timeout: float = 120, check: bool = True, input: str | None = None,
             quiet: bool = False) -> subprocess.CompletedProcess:
        try:
            r = subprocess.run(list(cmd), env=_env(), capture_output=True, text=True,
                               timeout=timeout, input=input, stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise TestCellError(f"'{' '.join(cmd)}' timed out after {timeout:g}s") from None
        except FileNotFoundError:
            raise TestCellError(f"{cmd[0]}: not installed") from None
        if check and r.returncode != 0:
            msg = (r.stderr.strip() or r.stdout.strip()).splitlines()
            raise TestCellError(f"'{' '.join(cmd)}' failed: {msg[-1] if msg else f'exit {r.returncode}'}")
        if not quiet and check:
            pass
        return r

    def _ok(self, *cmd: str, timeout: float = 20) -> bool:
        try:
            return self._run(*cmd, timeout=timeout, check=False).returncode == 0
        except TestCellError:
            return False

    def _wait(self, what: str, pred, timeout: float, interval: float = 0.5) -> None:
        end = time.monotonic() + timeout
        while True:
            try:
                if pred():
                    return
            except TestCellError:
                pass
            if time.monotonic() >= end:
                raise TestCellError(f"timed out after {timeout:g}s waiting for {what}")
            time.sleep(interval)

    def _bos(self, *args: str, timeout: float = 60, check: bool = True):
        return self._run(_find_bin("bos"), *args, "-localauth", timeout=timeout, check=check)

    def _vos(self, *args: str, timeout: float = 120, check: bool = True):
        return self._run(_find_bin("vos"), *args, "-localauth", timeout=timeout, check=check)

    def _pts(self, *args: str, timeout: float = 60, check: bool = True):
        return self._run(_find_bin("pts"), *args, "-localauth", timeout=timeout, check=check)

    @contextlib.contextmanager
    def _lock(self):
        C.SCRATCH.mkdir(parents=True, exist_ok=True)
        with open(C.SCRATCH / ".lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # ---------------------------------------------------------- processes --
    def kdc_pid(self) -> int | None:
        return _pid_from(C.RUN_DIR / "krb5kdc.pid", "krb5kdc")

    def bosserver_pid(self) -> int | None:
        pid = _pid_from(C.SRV_LOCAL / "bosserver.pid", "bosserver")
        if pid is None:
            pid = _pid_from(C.RUN_DIR / "bosserver.pid", "bosserver")
        return pid

    # -------------------------------------------------------------- health --
    def bos_instances(self) -> dict[str, str]:
        """instance -> status text from `bos status` ('' when bosserver is down)."""
        try:
            r = self._bos("status", C.SERVER_HOST, timeout=15, check=False)
        except TestCellError:
            return {}
        if r.returncode != 0:
            return {}
        out: dict[str, str] = {}
        cur = None
        for line in r.stdout.splitlines():
            m = re.match(r"Instance (\S+), (.*)$", line)
            if m:
                cur = m.group(1)
                out[cur] = m.group(2).rstrip(".")
            elif cur and line.strip():
                out[cur] += "; " + line.strip()
        return out

    def problems(self) -> list[str]:
        """Everything wrong with the cell; [] means healthy.  Takes ~1 s."""
        probs: list[str] = []
        if not Path(_find_bin("bosserver")).exists():
            return ["OpenAFS is not installed"]
        for f in (C.KRB5_CONFIG, C.ADMIN_KEYTAB, C.AFS_KEYTAB, C.SRV_ETC / "KeyFileExt",
                  C.SRV_ETC / "UserList", C.SRV_LOCAL / "NetInfo",
                  *(d / "AlwaysAttach" for d in C.VICEPS)):
            if not f.exists():
                probs.append(f"{f} missing")
        if not self._hosts_ok():
            # the tools below would ask DNS for 127.1.0.1's name: not before
            # /etc/hosts knows it
            probs.append(f"{C.SERVER_SHORT} does not resolve to {C.SERVER_HOST}")
            return probs
        if not probs and not self._service_key_ok():
            probs.append("KeyFileExt does not hold the afs/ service keys of the keytab")
        if self.kdc_pid() is None:
            probs.append("krb5kdc not running")
        if self.bosserver_pid() is None:
            probs.append("bosserver not running")
            return probs
        inst = self.bos_instances()
        if not inst:
            probs.append(f"bosserver on {C.SERVER_HOST}:7007 does not answer")
            return probs
        for name in INSTANCES:
            st = inst.get(name)
            if st is None:
                probs.append(f"bos instance {name} missing")
            elif not st.startswith("currently running normally"):
                probs.append(f"{name}: {st}")
        if self._want_mountpoints():
            probs.append("root.afs has no mount points for root.cell yet")
        if probs:
            return probs
        # the database servers and the volume location answer (in parallel)
        checks = {
            "vlserver/volserver: root.cell": [_find_bin("vos"), "examine", "root.cell", "-localauth"],
            "vlserver: root.afs": [_find_bin("vos"), "listvldb", "-name", "root.afs", "-localauth"],
            "ptserver: admin": [_find_bin("pts"), "membership", C.ADMIN_USER, "-localauth"],
            "volserver: partitions": [_find_bin("vos"), "listpart", C.SERVER_HOST, "-localauth"],
        }
        procs = {k: subprocess.Popen(v, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True) for k, v in checks.items()}
        for k, p in procs.items():
            try:
                out, _ = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                probs.append(f"{k}: no answer within 30 s")
                continue
            if p.returncode != 0:
                last = out.strip().splitlines()
                probs.append(f"{k}: {last[-1] if last else 'failed'}")
            elif k.startswith("vlserver/volserver") and "On-line" not in out:
                probs.append("root.cell is not on-line")
            elif k.startswith("vlserver/volserver"):
                code = self._fileserver_code(out)
                if code != 0:
                    probs.append("fileserver does not serve root.cell: "
                                 + ("no answer" if code is None else f"abort code {code}"))
            elif k.startswith("ptserver") and "system:administrators" not in out:
                probs.append("admin is not in system:administrators")
            elif k.startswith("volserver: partitions"):
                missing = self._missing_partitions(out)
                if missing:
                    probs.append("partitions not attached: " + " ".join(missing))
        return probs

    @staticmethod
    def _missing_partitions(listpart_out: str) -> list[str]:
        have = set(listpart_out.split())
        return [str(d) for d in C.VICEPS if str(d) not in have]

    def healthy(self) -> bool:
        return not self.problems()

    # ------------------------------------------------------------------ up --
    def up(self) -> CellInfo:
        """Make the cell run (install, create, start, repair as needed)."""
        if os.geteuid() != 0:
            raise TestCellError("kafs-testcell must run as root")
        t0 = time.monotonic()
        if not self.problems():
            self.log(f"cell {C.CELL} is up and healthy ({time.monotonic() - t0:.1f}s)")
            return self.info()
        with self._lock():
            probs = self.problems()      # someone else may have fixed it meanwhile
            if not probs:
                return self.info()
            self.log("bringing the cell up: " + "; ".join(probs))
            self._up_locked()
            probs = self.problems()
            if probs:
                raise TestCellError("cell still unhealthy after up: " + "; ".join(probs))
        self.log(f"cell {C.CELL} is up ({time.monotonic() - t0:.1f}s)")
        return self.info()

    def _up_locked(self) -> None:
        t = time.monotonic()
        for d in (C.SCRATCH, C.KRB_DIR, C.LOG_DIR, C.RUN_DIR, C.STATE_DIR):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(C.SCRATCH, 0o700)
        self._ensure_hosts()
        done = debian.install(debian.CELL_PACKAGES, quiet=True)
        if done:
            self.log(f"installed {len(done)} Debian package(s) ({time.monotonic() - t:.1f}s)")
        self._setup_kdc()
        self._write_afs_config()
        self._start_bosserver()
        self._create_instances()
        self._setup_contents()
        self._wait_serving()

    # ------------------------------------------------------ /etc/hosts ----
    def _hosts_ok(self) -> bool:
        """/etc/hosts maps afs1 to 127.1.0.1 (read the file: asking the
        resolver for a missing name would send a DNS query off the machine)."""
        try:
            text = Path("/etc/hosts").read_text()
        except OSError:
            return False
        for line in text.splitlines():
            f = line.split("#", 1)[0].split()
            if len(f) >= 2 and (C.SERVER_SHORT in f[1:] or C.SERVER_FQDN in f[1:]):
                return f[0] == C.SERVER_HOST
        return False

    def _ensure_hosts(self) -> None:
        line = f"{C.SERVER_HOST}\t{C.SERVER_FQDN} {C.SERVER_SHORT}\t{C.HOSTS_TAG}"
        hosts = Path("/etc/hosts")
        lines = hosts.read_text().splitlines()
        if line not in lines:
            keep = [x for x in lines if not x.endswith(C.HOSTS_TAG)]
            # rewrite in place (/etc/hosts may be a bind mount)
            with open(hosts, "w") as f:
                f.write("\n".join(keep + [line]) + "\n")
            self.log(f"/etc/hosts: {C.SERVER_HOST} {C.SERVER_FQDN} {C.SERVER_SHORT}")
        if not self._hosts_ok():
            raise TestCellError(f"{C.SERVER_SHORT} does not resolve to {C.SERVER_HOST} (check /etc/hosts)")

    def _drop_hosts(self) -> None:
        hosts = Path("/etc/hosts")
        with contextlib.suppress(OSError):
            lines = hosts.read_text().splitlines()
            keep = [x for x in lines if not x.endswith(C.HOSTS_TAG)]
            if keep != lines:
                with open(hosts, "w") as f:
                    f.write("\n".join(keep) + "\n")

    # ----------------------------------------------------------- Kerberos --
    def _write_if_changed(self, path: Path, text: str, mode: int | None = None) -> bool:
        try:
            if path.read_bytes() == text.encode():
                return False
        except OSError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".kafs-tmp")
        tmp.write_text(text)
        if mode is not None:
            tmp.chmod(mode)
        os.replace(tmp, path)
        return True

    def _krb5_conf(self) -> str:
        return f"""# generated by kafs-testcell
[libdefaults]
    default_realm = {C.REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    default_ccache_name = FILE:/tmp/krb5cc_%{{uid}}

[realms]
    {C.REALM} = {{
        kdc = {C.KDC_HOST}:{C.KDC_PORT}
        admin_server = {C.KDC_HOST}:749
    }}

[domain_realm]
    .{C.CELL} = {C.REALM}
    {C.CELL} = {C.REALM}
"""

    def _kdc_conf(self) -> str:
        k = C.KRB_DIR
        return f"""# generated by kafs-testcell
[kdcdefaults]
    kdc_listen = {C.KDC_HOST}:{C.KDC_PORT}
    kdc_tcp_listen = {C.KDC_HOST}:{C.KDC_PORT}

[realms]
    {C.REALM} = {{
        database_name = {k}/principal
        key_stash_file = {k}/stash
        acl_file = {k}/kadm5.acl
        kdc_listen = {C.KDC_HOST}:{C.KDC_PORT}
        kdc_tcp_listen = {C.KDC_HOST}:{C.KDC_PORT}
        kadmind_listen = {C.KDC_HOST}:749
        kpasswd_listen = {C.KDC_HOST}:464
        master_key_type = aes256-cts-hmac-sha1-96
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
        max_life = 25h
        max_renewable_life = 7d
    }}

[logging]
    kdc = FILE:{C.LOG_DIR}/krb5kdc.log
    admin_server = FILE:{C.LOG_DIR}/kadmind.log
    default = FILE:{C.LOG_DIR}/krb5lib.log
"""

    def _kadmin(self, query: str, check: bool = True):
        return self._run(_find_bin("kadmin.local"), "-r", C.REALM, "-q", query, check=check)

    def _has_princ(self, name: str) -> bool:
        r = self._kadmin(f"getprinc {name}", check=False)
        return "Principal:" in r.stdout

    def _setup_kdc(self) -> None:
        self._write_if_changed(C.KRB5_CONFIG, self._krb5_conf(), 0o644)
        self._write_if_changed(C.KDC_PROFILE, self._kdc_conf(), 0o600)
        if not (C.KRB_DIR / "kadm5.acl").exists():
            (C.KRB_DIR / "kadm5.acl").write_text(f"*/admin@{C.REALM} *\n")
        if not (C.KRB_DIR / "principal").exists():
            self.log(f"creating Kerberos realm {C.REALM}")
            self._run(_find_bin("kdb5_util"), "-r", C.REALM, "create", "-s", "-P", C.KDC_MASTER_PASSWORD,
                      timeout=120)
            for f in (C.AFS_KEYTAB, C.ADMIN_KEYTAB):    # keys of an older realm are useless
                f.unlink(missing_ok=True)
        if self.kdc_pid() is None:
            self.log(f"starting krb5kdc on {C.KDC_HOST}:{C.KDC_PORT}")
            (C.RUN_DIR / "krb5kdc.pid").unlink(missing_ok=True)
            self._run(_find_bin("krb5kdc"), "-P", str(C.RUN_DIR / "krb5kdc.pid"), timeout=30)
            try:
                self._wait("krb5kdc", lambda: self.kdc_pid() is not None, 20, 0.1)
            except TestCellError:
                raise TestCellError(f"krb5kdc did not start (is {C.KDC_HOST}:{C.KDC_PORT} taken by another KDC? "
                                    f"see {C.LOG_DIR}/krb5kdc.log)") from None
        if not self._has_princ(C.ADMIN_USER):
            self._kadmin(f"addprinc -pw {C.ADMIN_PASSWORD} {C.ADMIN_USER}")
            self.log(f"created principal {C.ADMIN_USER}@{C.REALM}")
            C.ADMIN_KEYTAB.unlink(missing_ok=True)
        if not self._has_princ(C.AFS_SERVICE):
            # OpenAFS's rfc3961 code knows aes-sha1 (17/18) but not aes-sha2 (19/20)
            self._kadmin("addprinc -randkey -e aes256-cts-hmac-sha1-96:normal,aes128-cts-hmac-sha1-96:normal "
                         + C.AFS_SERVICE)
            self.log(f"created principal {C.AFS_SERVICE}@{C.REALM}")
            C.AFS_KEYTAB.unlink(missing_ok=True)
        # -norandkey: a plain ktadd would re-randomise the key and bump the kvno
        for kt, princ in ((C.AFS_KEYTAB, C.AFS_SERVICE), (C.ADMIN_KEYTAB, C.ADMIN_USER)):
            if not kt.exists() or kt.stat().st_size == 0:
                kt.unlink(missing_ok=True)
                self._kadmin(f"ktadd -k {kt} -norandkey {princ}")
                self.log(f"wrote {kt}")
            kt.chmod(0o600)
        # prove the KDC answers and can issue afs/<cell> tickets
        cc = C.RUN_DIR / "probe.ccache"
        env_cc = f"FILE:{cc}"
        try:
            r = subprocess.run([_find_bin("kinit"), "-k", "-t", str(C.ADMIN_KEYTAB), f"{C.ADMIN_USER}@{C.REALM}"],
                               env={**_env(), "KRB5CCNAME": env_cc}, capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                raise TestCellError(f"kinit against the KDC failed: {r.stderr.strip()} (see {C.LOG_DIR}/krb5kdc.log)")
            r = subprocess.run([_find_bin("kvno"), f"{C.AFS_SERVICE}@{C.REALM}"],
                               env={**_env(), "KRB5CCNAME": env_cc}, capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                raise TestCellError(f"KDC cannot issue {C.AFS_SERVICE} tickets: {r.stderr.strip()}")
        finally:
            cc.unlink(missing_ok=True)

    # ------------------------------------------------ OpenAFS configuration --
    def _netrestrict(self) -> str:
        """Every IPv4 address of a real interface, /32: never registered or bound."""
        r = self._run("ip", "-4", "-o", "addr", "show", check=False)
        addrs = []
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) >= 4 and f[1] != "lo" and f[2] == "inet":
                addrs.append(f[3].split("/")[0] + "/32")
        return "".join(a + "\n" for a in addrs)

    def _write_afs_config(self) -> None:
        for d in (C.SRV_ETC, C.SRV_LOCAL, C.SRV_DB, C.SRV_LOGS, *C.VICEPS):
            d.mkdir(parents=True, exist_ok=True)
        C.SRV_LOCAL.chmod(0o700)
        C.SRV_DB.chmod(0o700)
        csdb = f">{C.CELL}\t#loopback test cell (kafs-testcell)\n{C.SERVER_HOST}\t#{C.SERVER_FQDN}\n"
        changed = False
        for p, text in ((C.SRV_ETC / "ThisCell", C.CELL + "\n"),
                        (C.CLI_ETC / "ThisCell", C.CELL + "\n"),
                        (C.SRV_ETC / "CellServDB", csdb),
                        # client copy: ONLY our cell, so nothing contacts the
                        # real-world cells of the shipped CellServDB.dist
                        (C.CLI_ETC / "CellServDB", csdb),
                        (C.SRV_ETC / "krb.conf", C.REALM + "\n"),
                        (C.SRV_LOCAL / "NetInfo", f"f {C.SERVER_HOST}\n"),
                        (C.CLI_ETC / "NetInfo", f"f {C.CLIENT_FAKE_ADDR}\n")):
            changed |= self._write_if_changed(p, text)
        nr = self._netrestrict()
        for p in (C.SRV_LOCAL / "NetRestrict", C.CLI_ETC / "NetRestrict"):
            if nr:
                changed |= self._write_if_changed(p, nr)
            elif p.exists():
                p.unlink()
        ul = C.SRV_ETC / "UserList"
        users = ul.read_text().split() if ul.exists() else []
        if C.ADMIN_USER not in users:
            with open(ul, "a") as f:
                f.write(C.ADMIN_USER + "\n")
        for d in C.VICEPS:
            (d / "AlwaysAttach").touch()
        self._install_service_key()
        if changed and self.bosserver_pid() is not None:
            self.log("configuration changed while bosserver runs (restart will pick it up)")

    def _keytab_keys(self) -> dict[tuple[int, int], str]:
        """(kvno, enctype) -> key hex of afs/<cell> in the service keytab."""
        r = self._run(_find_bin("klist"), "-k", "-K", "-e", str(C.AFS_KEYTAB))
        want = f"{C.AFS_SERVICE}@{C.REALM}"
        enctypes = {"aes256-cts-hmac-sha1-96": 18, "aes128-cts-hmac-sha1-96": 17}
        keys = {}
        for line in r.stdout.splitlines():
            m = re.match(r"\s*(\d+)\s+(\S+)\s+\(([\w-]+)\)\s+\(0x([0-9a-f]+)\)", line)
            if m and m.group(2) == want and m.group(3) in enctypes:
                keys[(int(m.group(1)), enctypes[m.group(3)])] = m.group(4)
        if not keys:
            raise TestCellError(f"no aes-sha1 {want} key in {C.AFS_KEYTAB}")
        return keys

    def _keyfile_keys(self) -> dict[tuple[int, int], str]:
        r = self._run(_find_bin("asetkey"), "list", check=False)
        return {(int(m.group(1)), int(m.group(2))): m.group(3)
                for m in re.finditer(r"^rxkad_krb5\s+kvno\s+(\d+)\s+enctype\s+(\d+);\s+key is:\s+([0-9a-f]+)",
                                     r.stdout, re.M)}

    def _service_key_ok(self) -> bool:
        try:
            want = self._keytab_keys()
        except TestCellError:
            return False
        have = self._keyfile_keys()
        return all(have.get(k) == v for k, v in want.items())

    def _install_service_key(self) -> None:
        """KeyFileExt must hold exactly the keytab's keys (a re-created realm
        has new keys under the same kvno, so the key bytes are compared)."""
        asetkey = _find_bin("asetkey")
        have = self._keyfile_keys()
        for (kvno, enc), key in sorted(self._keytab_keys().items()):
            if have.get((kvno, enc)) == key:
                continue
            self._run(asetkey, "delete", "rxkad_krb5", str(kvno), str(enc), check=False)
            self._run(asetkey, "add", "rxkad_krb5", str(kvno), str(enc), str(C.AFS_KEYTAB),
                      f"{C.AFS_SERVICE}@{C.REALM}")
            self.log(f"KeyFileExt: rxkad_krb5 kvno {kvno} enctype {enc}")

    # ------------------------------------------------------------ servers --
    def _stray_servers(self) -> list[int]:
        """OpenAFS server processes that run without our bosserver (orphans
        of a killed bosserver): they hold the ports a new one needs."""
        out = []
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            comm = _comm(int(d.name))
            if comm in SERVER_COMMS[1:]:
                try:
                    exe = os.readlink(d / "exe")
                except OSError:
                    continue
                if exe.startswith(str(C.LIBEXEC) + "/") and _uts_hostname(int(d.name)) == C.SERVER_SHORT:
                    out.append(int(d.name))
        return out

    def _start_bosserver(self) -> None:
        pid = self.bosserver_pid()
        if pid is None:
            strays = self._stray_servers()
            if strays:
                self.log(f"stopping orphaned OpenAFS servers {strays}")
                # a file server detaching thousands of volumes needs seconds;
                # killed early, it leaves them to be salvaged on next use
                _terminate(strays, 30)
            self.log(f"starting bosserver -rxbind on {C.SERVER_HOST} (own UTS namespace, hostname {C.SERVER_SHORT})")
            (C.SRV_LOCAL / "bosserver.pid").unlink(missing_ok=True)
            with open(C.LOG_DIR / "bosserver.out", "ab") as out:
                # setsid -f: bosserver is not our child (no zombie in a
                # long-lived pytest process) and has its own session.
                subprocess.run(["setsid", "-f", "unshare", "--uts", "--", "/bin/sh", "-c",
                                f"hostname {C.SERVER_SHORT} && exec {_find_bin('bosserver')} -rxbind -nofork -pidfiles"],
                               stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=_env(), check=True)
            self._wait("bosserver pid file", lambda: self.bosserver_pid() is not None, 20, 0.1)
            pid = self.bosserver_pid()
            (C.RUN_DIR / "bosserver.pid").write_text(f"{pid}\n")
        self._wait(f"bosserver on {C.SERVER_HOST}:7007",
                   lambda: self._bos("listhosts", C.SERVER_HOST, timeout=10, check=False).returncode == 0, 30)

    def _create_instances(self) -> None:
        inst = self.bos_instances()
        libexec = C.LIBEXEC
        if "ptserver" not in inst:
            self._bos("create", C.SERVER_HOST, "ptserver", "simple", f"{libexec}/ptserver -rxbind")
        if "vlserver" not in inst:
            self._bos("create", C.SERVER_HOST, "vlserver", "simple", f"{libexec}/vlserver -rxbind")
        for name in ("ptserver", "vlserver", "dafs"):
            st = inst.get(name)
            if st is not None and not st.startswith("currently running normally"):
                # `bos start` also undoes a `bos stop` (goal = run)
                self.log(f"starting {name} ({st})")
                self._bos("start", C.SERVER_HOST, name)
        self._wait_quorum()
        if "dafs" not in inst:
            self._bos("create", C.SERVER_HOST, "dafs", "dafs",
                      f"{libexec}/dafileserver -rxbind -p 16 -cb 64000",
                      f"{libexec}/davolserver -rxbind",
                      f"{libexec}/salvageserver",
                      f"{libexec}/dasalvager")
        self._wait_fileserver()

    def _ubik_synced(self, port: int) -> bool:
        # only the sync site prints "Recovery state"; bits 1|2|4 = sync site,
        # has found and has the best database (writes work)
        r = self._run(_find_bin("udebug"), C.SERVER_HOST, str(port), timeout=10, check=False)
        m = re.search(r"^Recovery state ([0-9a-f]+)", r.stdout, re.M)
        return bool(m) and (int(m.group(1), 16) & 7) == 7

    def _vl_writable(self) -> bool:
        # unlocking a volume id that does not exist starts a write transaction
        # and fails with "no such entry"; without a usable sync site the error
        # is "no quorum elected" / "not synchronization site"
        r = self._vos("unlock", "2147483000", timeout=30, check=False)
        return "no such entry" in (r.stdout + r.stderr)

    def _wait_quorum(self) -> None:
        self._wait("vlserver ubik sync site", lambda: self._ubik_synced(C.PORTS["vlserver"]), 120)
        self._wait("ptserver ubik sync site", lambda: self._ubik_synced(C.PORTS["ptserver"]), 120)
        self._wait("ptserver", lambda: self._pts("examine", "system:administrators", check=False,
                                                 timeout=20).returncode == 0, 60)
        self._wait("vlserver write transactions", self._vl_writable, 120)

    def _fileserver_code(self, examine_out: str | None = None) -> int | None:
        """RXAFS_FetchStatus of root.cell's root: 0, the abort code, or None."""
        from .probe import fetch_status_code
        if examine_out is None:
            examine_out = self._vos("examine", "root.cell", check=False, timeout=30).stdout
        m = re.search(r"RWrite:\s*(\d+)", examine_out)
        if not m:
            return None
        return fetch_status_code(C.SERVER_HOST, C.PORTS["fileserver"], int(m.group(1)), C.CELL)

    def _wait_serving(self) -> None:
        # after an unclean stop a demand-attach file server salvages root.cell
        # on first use and answers VBUSY meanwhile
        self._wait("fileserver serving root.cell", lambda: self._fileserver_code() == 0, 180, 1)

    def _listpart_missing(self) -> list[str]:
        return self._missing_partitions(self._vos("listpart", C.SERVER_HOST, check=False, timeout=20).stdout)

    def _wait_fileserver(self) -> None:
        # the volume server answers with the partitions the file server
        # attached at its start; one made later needs a (clean) restart
        self._wait(f"volserver partition {C.VICEP}", lambda: str(C.VICEP) not in self._listpart_missing(), 120)
        missing = self._listpart_missing()
        if missing:
            self.log(f"restarting dafs to attach {' '.join(missing)}")
            self._bos("restart", C.SERVER_HOST, "dafs")
            self._wait("volserver partitions " + " ".join(map(str, C.VICEPS)),
                       lambda: not self._listpart_missing(), 120)
        self._wait("fileserver address registration",
                   lambda: C.SERVER_HOST in self._vos("listaddrs", "-noresolve", check=False,
                                                      timeout=20).stdout.split(), 120)

    # ------------------------------------------------------ cell contents --
    def _setup_contents(self) -> None:
        if self._pts("examine", C.ADMIN_USER, check=False).returncode != 0:
            self._pts("createuser", C.ADMIN_USER)
            self.log(f"pts: created user {C.ADMIN_USER}")
        if "system:administrators" not in self._pts("membership", C.ADMIN_USER, check=False).stdout:
            self._pts("adduser", C.ADMIN_USER, "system:administrators")
            self.log(f"pts: {C.ADMIN_USER} added to system:administrators")
        for vol in ("root.afs", "root.cell"):
            if self._vos("examine", vol, check=False, timeout=60).returncode != 0:
                self._vos("create", C.SERVER_HOST, "a", vol)
                self.log(f"created volume {vol}")
                (C.STATE_DIR / f"acl.{vol}").unlink(missing_ok=True)
                if vol == "root.afs":
                    (C.STATE_DIR / "mountpoints").unlink(missing_ok=True)
        admins = dump.ADMINISTRATORS
        self._set_root_acl("root.cell", {admins: dump.rights("rlidwka"), dump.ANYUSER: dump.rights("rlidwk")})
        self._set_root_acl("root.afs", {admins: dump.rights("rlidwka"), dump.ANYUSER: dump.rights("rl")})
        if self._want_mountpoints():
            self._make_root_mountpoints()
        ex = self._vos("examine", "root.cell", check=False).stdout
        if not re.search(rf"MaxQuota\s+{C.ROOT_CELL_QUOTA_KB} K", ex):
            self._vos("setfields", "root.cell", "-maxquota", str(C.ROOT_CELL_QUOTA_KB))

    # ----------------------------------------------- root.afs mount points --
    # root.afs needs mount points "test.example" -> root.cell (and
    # ".test.example" for the RW path) for clients without a dynamic root
    # (afsio, afsd.fuse without -dynroot).  Only a cache manager can make a
    # directory entry, so a short-lived anonymous afsd.fuse makes two
    # symlinks while root.afs grants system:anyuser "rli"; the dump pass of
    # _set_root_acl then turns them into real mount points.
    def _want_mountpoints(self) -> bool:
        if (C.STATE_DIR / "mountpoints").exists() or (C.STATE_DIR / "mountpoints.failed").exists():
            return False
        return Path("/dev/fuse").exists() and Path(_find_bin("afsd.fuse")).exists()

    def _fuse_pid(self, mnt: Path) -> int | None:
        for d in Path("/proc").iterdir():
            if not d.name.isdigit() or _comm(int(d.name)) != "afsd.fuse":
                continue
            try:
                args = (d / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if str(mnt).encode() in args and not _zombie(int(d.name)):
                return int(d.name)
        return None

    def _start_fuse(self, mnt: Path, cache: Path) -> bool:
        mnt.mkdir(parents=True, exist_ok=True)
        cache.mkdir(parents=True, exist_ok=True)
        # afsd.fuse daemonizes itself (its -f is swallowed by afsd's option
        # parser), so it is found afterwards by its -mountdir
        with open(C.LOG_DIR / "afsd.fuse.out", "ab") as out:
            r = subprocess.run([_find_bin("afsd.fuse"), "-mountdir", str(mnt), "-cachedir", str(cache),
                                "-blocks", "65536", "-files", "2000", "-stat", "2000", "-nosettime"],
                               stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=_env(), timeout=60)
        if r.returncode != 0:
            return False
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if os.path.ismount(mnt):
                return True
            time.sleep(0.2)
        return False

    def _stop_fuse(self, mnt: Path) -> None:
        pid = self._fuse_pid(mnt)
        if os.path.ismount(mnt):
            if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
        if pid is not None:
            # unmounting makes afsd.fuse shut down by itself
            end = time.monotonic() + 15
            while time.monotonic() < end and _comm(pid) == "afsd.fuse" and not _zombie(pid):
                time.sleep(0.2)
            if _comm(pid) == "afsd.fuse" and not _zombie(pid):
                _terminate([pid], 5)

    def _make_root_mountpoints(self) -> None:
        admins = dump.ADMINISTRATORS
        mnt, cache = C.SCRATCH / "setup-mnt", C.SCRATCH / "setup-cache"
        self._set_root_acl("root.afs", {admins: dump.rights("rlidwka"), dump.ANYUSER: dump.rights("rli")},
                           force=True)
        try:
            if self._start_fuse(mnt, cache):
                for name, text in ((C.CELL, f"#{C.CELL}:root.cell."), (f".{C.CELL}", f"%{C.CELL}:root.cell.")):
                    if not os.path.lexists(mnt / name):
                        with contextlib.suppress(OSError):
                            os.symlink(text, mnt / name)
        finally:
            self._stop_fuse(mnt)
            shutil.rmtree(cache, ignore_errors=True)
            with contextlib.suppress(OSError):
                mnt.rmdir()
            self._set_root_acl("root.afs", {admins: dump.rights("rlidwka"), dump.ANYUSER: dump.rights("rl")},
                               force=True)
        tmp = C.SCRATCH / "tmp.check.dump"
        try:
            self._vos("dump", "-id", "root.afs", "-file", str(tmp))
            found = dump.mount_points(tmp.read_bytes())
        finally:
            tmp.unlink(missing_ok=True)
        want = {f"#{C.CELL}:root.cell.", f"%{C.CELL}:root.cell."}
        if want <= set(found):
            (C.STATE_DIR / "mountpoints").write_text(" ".join(sorted(found)) + "\n")
            self.log(f"root.afs: mount points {C.CELL} -> #{C.CELL}:root.cell., .{C.CELL} -> %{C.CELL}:root.cell.")
        else:
            (C.STATE_DIR / "mountpoints.failed").write_text(" ".join(found) + "\n")
            self.log(f"WARNING: could not make the root.afs mount points (see {C.LOG_DIR}/afsd.fuse.out)")

    def _set_root_acl(self, vol: str, entries: dict[int, int], *, force: bool = False) -> None:
        marker = C.STATE_DIR / f"acl.{vol}"
        spec = " ".join(f"{i}:{r}" for i, r in sorted(entries.items()))
        if not force and marker.exists() and marker.read_text().strip() == spec:
            return
        tmp = C.SCRATCH / f"tmp.{vol}.dump"
        try:
            self._vos("dump", "-id", vol, "-file", str(tmp), timeout=120)
            data = tmp.read_bytes()
            new, nfix = dump.fix_fuse_mount_points(dump.set_root_acl(data, entries))
            if new != data:
                tmp.write_bytes(new)
                self._vos("restore", C.SERVER_HOST, "a", vol, "-file", str(tmp), "-overwrite", "full",
                          timeout=120)
            if nfix:
                self.log(f"{vol}: {nfix} afsd.fuse symlink(s) made into mount point(s)")
        finally:
            tmp.unlink(missing_ok=True)
        marker.write_text(spec + "\n")
        self.log(f"root ACL of {vol}: {spec}")

    # ---------------------------------------------------------------- down --
    def down(self) -> None:
        with self._lock():
            self._down_locked()

    def _down_locked(self) -> None:
        from . import loss
        with contextlib.suppress(TestCellError):
            loss.clear_loss()
        pid = self.bosserver_pid()
        if pid is not None:
            self.log("bos shutdown (ptserver, vlserver, dafs)")
            r = self._bos("shutdown", C.SERVER_HOST, "-wait", timeout=120, check=False)
            if r.returncode != 0:
                self.log("bos shutdown failed; stopping bosserver anyway")
            tree = _tree(pid)
            self.log(f"stopping bosserver (pid {pid})")
            _terminate([pid], 30)
            # anything bosserver left behind
            rest = [p for p in tree[1:] if _comm(p) in SERVER_COMMS]
            if rest:
                _terminate(rest, 15)
        strays = self._stray_servers()
        if strays:
            _terminate(strays, 15)
        for f in (C.RUN_DIR / "bosserver.pid", C.SRV_LOCAL / "bosserver.pid"):
            f.unlink(missing_ok=True)
        kpid = self.kdc_pid()
        if kpid is not None:
            self.log(f"stopping krb5kdc (pid {kpid})")
            _terminate([kpid], 15)
        (C.RUN_DIR / "krb5kdc.pid").unlink(missing_ok=True)
        self.log(f"down (state kept in {C.SCRATCH}, {C.SRV_DB}, {', '.join(map(str, C.VICEPS))})")

    def purge(self) -> None:
        with self._lock():
            self._down_locked()
            self.log("purging cell and realm state")
            for p in C.SRV_DB.glob("*"):
                if p.name.startswith(("prdb.", "vldb.")):
                    p.unlink(missing_ok=True)
            for d in (C.SRV_LOCAL, C.SRV_LOGS, *C.VICEPS):
                if d.exists():
                    for p in d.iterdir():
                        if p.is_dir() and not p.is_symlink():
                            shutil.rmtree(p, ignore_errors=True)
                        else:
                            p.unlink(missing_ok=True)
            for p in (C.CLI_ETC / "BosConfig", C.CLI_ETC / "bosserver.rxbind", C.SRV_ETC / "KeyFileExt", C.SRV_ETC / "KeyFile",
                      C.SRV_ETC / "rxkad.keytab", C.SRV_ETC / "UserList", C.SRV_ETC / "krb.conf",
                      C.CLI_ETC / "NetInfo", C.CLI_ETC / "NetRestrict"):
                p.unlink(missing_ok=True)
            for d in C.VICEPS:
                with contextlib.suppress(OSError):
                    d.rmdir()
            self._drop_hosts()
            # the scratch dir last (it holds the lock file: remove its contents)
            for p in C.SCRATCH.iterdir():
                if p.name == ".lock":
                    continue
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
        self.log("purged (Debian packages are kept)", to_file=False)

    # -------------------------------------------------------------- status --
    def status_text(self) -> tuple[bool, str]:
        lines = []
        probs = self.problems()
        lines.append(f"cell {C.CELL} (realm {C.REALM}), servers on {C.SERVER_HOST} "
                     f"({C.SERVER_FQDN}), KDC {C.KDC_HOST}:{C.KDC_PORT}")
        kp, bp = self.kdc_pid(), self.bosserver_pid()
        lines.append(f"krb5kdc:   {'running, pid %d' % kp if kp else 'not running'}")
        lines.append(f"bosserver: {'running, pid %d' % bp if bp else 'not running'}")
        if bp:
            for name, st in self.bos_instances().items():
                lines.append(f"  {name:9s} {st}")
        from . import loss
        pct = loss.current_loss()
        lines.append(f"loss:      {'%d%% of UDP to/from %s' % (pct, C.SERVER_HOST) if pct else 'off'}")
        lines.append(f"state:     {C.SCRATCH}")
        if probs:
            lines.append("UNHEALTHY:")
            lines += [f"  - {p}" for p in probs]
        else:
            lines.append("healthy")
        return not probs, "\n".join(lines)

    # ---------------------------------------------------------------- loss --
    def set_loss(self, percent: float) -> None:
        from . import loss
        loss.set_loss(percent)

    def clear_loss(self) -> None:
        from . import loss
        loss.clear_loss()

    def dropped_packets(self) -> int:
        from . import loss
        return loss.dropped_packets()
