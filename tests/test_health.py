"""``GET /api/v1/health``: 200 when the node can serve, 503 saying why when it cannot."""

from __future__ import annotations

from api import clicklog, create_app, db
from conftest import SECRET_KEYS


def test_a_healthy_node_says_so(client, world, engine) -> None:
    answer = client.get("/api/v1/health")
    assert answer.status_code == 200
    body = answer.json
    assert body["click_log"].pop("free_bytes") > 0
    assert body == {
        "status": "ok",
        "database": "ok",
        "problems": [],
        "click_log": {"writable": True, "pending_bytes": 0, "quarantined_lines": 0},
    }
    assert answer.headers["Cache-Control"] == "no-store"


def test_clicks_waiting_in_the_log_show_as_pending(app, engine, world) -> None:
    from flask.testing import FlaskClient

    with db.transaction(engine) as conn:
        from api.services import links

        link = links.create_link(conn, world.partner.id, world.task.id)
    clicklog.of(app).close()  # nothing stores them on its own now
    app.test_client_class = FlaskClient
    plain = app.test_client()
    assert plain.get(f"/s/{link.code}", headers={"User-Agent": "Mozilla/5.0 Firefox/126.0"}).status_code == 302
    pending = plain.get("/api/v1/health").json["click_log"]["pending_bytes"]
    assert pending > 100
    clicklog.of(app).flush()
    assert plain.get("/api/v1/health").json["click_log"]["pending_bytes"] == 0


def test_a_quarantined_click_log_line_makes_the_node_unhealthy_until_dealt_with(client, app, engine) -> None:
    click_log = clicklog.of(app)
    click_log.directory.mkdir(parents=True, exist_ok=True)
    (click_log.directory / f"{click_log.tag}-h-1-1{clicklog.SUFFIX}").write_text("not a click\n")
    click_log.flush()
    answer = client.get("/api/v1/health")
    assert answer.status_code == 503
    assert answer.json["click_log"]["quarantined_lines"] == 1
    (click_log.directory / clicklog.QUARANTINE).unlink()  # the operator has looked
    assert client.get("/api/v1/health").status_code == 200


def test_an_unreachable_database_is_a_503(tmp_path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEYS": SECRET_KEYS,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'nope.db'}",
            "CLICK_LOG_DIR": str(tmp_path / "click-log"),
        }
    )
    try:
        answer = app.test_client().get("/api/v1/health")
    finally:
        db.get_engine(app).dispose()
    assert answer.status_code == 503
    body = answer.json
    assert body["click_log"].pop("free_bytes") > 0
    assert body == {
        "status": "unavailable",
        "database": "unreachable",
        "problems": ["the database is unreachable"],
        "click_log": {"writable": True, "pending_bytes": None, "quarantined_lines": 0},
    }


def test_a_nearly_full_click_log_disk_is_a_503(app_config, engine) -> None:
    app = create_app({**app_config, "CLICK_LOG_MIN_FREE_BYTES": 2**62})  # more than any disk has free
    try:
        answer = app.test_client().get("/api/v1/health")
    finally:
        db.get_engine(app).dispose()
    assert answer.status_code == 503
    assert answer.json["problems"] == ["the click log's disk is nearly full"]


def test_a_click_log_that_cannot_be_written_is_a_503(app_config, engine, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    app = create_app({**app_config, "CLICK_LOG_DIR": str(blocker / "click-log")})
    try:
        answer = app.test_client().get("/api/v1/health")
    finally:
        db.get_engine(app).dispose()
    assert answer.status_code == 503
    assert answer.json["database"] == "ok" and answer.json["click_log"]["writable"] is False
