"""A throwaway PostgreSQL server on a free loopback port, that a test may stop and start at will.

The fault suite (``tests/test_faults.py``) stops the database under load;
it must not touch the machine's own cluster, which other tests use. This
one lives in a temporary folder (``initdb``, trust authentication, no fsync),
listens on 127.0.0.1 only, and is removed on exit.

    with ThrowawayPostgres() as pg:
        url = pg.url            # postgresql://postgres@127.0.0.1:PORT/tasklink
        pg.stop()               # fast shutdown: clients see their connections refused
        pg.start()
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.serving import free_port


def postgres_bin() -> Path | None:
    """The folder of the newest installed PostgreSQL server binaries (Debian layout), if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def available() -> str | None:
    """Why a throwaway server cannot run here (``None`` when it can)."""
    if postgres_bin() is None:
        return "PostgreSQL server binaries are not installed"
    if os.geteuid() != 0 and shutil.which("sudo") is None:
        return "needs root (or sudo) to run initdb as the postgres user"
    return None


class ThrowawayPostgres:
    """``initdb`` in a temporary folder owned by ``postgres``; start, stop, and a URL to reach it."""

    def __init__(self, database: str = "tasklink") -> None:
        self.database = database
        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL server binaries are not installed")
        self.port = free_port()
        # Under /tmp: the postgres user must be able to enter every parent folder.
        self.folder = Path(tempfile.mkdtemp(prefix="tasklink-pg-", dir="/tmp"))
        os.chmod(self.folder, 0o755)
        shutil.chown(self.folder, "postgres")
        self.data = self.folder / "data"

    @property
    def url(self) -> str:
        """The database's URL (TCP on loopback, no password)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _as_postgres(self, *argv: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else ["sudo", "-u", "postgres"]
        subprocess.run([*prefix, *argv], check=True, capture_output=True)

    def __enter__(self) -> ThrowawayPostgres:
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"
        )
        self.start()
        self._as_postgres(
            str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.database
        )
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )

    def stop(self) -> None:
        """Fast shutdown: open connections are closed, new ones refused (no error if it is not running)."""
        if (self.data / "postmaster.pid").exists():
            self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
