"""Behind a load balancer: TASKLINK_TRUSTED_PROXIES decides whose address the app sees.

Rate limits per address (and the visitor hash of the uniqueness rule) must
see the real client, not the load balancer, and a client must not be able to
pick its own address by sending ``X-Forwarded-For``.
"""

from __future__ import annotations

import pytest

from api import create_app, db
from api.config import load_settings
from api.errors import ConfigurationError


def test_trusted_proxies_is_read_from_the_environment(tmp_path) -> None:
    env = {"TASKLINK_SECRET_KEYS": "k"}
    assert load_settings(tmp_path, env).trusted_proxies == 0
    assert load_settings(tmp_path, {**env, "TASKLINK_TRUSTED_PROXIES": "2"}).flask_config()["TRUSTED_PROXIES"] == 2


@pytest.mark.parametrize("value", ["-1", "one", "1.5", "99"])
def test_a_wrong_proxy_count_refuses_to_start(tmp_path, value) -> None:
    with pytest.raises(ConfigurationError, match="TASKLINK_TRUSTED_PROXIES"):
        load_settings(tmp_path, {"TASKLINK_SECRET_KEYS": "k", "TASKLINK_TRUSTED_PROXIES": value})


def failed_login(client, forwarded_for: str | None, email: str = "nobody@test.example"):  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": "wrong"},
        headers=headers,
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )


def app_with(app_config, **extra):  # type: ignore[no-untyped-def]
    return create_app({**app_config, "RATELIMIT_LOGIN": "2/minute", **extra})


def test_behind_one_proxy_each_client_has_its_own_login_allowance(engine, app_config) -> None:
    app = app_with(app_config, TRUSTED_PROXIES=1)
    client = app.test_client()
    # The load balancer (10.9.9.9) appends the client's address; the client forged the first entry.
    for n in range(2):
        assert failed_login(client, f"198.51.100.{n}, 203.0.113.7", f"guess{n}@test.example").status_code == 401
    assert failed_login(client, "198.51.100.9, 203.0.113.7", "guess9@test.example").status_code == 429
    # Another client behind the same balancer is not locked out, whatever it forges.
    assert failed_login(client, "203.0.113.7, 203.0.113.8", "guess8@test.example").status_code == 401
    db.get_engine(app).dispose()


def test_without_trusted_proxies_forwarded_headers_are_ignored(engine, app_config) -> None:
    app = app_with(app_config)
    client = app.test_client()
    for n in range(2):
        assert failed_login(client, f"203.0.113.{n}", f"guess{n}@test.example").status_code == 401
    # Changing the header does not escape the limit of the real address.
    assert failed_login(client, "203.0.113.200", "guess9@test.example").status_code == 429
    db.get_engine(app).dispose()
