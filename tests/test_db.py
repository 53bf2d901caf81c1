"""Schema migrations, configuration, and the operator commands."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

from api import config, db, migrations
from api.errors import ConfigurationError
from api.schema import advertisers, campaigns, landing_pages, memberships, metadata, partners, tasks
from conftest import drop_everything
from migration_data import HEAD, NOW, click_and_conversion, database_at, task_and_link


def test_migrations_create_exactly_the_schema_and_run_twice(migrated_engine) -> None:
    drop_everything(migrated_engine)
    before, after = migrations.upgrade(migrated_engine)
    assert (before, after) == (None, HEAD)
    assert migrations.upgrade(migrated_engine) == (HEAD, HEAD)
    with migrated_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []
    names = set(inspect(migrated_engine).get_table_names())
    assert set(metadata.tables) <= names


def test_upgrading_keeps_every_click_and_names_why_the_old_ones_were_not_billable(migrated_engine) -> None:
    """0003 → 0004 on a database with traffic: is_unique becomes billable + reason, nothing is lost."""
    from sqlalchemy import text

    database_at(migrated_engine, "0003", *task_and_link(disabled=True))
    with migrated_engine.begin() as conn:
        for n, (is_bot, is_unique) in enumerate([(False, True), (False, False), (True, False)]):
            conn.execute(
                text(
                    "INSERT INTO clicks (click_id, link_id, campaign_id, partner_id, task_id, created_at, ip_hash, "
                    "visitor_hash, is_bot, is_unique, payout_minor) "
                    f"VALUES ('c{n}', 1, 1, 1, 1, '{NOW}', 'ip{n}', 'ua-visitor', :bot, :unique, 0)"
                ),
                {"bot": is_bot, "unique": is_unique},
            )
        conn.execute(
            text(
                "INSERT INTO conversions (click_pk, campaign_id, link_id, partner_id, task_id, order_id, "
                "amount_minor, currency, payout_minor, status, created_at, updated_at) "
                f"SELECT id, 1, 1, 1, 1, 'o1', 100, 'USD', 0, 'pending', '{NOW}', '{NOW}' "
                "FROM clicks WHERE click_id = 'c2'"
            )
        )
    assert migrations.upgrade(migrated_engine) == ("0003", HEAD)
    with migrated_engine.connect() as conn:
        rows = conn.execute(text("SELECT click_id, billable, reason, visitor_hash FROM clicks ORDER BY click_id")).all()
        assert [(r[0], bool(r[1]), r[2], r[3]) for r in rows] == [
            ("c0", True, None, "ip0"),
            ("c1", False, "duplicate", "ip1"),
            ("c2", False, "bot", "ip2"),
        ]
        assert conn.execute(text("SELECT disabled_by FROM links")).scalar_one() == "partner"
        assert conn.execute(text("SELECT payout_reason FROM conversions")).scalar_one() == "bot"
        assert conn.execute(text("SELECT daily_click_cap FROM campaigns")).scalar_one() == 5


def test_0005_widens_click_ids_in_place_keeping_every_click_and_conversion(migrated_engine) -> None:
    """0004 → 0005 on a database with traffic: nothing copied or lost, and 36-character click ids fit."""
    from sqlalchemy import text

    database_at(migrated_engine, "0004", *task_and_link(), *click_and_conversion("oooooooooooooooooooooooooooooo"))
    assert migrations.upgrade(migrated_engine) == ("0004", HEAD)
    with migrated_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO clicks (click_id, link_id, campaign_id, partner_id, task_id, created_at, ip_hash, "
                f"visitor_hash, is_bot, billable, payout_minor) VALUES ('{'n' * 64}', 1, 1, 1, 1, '{NOW}', 'i', 'v', "
                "false, true, 0)"
            )
        )
        assert [len(row[0]) for row in conn.execute(text("SELECT click_id FROM clicks ORDER BY id"))] == [30, 64]
        assert conn.execute(text("SELECT count(*) FROM conversions")).scalar_one() == 1
        if migrated_engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    [column] = [c for c in inspect(migrated_engine).get_columns("clicks") if c["name"] == "click_id"]
    assert column["type"].length == 64


def test_init_db_command_is_idempotent(runner) -> None:
    first = runner.invoke(args=["init-db"])
    second = runner.invoke(args=["init-db"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "up to date" in second.output


def counts(engine):  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in metadata.sorted_tables}


def test_seed_demo_creates_every_case_once(runner, engine) -> None:
    result = runner.invoke(args=["seed-demo", "--force"])
    assert result.exit_code == 0, result.output
    assert "brand@demo.test" in result.output
    first = counts(engine)
    again = runner.invoke(args=["seed-demo", "--force"])
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
            select(memberships.c.status)
            .join(partners, partners.c.id == memberships.c.partner_id)
            .where(partners.c.email == "partner@demo.test", memberships.c.status == "pending")
        ).all()
        assert len(pending) == 1
        invited = conn.execute(
            select(memberships.c.status)
            .join(partners, partners.c.id == memberships.c.partner_id)
            .where(partners.c.email == "partner@demo.test", memberships.c.status == "invited")
        ).all()
        assert len(invited) == 1
        per_campaign = conn.execute(select(tasks.c.campaign_id).distinct()).all()
        assert len(per_campaign) == len(rows)
        assert all(".localhost" in r.url for r in conn.execute(select(landing_pages)).all())
        key_row = conn.execute(select(advertisers)).first()
        assert "demo-brand-key" not in key_row.api_key_hash


def test_seed_demo_refuses_outside_demo_mode(runner, engine) -> None:
    refused = runner.invoke(args=["seed-demo"])
    assert refused.exit_code != 0
    assert "TASKLINK_DEMO=1" in refused.output and "--force" in refused.output and "demo-brand-key" in refused.output
    assert counts(engine)["advertisers"] == counts(engine)["partners"] == 0


def test_seed_demo_runs_in_demo_mode_without_force(app, runner, engine) -> None:
    app.config["DEMO"] = True  # what TASKLINK_DEMO=1 sets
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert counts(engine)["advertisers"] == 1


def test_seed_demo_command_reads_demo_mode_from_the_environment(tmp_path) -> None:
    """Through a real ``flask --app api`` process: refused without TASKLINK_DEMO, done with it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {key: value for key, value in os.environ.items() if not key.startswith("TASKLINK_")}
    env.update(
        TASKLINK_DATABASE_URL=f"sqlite:///{tmp_path / 'seed.db'}",
        TASKLINK_SECRET_KEYS="seed-test-key",
        TASKLINK_CLICK_LOG_DIR=str(tmp_path / "click-log"),
    )

    def flask(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "api", *args],
            env={**env, **extra},
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert flask("init-db").returncode == 0
    refused = flask("seed-demo")
    assert refused.returncode != 0 and "TASKLINK_DEMO=1" in refused.stderr
    seeded = flask("seed-demo", TASKLINK_DEMO="1")
    assert seeded.returncode == 0 and "Demo data created." in seeded.stdout, seeded.stderr


def test_demo_credentials_work(runner, engine) -> None:
    from api.services import advertisers as advertiser_service
    from api.services import partners as partner_service

    runner.invoke(args=["seed-demo", "--force"])
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
    runner.invoke(args=["seed-demo", "--force"])
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
    settings = config.load_settings(
        tmp_path,
        {
            "TASKLINK_SECRET_KEYS": "new, old",
            "TASKLINK_DATABASE_URL": "postgresql://u@h/db",
            "TASKLINK_BASE_URL": "https://go.example/",
            "TASKLINK_EXTENSION_ORIGINS": "chrome-extension://abc,moz-extension://def",
            "TASKLINK_RATELIMIT_LOGIN": "5/minute",
        },
    )
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


def mode(path) -> int:  # type: ignore[no-untyped-def]
    return path.stat().st_mode & 0o777


def test_a_new_sqlite_database_its_wal_and_shm_and_its_folder_are_owner_only(tmp_path, usual_umask) -> None:
    path = tmp_path / "instance" / "tasklink.db"
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        migrations.upgrade(engine)
        with engine.connect() as conn:  # -wal and -shm exist while a connection is open
            conn.exec_driver_sql("SELECT count(*) FROM partners").scalar()
            wal, shm = path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")
            assert wal.exists() and shm.exists()
            assert (mode(path), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
        assert mode(path.parent) == 0o700
    finally:
        engine.dispose()


def test_an_existing_database_file_and_folder_keep_their_mode(tmp_path, usual_umask) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)
    path = folder / "tasklink.db"
    path.touch()
    path.chmod(0o640)
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with db.transaction(engine) as conn:
            conn.exec_driver_sql("CREATE TABLE kept (x INTEGER)")
        assert (mode(folder), mode(path)) == (0o750, 0o640)
    finally:
        engine.dispose()


def test_the_instance_folder_and_demo_key_are_owner_only_when_created(tmp_path, usual_umask) -> None:
    instance = tmp_path / "new" / "instance"
    config.load_settings(instance, {"TASKLINK_DEMO": "1"})
    assert mode(instance) == 0o700 and mode(instance / config.DEMO_KEY_FILE) == 0o600
    assert mode(config.private_directory(tmp_path / "other")) == 0o700


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
                assert urls.find_param(page.url, campaign.click_id_param) is None
            settings = redirects.landing_settings(Raw.of(conn), campaign.id, 0)
            default = next(p.url for p in pages if p.is_default)
            assert redirects.allowed_url(default, settings.mode, settings.link_pages(), settings.domains) == default


def test_0008_adds_the_postback_tables_keeping_every_conversion(migrated_engine) -> None:
    """0007 → 0008 on a database with conversions: nothing changes but three new, empty tables, usable at once."""
    from sqlalchemy import text

    database_at(
        migrated_engine, "0007", *task_and_link(), *click_and_conversion("oooooooooooooooooooooooooooooooooooo")
    )
    assert migrations.upgrade(migrated_engine) == ("0007", HEAD)
    with migrated_engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM conversions")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM postback_outbox")).scalar_one() == 0
        conn.execute(
            text(
                f"INSERT INTO postback_settings (partner_id, secret, url_template, updated_at) "
                f"VALUES (1, 's', 'https://t.example/?c={{click_id}}', '{NOW}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO postback_outbox (partner_id, conversion_id, campaign_id, event, url, "
                "next_attempt_at, created_at, updated_at) SELECT 1, id, 1, 'created', 'https://t.example/', "
                f"'{NOW}', '{NOW}', '{NOW}' FROM conversions"
            )
        )
        row = conn.execute(text("SELECT status, attempts FROM postback_outbox")).one()
        assert tuple(row) == ("pending", 0)
        conn.execute(text("DELETE FROM conversions"))  # a conversion's deliveries go with it
        assert conn.execute(text("SELECT count(*) FROM postback_outbox")).scalar_one() == 0
