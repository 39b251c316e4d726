"""A private PostgreSQL 15 cluster for the fault tests, so that stopping the database never touches
the shared one on 5432 that the rest of the suite (and other runs) use.

``initdb`` refuses to run as root: as root the cluster belongs to the ``postgres`` user (commands run
through ``runuser``), in a temporary directory it owns; as anyone else it is simply theirs. Clients
connect over TCP on a free port of 127.0.0.1 with trust authentication (user ``postgres``).
"""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.needs import skip_or_fail

PG_BIN = Path(os.environ.get("MOPS_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateCluster:
    """One initdb'd data directory and its server. ``url(name)`` is a ``DATABASE_URL`` for it."""

    def __init__(self, root: Path, owner: str | None):
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = free_port()
        self.owner = owner  # run the server's commands as this user (root cannot), or as ourselves

    def _command(self, binary: str, *args: str) -> list[str]:
        command = [str(PG_BIN / binary), *args]
        return ["runuser", "-u", self.owner, "--", *command] if self.owner else command

    def run(self, binary: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """A PostgreSQL program (initdb, pg_ctl, createdb, pg_dump …) as the cluster's owner; raises with
        its output when it fails."""
        result = subprocess.run(
            self._command(binary, *args), capture_output=True, text=True, timeout=timeout, cwd=self.root
        )
        if result.returncode:
            raise RuntimeError(f"{binary} {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def initdb(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")

    def _server(self) -> list[str]:
        # The log file, or the server would keep our pipes open; fsync off: the cluster is thrown away;
        # the socket in our own directory, not /var/run/postgresql.
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        return ["-w", "-t", "30", "-D", str(self.data), "-l", str(self.log), "-o", options]

    def start(self) -> None:
        self.run("pg_ctl", "start", *self._server())

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session at once (what ``pg_ctl restart -m fast`` does first)."""
        self.run("pg_ctl", "stop", "-w", "-t", "30", "-D", str(self.data), "-m", mode)

    def restart(self) -> None:
        self.run("pg_ctl", "restart", "-m", "fast", *self._server())

    def is_running(self) -> bool:
        status = subprocess.run(self._command("pg_ctl", "status", "-D", str(self.data)), capture_output=True)
        return status.returncode == 0

    def createdb(self, name: str) -> None:
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


def _owner() -> str | None:
    if not (PG_BIN / "initdb").exists():
        skip_or_fail(f"needs PostgreSQL's server programs in {PG_BIN} (initdb, pg_ctl)")
    if os.geteuid() != 0:
        return None
    if shutil.which("runuser") is None:
        skip_or_fail("running as root, initdb needs runuser to act as the postgres user")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        skip_or_fail("running as root, initdb needs a postgres user to own the cluster")
    return "postgres"


@contextlib.contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A started cluster, stopped and deleted on exit (whatever state the test left it in)."""
    owner = _owner()
    # Not pytest's tmp_path: its parents are private to us, and the postgres user must reach the directory.
    root = Path(tempfile.mkdtemp(prefix="mops-pg-"))
    if owner:
        entry = pwd.getpwnam(owner)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    cluster = PrivateCluster(root, owner)
    try:
        cluster.initdb()
        cluster.start()
        yield cluster
    finally:
        if cluster.data.exists() and cluster.is_running():
            cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
