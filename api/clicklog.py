"""The click log: the redirect appends each click to a file before it answers; flushers move them into ``clicks``.

Why a log: committing one database transaction per click costs more than the
rest of the redirect together (on SQLite it writes three b-tree pages to the
WAL and re-reads pages another worker changed; on PostgreSQL it waits for a
WAL flush). One ``write()`` of one line to a file the worker keeps open costs
a few microseconds, and the flusher then stores hundreds of clicks in one
transaction (group commit). ``bench/redirect.py`` measures both sides.

Durability: once ``write()`` returns, the line is in the kernel's page
cache, so a process that is killed (SIGKILL, out of memory, a crash) right
after answering loses nothing: the next flusher on the host reads the line.
That is the guarantee SQLite gives with ``synchronous=NORMAL`` (the default
here); like it, a power loss can drop the last moments of clicks.

Layout, in one directory per host (``TASKLINK_CLICK_LOG_DIR``, default
``instance/click-log``):

- ``<database>-<host>-<pid>-<ns>.clicks``: a segment, one JSON array per
  line (:func:`api.services.clicks.click_record`). Each process appends to
  its own segment (its request threads share it: each line is one
  ``write()`` under the log's lock, so lines never interleave) and holds a
  shared ``flock`` on it while it lives;
  ``<database>`` is a hash of the database URL, so a directory shared by
  several databases (a development machine) never stores clicks in the
  wrong one.
- ``flush.lock``: one flusher at a time per directory.

Flushing (:meth:`ClickLog.flush`): read every complete line after the offset
stored in ``click_log_segments``, insert the clicks in time order, record the
conversion postbacks that came before their click (:mod:`api.services.conversions`)
and move the offsets, all in one transaction — so a record is stored exactly
once, whoever flushes and whenever a flusher dies. A segment no process holds any
more (its writer exited or moved on), once stored to its end, is deleted.
Under traffic a worker flushes right after it has answered a redirect, at
most every :data:`FLUSH_INTERVAL` seconds (the visitor does not wait; a
thread beside the requests would fight them for the GIL). Each serving
process also runs a flusher thread from startup, for when traffic stops and
for what killed workers left behind; whoever needs the newest clicks
flushes first (reports and ``flask --app api flush-clicks`` wait for a flush
another process is running; a postback never does).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from . import outages
from .clickstore import ClickStore
from .db import utcnow
from .errors import ServiceUnavailable
from .i18n import Message
from .rawsql import Raw
from .services import clicks, conversions

log = logging.getLogger(__name__)

SUFFIX = ".clicks"
#: After a failed flush (database down or locked), seconds before the next try: the
#: redirects do not each pay for a flush that cannot succeed.
RETRY_AFTER_FAILURE = 2.0
#: Lines that are no click record of any version are moved here (JSON lines with their origin).
QUARANTINE = "quarantine.jsonl"
#: A process starts a new segment past this size, so stored files can be deleted.
MAX_SEGMENT_BYTES = 32 * 1024 * 1024
#: Seconds between two runs of a process's flusher thread.
FLUSH_INTERVAL = 0.02
#: Seconds between two tries for the flush lock while another flusher holds it.
FLUSH_LOCK_POLL = 0.005
#: At most this much of the log is stored per transaction (about 5,000 clicks).
BATCH_BYTES = 2 * 1024 * 1024
#: PostgreSQL advisory lock taken by every flush batch (see :data:`api.services.clicks.STORE_LOCK`).
PG_FLUSH_LOCK = clicks.STORE_LOCK


def database_tag(database_url: str) -> str:
    """A short, stable name for a database (hash of its URL without the password)."""
    rendered = make_url(database_url).render_as_string(hide_password=True)
    return hashlib.sha256(rendered.encode()).hexdigest()[:12]


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname())[:64] or "host"


class ClickLog:
    """Append clicks to this process's segment; flush every segment of the directory into the database."""

    def __init__(
        self, directory: str | os.PathLike[str], store: ClickStore, database_url: str, interval: float = FLUSH_INTERVAL
    ) -> None:
        self.directory = Path(directory)
        self.store = store
        self.tag = database_tag(database_url)
        self.interval = interval
        # Guards the segment: opening, appending, releasing. Threaded servers run
        # several requests of a process at once, all appending to its one segment:
        # without it, one thread could release (close) the descriptor another is
        # about to write to, and a reused descriptor number would take the line.
        # Re-entrant: append → _segment → start/_release take it again.
        self._lock = threading.RLock()
        self._fd: int | None = None
        self._fd_pid = 0
        self._written = 0
        self._flusher: threading.Thread | None = None
        self._flusher_pid = 0
        self._stop = threading.Event()
        self._last_flush = time.monotonic()
        self._failing = False
        #: Segment → bytes known to be stored (read or written by this process's flushes).
        self._stored_to: dict[str, int] = {}

    # --- the writing side: the redirect ---------------------------------------------

    def append(self, record: clicks.ClickRecord) -> None:
        """Write one click durably (against a process crash) before the caller answers.

        Raises :class:`~api.errors.ServiceUnavailable` when the line cannot be
        written (disk full, no directory): the visitor is not redirected, so
        no answered click goes unrecorded.
        """
        # ASCII JSON: any text a visitor sends stays on one line and encodes.
        line = record.to_json() + b"\n"
        # One write() of the whole line under the lock: lines of concurrent
        # requests never interleave, and a short write is seen before anyone appends after it.
        with self._lock:
            try:
                fd = self._segment()
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(f"wrote {written} of {len(line)} bytes")
            except OSError as error:
                # A partial line may be left at the end of this segment: start a new
                # one, and the flusher drops the unfinished tail of a released segment.
                self._release()
                outages.report(
                    "click-log-append",
                    f"clicks cannot be written to the click log in {self.directory}; redirects answer 503",
                    error,
                )
                raise ServiceUnavailable(
                    Message("This link cannot be followed right now; please try again in a moment."),
                    "click_log_unavailable",
                ) from error
            self._written += written
            if self._written >= MAX_SEGMENT_BYTES:
                self._release()

    def _segment(self) -> int:
        """This process's segment, opened on first use, after fork and after a release; the caller holds the lock."""
        if self._fd is not None and self._fd_pid == os.getpid():
            return self._fd
        # After fork the parent's descriptor (and its lock) stays the parent's.
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{self.tag}-{_host()}-{os.getpid()}-{time.time_ns()}{SUFFIX}"
        fd = os.open(self.directory / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH)  # "a writer still appends here"
        self._fd, self._fd_pid, self._written = fd, os.getpid(), 0
        self.start()  # a new segment, maybe in a forked child: this process needs its flusher too
        return fd

    def _release(self) -> None:
        """Stop appending to the current segment (closing it releases its lock)."""
        with self._lock:
            fd, self._fd = self._fd, None
            if fd is not None and self._fd_pid == os.getpid():
                with contextlib.suppress(OSError):
                    os.close(fd)

    # --- the flusher thread ------------------------------------------------------------

    def due(self) -> bool:
        """Whether this process should flush now: it last tried :attr:`interval` seconds ago or more
        (:data:`RETRY_AFTER_FAILURE` after a failed flush), and is not closed."""
        wait = RETRY_AFTER_FAILURE if self._failing else self.interval
        return time.monotonic() - self._last_flush >= wait and not self._stop.is_set()

    def flush_quietly(self) -> None:
        """Flush unless another process is at it; a failure is one log line a minute at most (the lines wait)."""
        try:
            self.flush(wait=False)
            self._failing = False
        except Exception as error:
            self._failing = True  # retried every RETRY_AFTER_FAILURE seconds, not after every click
            outages.report(
                "click-log-flush",
                f"storing the clicks of the click log in {self.directory} failed; they wait there, retrying",
                error,
            )

    def start(self) -> None:
        """Run this process's flusher thread (the first click starts it otherwise; again after fork)."""
        with self._lock:
            if self._flusher_pid == os.getpid() or self._stop.is_set():
                return
            self._flusher_pid = os.getpid()
            self._flusher = threading.Thread(target=self._run_flusher, name="tasklink-click-flusher", daemon=True)
            self._flusher.start()
            atexit.register(self._flush_at_exit)

    def _flush_at_exit(self) -> None:
        """A process that stops cleanly (gunicorn's graceful shutdown) stores its last clicks itself."""
        if self._stop.is_set() or self._flusher_pid != os.getpid():
            return
        self.close()
        try:
            self.flush()
        except Exception:
            log.exception("storing the last clicks at exit failed; they wait in %s", self.directory)

    def _run_flusher(self) -> None:
        # Under traffic the redirect flushes after answering (see api.http.tracking),
        # so this thread rarely finds it due; it stores the last clicks when traffic stops.
        while not self._stop.wait(self.interval):
            if self.due():
                self.flush_quietly()

    def close(self) -> None:
        """Stop flushing on its own (thread and after redirects) and release the segment; the lines stay for the next flusher.

        Clicks appended after this go to a new segment, stored by an explicit :meth:`flush`.
        """
        self._stop.set()
        flusher = self._flusher
        if flusher is not None and flusher.is_alive() and flusher is not threading.current_thread():
            flusher.join(timeout=10)
        self._release()

    # --- flushing ------------------------------------------------------------------------

    def segments(self) -> list[Path]:
        """This database's segments in the directory, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(f"{self.tag}-*{SUFFIX}"), key=lambda path: path.name.rsplit("-", 1)[-1])

    @contextlib.contextmanager
    def _flush_lock(self, wait: bool) -> Iterator[bool]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.directory / "flush.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not wait:
                        yield False  # another flusher is at it right now
                        return
                    # Never a blocking flock: under gevent workers it would stop the
                    # whole worker, the flusher holding the lock included when it is
                    # another request of the same worker (seen: conversions timing out).
                    # time.sleep yields to the other greenlets (or threads) meanwhile.
                    time.sleep(FLUSH_LOCK_POLL)
            yield True
        finally:
            os.close(fd)  # releases the lock

    def flush(self, wait: bool = True) -> int:
        """Store every complete logged click of this directory; return how many records were read.

        (Records of a deleted link, or already stored, count but make no row.)

        ``wait=False`` returns 0 at once when another process is flushing (the
        flusher threads); ``wait=True`` waits for it and then flushes what is left,
        so the caller sees every click answered before the call.
        """
        self._last_flush = time.monotonic()
        with self._flush_lock(wait) as mine:
            if not mine:
                return 0
            stored = 0
            while True:
                count, more, finished = self._flush_batch()
                stored += count
                if not more:
                    break
            self._remove(finished)
            return stored

    def free_bytes(self) -> int | None:
        """Free space on the log's disk (``None`` when the folder cannot be examined)."""
        try:
            return shutil.disk_usage(self.directory).free
        except OSError:
            return None

    def flush_before_reading(self) -> int:
        """Flush so a report sees every click answered on this host; 503 when the log's folder cannot be used.

        (A read-only or missing folder means this node cannot record clicks
        either: the caller answers 503, as health does, never a 500.)
        """
        try:
            return self.flush()
        except OSError as error:
            outages.report("click-log-folder", f"the click log folder {self.directory} cannot be used", error)
            raise ServiceUnavailable(
                Message("Tasklink cannot read its click log right now; please try again in a moment."),
                "service_unavailable",
            ) from error

    def writable(self) -> bool:
        """Whether clicks can be appended here now (the directory exists or can be made, and accepts files)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError:
            return False
        return os.access(self.directory, os.W_OK | os.X_OK)

    def pending_bytes(self) -> int:
        """How many bytes of the log wait to be stored (for health checks and tests)."""
        with self.store.autocommit() as raw:
            offsets = dict(raw.all("SELECT segment, stored_bytes FROM click_log_segments"))
        pending = 0
        for path in self.segments():
            try:
                size = path.stat().st_size
            except FileNotFoundError:  # stored and deleted by a flusher since the listing
                continue
            pending += max(0, size - int(offsets.get(path.name, 0)))
        return pending

    def _flush_batch(self) -> tuple[int, bool, list[str]]:
        """One transaction: read up to :data:`BATCH_BYTES` of new lines, store them, move the offsets.

        Returns (clicks stored, whether more is left, segments finished and no longer written).
        """
        paths = self.segments()
        if not paths or self._nothing_new(paths):
            return 0, False, []
        with self.store.writing() as raw:
            if not raw.sqlite:
                raw.one("SELECT pg_advisory_xact_lock(?)", (PG_FLUSH_LOCK,))
            names = [path.name for path in paths]
            marks = ",".join("?" * len(names))
            offsets = {
                name: int(done)
                for name, done in raw.all(
                    f"SELECT segment, stored_bytes FROM click_log_segments WHERE segment IN ({marks})", names
                )
            }
            self._stored_to.update(offsets)
            records: list[clicks.ClickRecord] = []
            moved: dict[str, int] = {}
            finished: list[str] = []
            budget = BATCH_BYTES
            more = False
            for path in paths:
                if budget <= 0:
                    more = True
                    break
                start = offsets.get(path.name, 0)
                released = _released(path)
                try:
                    with path.open("rb") as handle:
                        handle.seek(start)
                        data = handle.read(budget + 1)
                except FileNotFoundError:
                    continue
                truncated = len(data) > budget
                if truncated:
                    data, more = data[:budget], True
                complete = end = data.rfind(b"\n") + 1
                if released and not truncated and end < len(data):
                    # The unfinished last line of a segment nobody writes to any
                    # more: its write failed (a full disk), so its visitor got a
                    # 503 and was never redirected: read past it, store nothing of it.
                    log.warning("dropping an unfinished click log line at the end of %s", path.name)
                    end = len(data)
                if released and not truncated:
                    finished.append(path.name)
                if end == 0:
                    continue
                records.extend(self._parse(path.name, start, data[:complete]))
                moved[path.name] = start + end
                budget -= end
            records.sort(key=lambda record: record.created_at)  # so duplicates and caps follow time
            stored = clicks.store_clicks(raw, records)
            if stored:
                self._record_waiting_conversions(raw)
            if moved:
                raw.run_many(
                    "INSERT INTO click_log_segments (segment, stored_bytes) VALUES (?, ?) "
                    "ON CONFLICT (segment) DO UPDATE SET stored_bytes = excluded.stored_bytes",
                    list(moved.items()),
                )
        self._stored_to.update(moved)  # committed
        if len(records) != stored:
            log.info(
                "click log: %d of %d records were already stored or their link is gone",
                len(records) - stored,
                len(records),
            )
        return len(records), more, finished

    def _record_waiting_conversions(self, raw: Raw) -> None:
        """Record the postbacks that came before their click, now that clicks were stored (same transaction).

        In the transaction that stored the clicks, so a conversion waiting for
        one of them is recorded exactly when it is (and a postback that looks
        for its click under the same lock sees either the click or, failing
        that, is seen here). One indexed query when nothing waits, which is
        the usual case. A failure is undone to a savepoint and logged: it
        never holds the clicks back; the conversions wait for the next batch.
        """
        now = utcnow()
        waiting = conversions.waiting_now(raw, now)
        if not waiting:
            return
        raw.run("SAVEPOINT waiting_conversions")
        try:
            conversions.record_waiting(raw, waiting, now)
        except Exception as error:
            raw.run("ROLLBACK TO SAVEPOINT waiting_conversions")
            outages.report(
                "waiting-conversions",
                "recording the conversions that waited for their click failed; they wait for the next flush",
                error,
            )
        raw.run("RELEASE SAVEPOINT waiting_conversions")

    def _parse(self, name: str, start: int, data: bytes) -> list[clicks.ClickRecord]:
        """The click records in ``data`` (complete lines of segment ``name`` from byte ``start``).

        A line that is not a click record of any version is set aside in the
        quarantine file (with where it came from) and reported by health:
        never skipped silently, never stored half-read.
        """
        try:  # one parse for the whole batch (the usual case), line by line only if that fails
            return [
                clicks.record_from_json(value)
                for value in json.loads(b"[" + data.rstrip(b"\n").replace(b"\n", b",") + b"]")
            ]
        except (ValueError, TypeError):
            pass
        records = []
        position = start
        for line in data.splitlines():
            try:
                records.append(clicks.record_from_json(json.loads(line)))
            except (ValueError, TypeError) as error:
                self._quarantine(name, position, line, str(error))
            position += len(line) + 1
        return records

    def _quarantine(self, name: str, position: int, line: bytes, why: str) -> None:
        """Keep an unreadable line, with its origin, in :data:`QUARANTINE` (appended; owner-only)."""
        log.warning(
            "click log line in %s at byte %d is not a click record (%s); set aside in %s",
            name,
            position,
            why,
            QUARANTINE,
        )
        entry = (
            json.dumps(
                {"segment": name, "offset": position, "error": why, "line": line.decode("utf-8", "backslashreplace")}
            )
            + "\n"
        )
        fd = os.open(self.directory / QUARANTINE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, entry.encode())
        finally:
            os.close(fd)

    def quarantined_lines(self) -> int:
        """How many unreadable lines have been set aside (0 when none): health reports them."""
        try:
            with (self.directory / QUARANTINE).open("rb") as handle:
                return sum(1 for _ in handle)
        except OSError:  # none yet, or no folder to hold one (health reports the folder itself)
            return 0

    def _nothing_new(self, paths: list[Path]) -> bool:
        """Whether every segment is stored to its end, as far as this process knows, and still held.

        Spares an idle node a write transaction every :data:`FLUSH_INTERVAL`
        seconds. What another process stored meanwhile only makes this
        answer "no" once too often, never "yes" wrongly.
        """
        for path in paths:
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            if self._stored_to.get(path.name) != size or _released(path):
                return False
        return True

    def _remove(self, names: list[str]) -> None:
        """Delete fully stored segments that no process writes to, then their offsets."""
        for name in names:
            self._stored_to.pop(name, None)
            with contextlib.suppress(FileNotFoundError):
                (self.directory / name).unlink()
        if names:
            with self.store.autocommit() as raw:
                raw.run_many("DELETE FROM click_log_segments WHERE segment = ?", [(name,) for name in names])


def _released(path: Path) -> bool:
    """Whether no process holds the segment any more (its writer exited, was killed, or moved on)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


EXTENSION_KEY = "tasklink.clicklog"


def of(app: Any) -> ClickLog:
    """The click log of an app."""
    return app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
