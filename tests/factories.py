"""Test data made through the operations (as the product makes it), never by writing rows.

    org(ctx, "gent")                         an organisation (the first one is the host)
    user(ctx, "an", "analyst", org="gent")   a user; returns a Context acting as that user
    catalogue(ctx, tmp_path, {...}, …)        indicator definitions, imported
    observations(ctx, tmp_path, rows)         long-format rows, imported
"""

from __future__ import annotations

import csv
import itertools
import logging
import os
from pathlib import Path
from typing import Iterable, Mapping

import yaml

from obmi import operations as ops
from obmi.context import Context

PASSWORD = "een-lang-testwachtwoord"  # meets the password rules; never used outside tests
_count = itertools.count(1)


def org(ctx: Context, code: str, name: str | None = None, *, host: bool | None = None) -> str:
    ops.add_organisation(ctx, code, name or code.capitalize(), host=host)
    return code


def user(ctx: Context, name: str, *roles: str, org: str | None = None, groups: Iterable[str] = (),
         password: str | None = PASSWORD, email: str = "") -> Context:
    """Create a user and return a context acting as that user (as the command line would)."""
    ops.add_user(ctx, name, roles=list(roles), organisation=org, password=password, groups=list(groups),
                 email=email or f"{name}@example.invalid")
    return as_user(ctx, name)


def as_user(ctx: Context, name: str) -> Context:
    """`ctx` acting as an existing user (resolved like `obmi --as NAME`)."""
    system = ctx.acting_as(_system_actor())
    return ctx.acting_as(ops.identify_cli_user(system, name))


def _system_actor():
    from obmi.auth.actor import system_actor
    return system_actor("test-setup")


def catalogue(ctx: Context, folder: Path, *items: Mapping, **kwargs: object):
    """Import indicator definitions (YAML) as the context's actor."""
    path = Path(folder) / f"catalogue-{next(_count)}.yaml"
    path.write_text(yaml.safe_dump({"indicators": [dict(i) for i in items]}, allow_unicode=True), encoding="utf-8")
    return ops.import_catalogue(ctx, path, **kwargs)


def write_long(folder: Path, rows: Iterable[Mapping], name: str | None = None) -> Path:
    rows = list(rows)
    columns = ["indicator", "level", "area", "period", "value"] + sorted(
        {k for r in rows for k in r} - {"indicator", "level", "area", "period", "value"})
    path = Path(folder) / (name or f"observations-{next(_count)}.csv")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def observations(ctx: Context, folder: Path, rows: Iterable[Mapping], **kwargs: object):
    """Import long-format rows (indicator, level, area, period, value, …) as the context's actor."""
    return ops.import_observations(ctx, write_long(folder, rows), **kwargs)


def invoke_cli(db, acting_as: str, *args: str):
    """`obmi ARGS` in this process (typer's CliRunner) on the test's database, as a user, with no
    other OBMI_* setting of whoever runs the tests; the CliRunner result is returned."""
    from sqlalchemy.engine import make_url
    from typer.testing import CliRunner

    from obmi.cli import app
    env: dict[str, str | None] = {"OBMI_DATABASE_URL": make_url(db.url).render_as_string(hide_password=False),
                                  "OBMI_USER": acting_as}
    env.update({k: None for k in os.environ if k.startswith("OBMI_") and k not in env and not k.startswith("OBMI_TEST_")})
    logger = logging.getLogger("obmi")  # the command configures logging to its own stderr: put it back
    saved = (logger.handlers[:], logger.level, logger.propagate)
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]
