"""Rate limits: failed sign-ins per e-mail and per address, link creation and QR codes per partner, shared through Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from api import create_app, db
from conftest import PASSWORD


@pytest.fixture
def app_config(app_config):  # type: ignore[no-untyped-def]
    return {**app_config, "RATELIMIT_LOGIN": "3/minute", "RATELIMIT_LINKS": "3/minute", "RATELIMIT_QR": "3/minute"}


def attempt(client, email, password, address="10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def assert_limited(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429
    assert response.json["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_failed_sign_ins_per_email_lock_that_email_from_any_address(client, world) -> None:
    for n in range(3):
        assert attempt(client, world.partner.email, "wrong password", f"10.0.1.{n}").status_code == 401
    # Even the right password, from a fresh address, waits now.
    assert_limited(attempt(client, world.partner.email, PASSWORD, "10.0.1.99"))
    assert_limited(attempt(client, world.partner.email.upper(), PASSWORD, "10.0.1.98"))
    assert attempt(client, world.other_partner.email, PASSWORD, "10.0.1.97").status_code == 200


def test_failed_sign_ins_per_address_lock_that_address_for_any_email(client, world) -> None:
    for n in range(3):
        assert attempt(client, f"guess{n}@test.example", "wrong password", "10.0.2.1").status_code == 401
    assert_limited(attempt(client, world.partner.email, PASSWORD, "10.0.2.1"))
    assert attempt(client, world.partner.email, PASSWORD, "10.0.2.2").status_code == 200


def test_successful_and_malformed_sign_ins_cost_nothing(client, world) -> None:
    for _ in range(6):
        assert attempt(client, world.partner.email, PASSWORD).status_code == 200
    for _ in range(6):
        assert (
            client.post(
                "/api/v1/auth/login",
                data=b"{",
                headers={"Content-Type": "application/json"},
                environ_base={"REMOTE_ADDR": "10.0.0.1"},
            ).status_code
            == 400
        )
    assert attempt(client, world.partner.email, PASSWORD).status_code == 200


def test_link_creation_is_limited_per_partner(client, make, world, auth) -> None:
    headers = auth(world.partner)
    for _ in range(3):
        assert client.post("/api/v1/links", headers=headers, json={"task_id": world.task.id}).status_code == 201
    assert_limited(client.post("/api/v1/links", headers=headers, json={"task_id": world.task.id}))
    # Reading is not limited, and another partner has their own allowance.
    assert client.get("/api/v1/links", headers=headers).status_code == 200
    make.membership(world.other_partner.id, world.campaign.id)
    other = auth(world.other_partner)
    assert client.post("/api/v1/links", headers=other, json={"task_id": world.task.id}).status_code == 201


def test_qr_codes_are_limited_per_partner_in_either_format(client, make, world, auth) -> None:
    """Drawing a code costs CPU (a quarter of a second for the largest): a script cannot ask for thousands."""
    headers = auth(world.partner)
    link = client.post("/api/v1/links", headers=headers, json={"task_id": world.task.id}).json
    for fmt in ("svg", "png", "svg"):
        assert client.get(f"/api/v1/links/{link['id']}/qr.{fmt}", headers=headers).status_code == 200
    assert_limited(client.get(f"/api/v1/links/{link['id']}/qr.png", headers=headers))
    assert_limited(client.get(f"/api/v1/links/{link['id']}/qr.svg?scale=20", headers=headers))
    # Link creation has its own allowance, and so has another partner.
    assert client.post("/api/v1/links", headers=headers, json={"task_id": world.task.id}).status_code == 201
    make.membership(world.other_partner.id, world.campaign.id)
    other = auth(world.other_partner)
    theirs = client.post("/api/v1/links", headers=other, json={"task_id": world.task.id}).json
    assert client.get(f"/api/v1/links/{theirs['id']}/qr.png", headers=other).status_code == 200


def test_default_limits_let_a_busy_person_through(app_config, make, auth) -> None:
    """At least 60 links and 60 QR codes a minute per partner with the default configuration."""
    world = make.world()
    config = {k: v for k, v in app_config.items() if not k.startswith(("RATELIMIT_L", "RATELIMIT_Q"))}
    app = create_app(config)
    client = app.test_client()
    headers = auth(world.partner)
    statuses = {
        client.post("/api/v1/links", headers=headers, json={"task_id": world.task.id}).status_code for _ in range(60)
    }
    assert statuses == {201}
    link_id = client.get("/api/v1/links", headers=headers).json["links"][0]["id"]
    statuses = {client.get(f"/api/v1/links/{link_id}/qr.svg", headers=headers).status_code for _ in range(60)}
    assert statuses == {200}
    db.get_engine(app).dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path):  # type: ignore[no-untyped-def]
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_two_app_nodes_share_the_count_through_redis(app_config, make, redis_url) -> None:
    world = make.world()
    nodes = [create_app({**app_config, "RATELIMIT_STORAGE_URI": redis_url}) for _ in range(2)]
    clients = [node.test_client() for node in nodes]
    for n in range(3):
        assert attempt(clients[n % 2], world.partner.email, "wrong password", f"10.0.3.{n}").status_code == 401
    assert_limited(attempt(clients[1], world.partner.email, PASSWORD, "10.0.3.50"))
    assert_limited(attempt(clients[0], world.partner.email, PASSWORD, "10.0.3.51"))
    for node in nodes:
        db.get_engine(node).dispose()
