"""Failed admin sign-ins are limited per e-mail like the API's login."""

from __future__ import annotations

import pytest

from api.errors import AuthenticationError
from api.services.sign_in_limits import SignInLimiter


def test_failures_up_to_the_limit_then_refused_for_that_email_only() -> None:
    limiter = SignInLimiter("memory://", "3/minute")
    for _ in range(3):
        limiter.check("Brand@Test.example ")
        limiter.failed("brand@test.example")
    with pytest.raises(AuthenticationError, match=r"try again in \d+ second") as refused:
        limiter.check("brand@test.example")
    assert refused.value.code == "rate_limited"
    limiter.check("someone.else@test.example")  # another e-mail is not affected


def test_checking_alone_costs_nothing() -> None:
    limiter = SignInLimiter("memory://", "1/minute")
    for _ in range(5):
        limiter.check("brand@test.example")
