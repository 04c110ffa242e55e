"""`obmi demo`: a fresh database from the data bundled in the package (derived from
../shared/data by scripts/build_demo_data.py) — works offline — with a demo organisation and
one account per role, printed on start."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from obmi import operations as ops
from obmi.context import Context, system_context
from obmi.settings import Settings
from obmi.store import open_database

DEMO_DATA = Path(__file__).parent / "demo_data"
CATALOGUE = Path(__file__).parent / "catalogue" / "statbel.yaml"
ORGANISATION = ("demostad", "Demostad (voorbeeldorganisatie)")
# One account per role. The password is public (it is printed): a demo, never an installation.
DEMO_PASSWORD = "demo-wachtwoord-2026"
ACCOUNTS = (("beheerder", "admin", "Beheerder (demo)"), ("coordinator", "coordinator", "Coördinator (demo)"),
            ("analist", "analyst", "Analist (demo)"), ("redacteur", "editor", "Redacteur (demo)"),
            ("lezer", "reader", "Lezer (demo)"))


def build_demo(settings: Settings, database: Path, echo: Callable[[str], None] = print) -> Context:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    ctx = system_context(open_database(f"sqlite:///{database}"), settings, "demo")
    ops.upgrade_database(ctx)
    ops.add_organisation(ctx, *ORGANISATION, host=True)
    for name, role, display in ACCOUNTS:
        ops.add_user(ctx, name, roles=[role], organisation=ORGANISATION[0], password=DEMO_PASSWORD,
                     display_name=display, email=f"{name}@demostad.invalid")
    echo("importing geography …")
    ops.import_geography(ctx, DEMO_DATA / "geo")
    ops.import_catalogue(ctx, CATALOGUE)
    for path in sorted(DEMO_DATA.glob("observations*.csv.gz")):
        echo(f"importing {path.name} …")
        echo(ops.import_observations(ctx, path).summary().splitlines()[0])
    echo(f"demo accounts (password {DEMO_PASSWORD}): " + ", ".join(f"{n} ({r})" for n, r, _ in ACCOUNTS))
    return ctx
