"""End-to-end fixtures: Debian's Chromium with the unpacked extension, and the real API with demo data.

The browser starts first (the extension id, read from its service worker's
URL, is the origin the API's CORS admits); then the API runs in a thread on
a free port with a temporary SQLite database, ``init-db`` (the migrations)
and ``seed-demo --shop-url http://shop.localhost:PORT``. A small WSGI wrapper
keeps a log of every request the server receives, so a test can check what
the extension did and did not ask.

Skipped cleanly when ``/usr/bin/chromium`` is missing (CI installs it).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from api import create_app, db, demo, migrations

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extension"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            if not os.path.exists(CHROMIUM):
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed"))


@dataclass
class RequestLog:
    """Every request the live API received: (method, path, query, user agent), and its Accept-Language."""

    entries: list[tuple[str, str, str, str]] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)  # the Accept-Language of each entry, "" when none
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, wsgi_app):  # type: ignore[no-untyped-def]
        def logged(environ, start_response):  # type: ignore[no-untyped-def]
            with self.lock:
                self.entries.append(
                    (
                        environ["REQUEST_METHOD"],
                        environ.get("PATH_INFO", ""),
                        environ.get("QUERY_STRING", ""),
                        environ.get("HTTP_USER_AGENT", ""),
                    )
                )
                self.languages.append(environ.get("HTTP_ACCEPT_LANGUAGE", ""))
            return wsgi_app(environ, start_response)

        return logged

    def mark(self) -> int:
        """A position to look from (see :meth:`since`)."""
        with self.lock:
            return len(self.entries)

    def since(self, mark: int) -> list[tuple[str, str, str, str]]:
        with self.lock:
            return list(self.entries[mark:])

    def languages_since(self, mark: int) -> list[tuple[str, str, str, str]]:
        """(method, path, user agent, Accept-Language) of the /api/ requests after ``mark``."""
        with self.lock:
            pairs = list(zip(self.entries[mark:], self.languages[mark:], strict=True))
        return [(entry[0], entry[1], entry[3], language) for entry, language in pairs if entry[1].startswith("/api/")]

    def api_since(self, mark: int) -> list[tuple[str, str, str, str]]:
        """The /api/ requests after ``mark``."""
        return [entry for entry in self.since(mark) if entry[1].startswith("/api/")]


@dataclass
class LiveApi:
    base: str
    port: int
    app: Any
    log: RequestLog

    @property
    def shop(self) -> str:
        return f"http://shop.localhost:{self.port}"

    def host_url(self, host: str) -> str:
        return f"http://{host}.localhost:{self.port}"

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> tuple[int, Any]:
        """Call the API from the test itself (its requests carry the user agent ``tasklink-e2e``)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("User-Agent", "tasklink-e2e")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def partner_token(self) -> str:
        status, body = self.call(
            "POST", "/api/v1/auth/login", {"email": demo.PARTNER["email"], "password": demo.PARTNER["password"]}
        )
        assert status == 200, body
        return body["token"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def playwright_instance():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Chromium with the extension loaded (persistent context, headless), and the extension id."""
    from playwright.sync_api import expect

    profile = tmp_path_factory.mktemp("chromium-profile")
    context = playwright_instance.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        viewport={"width": 1200, "height": 800},
        # In English whatever the machine's locale: these tests read the English words (test_languages.py
        # starts its own browser per language).
        locale="en-US",
        args=[f"--disable-extensions-except={EXTENSION}", f"--load-extension={EXTENSION}", "--lang=en-US"],
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    # Shared, busy CI machines: wait longer than Playwright's 5 s before calling anything missing.
    context.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)
    worker = context.service_workers[0] if context.service_workers else context.wait_for_event("serviceworker")
    extension_id = worker.url.split("/")[2]
    yield context, extension_id
    context.close()


@pytest.fixture(scope="session")
def live_api(browser, tmp_path_factory) -> Iterator[LiveApi]:  # type: ignore[no-untyped-def]
    """The real API with demo data on a free port, admitting the extension's origin."""
    _context, extension_id = browser
    folder = tmp_path_factory.mktemp("live-api")
    url = f"sqlite:///{folder / 'tasklink.db'}"
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEYS": ["e2e-key"],
            "DEMO_SHOP": True,
            "EXTENSION_ORIGINS": [f"chrome-extension://{extension_id}"],
            "RATELIMIT_STORAGE_URI": "memory://",
            # The postback receivers of the tests run on 127.0.0.1, as the demo's do.
            "POSTBACKS_ALLOW_PRIVATE": True,
        }
    )
    log = RequestLog()
    app.wsgi_app = log.wrap(app.wsgi_app)  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    engine = db.get_engine(app)
    migrations.upgrade(engine)
    with db.transaction(engine) as conn:
        demo.seed_demo(conn, f"http://shop.localhost:{port}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveApi(f"http://127.0.0.1:{port}", port, app, log)
    server.shutdown()
    thread.join(timeout=5)
    engine.dispose()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where the run writes its PNGs: ``TASKLINK_SCREENSHOT_DIR`` (e.g. docs/screenshots) or a temp folder."""
    folder = os.environ.get("TASKLINK_SCREENSHOT_DIR")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
