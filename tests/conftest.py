"""Shared fixtures: an app on a clean database, and builders for every noun.

The suite runs on SQLite by default and on PostgreSQL when
``TASKLINK_TEST_DATABASE_URL`` names one (``.ci/run`` runs it both ways).
The schema is created once per session through the real migrations; each
test starts from empty tables.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from api import clicklog, create_app, db, migrations
from api.schema import metadata
from api.services import (
    accounts,
    advertisers,
    campaigns,
    landing_pages,
    memberships,
    partners,
    programs,
    tasks,
)
from openapi_check import ValidatingClient

# scrypt costs ~50 ms a hash; the tests make hundreds of accounts.
accounts.PASSWORD_METHOD = "pbkdf2:sha256:1000"

SECRET_KEYS = ["test-key-newest", "test-key-older"]
PASSWORD = "correct horse battery"


def short_id(value: object) -> str:
    """Readable test ids for long inputs."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}...({len(text)} chars)"


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get("TASKLINK_TEST_DATABASE_URL")
    return f"tasklink database: {'PostgreSQL ' + url if url else 'SQLite (temporary file)'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TASKLINK_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'tasklink.db'}"


def drop_everything(engine: Engine) -> None:
    """Remove every table, including Alembic's, so migrations start from nothing."""
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    drop_everything(engine)
    migrations.upgrade(engine)
    yield engine
    engine.dispose()


def clear_tables(engine: Engine) -> None:
    """Empty every table (ids restart on PostgreSQL too)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(metadata.tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):  # children first
                conn.execute(table.delete())


@pytest.fixture(autouse=True)
def fresh_outage_log() -> None:
    """Each test sees its own first outage report (they are rate-limited per process)."""
    from api import outages

    outages.reset()


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most hosts run with (022: new files world-readable unless made otherwise), for permission tests."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The test database, emptied before the test."""
    clear_tables(migrated_engine)
    return migrated_engine


class Client(ValidatingClient):
    """The tests' client: answers checked against the OpenAPI document, and clicks stored when a redirect returns.

    The redirect only logs a click (api/clicklog.py); the app's flusher thread
    stores it within a moment. Tests that read the clicks table right after a
    redirect get it stored at once here; test_click_log.py tests the flusher.
    """

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def, override]
        response = super().open(*args, **kwargs)
        if response.status_code == 302:
            clicklog.of(self.application).flush()
        return response


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """The test_config handed to create_app; tests may change it before ``app`` is used."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEYS": list(SECRET_KEYS),
        # Each test sees a change to a link or campaign on the very next click
        # (test_tracking.py tests the cache and its bound on its own).
        "REDIRECT_CACHE_SECONDS": 0,
        "RATELIMIT_STORAGE_URI": "memory://",
        "CLICK_LOG_DIR": str(tmp_path / "click-log"),
    }


@pytest.fixture
def app(engine: Engine, app_config: dict[str, Any]):  # type: ignore[no-untyped-def]
    application = create_app(app_config)
    # Every /api/v1 answer in every test is checked against the OpenAPI document.
    application.test_client_class = Client
    yield application
    db.get_engine(application).dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


_counter = itertools.count(1)


@dataclass
class World:
    """A ready campaign where the partner can make links, and a rival of each kind."""

    advertiser: advertisers.Advertiser
    api_key: str
    program: programs.Program
    campaign: campaigns.Campaign
    task: tasks.Task
    partner: partners.Partner
    other_partner: partners.Partner
    other_advertiser: advertisers.Advertiser
    other_api_key: str


class Make:
    """Builders for every noun, each committing its own transaction.

    Defaults make the happy path: a campaign with everything enabled, manual
    mode on ``brand.test`` and ``*.brand.test``, a default landing page.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def advertiser(self, email: str | None = None, api_key: str | None = None) -> tuple[advertisers.Advertiser, str]:
        n = next(_counter)
        with db.transaction(self.engine) as conn:
            return advertisers.create_advertiser(
                conn, f"Brand {n}", email or f"brand{n}@test.example", PASSWORD, api_key
            )

    def partner(self, email: str | None = None) -> partners.Partner:
        n = next(_counter)
        with db.transaction(self.engine) as conn:
            return partners.create_partner(conn, f"Partner {n}", email or f"partner{n}@test.example", PASSWORD)

    def program(self, advertiser_id: int) -> programs.Program:
        with db.transaction(self.engine) as conn:
            return programs.create_program(conn, advertiser_id, f"Program {next(_counter)}")

    def campaign(
        self,
        advertiser_id: int,
        program_id: int,
        domains: tuple[str, ...] = ("brand.test", "*.brand.test"),
        pages: tuple[tuple[str, str], ...] = (("Home", "https://brand.test/"), ("Sale", "https://brand.test/sale")),
        mode: str = "manual",
        **settings: Any,
    ) -> campaigns.Campaign:
        values = {
            "click_tracking": True,
            "conversion_tracking": True,
            "pay_for_performance": True,
            "payout_model": "cpa",
            "payout_amount": "5.00",
            "currency": "USD",
            **settings,
        }
        with db.transaction(self.engine) as conn:
            campaign = campaigns.create_campaign(
                conn, advertiser_id, program_id, f"Campaign {next(_counter)}", **values
            )
            landing_pages.set_allowed_domains(conn, advertiser_id, campaign.id, domains)
            for index, (name, url) in enumerate(pages):
                landing_pages.add_landing_page(conn, advertiser_id, campaign.id, name, url, is_default=index == 0)
            if mode != "manual":
                campaign = campaigns.update_settings(conn, advertiser_id, campaign.id, landing_mode=mode)
            return campaign

    def membership(self, partner_id: int, campaign_id: int, status: str = "active") -> memberships.Membership:
        with db.transaction(self.engine) as conn:
            return memberships.set_status_for(conn, partner_id, campaign_id, status)

    def task(
        self,
        advertiser_id: int,
        campaign_id: int,
        partner_id: int | None = None,
        landing_page_id: int | None = None,
        title: str | None = None,
    ) -> tasks.Task:
        with db.transaction(self.engine) as conn:
            return tasks.create_task(
                conn,
                advertiser_id,
                campaign_id,
                title or f"Task {next(_counter)}",
                partner_id=partner_id,
                landing_page_id=landing_page_id,
            )

    def world(self, **campaign_settings: Any) -> World:
        """An advertiser, program, campaign, open task, an active partner, and rivals."""
        advertiser, api_key = self.advertiser()
        program = self.program(advertiser.id)
        campaign = self.campaign(advertiser.id, program.id, **campaign_settings)
        partner = self.partner()
        other_partner = self.partner()
        self.membership(partner.id, campaign.id)
        task = self.task(advertiser.id, campaign.id)
        other_advertiser, other_api_key = self.advertiser()
        return World(
            advertiser, api_key, program, campaign, task, partner, other_partner, other_advertiser, other_api_key
        )


@pytest.fixture
def auth():  # type: ignore[no-untyped-def]
    """``auth(partner)`` → the Authorization header of a fresh session token for that partner."""
    from api.services import sessions

    def headers(partner: partners.Partner) -> dict[str, str]:
        token, _expires = sessions.issue_partner_token(SECRET_KEYS, partner)
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def make(engine: Engine) -> Make:
    return Make(engine)


@pytest.fixture
def world(make: Make) -> World:
    return make.world()
