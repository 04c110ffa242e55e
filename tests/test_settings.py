"""Settings: one declared list (a pydantic-settings model), read from OBMI_* variables, refused
loudly when wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from obmi.errors import ValidationError
from obmi.settings import DEV_SECRET, MIN_SECRET_LENGTH, declared, env_name, load_settings

REAL_SECRET = "s3cr3t-from-the-vault-0123456789abcdef"  # long enough outside development


def test_defaults_when_nothing_is_set():
    settings = load_settings({})
    fields = declared()
    assert {name: getattr(settings, name) for name in fields} == {name: f.default for name, f in fields.items()}
    assert settings.port == 8000 and settings.environment == "development"


def test_empty_value_means_the_default():
    assert load_settings({"OBMI_PORT": ""}).port == 8000


def test_port_is_converted_to_int():
    port = load_settings({"OBMI_PORT": "8080"}).port
    assert port == 8080 and isinstance(port, int)


def test_values_are_normalised_by_their_type():
    # "test" is outside development, so it needs a real secret key.
    settings = load_settings({"OBMI_LOG_LEVEL": "debug", "OBMI_ENVIRONMENT": " Test ", "OBMI_SECRET_KEY": REAL_SECRET})
    assert (settings.log_level, settings.environment) == ("DEBUG", "test")


def test_bad_value_names_the_variable():
    with pytest.raises(ValidationError) as info:
        load_settings({"OBMI_PORT": "abc"})
    assert "OBMI_PORT" in info.value.errors
    assert "OBMI_PORT" in str(info.value) and "'abc'" in str(info.value)


def test_every_bad_value_is_reported_at_once():
    with pytest.raises(ValidationError) as info:
        load_settings({"OBMI_PORT": "abc", "OBMI_LOG_LEVEL": "loud"})
    assert set(info.value.errors) == {"OBMI_PORT", "OBMI_LOG_LEVEL"}


def test_unknown_obmi_variable_is_refused():
    with pytest.raises(ValidationError) as info:
        load_settings({"OBMI_PROT": "8080"})
    assert list(info.value.errors) == ["OBMI_PROT"]
    assert "unknown setting" in str(info.value)


def test_other_variables_are_ignored():
    assert load_settings({"PORT": "abc", "obmi_port": "abc"}).port == 8000


def test_obmi_test_variables_are_ignored():
    settings = load_settings({"OBMI_TEST_POSTGRES_URL": "postgresql://x", "OBMI_TEST_ANYTHING": "1"})
    assert settings.database_url == "sqlite:///obmi.db"


def test_production_with_the_default_secret_is_refused():
    with pytest.raises(ValidationError) as info:
        load_settings({"OBMI_ENVIRONMENT": "production"})
    assert "OBMI_SECRET_KEY" in info.value.errors


def test_production_with_the_default_secret_given_explicitly_is_refused():
    with pytest.raises(ValidationError, match="OBMI_SECRET_KEY"):
        load_settings({"OBMI_ENVIRONMENT": "production", "OBMI_SECRET_KEY": DEV_SECRET})


def test_production_with_a_real_secret_is_fine():
    settings = load_settings({"OBMI_ENVIRONMENT": "production", "OBMI_SECRET_KEY": REAL_SECRET})
    assert (settings.environment, settings.secret_key.get_secret_value()) == ("production", REAL_SECRET)


def test_outside_development_a_short_secret_is_refused():
    for environment in ("production", "test"):
        with pytest.raises(ValidationError) as info:
            load_settings({"OBMI_ENVIRONMENT": environment, "OBMI_SECRET_KEY": "x" * (MIN_SECRET_LENGTH - 1)})
        assert list(info.value.errors) == ["OBMI_SECRET_KEY"]
    assert load_settings({"OBMI_ENVIRONMENT": "test", "OBMI_SECRET_KEY": "x" * MIN_SECRET_LENGTH}).environment == "test"


def test_the_test_environment_refuses_the_default_secret_too():
    with pytest.raises(ValidationError, match="OBMI_SECRET_KEY"):
        load_settings({"OBMI_ENVIRONMENT": "test"})


def test_overrides_win_over_the_environment():
    assert load_settings({"OBMI_PORT": "8080"}, port=9000).port == 9000


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError):
        load_settings({}).no_such_setting  # noqa: B018


# --- `obmi settings` ----------------------------------------------------------------------------

OBMI = Path(sys.executable).with_name("obmi")


def run_settings(**variables: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBMI_")}
    env.update(variables)
    return subprocess.run([str(OBMI), "settings"], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def settings_output() -> subprocess.CompletedProcess:
    return run_settings(OBMI_PORT="8080", OBMI_SECRET_KEY="do-not-print-me")


def test_cli_settings_lists_every_declared_setting(settings_output):
    assert settings_output.returncode == 0, settings_output.stderr
    listed = [line.split()[0] for line in settings_output.stdout.splitlines() if line.startswith("OBMI_")]
    assert listed == [env_name(name) for name in declared()]


def test_cli_settings_shows_help_and_current_value(settings_output):
    lines = settings_output.stdout.splitlines()
    port = lines.index(next(line for line in lines if line.startswith("OBMI_PORT ")))
    assert "(int, default 8000)" in lines[port]
    assert lines[port + 1].strip() == "current: 8080"
    assert "Port the web server listens on." in lines[port + 2]


def test_cli_settings_hides_the_secret(settings_output):
    assert "do-not-print-me" not in settings_output.stdout
    assert DEV_SECRET not in settings_output.stdout


def test_cli_settings_with_a_bad_value_names_it_without_traceback():
    result = run_settings(OBMI_PORT="abc")
    assert result.returncode == 2
    assert "OBMI_PORT" in result.stderr
    assert "Traceback" not in result.stderr
