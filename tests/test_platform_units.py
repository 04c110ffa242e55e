"""Pure parts of the platform, without a database: periods, passwords, tokens, sessions and CSRF,
the permission and visibility rules, claim mapping, settings of secrets, renderers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from obmi.auth import permissions as p
from obmi.auth.actor import ANONYMOUS, Actor
from obmi.auth.oidc import identity_from_claims, parse_role_map
from obmi.auth.passwords import hash_password, password_problems, verify_password
from obmi.auth.roles import Role
from obmi.auth.sessions import Expiry, csrf_token, csrf_valid, read_session_cookie, sign_session_id
from obmi.auth.tokens import digest, display_prefix, looks_like_api_token, new_api_token
from obmi.changes import ChangeSet
from obmi.errors import NotAllowed, NotAuthenticated, NotVisible, ValidationError
from obmi.indicators.periods import Period, sort_periods
from obmi.publish.renderers import render_csv, render_json
from obmi.settings import DEV_SECRET, load_settings


def actor(*roles: Role, org: str | None = "stad", name: str = "jan", host: bool = True,
          groups: frozenset[str] = frozenset(), scope=None) -> Actor:
    return Actor(name=name, user_id=1, organisation=org, host_organisation=host, roles=frozenset(roles),
                 groups=groups, scope=scope, via="session")


# --- periods ----------------------------------------------------------------------------------

def test_survey_editions_sort_by_their_year_among_other_periods():
    assert sort_periods(["stadsmonitor-2020", "2021", "gemeentemonitor-2017", "2020-Q3", "2020", "2019-12"]) == \
        ["gemeentemonitor-2017", "2019-12", "2020", "stadsmonitor-2020", "2020-Q3", "2021"]
    assert Period.parse("stadsmonitor-2023").year == 2023
    assert Period.parse(2015.0) < Period.parse("2015-Q1") < Period.parse("2015-04")


def test_a_period_that_is_none_of_the_kinds_is_refused():
    with pytest.raises(ValueError, match="not a year"):
        Period.parse("15/03/2015")


# --- passwords, tokens, sessions --------------------------------------------------------------

def test_passwords_are_argon2_hashes_that_verify():
    stored = hash_password("een-lang-wachtwoord")
    assert stored.startswith("$argon2id$") and "een-lang" not in stored
    assert verify_password(stored, "een-lang-wachtwoord") and not verify_password(stored, "een-lang-wachtwoorD")
    assert not verify_password(None, "whatever")  # an account without a password never signs in


@pytest.mark.parametrize("password, problem", [("kort", "at least 12"), ("aaaaaaaaaaaaaaa", "different"),
                                               ("mijn-naam-is-jan-!", "user name"), ("wachtwoord123", "common")])
def test_password_rules(password, problem):
    assert any(problem in text for text in password_problems(password, user_name="jan", min_length=12))
    assert password_problems("paard-batterij-nietje", user_name="jan", min_length=12) == []


def test_api_tokens_are_long_random_and_stored_as_digests():
    a, b = new_api_token(), new_api_token()
    assert a != b and looks_like_api_token(a) and len(a) > 40
    assert digest(a) != a and len(digest(a)) == 64 and display_prefix(a) == a[:11]


def test_session_cookies_are_signed():
    cookie = sign_session_id("k" * 32, "session-id")
    assert read_session_cookie("k" * 32, cookie) == "session-id"
    assert read_session_cookie("x" * 32, cookie) is None  # another key
    assert read_session_cookie("k" * 32, cookie[:-2] + "xx") is None  # altered
    assert read_session_cookie("k" * 32, "a" * 1000) is None


def test_sessions_expire_when_idle_and_absolutely():
    expiry = Expiry(idle=timedelta(minutes=60), absolute=timedelta(hours=12))
    start = datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert expiry.ended(started=start, last_seen=start, now=start + timedelta(minutes=59)) is None
    assert expiry.ended(started=start, last_seen=start, now=start + timedelta(minutes=61)) == "idle"
    assert expiry.ended(started=start, last_seen=start + timedelta(hours=12), now=start + timedelta(hours=12)) == \
        "absolute"


def test_csrf_tokens_are_bound_to_the_session():
    token = csrf_token("k" * 32, "session-a")
    assert csrf_valid("k" * 32, "session-a", token)
    assert not csrf_valid("k" * 32, "session-b", token)
    assert not csrf_valid("k" * 32, "session-a", None) and not csrf_valid("k" * 32, None, token)


# --- permission rules -------------------------------------------------------------------------

def test_the_public_is_asked_to_sign_in_and_others_are_refused():
    with pytest.raises(NotAuthenticated):
        p.check(ANONYMOUS, "users.read")
    with pytest.raises(NotAllowed, match="users.read"):
        p.check(actor(Role.READER), "users.read")
    p.check(actor(Role.ORG_ADMIN), "users.read")


def test_objects_of_another_organisation_are_not_visible():
    theirs = p.Resource("user", "piet", "buur")
    with pytest.raises(NotVisible):
        p.check(actor(Role.ORG_ADMIN), "users.manage", theirs)
    public_indicator = p.Resource("indicator", "x", "buur", visible_across_organisations=True)
    with pytest.raises(NotAllowed) as info:
        p.check(actor(Role.COORDINATOR), "indicator.write", public_indicator)
    assert not isinstance(info.value, NotVisible)


def test_object_level_rule_for_editors():
    own = p.Resource("indicator", "x", "stad", owner="jan")
    other = p.Resource("indicator", "y", "stad", owner="an")
    assert p.allowed(actor(Role.EDITOR), "indicator.write", own)
    assert not p.allowed(actor(Role.EDITOR), "indicator.write", other)
    assert not p.allowed(actor(Role.EDITOR), "indicator.write", p.Resource("indicator", None, "stad"))  # new
    assert p.allowed(actor(Role.COORDINATOR), "indicator.write", other)


def test_shared_data_belongs_to_the_host_organisation():
    assert p.allowed(actor(Role.COORDINATOR, host=True), "shared_data.import")
    assert not p.allowed(actor(Role.COORDINATOR, host=False, org="buur"), "shared_data.import")


def test_a_read_token_never_writes():
    assert not p.allowed(actor(Role.ADMIN, scope="read"), "system.restore")
    assert p.allowed(actor(Role.ADMIN, scope="read"), "system.status")
    with pytest.raises(NotAllowed, match="scope write"):
        p.check(actor(Role.ADMIN, scope="read"), "data.derive")


def test_visibility_of_statistics():
    groups = p.Access("stad", None, "groups", ("wijkteam",), None)
    assert p.sees_indicator(actor(Role.READER, groups=frozenset({"wijkteam"})), groups)
    assert not p.sees_indicator(actor(Role.READER), groups)
    assert not p.sees_indicator(actor(Role.READER, org="buur", groups=frozenset({"wijkteam"})), groups)
    analysts = p.Access("stad", "an", "analysts")
    assert p.sees_indicator(actor(Role.ANALYST), analysts)
    assert not p.sees_indicator(actor(Role.ANALYST, org="buur"), analysts)
    assert p.sees_indicator(actor(Role.EDITOR, name="an"), analysts)  # its owner
    assert not p.sees_indicator(ANONYMOUS, analysts)
    from_municipality = p.Access("stad", None, "public", (), "gemeente")
    assert p.sees_level(ANONYMOUS, from_municipality, level_order=40, public_from_order=40)
    assert not p.sees_level(ANONYMOUS, from_municipality, level_order=10, public_from_order=40)
    assert p.sees_level(actor(Role.ANALYST), from_municipality, level_order=10, public_from_order=40)


def test_every_permission_has_a_readable_rule():
    for name, who in ((n, w) for n, _, w in p.describe()):
        assert who and "\n" not in who, name


# --- single sign-on claims ---------------------------------------------------------------------

def test_claims_map_to_roles():
    mapping = parse_role_map("obmi-analisten=analyst, obmi-beheer=org_admin")
    claims = {"sub": "42", "preferred_username": "An.Peeters", "email": "an@gent.be", "roles": ["obmi-analisten"]}
    identity = identity_from_claims(claims, issuer="https://idp", role_claim="roles", role_map=mapping,
                                    default_role="")
    assert (identity.name, identity.roles) == ("an.peeters", frozenset({Role.ANALYST}))
    none = identity_from_claims({"sub": "7", "roles": "iets-anders"}, issuer="https://idp", role_claim="roles",
                                role_map=mapping, default_role="reader")
    assert none.roles == frozenset({Role.READER})
    with pytest.raises(ValueError, match="unknown role"):
        parse_role_map("x=superuser")


# --- settings, changes, renderers ---------------------------------------------------------------

@pytest.mark.parametrize("environment", ["test", "production"])
def test_secrets_outside_development(environment):
    with pytest.raises(ValidationError, match="OBMI_SECRET_KEY"):
        load_settings({"OBMI_ENVIRONMENT": environment, "OBMI_SECRET_KEY": DEV_SECRET})
    with pytest.raises(ValidationError, match="at least 32"):
        load_settings({"OBMI_ENVIRONMENT": environment, "OBMI_SECRET_KEY": "kort"})
    secret = "cfd7ee6a69dde963d8418e01894776c07eb37528321e1943fe13983f3d78f20e"  # from `openssl rand -hex 32`
    ok = load_settings({"OBMI_ENVIRONMENT": environment, "OBMI_SECRET_KEY": secret})
    assert ok.secret_key.get_secret_value() == secret and secret not in repr(ok)


def test_a_change_set_is_settled_once():
    changes = ChangeSet()
    assert not changes
    changes.observed("pop_total", {"2015"})
    taken = changes.take()
    assert taken.observations == {"pop_total": {"2015"}} and not changes


def test_renderers_never_write_non_finite_numbers():
    rows = [{"a": float("inf"), "b": float("nan"), "c": 1.5}]
    assert json.loads(render_json(["a", "b", "c"], rows, {}))["data"] == [{"a": None, "b": None, "c": 1.5}]
    assert render_csv(["a", "b", "c"], rows, {}).decode("utf-8-sig").splitlines()[1] == ",,1.5"
