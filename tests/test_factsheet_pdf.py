"""The PDF fact sheet ("steekkaart"): real Statbel demo data in, A4 PDF out, read back with
poppler's pdftotext/pdfinfo (Debian poppler-utils — required, not skipped)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from babel.numbers import format_decimal
from sqlalchemy import text

from obmi import operations as ops
from obmi.context import Context
from obmi.operations import ObservationQuery
from obmi.reports import charts
from obmi.reports.pdf import render_factsheet_pdf, slugify, surroundings_geojson

GENT, HERSTAPPE = "44021", "73028"
NASTY_NAMES = [
    "'s-Gravenwezel",
    "#set page(width: 1cm) $x^2$ *vet* _schuin_ [haak] @label <anker> `raw` ~",
    "= Kop", "- lijst", "+ lijst", "1. genummerd", "/ term: uitleg",
    "back\\slash \\u{41} -- --- ... // geen commentaar /* ook niet */",
    "O'Brien \"aanhalingstekens\" 50% & ^ | {accolades} (haakjes)",
]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is required for the PDF tests (Debian package poppler-utils)")
    return path


def pdf_text(pdf: bytes, tmp_path: Path, name: str = "sheet.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    return subprocess.run([_tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def table_value(sheet_text: str, row_name: str, period: str) -> str:
    """The value cell of a theme-table row (`row_name`: the start of the indicator's name, which
    may wrap): the token right after the row's period."""
    match = re.search(rf"^\s*{re.escape(row_name)}[^\n\d]*?\s+{re.escape(period)}\s+(\S+)", sheet_text,
                      re.MULTILINE)
    assert match, f"no table row {row_name!r} for {period} in the text"
    return match.group(1)


def nl(value: float, decimals: int = 0, locale: str = "nl_BE") -> str:
    return format_decimal(round(value, decimals), format="#,##0" + ("." + "0" * decimals if decimals else ""),
                          locale=locale)


def surroundings(ctx: Context, area) -> dict | None:
    """The locator map's GeoJSON, read straight from the store (as the PDF operation does)."""
    with ctx.db.unguarded_engine.connect() as conn:
        return surroundings_geojson(conn, area)


@pytest.fixture(scope="module")
def sheets(public):
    gent = ops.area_factsheet(public, "gemeente", GENT)
    herstappe = ops.area_factsheet(public, "gemeente", HERSTAPPE)
    return {"gent": gent, "herstappe": herstappe, "gent_map": surroundings(public, gent.area)}


@pytest.fixture(scope="module")
def pdfs(public):
    return {f"{name}_{lang}": ops.factsheet_pdf(public, "gemeente", code, None, lang)
            for name, code in (("gent", GENT), ("herstappe", HERSTAPPE)) for lang in ("nl", "en")}


def latest(ctx: Context, indicator: str, code: str):
    result = ops.query_observations(ctx, ObservationQuery(indicator, "gemeente", period="latest", areas=(code,)))
    assert len(result.rows) == 1
    return result.rows[0], result.indicator


def test_gent_dutch_sheet_shows_real_values_and_references(public, pdfs, tmp_path):
    sheet_text = pdf_text(pdfs["gent_nl"], tmp_path)
    assert "Gent" in sheet_text and "Gemeente" in sheet_text and "STEEKKAART" in sheet_text
    assert "Oost-Vlaanderen" in sheet_text and "Vlaams Gewest" in sheet_text
    pop, ind = latest(public, "pop_total", GENT)
    assert pop.value > 100_000
    assert table_value(sheet_text, "Bevolking", pop.period) == nl(pop.value, ind.decimals)  # 253.266
    share, sind = latest(public, "share_non_belgian", GENT)
    assert table_value(sheet_text, "Aandeel niet-Belgen", share.period) == nl(share.value, sind.decimals)
    assert nl(share.value, sind.decimals).count(",") == 1  # Dutch decimal comma
    assert "Kerncijfers" in sheet_text and "Demografie" in sheet_text and "Inkomen" in sheet_text
    assert "Bron: Statbel" in sheet_text
    assert re.search(r"pagina 1 van \d", sheet_text)
    assert "onderdrukt (kleine aantallen)" not in sheet_text  # Gent has nothing suppressed
    assert "Wijken voor omgevingsanalyse" not in sheet_text  # only for wijk sheets


def test_a4_tagged_and_identical_when_rendered_again(public, pdfs, sheets, tmp_path):
    path = tmp_path / "gent.pdf"
    path.write_bytes(pdfs["gent_nl"])
    info = subprocess.run([_tool("pdfinfo"), str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+595(\.\d+)? x 841\.89 pts \(A4\)", info) or "595 x 842" in info, info
    assert re.search(r"Tagged:\s+yes", info)
    assert "Steekkaart Gent" in info  # document title
    # Same sheet, same bytes: fonts bundled, timestamp from the sheet (each call of the operation
    # builds a new sheet, stamped with its own time).
    once = render_factsheet_pdf(sheets["gent"], map_geojson=sheets["gent_map"])
    assert render_factsheet_pdf(sheets["gent"], map_geojson=sheets["gent_map"]) == once


def test_english_sheet(public, pdfs, tmp_path):
    sheet_text = pdf_text(pdfs["gent_en"], tmp_path)
    assert "FACT SHEET" in sheet_text and "Municipality" in sheet_text and "Key figures" in sheet_text
    assert "Oost-Vlaanderen" in sheet_text and "(province)" in sheet_text
    pop, ind = latest(public, "pop_total", GENT)
    assert table_value(sheet_text, "Population", pop.period) == nl(pop.value, ind.decimals, "en_GB")  # 253,266
    assert "Source: Statbel" in sheet_text and re.search(r"page 1 of \d", sheet_text)
    assert "Steekkaart" not in sheet_text and "Bevolking" not in sheet_text


def test_herstappe_suppressed_values_never_printed(public, sheets, pdfs, tmp_path):
    # the raw, unpublished values straight from the store
    with public.db.unguarded_engine.connect() as conn:
        raw = dict(conn.execute(text(
            "select o.indicator, o.value from observation o join area a on a.id = o.area_id "
            "where a.level = 'gemeente' and a.code = :code and o.period = '2015' "
            "and o.indicator in ('pop_non_belgian', 'share_non_belgian')"), {"code": HERSTAPPE}).all())
    assert raw["pop_non_belgian"] and 0 < raw["pop_non_belgian"] < 5  # the demo's small count
    figure = next(f for s in sheets["herstappe"].sections for f in s.figures if f.indicator.code == "pop_non_belgian")
    assert figure.status == "suppressed" and figure.period == "2015" and figure.value is None

    for lang, label, row_count, row_share in (
            ("nl", "onderdrukt (kleine aantallen)", "Inwoners met een niet-Belgische", "Aandeel niet-Belgen"),
            ("en", "suppressed (small numbers)", "Inhabitants of non-Belgian", "Share of non-Belgians")):
        sheet_text = pdf_text(pdfs[f"herstappe_{lang}"], tmp_path, f"herstappe_{lang}.pdf")
        assert "Herstappe" in sheet_text and label in sheet_text
        count_cell = table_value(sheet_text, row_count, "2015")
        assert count_cell == charts.SUPPRESSED_MARK
        assert count_cell != nl(raw["pop_non_belgian"])
        assert table_value(sheet_text, row_share, "2015") == charts.SUPPRESSED_MARK
        for decimals in (1, 2):  # the unpublished share, however rounded, is nowhere in the text
            locale = "nl_BE" if lang == "nl" else "en_GB"
            formatted = nl(raw["share_non_belgian"], decimals, locale)
            assert not re.search(rf"(?<![\d.,]){re.escape(formatted)}(?!\d)", sheet_text), formatted
        # a published count of the same table does print (the check above can fail)
        pop, ind = latest(public, "pop_total", HERSTAPPE)
        assert table_value(sheet_text, "Bevolking" if lang == "nl" else "Population", "2015") == \
            nl(pop.value, 0, "nl_BE" if lang == "nl" else "en_GB")


def test_chart_specs_hold_no_suppressed_values(sheets):
    figure = next(f for s in sheets["herstappe"].sections for f in s.figures if f.indicator.code == "pop_non_belgian")
    spark = charts.sparkline_spec(figure.series, unit="personen", decimals=0)
    assert spark["data"]["values"] and all(r["value"] is None for r in spark["data"]["values"])
    assert all("label" not in r for r in spark["data"]["values"])
    share = next(f for s in sheets["herstappe"].sections for f in s.figures
                 if f.indicator.code == "share_non_belgian")
    bars = charts.comparison_bar_spec(share, subject_name="Herstappe")
    subject_row = bars["data"]["values"][0]
    assert subject_row == {"area": "Herstappe", "role": "subject", "value": None, "status": "suppressed",
                           "label": charts.SUPPRESSED_MARK, "key": "0:Herstappe"}
    assert {r["area"] for r in bars["data"]["values"]} == {"Herstappe", "Limburg", "Vlaams Gewest"}


def test_sparkline_gaps_are_not_zeros(sheets):
    gent_pop = sheets["gent"].sections[0].figures[0]
    spec = charts.sparkline_spec(gent_pop.series, unit="personen", decimals=0)
    periods = [r["period"] for r in spec["data"]["values"]]
    assert periods == [str(y) for y in range(int(periods[0]), int(periods[-1]) + 1)]  # missing years filled in
    assert all(r["value"] is None or r["value"] > 0 for r in spec["data"]["values"])
    assert spec["layer"][0]["mark"]["invalid"] == "break-paths-filter-domains"


def test_nasty_area_names_do_not_break_the_document(sheets, tmp_path):
    sheet = sheets["gent"]
    for i, name in enumerate(NASTY_NAMES):
        # the whole sheet (charts and map labels too) for one name, title and footer for the rest
        odd = replace(sheet, area=replace(sheet.area, name=name), sections=sheet.sections if i < 2 else [])
        sheet_text = pdf_text(render_factsheet_pdf(odd, map_geojson=sheets["gent_map"] if i < 2 else None),
                              tmp_path, f"nasty{i}.pdf")
        flat = " ".join(sheet_text.split())
        assert " ".join(name.split()) in flat, name
        assert flat.count(" ".join(name.split())) >= 2  # heading and page footer


def test_file_names_are_slugs():
    assert slugify("'s-Gravenwezel") == "s-gravenwezel" and slugify("Sint-Genesius-Rode / Rhode") == \
        "sint-genesius-rode-rhode"


def test_export_factsheets_one_pdf_per_area(demo, tmp_path):
    result = ops.export_factsheets(demo, "gemeente", tmp_path / "out", within=("arrondiss", "32000"), lang="en")
    assert result["failed"] == [] and result["written"] == result["areas"] == 5  # arrondissement Diksmuide
    files = sorted(p.name for p in (tmp_path / "out").glob("*.pdf"))
    assert len(files) == 5 and "32003-diksmuide.pdf" in files
    assert all(re.fullmatch(r"\d{5}-[a-z0-9-]+\.pdf", f) for f in files)
    sheet_text = pdf_text((tmp_path / "out" / "32003-diksmuide.pdf").read_bytes(), tmp_path)
    assert "Diksmuide" in sheet_text and "Municipality" in sheet_text and "West-Vlaanderen" in sheet_text
    assert result["seconds"] > 0


def test_wijk_sheet_carries_the_wijken_attribution(public, tmp_path):
    sheet = ops.area_factsheet(public, "ggw7", "44021W01")
    geo = surroundings(public, sheet.area)
    assert geo and len(geo["features"]) > 1  # the wijken of Gent
    sheet_text = " ".join(pdf_text(ops.factsheet_pdf(public, "ggw7", "44021W01", None, "nl"), tmp_path).split())
    assert sheet.area.name in sheet_text and "Wijk" in sheet_text
    assert ("Wijken voor omgevingsanalyse. © gemeentebesturen, verzameld door Data & Analyse van de Vlaamse "
            "provincies") in sheet_text
