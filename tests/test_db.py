"""Schema migrations, configuration, and the operator commands."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

from api import config, create_app, db, migrations
from api.errors import ConfigurationError
from api.schema import ALL_TABLES, advertisers, campaigns, landing_pages, memberships, metadata, partners, tasks
from conftest import drop_everything


def test_migrations_create_exactly_the_schema_and_run_twice(migrated_engine) -> None:
    drop_everything(migrated_engine)
    before, after = migrations.upgrade(migrated_engine)
    assert (before, after) == (None, "0003")
    assert migrations.upgrade(migrated_engine) == ("0003", "0003")
    with migrated_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []
    names = set(inspect(migrated_engine).get_table_names())
    assert {t.name for t in ALL_TABLES} <= names


def test_init_db_command_is_idempotent(runner) -> None:
    first = runner.invoke(args=["init-db"])
    second = runner.invoke(args=["init-db"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "up to date" in second.output


def counts(engine):  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in ALL_TABLES}


def test_seed_demo_creates_every_case_once(runner, engine) -> None:
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "brand@demo.test" in result.output
    first = counts(engine)
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "already present" in again.output
    assert counts(engine) == first
    assert first["advertisers"] == 1 and first["partners"] == 2
    with db.reading(engine) as conn:
        rows = conn.execute(select(campaigns)).all()
        modes = {r.landing_mode for r in rows if r.click_tracking and r.conversion_tracking and r.pay_for_performance}
        assert modes == {"manual", "choose", "default"}
        assert any(not r.pay_for_performance for r in rows)
        assert any(not r.conversion_tracking for r in rows)
        pending = conn.execute(
            select(memberships.c.status).join(partners, partners.c.id == memberships.c.partner_id)
            .where(partners.c.email == "partner@demo.test", memberships.c.status == "pending")
        ).all()
        assert len(pending) == 1
        per_campaign = conn.execute(select(tasks.c.campaign_id).distinct()).all()
        assert len(per_campaign) == len(rows)
        assert all(".localhost" in r.url for r in conn.execute(select(landing_pages)).all())
        key_row = conn.execute(select(advertisers)).first()
        assert "demo-brand-key" not in key_row.api_key_hash


def test_demo_credentials_work(runner, engine) -> None:
    from api.services import advertisers as advertiser_service
    from api.services import partners as partner_service

    runner.invoke(args=["seed-demo"])
    with db.reading(engine) as conn:
        assert advertiser_service.authenticate(conn, "brand@demo.test", "demo-brand")
        assert advertiser_service.by_api_key(conn, "demo-brand-key")
        assert partner_service.authenticate(conn, "partner@demo.test", "demo-partner")
        assert partner_service.authenticate(conn, "other@demo.test", "demo-other")


def test_create_commands_print_credentials_once_and_refuse_duplicates(runner, engine) -> None:
    made = runner.invoke(args=["create-advertiser", "--name", "Acme", "--email", "ops@acme.test"])
    assert made.exit_code == 0 and "API key" in made.output and "tlk_" in made.output
    dup = runner.invoke(args=["create-advertiser", "--name", "Acme", "--email", "ops@acme.test"])
    assert dup.exit_code != 0 and "already exists" in dup.output
    partner = runner.invoke(args=["create-partner", "--name", "Pia", "--email", "pia@x.test"])
    assert partner.exit_code == 0 and "password" in partner.output
    runner.invoke(args=["seed-demo"])
    with db.reading(engine) as conn:
        campaign_id = conn.execute(select(campaigns.c.id)).scalars().first()
    added = runner.invoke(args=["add-membership", "--partner-email", "pia@x.test", "--campaign-id", str(campaign_id)])
    assert added.exit_code == 0 and "active" in added.output
    missing = runner.invoke(args=["add-membership", "--partner-email", "nobody@x.test", "--campaign-id", "1"])
    assert missing.exit_code != 0 and "No partner" in missing.output


def test_app_refuses_to_start_without_keys_outside_demo(tmp_path) -> None:
    with pytest.raises(ConfigurationError) as info:
        config.load_settings(tmp_path, {})
    assert "TASKLINK_SECRET_KEYS" in info.value.message and "TASKLINK_DEMO" in info.value.message


def test_demo_mode_generates_and_keeps_a_private_key(tmp_path) -> None:
    first = config.load_settings(tmp_path, {"TASKLINK_DEMO": "1"})
    second = config.load_settings(tmp_path, {"TASKLINK_DEMO": "1"})
    assert first.secret_keys == second.secret_keys and len(first.secret_keys[0]) >= 32
    assert (tmp_path / config.DEMO_KEY_FILE).stat().st_mode & 0o077 == 0


def test_settings_from_environment(tmp_path) -> None:
    settings = config.load_settings(tmp_path, {
        "TASKLINK_SECRET_KEYS": "new, old",
        "TASKLINK_DATABASE_URL": "postgresql://u@h/db",
        "TASKLINK_BASE_URL": "https://go.example/",
        "TASKLINK_EXTENSION_ORIGINS": "chrome-extension://abc,moz-extension://def",
        "TASKLINK_RATELIMIT_LOGIN": "5/minute",
    })
    assert settings.secret_keys == ("new", "old")
    assert settings.base_url == "https://go.example"
    assert settings.extension_origins == ("chrome-extension://abc", "moz-extension://def")
    assert settings.ratelimit_login == "5/minute" and settings.ratelimit_links == "120/minute"
    assert db.normalize_database_url(settings.database_url) == "postgresql+psycopg://u@h/db"
    assert config.load_settings(tmp_path, {"TASKLINK_DEMO": "1"}).database_url.startswith("sqlite:///")


def test_sqlite_runs_in_wal_mode(app) -> None:
    engine = db.get_engine(app)
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_demo_pages_are_on_their_campaigns_domains_and_pass_the_redirect(engine) -> None:
    from api import demo, urls
    from api.rawsql import Raw
    from api.services import landing_pages as pages_service
    from api.services import redirects

    with db.transaction(engine) as conn:
        assert demo.seed_demo(conn)
    with db.reading(engine) as conn:
        rows = conn.execute(select(campaigns)).all()
        assert len(rows) == len(demo.CAMPAIGNS)
        for campaign in rows:
            domains = pages_service.list_allowed_domains(conn, campaign.id)
            assert domains and all(urls.normalize_domain(d) == d for d in domains), campaign.name
            pages = pages_service.list_landing_pages(conn, campaign.id)
            assert pages, campaign.name
            for page in pages:
                assert urls.host_allowed(urls.url_host(page.url), domains), (campaign.name, page.url)
                assert not urls.carries_param(page.url, campaign.click_id_param)
            settings = redirects.landing_settings(Raw.of(conn), campaign.id, 0)
            default = next(p.url for p in pages if p.is_default)
            assert redirects.allowed_url(default, settings.mode, settings.link_pages(), settings.domains) == default
