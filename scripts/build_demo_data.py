#!/usr/bin/env python3
"""Build the demo's observations: every Statbel file in ../shared/data imported into a scratch
database with OBMi's own readers, then the delivered (source) values written back in OBMi's
generic long format — compact (municipalities on the geography of the data year), real numbers.

Usage (from the repository root): python scripts/build_demo_data.py [--shared PATH] [--out FILE]
Run scripts/build_demo_geo.py first for the geography subset.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
from pathlib import Path

from sqlalchemy import select

from obmi.imports.geo import import_geo
from obmi.imports.statbel import import_statbel
from obmi.store import open_database
from obmi.store.tables import area, observation

REPO_ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "src/obmi/demo_data/observations_statbel.csv.gz")
    args = parser.parse_args()
    files = sorted((args.shared / "statbel").glob("TF_*.txt.gz")) + sorted(
        (args.shared / "statbel" / "land_use").glob("TF_*.txt.gz"))
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{tmp}/build.db")
        db.upgrade()
        import_geo(db, args.shared / "geo", user="build")
        import_statbel(db, files, user="build")
        with db.engine.connect() as conn:
            rows = conn.execute(
                select(observation.c.indicator, area.c.level, area.c.code, observation.c.period, observation.c.value)
                .join(area, area.c.id == observation.c.area_id).where(observation.c.origin == "source")
                .order_by(observation.c.indicator, area.c.level, area.c.code, observation.c.period)).all()
        db.dispose()
    # mtime=0: the same data gives the same bytes, so rebuilding does not churn git.
    with open(args.out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        text = (line for line in _csv_lines(rows))
        for line in text:
            gz.write(line.encode("utf-8"))
    print(json.dumps({"file": str(args.out), "rows": len(rows), "bytes": args.out.stat().st_size,
                      "sources": [f.name for f in files]}))


def _csv_lines(rows):
    yield "indicator,level,area,period,value\n"
    for r in rows:
        value = int(r.value) if float(r.value).is_integer() else round(r.value, 4)
        yield f"{r.indicator},{r.level},{r.code},{r.period},{value}\n"


if __name__ == "__main__":
    main()
