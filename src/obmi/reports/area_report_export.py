"""An area report for every area of a level (optionally within one area): a PDF — and, on
request, a self-contained HTML file — per area, and manifest.json listing each with its size and
the seconds it took; into a folder or one ZIP file. One connection for the whole batch, and what
the reports of a batch read alike (the maps and rankings of one province) is read once."""

from __future__ import annotations

import json
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from obmi.geo.codes import AreaKey
from obmi.query.areas import areas_of_level
from obmi.query.visibility import CatalogueView
from obmi.reports.area_report import AreaReport
from obmi.reports.area_report_build import build_report, require_level
from obmi.reports.area_report_html import render_report_html
from obmi.reports.area_report_pdf import render_report_pdf
from obmi.reports.pdf import slugify


class _Output:
    """Where a batch goes: files in a folder, or one ZIP file in it (written as the batch runs)."""

    def __init__(self, out_dir: Path, archive: str | None):
        out_dir.mkdir(parents=True, exist_ok=True)
        self.path = out_dir / archive if archive else out_dir
        self.zip = zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_DEFLATED) if archive else None

    def write(self, name: str, content: bytes) -> None:
        if self.zip is not None:
            self.zip.writestr(name, content)
        else:
            (self.path / name).write_bytes(content)

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


@dataclass(frozen=True)
class Batch:
    """What every report of one batch shares."""

    conn: Connection
    report: AreaReport
    level: str
    view: CatalogueView
    default_threshold: int
    lang: str
    site_name: str
    html: bool
    cache: dict[Any, Any]


def _one(batch: Batch, output: _Output, code: str, name: str) -> dict[str, Any]:
    """Write the report of one area; what the manifest says of it."""
    started = time.perf_counter()
    built = build_report(batch.conn, batch.report, batch.level, code, view=batch.view,
                         default_threshold=batch.default_threshold, lang=batch.lang, cache=batch.cache)
    stem = f"{code}-{slugify(name)}"
    pdf = render_report_pdf(built, site_name=batch.site_name)
    output.write(f"{stem}.pdf", pdf)
    entry: dict[str, Any] = {"code": code, "name": name, "file": f"{stem}.pdf", "bytes": len(pdf)}
    if batch.html:
        page = render_report_html(built, site_name=batch.site_name).encode("utf-8")
        output.write(f"{stem}.html", page)
        entry["html"] = f"{stem}.html"
    return {**entry, "seconds": round(time.perf_counter() - started, 3)}


def export_reports(conn: Connection, report: AreaReport, level: str, out_dir: Path, *, view: CatalogueView,
                   default_threshold: int, lang: str = "nl", within: AreaKey | None = None, site_name: str = "OBMi",
                   archive: bool = False, html: bool = False) -> dict[str, Any]:
    """The report for every area of `level` (optionally only those in `within`): `<code>-<slug>.pdf`
    (and `.html` with `html`) and manifest.json; `archive`: all of it in `<out_dir>/<report>-<level>.zip`."""
    started = time.perf_counter()
    require_level(report, level)
    areas = conn.execute(areas_of_level(conn, level, within=within, include_unknown=False)).all()
    batch = Batch(conn, report, level, view, default_threshold, lang, site_name, html, {})
    output = _Output(Path(out_dir), f"{report.slug}-{level}.zip" if archive else None)
    written: list[dict[str, Any]] = []
    failed: list[dict[str, str]] = []
    try:
        for row in areas:
            try:
                written.append(_one(batch, output, row.code, row.name))
            except Exception as exc:  # noqa: BLE001 — one bad area must not stop the batch
                failed.append({"code": row.code, "name": row.name, "error": f"{type(exc).__name__}: {exc}"})
        seconds = time.perf_counter() - started
        manifest = {"report": report.slug, "level": level, "within": f"{within[0]}:{within[1]}" if within else None,
                    "lang": lang, "areas": len(areas), "written": len(written), "failed": failed,
                    "seconds": round(seconds, 2),
                    "seconds_per_report": round(seconds / len(written), 3) if written else None,
                    "generated": datetime.now(UTC).isoformat(timespec="seconds"), "files": written}
        output.write("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
    finally:
        output.close()
    return {**manifest, "out": str(output.path)}
