"""Settings that would weaken an installation are refused with a message naming the variable:
a privacy threshold below 1 (unless explicitly allowed, which is logged), a production secret that
is short or not random, a response cache of a negative size. `obmi settings` says which
thresholds are in effect."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from obmi.errors import ValidationError
from obmi.settings import MIN_SECRET_BITS, MIN_SECRET_LENGTH, estimated_entropy_bits, load_settings

OBMI = Path(sys.executable).with_name("obmi")
RANDOM_SECRET = secrets.token_hex(32)  # what the docs tell administrators to use


def refused(environ: dict[str, str]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        load_settings(environ)
    return info.value


# --- the privacy threshold ------------------------------------------------------------------------

@pytest.mark.parametrize("threshold", ["0", "-1", "-100"])
@pytest.mark.parametrize("environment", ["development", "production"])
def test_a_threshold_below_one_is_refused(threshold, environment):
    error = refused({"OBMI_DEFAULT_THRESHOLD": threshold, "OBMI_ENVIRONMENT": environment,
                     "OBMI_SECRET_KEY": RANDOM_SECRET})
    assert list(error.errors) == ["OBMI_DEFAULT_THRESHOLD"]
    assert "at least 1" in str(error) and "OBMI_ALLOW_LOW_THRESHOLD" in str(error)


def test_a_threshold_below_one_with_the_override_is_allowed_and_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="obmi.settings"):
        settings = load_settings({"OBMI_DEFAULT_THRESHOLD": "0", "OBMI_ALLOW_LOW_THRESHOLD": "true"})
    assert settings.default_threshold == 0 and settings.allow_low_threshold
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("OBMI_DEFAULT_THRESHOLD is 0" in w and "OBMI_ALLOW_LOW_THRESHOLD" in w for w in warnings)


def test_thresholds_of_one_or_more_need_no_override(caplog):
    with caplog.at_level(logging.WARNING, logger="obmi.settings"):
        assert load_settings({"OBMI_DEFAULT_THRESHOLD": "1"}).default_threshold == 1
        assert load_settings({}).default_threshold == 5
    assert not caplog.records


def run_settings(**variables: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBMI_")}
    env.update(variables)
    return subprocess.run([str(OBMI), "settings"], env=env, capture_output=True, text=True, timeout=60)


def test_obmi_settings_shows_the_thresholds_in_effect():
    plain = run_settings(OBMI_DEFAULT_THRESHOLD="3")
    assert plain.returncode == 0, plain.stderr
    block = plain.stdout[plain.stdout.index("Privacy thresholds in effect:"):]
    assert "counts below 3 are suppressed" in block and "WARNING" not in block
    low = run_settings(OBMI_DEFAULT_THRESHOLD="0", OBMI_ALLOW_LOW_THRESHOLD="1")
    assert low.returncode == 0, low.stderr
    assert "WARNING: 0 is below 1 and protects no count" in low.stdout
    assert "OBMI_ALLOW_LOW_THRESHOLD" in low.stderr  # the logged override


def test_obmi_settings_refuses_a_threshold_below_one_without_traceback():
    result = run_settings(OBMI_DEFAULT_THRESHOLD="-1")
    assert result.returncode == 2
    assert "OBMI_DEFAULT_THRESHOLD" in result.stderr and "Traceback" not in result.stderr


# --- the secret key ---------------------------------------------------------------------------------

@pytest.mark.parametrize("secret", ["x", "kort", "a" * (MIN_SECRET_LENGTH - 1)])
@pytest.mark.parametrize("environment", ["test", "production"])
def test_a_short_secret_is_refused_outside_development(secret, environment):
    error = refused({"OBMI_ENVIRONMENT": environment, "OBMI_SECRET_KEY": secret})
    assert list(error.errors) == ["OBMI_SECRET_KEY"]
    assert f"at least {MIN_SECRET_LENGTH} bytes" in str(error) and f"has {len(secret)}" in str(error)


def test_the_length_of_a_secret_is_counted_in_bytes():
    # 11 euro signs are 11 characters but 33 bytes of UTF-8.
    assert load_settings({"OBMI_ENVIRONMENT": "test", "OBMI_SECRET_KEY": "€" * 11}).environment == "test"
    refused({"OBMI_ENVIRONMENT": "test", "OBMI_SECRET_KEY": "é" * 15})  # 30 bytes


@pytest.mark.parametrize("secret", ["s" * 40, "x" * 64, "ab" * 32, "password1234password1234password"])
def test_a_secret_that_is_not_random_is_refused_in_production(secret):
    error = refused({"OBMI_ENVIRONMENT": "production", "OBMI_SECRET_KEY": secret})
    assert list(error.errors) == ["OBMI_SECRET_KEY"]
    assert "does not look random" in str(error) and "openssl rand -hex 32" in str(error)


@pytest.mark.parametrize("make", [lambda: secrets.token_hex(32), lambda: secrets.token_urlsafe(32),
                                  lambda: secrets.token_urlsafe(48)],
                         ids=["hex32", "urlsafe32", "urlsafe48"])
def test_random_secrets_are_accepted_in_production(make):
    for _ in range(50):  # the estimate must not refuse an unlucky draw
        secret = make()
        assert load_settings({"OBMI_ENVIRONMENT": "production", "OBMI_SECRET_KEY": secret}).environment == "production"


def test_sixteen_random_bytes_are_not_enough_for_production():
    # `openssl rand -hex 16` is 32 characters but only 16 random bytes.
    assert all(estimated_entropy_bits(secrets.token_hex(16)) < MIN_SECRET_BITS for _ in range(200))
    refused({"OBMI_ENVIRONMENT": "production", "OBMI_SECRET_KEY": secrets.token_hex(16)})


# --- the response cache -------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["-1", "lots", "5000"])
def test_a_bad_response_cache_size_is_refused(value):
    error = refused({"OBMI_RESPONSE_CACHE_MB": value})
    assert list(error.errors) == ["OBMI_RESPONSE_CACHE_MB"] and repr(value) in str(error)


def test_a_response_cache_of_zero_keeps_nothing(demo):
    from fastapi.testclient import TestClient

    from obmi.web.app import create_app
    app = create_app(demo.settings.model_copy(update={"response_cache_mb": 0}), demo.db)
    site = TestClient(app)
    first = site.get("/api/v1/levels")
    assert first.status_code == 200 and site.get("/api/v1/levels").content == first.content
    assert len(app.state.body_cache) == 0
