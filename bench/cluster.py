"""A private PostgreSQL cluster for the bench and the crash test, never the machine's own server.

The machine's shared server runs with stock settings (128 MB of shared buffers, autovacuum
off) that no production server of a region would have, and the project cannot change them.
The bench therefore runs its own cluster from the machine's PostgreSQL binaries, with the
production settings of `docs/postgresql.conf`: its figures are those of that configuration.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)
PRODUCTION_SETTINGS = Path(__file__).resolve().parents[1] / "docs" / "postgresql.conf"


def free_port(start: int) -> int:
    """The first port from `start` that a server could listen on. A port whose last
    connections are still closing (TIME_WAIT) counts as free, as it does for PostgreSQL and
    gunicorn (both bind with SO_REUSEADDR): a cluster stopped and started again keeps its
    port."""
    for port in range(start, start + 200):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def production_settings(path: Path = PRODUCTION_SETTINGS) -> dict[str, str]:
    """The `name = value` lines of a postgresql.conf, comments and blank lines left out."""
    settings = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, value = line.partition("=")
            settings[name.strip()] = value.strip().strip("'")
    return settings


class Cluster:
    """initdb'd into `root` as the `postgres` OS user, served on loopback from `port_from` up.
    Its data outlives the process: a later run starts it again (`ensure`)."""

    def __init__(self, root: Path, settings: dict[str, str], port_from: int = 55432) -> None:
        if PG_BIN is None:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self.data = root / "pgdata"
        self.sock = root / "pgsock"
        self.log = root / "postgres.log"
        self.settings = settings
        self.port = self._running_port() or free_port(port_from)

    @property
    def url(self) -> str:
        """The server's address, to which a database name is appended."""
        return f"postgres://postgres@127.0.0.1:{self.port}/"

    def psql(self, sql: str, db: str = "postgres") -> str:
        """One statement through psql (CREATE DATABASE cannot run in a transaction block)."""
        server = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db]
        return subprocess.run(  # noqa: S603
            ["psql", *server, "-Atqc", sql],  # noqa: S607
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(  # noqa: S603
            ["runuser", "-u", "postgres", "--", *args],  # noqa: S607
            check=True,
            capture_output=True,
            timeout=600,
        )

    def _running_port(self) -> int | None:
        """The port of this cluster's running postmaster (its pid file's fourth line), if any."""
        pid_file = self.data / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            lines = pid_file.read_text().splitlines()
            os.kill(int(lines[0]), 0)
            return int(lines[3])
        return None

    def init(self) -> None:
        for path in (self.data.parent, self.sock):
            path.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.data.parent, "postgres")
        shutil.chown(self.sock, "postgres")
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-E", "UTF8")
        self.start()

    def ensure(self) -> None:
        """Running, whether it had to be made, started, or was already up."""
        if not (self.data / "PG_VERSION").exists():
            self.init()
        elif self._running_port() is None:
            self.start()  # a pid file left by a crash is PostgreSQL's to clear

    def start(self) -> None:
        options = [f"-p {self.port}", f"-k {self.sock}", "-c listen_addresses=127.0.0.1"]
        options += [f"-c {name}={value}" for name, value in self.settings.items()]
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
            "-o", " ".join(options), "-w", "-t", "120", "start",
        )  # fmt: skip

    def postmaster(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def crash(self) -> None:
        """kill -9 the postmaster and every process of the cluster, as a server crash would."""
        import psutil

        pid = self.postmaster()
        children = [p.pid for p in psutil.Process(pid).children(recursive=True)]
        os.kill(pid, signal.SIGKILL)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        for each in [pid, *children]:
            with contextlib.suppress(psutil.Error):
                psutil.Process(each).wait(timeout=10)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
