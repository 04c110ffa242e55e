"""Swing's special values (and OBMi's own suppression) shown distinctly and the same way in every
channel — web pages (indicator table, fact sheet, compare, dashboard tile tables), the CSV, XLSX
and JSON downloads and the PDF fact sheet — and, on the indicator page, where each value comes
from. The world is loaded through a real Swing upload (obmi import swing) on municipalities of
Limburg; what each area should show is read from the query layer (its status and origin), never
assumed, so a channel that shows another sign than the status it was given fails.

The signs are Swing's and Statbel's: x onderdrukt, n.v.t. niet van toepassing, ? onbekend,
– geen gegevens (obmi.publish.signs)."""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from obmi import operations as ops
from obmi.operations import ObservationQuery
from obmi.publish import signs
from obmi.settings import load_settings
from obmi.web import i18n
from obmi.web.app import create_app

from conftest import GEO, system
from factories import catalogue

LIMBURG, ANTWERPEN = "70000", "10000"
COUNT, HOUSEHOLDS, SIZE = "tst_inwoners", "tst_huishoudens", "tst_gezinsgrootte"
PERIOD = "2020"
# What the specification asks for, per status: (symbol, word) in Dutch and in English.
EXPECTED = {
    "nl": {"suppressed": ("x", "onderdrukt"), "not_applicable": ("n.v.t.", "niet van toepassing"),
           "missing": ("?", "onbekend"), "empty": ("–", "geen gegevens")},
    "en": {"suppressed": ("x", "suppressed"), "not_applicable": ("n/a", "not applicable"),
           "missing": ("?", "unknown"), "empty": ("–", "no data")},
}
SPECIAL = {-99997: "suppressed", -99998: "not_applicable", -99999: "missing", -99996: "empty"}
HTML = {"Accept": "text/html"}


def area_codes(ctx, level: str, within: tuple[str, str]) -> list[str]:
    return sorted(f["properties"]["code"] for f in ops.area_geojson(ctx, level, within=within)["features"])


def _upload(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["period", "geolevel", "geoitem", COUNT, HOUSEHOLDS])
        writer.writerows(rows)
    return path


def build_world(ctx) -> None:
    """Limburg's municipalities with one special value each (the first four), one small count
    (OBMi's disclosure control withholds it), the rest plain; Limburg's own total delivered by the
    source; Antwerp's municipalities plain, so that its province total is computed."""
    ops.import_geography(ctx, GEO)
    folder = Path(tempfile.mkdtemp(prefix="obmi-signs-"))
    try:
        catalogue(ctx, folder,
                  {"code": COUNT, "name_nl": "Inwoners (test)", "name_en": "Inhabitants (test)", "is_count": True,
                   "unit": "personen", "themes": ["demografie"]},
                  {"code": HOUSEHOLDS, "name_nl": "Huishoudens (test)", "name_en": "Households (test)",
                   "is_count": True, "unit": "huishoudens", "themes": ["demografie"]},
                  {"code": SIZE, "name_nl": "Gezinsgrootte (test)", "aggregation": "ratio", "numerator": COUNT,
                   "denominator": HOUSEHOLDS, "decimals": 2, "unit": "personen per huishouden",
                   "themes": ["demografie"]})
        limburg = area_codes(ctx, "gemeente", ("provincie", LIMBURG))
        antwerpen = area_codes(ctx, "gemeente", ("provincie", ANTWERPEN))
        rows: list[list[object]] = []
        for i, code in enumerate(limburg):
            special = list(SPECIAL)[i] if i < len(SPECIAL) else None
            count = special if special is not None else (2 if i == len(SPECIAL) else 1000 + 17 * i)
            rows.append([int(PERIOD), "gemeente", code, count, 400 + i])
        rows += [[int(PERIOD), "gemeente", code, 5000 + i, 2000 + i] for i, code in enumerate(antwerpen)]
        rows.append([int(PERIOD), "provincie", LIMBURG, 876543, 350000])
        result = ops.import_swing(ctx, _upload(folder / "upload.csv", rows))
        assert result.status == "ok", result
    finally:
        shutil.rmtree(folder)


@pytest.fixture
def world(db_factory, templates, shared_data, tmp_path):
    db = db_factory.clone(templates.get(db_factory, "special-values", build_world))
    root = system(db)
    (tmp_path / "dashboards").mkdir()
    limburg = area_codes(root, "gemeente", ("provincie", LIMBURG))
    (tmp_path / "dashboards" / "limburg.yaml").write_text(
        f"title_nl: Limburg\ndefault_area: gemeente:{limburg[-1]}\ntiles:\n"
        f"  - {{type: bar, indicator: {COUNT}, level: gemeente, within: 'provincie:{LIMBURG}'}}\n"
        f"  - {{type: table, indicator: {COUNT}, area: 'gemeente:{limburg[0]}'}}\n", encoding="utf-8")
    settings = load_settings({"OBMI_CONTENT_DIR": str(tmp_path)})
    client = TestClient(create_app(settings, db))
    yield {"root": root, "client": client, "limburg": limburg, "tmp": tmp_path}
    db.dispose()


def statuses(world, indicator: str = COUNT, level: str = "gemeente") -> dict[str, object]:
    """{area code: observation} as the query layer publishes it (the truth every channel shows)."""
    rows = ops.query_observations(world["root"], ObservationQuery(indicator, level, PERIOD)).rows
    return {r.area_code: r for r in rows}


def shown(obs) -> str | None:
    """The status a channel must show a sign for: None for a number."""
    return None if obs.value is not None else obs.status


def special_areas(world) -> dict[str, str]:
    """{area code: shown status} of the areas of Limburg without a number — one of each kind."""
    found = {code: shown(obs) for code, obs in statuses(world).items() if code in world["limburg"]}
    found = {code: s for code, s in found.items() if s is not None}
    assert set(found.values()) == set(SPECIAL.values()), found  # every special value made it through
    return found


def page(world, url: str) -> str:
    answer = world["client"].get(url, headers=HTML)
    assert answer.status_code == 200, answer.text[:500]
    return answer.text


def table_row(text: str, code: str) -> str:
    match = re.search(rf'<tr data-code="{code}".*?</tr>', text, re.S)
    assert match, f"no table row for {code}"
    return match.group(0)


def status_cells(fragment: str) -> list[tuple[str, str, str]]:
    """(css status, title, visible symbol) of every value-without-number in an HTML fragment; the
    visually hidden label must equal the title."""
    cells = []
    for css, title, symbol, hidden in re.findall(
            r'<span class="status status-(\w+)" title="([^"]*)"><span aria-hidden="true">([^<]*)</span>'
            r'<span class="visually-hidden">([^<]*)</span></span>', fragment):
        assert hidden == title, (hidden, title)
        cells.append((css, html.unescape(title), html.unescape(symbol)))
    return cells


def legend(text: str) -> list[tuple[str, str]]:
    """(symbol, word) pairs of every signs legend on the page."""
    pairs = []
    for body in re.findall(r'<p class="signs-legend">(.*?)</p>', text, re.S):
        pairs += [(html.unescape(s), html.unescape(w.strip())) for s, w in re.findall(
            r'<span class="status status-\w+" aria-hidden="true">([^<]*)</span>([^<]*)</span>', body)]
    return pairs


# --- the one table -------------------------------------------------------------------------------

def test_every_status_without_a_value_has_its_sign_and_words_in_both_languages():
    for lang, expected in EXPECTED.items():
        assert {s: (sign.symbol(lang), sign.label(lang)) for s, sign in signs.SIGNS.items()} == expected
        for status, (_symbol, word) in expected.items():
            # the web's gettext catalogue says the same in English as the table does
            assert i18n.translate(lang, signs.SIGNS[status].label_nl) == word
    assert signs.shown_status(0.0, "final") is None  # a real zero is a number
    assert signs.shown_status(None, "empty") == "empty"
    # No observation at all reads as the query layer says (missing): unknown, never "no data" —
    # an aggregate that a hidden part makes unknown is stored as no observation.
    assert signs.shown_status(None, None) == "missing" and signs.shown_status(None, "final") == "missing"


def test_the_scripts_tooltips_use_the_same_signs():
    script = (Path(signs.__file__).parents[1] / "web" / "static" / "obmi.js").read_text(encoding="utf-8")
    for lang, expected in EXPECTED.items():
        for status, (symbol, word) in expected.items():
            assert f'{status}: ["{symbol}", "{word}"]' in script, (lang, status)


# --- web pages -----------------------------------------------------------------------------------

BOTH = "2000,4000"  # the page shows the home region only; the API (compared with it) every region

@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_indicator_table_shows_each_status_with_its_sign_and_words(world, lang):
    expected = EXPECTED[lang]
    text = page(world, f"/indicatoren/{COUNT}?level=gemeente&period={PERIOD}&lang={lang}&region={BOTH}")
    specials = special_areas(world)
    for code, status in specials.items():
        cells = status_cells(table_row(text, code))
        assert cells == [(status, expected[status][1], expected[status][0])], (code, cells)
    # An area without any observation reads as the API says: missing, unknown.
    published = statuses(world)
    nothing = next(code for code, obs in published.items() if obs.origin == "" and code not in world["limburg"])
    assert published[nothing].status == "missing"
    assert status_cells(table_row(text, nothing)) == [("missing", expected["missing"][1], expected["missing"][0])]
    # A number is a number: no sign.
    plain = next(code for code, obs in published.items() if obs.value is not None)
    assert status_cells(table_row(text, plain)) == []
    assert i18n.number(published[plain].value, 0, lang) in table_row(text, plain)
    # The legend lists every sign the table used, with its word.
    on_page = {shown(obs) for obs in published.values()} - {None}
    assert sorted(legend(text)) == sorted(expected[s] for s in on_page)


def test_the_fact_sheet_compare_page_and_dashboard_tiles_use_the_same_signs(world):
    specials = special_areas(world)
    by_status = {status: code for code, status in specials.items()}
    nl = EXPECTED["nl"]
    # Fact sheet of a plain municipality compared with one area of each kind.
    subject = next(code for code, obs in statuses(world).items()
                   if code in world["limburg"] and obs.value is not None)
    refs = "&".join(f"ref=gemeente:{code}" for code in specials)
    sheet = page(world, f"/gebieden/gemeente/{subject}?{refs}")
    row = re.search(r"<tr>\s*<th scope=\"row\"><a href=\"/indicatoren/" + COUNT + r"\?.*?</tr>", sheet, re.S)
    assert row
    assert [c[0] for c in status_cells(row.group(0))] == list(specials.values())  # in the order of the refs
    assert all((c[2], c[1]) == nl[c[0]] for c in status_cells(row.group(0)))
    assert set(legend(sheet)) >= {nl[s] for s in specials.values()}
    # The fact sheet of an area whose own value is hidden by the source.
    own = page(world, f"/gebieden/gemeente/{by_status['suppressed']}")
    assert ("suppressed", "onderdrukt", "x") in status_cells(own)
    # Compare: the latest figure of each area (and of one with a number: a table needs one).
    compare = page(world, f"/vergelijk?area=gemeente:{subject}&"
                   + "&".join(f"area=gemeente:{c}" for c in specials) + f"&indicator={COUNT}")
    assert [c[0] for c in status_cells(compare)] == list(specials.values())
    assert set(legend(compare)) == {nl[s] for s in specials.values()}
    # Dashboard: the bar tile's table of Limburg's municipalities and the table tile of one area.
    board = page(world, "/dashboards/limburg")
    assert {c[0] for c in status_cells(board)} == set(specials.values())
    assert all((c[2], c[1]) == nl[c[0]] for c in status_cells(board))


# --- downloads -----------------------------------------------------------------------------------

def _csv(world, url: str) -> list[dict]:
    answer = world["client"].get(url)
    assert answer.status_code == 200
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))


def _xlsx(world, url: str) -> list[dict]:
    answer = world["client"].get(url)
    assert answer.status_code == 200
    header, *rows = list(openpyxl.load_workbook(io.BytesIO(answer.content)).active.iter_rows(values_only=True))
    return [dict(zip(header, row)) for row in rows]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_downloads_leave_the_value_empty_and_say_the_status_in_words(world, lang):
    expected = EXPECTED[lang]
    specials = special_areas(world)
    query = f"indicator={COUNT}&level=gemeente&period={PERIOD}&lang={lang}"
    table = {r["area_code"]: r for r in _csv(world, f"/download/observations.csv?{query}")}
    sheet = {r["area_code"]: r for r in _xlsx(world, f"/download/observations.xlsx?{query}")}
    as_json = {r["area_code"]: r for r in world["client"].get(f"/download/observations.json?{query}").json()["data"]}
    published = statuses(world)
    for code, status in specials.items():
        word = expected[status][1]
        assert table[code]["value"] == "" and table[code]["status_label"] == word, table[code]
        assert sheet[code]["value"] is None and sheet[code]["status_label"] == word, sheet[code]
        assert as_json[code]["value"] is None and as_json[code]["status_label"] == word
        assert table[code]["status"] == published[code].status  # the code, as in the API
        # no number anywhere in the row of a cell without a number (only the code and the period)
        numbers = {v for v in table[code].values() if re.fullmatch(r"-?\d+([.,]\d+)?", v or "")}
        assert numbers <= {code, PERIOD}, table[code]
        assert not [v for k, v in sheet[code].items() if isinstance(v, (int, float)) and k != "period"]
    plain = next(code for code, obs in published.items() if obs.value is not None)
    assert float(table[plain]["value"]) == published[plain].value and table[plain]["status_label"] == ""
    # Where each value comes from.
    assert table[plain]["origin"] == "source" and sheet[plain]["origin"] == "source"
    assert table[plain]["origin_label"] == signs.ORIGINS["source"].label(lang)
    provinces = {r["area_code"]: r for r in _csv(world, f"/download/observations.csv?indicator={COUNT}"
                                                        f"&level=provincie&period={PERIOD}&lang={lang}")}
    api = statuses(world, level="provincie")
    for code in (LIMBURG, ANTWERPEN):
        assert provinces[code]["origin"] == api[code].origin
        assert provinces[code]["origin_label"] == signs.ORIGINS[api[code].origin].label(lang)
    assert (api[LIMBURG].origin, api[ANTWERPEN].origin) == ("source", "aggregated")


def test_the_series_and_fact_sheet_downloads_say_the_status_too(world):
    specials = special_areas(world)
    areas = "&".join(f"area=gemeente:{code}" for code in specials)
    rows = {r["area_code"]: r for r in _csv(world, f"/download/series.csv?indicator={COUNT}&{areas}")}
    for code, status in specials.items():
        if code in rows:  # a series holds the observations there are
            assert rows[code]["value"] == "" and rows[code]["status_label"] == EXPECTED["nl"][status][1]
    subject = next(code for code, obs in statuses(world).items()
                   if code in world["limburg"] and obs.value is not None)
    refs = "&".join(f"ref=gemeente:{code}" for code in specials)
    sheet = _xlsx(world, f"/download/factsheet/gemeente/{subject}.xlsx?{refs}")
    row = next(r for r in sheet if r["indicator"] == COUNT)
    names = {obs.area_code: obs.area_name for obs in statuses(world).values()}
    for code, status in specials.items():
        assert row[names[code]] is None
        assert row[f"{names[code]} (status)"] == EXPECTED["nl"][status][1]


# --- the PDF fact sheet ----------------------------------------------------------------------------

def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext is required (Debian package poppler-utils)")
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    return subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_pdf_shows_each_sign_and_its_legend(world, lang):
    specials = special_areas(world)
    expected = EXPECTED[lang]
    subject = next(code for code, obs in statuses(world).items()
                   if code in world["limburg"] and obs.value is not None)
    pdf = ops.factsheet_pdf(world["root"], "gemeente", subject, [("gemeente", c) for c in specials], lang)
    text = pdf_text(pdf, world["tmp"])
    name = "Inwoners (test)" if lang == "nl" else "Inhabitants (test)"
    match = re.search(rf"^\s*{re.escape(name)}\s+{PERIOD}\s+(\S+)\s+(.*)$", text, re.MULTILINE)
    assert match, text
    own = statuses(world)[subject].value
    assert match.group(1) == i18n.number(own, 0, lang)
    assert match.group(2).split() == [expected[s][0] for s in specials.values()], match.group(0)
    flat = " ".join(text.split())
    signs_line = re.search(r"(Tekens|Signs): (.*?)\. (Aangemaakt|Generated)", flat)
    assert signs_line, flat
    # A value hidden by the source (Swing -99997) is told apart from OBMi's own suppression.
    hidden = "onderdrukt (door de bron)" if lang == "nl" else "suppressed (by the source)"
    listed = signs_line.group(2)
    assert f"x {hidden}" in listed
    for status in ("not_applicable", "missing", "empty"):
        assert f"{expected[status][0]} {expected[status][1]}" in listed, (status, listed)


def test_the_pdf_tells_disclosure_control_from_a_source_that_hid_a_value(world):
    published = statuses(world)
    small = [code for code, obs in published.items()
             if code in world["limburg"] and obs.status == "suppressed" and obs.disclosure]
    hidden = [code for code, obs in published.items()
              if code in world["limburg"] and obs.status == "suppressed" and not obs.disclosure]
    assert small and hidden, "the world has a small count (withheld by OBMi) and a -99997"
    text = " ".join(pdf_text(ops.factsheet_pdf(world["root"], "gemeente", small[0], None, "nl"),
                             world["tmp"]).split())
    assert "x onderdrukt (kleine aantallen)" in text and "onderdrukt (door de bron)" not in text
    text = " ".join(pdf_text(ops.factsheet_pdf(world["root"], "gemeente", hidden[0], None, "nl"),
                             world["tmp"]).split())
    assert "x onderdrukt (door de bron)" in text and "onderdrukt (kleine aantallen)" not in text


# --- origin on the indicator page ----------------------------------------------------------------

def origin_of_cell(row: str) -> tuple[str, str, str] | None:
    """(marker, words on hover, id of the legend entry that describes it) of a value cell."""
    match = re.search(r'<td class="num" data-origin="(\w+)" data-origin-marker="([^"]*)" title="([^"]*)" '
                      r'aria-describedby="origin-(\w+)">', row)
    if match is None:
        return None
    assert match.group(1) == match.group(4)
    return html.unescape(match.group(2)), html.unescape(match.group(3)), match.group(4)


def origin_legend(text: str) -> dict[str, tuple[str, str]]:
    """{origin: (marker, words)} of the origin legend below the table."""
    body = re.search(r'<p class="origin-legend">(.*?)</p>', text, re.S)
    assert body, "no origin legend"
    return {origin: (html.unescape(marker), html.unescape(words)) for marker, origin, words in re.findall(
        r'<span class="origin origin-\w+" aria-hidden="true">([^<]*)</span> <span id="origin-(\w+)">([^<]*)</span>',
        body.group(1))}


def test_the_indicator_page_says_where_each_value_comes_from(world):
    api = statuses(world, level="provincie")
    assert api[LIMBURG].origin == "source" and api[ANTWERPEN].origin == "aggregated"
    text = page(world, f"/indicatoren/{COUNT}?level=provincie&period={PERIOD}&lang=nl&region={BOTH}")
    loaded, computed = table_row(text, LIMBURG), table_row(text, ANTWERPEN)
    assert 'title="door de bron geleverd"' in loaded and "berekend uit" not in loaded
    assert 'title="berekend uit de onderliggende gebieden"' in computed and "door de bron" not in computed
    for lang in ("nl", "en"):
        text = page(world, f"/indicatoren/{COUNT}?level=provincie&period={PERIOD}&lang={lang}&region={BOTH}")
        legend_entries = origin_legend(text)
        for code in (LIMBURG, ANTWERPEN):  # marker seen, words on hover, described by the legend entry
            words = signs.ORIGINS[api[code].origin]
            assert origin_of_cell(table_row(text, code)) == (words.marker, words.label(lang), words.origin)
            assert legend_entries[words.origin] == (words.marker, words.label(lang))
        assert set(legend_entries) == {"source", "aggregated"}
        # Provinces without any observation carry no origin at all; the cell's text stays the figure.
        nothing = [code for code, obs in api.items() if obs.origin == ""]
        assert nothing and all(origin_of_cell(table_row(text, code)) is None for code in nothing)
        figure = i18n.number(api[LIMBURG].value, 0, lang)
        assert f'aria-describedby="origin-source">{figure}</td>' in table_row(text, LIMBURG)
    # A ratio names the indicators it is computed from.
    ratio = statuses(world, SIZE)
    derived = [code for code, obs in ratio.items() if obs.origin == "derived" and obs.value is not None]
    assert derived
    text = page(world, f"/indicatoren/{SIZE}?level=gemeente&period={PERIOD}&lang=nl")
    words = "berekend uit andere indicatoren: Inwoners (test) / Huishoudens (test)"
    assert origin_of_cell(table_row(text, derived[0])) == ("ƒ", words, "derived")
    assert origin_legend(text)["derived"] == ("ƒ", words)
