"""`obmi demo`: a fresh database from the data bundled in the package (derived from
../shared/data by scripts/build_demo_data.py) — works offline."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from obmi import operations as ops
from obmi.context import Context
from obmi.store import Database, open_database

DEMO_DATA = Path(__file__).parent / "demo_data"
CATALOGUE = Path(__file__).parent / "catalogue" / "statbel.yaml"


def build_demo(ctx: Context, database: Path, echo: Callable[[str], None] = print) -> Database:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    db = open_database(f"sqlite:///{database}")
    ops.upgrade_database(ctx, db)
    echo("importing geography …")
    ops.import_geography(ctx, db, DEMO_DATA / "geo")
    ops.import_catalogue(ctx, db, CATALOGUE)
    for path in sorted(DEMO_DATA.glob("observations*.csv.gz")):
        echo(f"importing {path.name} …")
        echo(ops.import_observations(ctx, db, path).summary().splitlines()[0])
    return db
