"""Area reports defined in YAML (issue 11, report builder): checking a file names its line and
problem; the placeholders say what the fact sheet and the query layer say; the page in Dutch and
English, the PDF (read back with poppler's pdftotext), the batch export with its manifest, the
command line; and a suppressed cell of the demo never shows as a number in any of them."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from obmi import operations as ops
from obmi.context import Context
from obmi.operations import ObservationQuery
from obmi.reports import area_report
from obmi.reports.area_report_build import WORDS
from obmi.reports.charts import format_number
from obmi.web.app import create_app
from pages_support import get_html

GENT, HERSTAPPE, ANTWERPEN = "44021", "73028", "11002"
HAVEN = "11002ANT08"  # a wijk of Antwerpen whose gas use per connection the demo suppresses (4 connections)
OBMI = Path(sys.executable).with_name("obmi")

# A report that asks for every way a suppressed value could slip out: the value, its change, its
# difference with the region, its rank, a table, a line, a ranking and maps of the province.
PRIVACY_REPORT = """\
title_nl: Privacytoets
title_en: Privacy check
levels: [gemeente]
references: [provincie, gewest]
sections:
  - heading_nl: Niet-Belgen
    heading_en: Non-Belgians
    text_nl: |
      W={waarde:share_non_belgian} C={verandering:share_non_belgian}
      D={verschil:share_non_belgian:gewest} R={rang:share_non_belgian} N={waarde:pop_non_belgian}
    text_en: |
      W={value:share_non_belgian} D={difference:share_non_belgian:gewest} R={rank:share_non_belgian}
    blocks:
      - {type: table, indicators: [pop_non_belgian, share_non_belgian]}
      - {type: timeseries, indicator: share_non_belgian}
      - {type: ranking, indicator: share_non_belgian, within: provincie}
      - {type: map, indicator: share_non_belgian, within: provincie}
      - {type: map, indicator: pop_non_belgian, within: provincie}
"""
# Every placeholder, each on a line of its own, for comparing with the fact sheet and the API.
FIGURES_REPORT = """\
title_nl: Cijfers
levels: [gemeente]
references: [provincie, gewest]
sections:
  - heading_nl: Alles
    text_nl: |
      gebied={gebied}

      niveau={niveau}

      waarde={waarde:share_65plus}

      periode={periode:share_65plus}

      verschil={verschil:share_65plus:gewest}

      rang={rang:share_65plus:provincie}

      verandering={verandering:pop_total}

      referentie={referentie:provincie}

      inkomen={waarde:inc_mean_per_inhabitant}

      letterlijk={{gebied}}
"""


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def content_dir(tmp_path_factory) -> Path:
    """A city's content folder with the two test reports beside the bundled ones."""
    folder = tmp_path_factory.mktemp("content")
    (folder / "reports").mkdir()
    (folder / "reports" / "privacytoets.yaml").write_text(PRIVACY_REPORT, encoding="utf-8")
    (folder / "reports" / "cijfers.yaml").write_text(FIGURES_REPORT, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def city(public, content_dir) -> Context:
    """The public, on an installation with the city's content folder."""
    return Context(public.db, public.settings.model_copy(update={"content_dir": str(content_dir)}))


@pytest.fixture(scope="module")
def city_client(city) -> TestClient:
    return TestClient(create_app(city.settings, city.db))


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is required for the PDF tests (Debian package poppler-utils)")
    return path


def pdf_text(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    return subprocess.run([_tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def flat(text_: str) -> str:
    return " ".join(text_.replace("\u00a0", " ").split())


def suppressed_raw(ctx: Context, level: str, code: str, indicator: str) -> dict[str, float]:
    """Period → the raw value of every cell the disclosure control withholds (straight from the
    store, as only a test may read it)."""
    with ctx.db.unguarded_engine.connect() as conn:
        rows = conn.execute(text(
            "select o.period, o.value from observation o join area a on a.id = o.area_id where a.level = :level "
            "and a.code = :code and o.indicator = :indicator and o.disclosure is not null"),
            {"level": level, "code": code, "indicator": indicator}).all()
    return {r.period: r.value for r in rows}


def main_html(page: str) -> str:
    return page.split("<main", 1)[1].split("</main>", 1)[0]


# --- checking a file ---------------------------------------------------------------------------

def test_the_bundled_reports_are_valid_on_the_demo(public):
    entries = {e.slug: e for e in ops.list_area_reports(public)}
    assert {"gemeenterapport", "wijkrapport", "provincierapport"} <= set(entries)
    assert all(e.report is not None and not e.problems for e in entries.values()), \
        {s: [str(p) for p in e.problems] for s, e in entries.items()}
    assert entries["gemeenterapport"].default_area == ("gemeente", GENT)


def _line_of(source: str, needle: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if needle in line)


BROKEN = """\
title_nl: Kapot
levels: [gemeente, gemeentes]
default_area: gemeente:99990
sections:
  - heading_nl: Eerste
    text_nl: |
      Eerste regel is goed: {gebied}.
      Hier staat {inwoners} en {verschil:share_65plus}.
    blocks:
      - type: table
        indicators: [pop_total, share_65plu]
      - type: ranking
        indicator: pop_total
        within: provincies
"""
# The structure is checked first (a file that is no report cannot have its names checked).
MISSHAPEN = """\
title_nl: Kapot
levels: [gemeente]
sections:
  - heading_nl: Eerste
    titel_nl: Verkeerd
    blocks:
      - type: grafiek
        indicator: pop_total
      - type: ranking
        indicator: pop_total
"""


def _by_line(problems, name: str) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for p in problems:
        assert p.file == name and p.line is not None
        found.setdefault(p.line, []).append(p.message)
    return found


def test_a_broken_report_names_the_file_the_line_and_each_problem(public):
    problems = ops.check_area_report(public, BROKEN, name="kapot.yaml")
    by_line = _by_line(problems, "kapot.yaml")
    said = "\n".join(str(p) for p in problems)
    assert "unknown level 'gemeentes' (did you mean gemeente?)" in by_line[_line_of(BROKEN, "gemeentes")], said
    assert "there is no area '99990' at level 'gemeente'" in by_line[_line_of(BROKEN, "99990")], said
    placeholders = by_line[_line_of(BROKEN, "{inwoners}")]  # the line inside the text block, not its key's
    assert any(m.startswith("unknown placeholder {inwoners}") for m in placeholders), said
    assert any("{verschil:share_65plus} is written {verschil:INDICATOR:REFERENCE}" in m for m in placeholders), said
    assert "unknown indicator 'share_65plu' (did you mean share_65plus?)" in by_line[_line_of(BROKEN, "share_65plu]")]
    assert "unknown level 'provincies' (did you mean provincie?)" in by_line[_line_of(BROKEN, "provincies")], said
    assert "sections[0].blocks[0].indicators[1]" in said and "Traceback" not in said
    assert [p.line for p in problems] == sorted(p.line for p in problems)  # in the order of the file


def test_a_misshapen_report_names_its_unknown_keys_and_block_types(public):
    problems = ops.check_area_report(public, MISSHAPEN, name="vorm.yaml")
    by_line = _by_line(problems, "vorm.yaml")
    said = "\n".join(str(p) for p in problems)
    assert "unknown key" in by_line[_line_of(MISSHAPEN, "titel_nl")], said
    assert any("unknown block type 'grafiek'" in m for m in by_line[_line_of(MISSHAPEN, "grafiek")]), said
    # the ranking lacks `within`: said at the block's line
    assert "required key missing" in by_line[_line_of(MISSHAPEN, "type: ranking")], said
    assert "sections[0].blocks[1].within" in said


@pytest.mark.parametrize("broken, needle", [
    ("title_nl: Kapot\n\tlevels: [gemeente]\nsections: []\n", "\tlevels"),  # a tab
    ("title_nl: Kapot\nlevels: [gemeente]\n  sections: []\n", "  sections"),  # bad indentation
])
def test_bad_yaml_syntax_is_reported_with_its_line(public, broken, needle):
    [problem] = ops.check_area_report(public, broken, name="syntax.yaml")
    assert problem.line == _line_of(broken, needle) and problem.message.startswith("not valid YAML"), str(problem)


def test_a_broken_city_report_is_a_plain_page_not_a_traceback(city_client, content_dir):
    broken = content_dir / "reports" / "kapot.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    try:
        page = get_html(city_client, "/rapporten/kapot/gemeente/44021", status=422)
        assert "bevat fouten en kan niet getoond worden" in page and "Traceback" not in page
        assert "obmi report check" in page  # the public is told who can fix it, not what is wrong
        assert "unknown indicator" not in page
        assert "kapot" not in [e.slug for e in ops.list_area_reports(Context(
            city_client.app.state.db, city_client.app.state.settings)) if not e.problems]
    finally:
        broken.unlink()


def test_placeholders_escape_and_unknown_names_stay_problems():
    known = area_report.Known(frozenset({"pop_total"}), frozenset({"gemeente"}))
    report, source = area_report.parse_report(
        "title_nl: T\nlevels: [gemeente]\nsections:\n  - heading_nl: H\n    text_nl: 'a {{letterlijk}} {gebied}'\n",
        "t.yaml", "t")
    assert report is not None and area_report.check_report(report, source, known) == []


# --- the numbers -------------------------------------------------------------------------------

def _number(text_: str) -> float:
    """A Dutch number in a sentence ("−2,5 %-punt", "€ 17.477", "+2.133 personen") as a float."""
    match = re.search(r"([+−-]?)\s*(?:€\s*)?([\d.]+(?:,\d+)?)", text_.replace("\u00a0", " "))
    assert match, text_
    value = float(match.group(2).replace(".", "").replace(",", "."))
    return -value if match.group(1) in ("−", "-") else value


def test_placeholders_say_what_the_fact_sheet_and_the_query_layer_say(city):
    page = ops.area_report(city, "cijfers", "gemeente", GENT)
    said = dict(line.split("=", 1) for p in page.view.sections[0].text.paragraphs
                for line in ["".join(r.text for r in p.runs)])
    sheet = ops.area_factsheet(city, "gemeente", GENT)
    figures = {f.indicator.code: f for s in sheet.sections for f in s.figures}
    share = figures["share_65plus"]
    region = next(p for r, p in share.references if r.level == "gewest")
    province = next(r for r in sheet.references if r.level == "provincie")
    assert said["gebied"] == "Gent" and said["niveau"] == "gemeente" and said["referentie"] == province.name
    assert said["periode"] == share.period and _number(said["waarde"]) == share.value
    assert said["waarde"].endswith("%")
    assert _number(said["verschil"]) == pytest.approx(share.value - region.value, abs=1e-9)
    assert "%-punt" in said["verschil"]
    # the rank among the municipalities of the province, as the query layer gives them
    rows = ops.query_observations(city, ObservationQuery("share_65plus", "gemeente", share.period, (),
                                                         ("provincie", province.code))).rows
    published = [r.value for r in rows if r.value is not None]
    assert said["rang"] == f"{1 + sum(v > share.value for v in published)} van {len(published)}"
    pop = figures["pop_total"]
    assert _number(said["verandering"]) == pop.change and said["verandering"].endswith(f"t.o.v. {pop.previous_period}")
    income = ops.query_observations(city, ObservationQuery("inc_mean_per_inhabitant", "gemeente", "latest",
                                                           (GENT,))).rows[0]
    assert _number(said["inkomen"]) == income.value and said["inkomen"].startswith("€")
    assert said["letterlijk"] == "{gebied}"


def test_the_tables_hold_the_values_of_the_observations_api(client, public):
    view = ops.area_report(public, "gemeenterapport", "gemeente", GENT).view
    rows = [row for s in view.sections for b in s.blocks if b.table for row in b.table.rows]
    main = main_html(get_html(client, "/rapporten/gemeenterapport/gemeente/44021"))
    assert len(rows) >= 10
    for row in rows:
        answer = client.get("/api/v1/observations", params={"indicator": row.indicator.code, "level": "gemeente",
                                                           "area": GENT, "period": row.period}).json()
        [api] = answer["data"]
        assert row.value.value == api["value"], row.indicator.code
        assert format_number(api["value"], answer["decimals"], "nl") in main, row.indicator.code


# --- the page ----------------------------------------------------------------------------------

def test_the_page_in_dutch(client, public):
    page = get_html(client, "/rapporten/gemeenterapport/gemeente/44021")
    main = main_html(page)
    sheet = ops.area_factsheet(public, "gemeente", GENT)
    pop = next(f for s in sheet.sections for f in s.figures if f.indicator.code == "pop_total")
    assert "<h1>Gent" in main and "Gemeenterapport" in main and "Bevolking" in main
    assert f"telde Gent {format_number(pop.value, 0, 'nl')}\u00a0personen" in main
    assert main.count('role="img"') >= 5 and "aria-labelledby=" in main  # every chart named by its caption
    assert 'href="/rapporten/gemeenterapport/gemeente/44021.pdf?lang=nl"' in main
    assert 'data-area-picker' in main and "/rapporten/gemeenterapport?lang=nl&amp;area=" in main
    assert "<script>" not in page and "<script>" not in main  # data only in application/json blocks
    assert "Dit rapport voor de andere gemeenten van" in main  # the municipalities around it


def test_the_page_in_english(client):
    main = main_html(get_html(client, "/rapporten/gemeenterapport/gemeente/44021?lang=en"))
    headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", main)
    assert headings[:3] == ["Population", "Income", "Energy"], headings
    assert "Municipal report" in main and "Flemish Region" in main and "253,266" in main
    assert "Download this report (PDF)" in main and "Compared with" in main and "Vergeleken met" not in main


def test_the_fact_sheet_links_to_the_reports_and_the_list_says_which_fit(client):
    sheet = get_html(client, "/gebieden/gemeente/44021")
    assert 'href="/rapporten?area=gemeente:44021&amp;lang=nl"' in sheet
    index = main_html(get_html(client, "/rapporten?area=gemeente:44021"))
    assert '/rapporten/gemeenterapport/gemeente/44021?lang=nl' in index
    assert "niet voor dit gebied" in index  # the wijk and provincial reports


def test_choices_that_do_not_fit_are_said_in_words(client):
    wrong_level = main_html(get_html(client, "/rapporten/wijkrapport/gemeente/44021", status=404))
    assert "is er voor wijken" in wrong_level and "/rapporten/wijkrapport/ggw72024/440215?lang=nl" in wrong_level
    unknown = main_html(get_html(client, "/rapporten/bestaat-niet", status=404))
    assert "Er is geen rapport" in unknown and "/rapporten/gemeenterapport?lang=nl" in unknown
    typo = main_html(get_html(client, "/rapporten/gemeenterapport/gemeente/44022", status=404))
    assert "44021" in typo  # the nearest codes are offered
    placeless = main_html(get_html(client, "/rapporten/gemeenterapport/gemeente/99999", status=404))
    assert "niet te lokaliseren" in placeless
    english = main_html(get_html(client, "/rapporten/bestaat-niet?lang=en", status=404))
    assert "There is no report" in english


def test_the_picker_form_opens_the_report_of_the_typed_area(client):
    client.cookies.clear()
    response = client.get("/rapporten/gemeenterapport", params={"area": ["gemeente:44021", "Herstappe"], "lang": "nl"},
                          follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/rapporten/gemeenterapport/gemeente/{HERSTAPPE}?lang=nl"
    default = client.get("/rapporten/wijkrapport", follow_redirects=False)
    assert default.headers["location"].startswith("/rapporten/wijkrapport/ggw72024/440215")


def test_every_text_of_the_report_pages_has_an_english_translation():
    from babel.messages.pofile import read_po
    web = Path(__file__).resolve().parents[1] / "src" / "obmi" / "web"
    with open(web / "locale" / "en" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        english = {str(m.id): str(m.string) for m in read_po(handle) if m.id}
    literal = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")
    used = set()
    for name in ("area_report.html", "area_report_index.html"):
        used |= {a or b for a, b in literal.findall((web / "templates" / name).read_text(encoding="utf-8"))}
    sentences = re.compile(r'_t\(lang, ((?:"(?:[^"\\]|\\.)*"\s*)+)')
    source = (web / "area_report_pages.py").read_text(encoding="utf-8")
    used |= {"".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m)) for m in sentences.findall(source)}
    missing = sorted(t for t in used if not english.get(t, "").strip())
    assert len(used) > 20 and not missing, missing


# --- the PDF -----------------------------------------------------------------------------------

def test_the_pdf_holds_the_area_and_its_figures(public, tmp_path):
    sheet = ops.area_factsheet(public, "gemeente", GENT)
    figures = {f.indicator.code: f for s in sheet.sections for f in s.figures}
    for lang, kicker, heading in (("nl", "GEMEENTERAPPORT", "Bevolking"), ("en", "MUNICIPAL REPORT", "Population")):
        pdf = ops.area_report_pdf(public, "gemeenterapport", "gemeente", GENT, lang=lang)
        said = pdf_text(pdf, tmp_path, f"gent-{lang}.pdf")
        assert kicker in said and "Gent" in said and heading in said and "Oost-Vlaanderen" in said
        for code in ("pop_total", "share_65plus", "inc_mean_per_inhabitant", "vp2506_gas_res_n"):
            f = figures[code]
            assert format_number(f.value, f.indicator.decimals, lang) in said, code
        info = subprocess.run([_tool("pdfinfo"), str(tmp_path / f"gent-{lang}.pdf")], capture_output=True, text=True,
                              check=True).stdout
        assert re.search(r"Tagged:\s+yes", info) and "(A4)" in info
        assert ("Gemeenterapport Gent" if lang == "nl" else "Municipal report Gent") in info  # the document title


def test_the_pdf_of_the_page_is_served(client):
    response = client.get("/rapporten/wijkrapport/ggw72024/440215.pdf?lang=en")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response.headers["content-disposition"] == 'attachment; filename="wijkrapport-ggw72024-440215.pdf"'


# --- privacy -----------------------------------------------------------------------------------

def visible(markup: str) -> str:
    """The text of a page or SVG as read (no tags, no attributes: an SVG's coordinates are no figures)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def _absent(raw: dict[str, float], decimals: int, published: set[str], *texts: str) -> None:
    """None of the raw values shows in `texts`, at the indicator's rounding or finer — unless its
    rounding equals a value that is published anyway (another area's), which proves nothing."""
    texts = tuple(visible(t) for t in texts)
    for period, value in raw.items():
        for places in range(decimals, decimals + 3):
            for lang in ("nl", "en"):
                shown = format_number(value, places, lang)
                if places == decimals and shown in published:
                    continue
                pattern = rf"(?<![\d.,]){re.escape(shown)}(?![\d])"
                for t in texts:
                    assert not re.search(pattern, t), f"the suppressed {period} value {value} shows as {shown}"


def test_a_suppressed_cell_never_shows_in_page_pdf_text_or_chart(city, city_client, tmp_path):
    raw = suppressed_raw(city, "gemeente", HERSTAPPE, "share_non_belgian")
    assert raw and all(0 < v < 5 for v in raw.values())  # the demo's small numbers
    page = ops.area_report(city, "privacytoets", "gemeente", HERSTAPPE)
    words = page.view.sections[0].text.paragraphs
    said = " ".join(r.text for p in words for r in p.runs)
    assert f"W={WORDS['nl']['suppressed']}" in said and f"N={WORDS['nl']['suppressed']}" in said
    assert f"D={WORDS['nl']['no_difference']}" in said and f"R={WORDS['nl']['no_rank']}" in said
    assert f"C={WORDS['nl']['no_change']}" in said
    blocks = page.view.sections[0].blocks
    own_cells = [c for b in blocks if b.chart for area, _, c in b.chart.rows if area == "Herstappe"]
    own_cells += [row.value for b in blocks if b.table for row in b.table.rows]
    assert own_cells and all(c.value is None and c.kind == "suppressed" and c.text == "x" for c in own_cells)
    published = {format_number(r.value, 1, lang) for lang in ("nl", "en") for r in ops.query_observations(
        city, ObservationQuery("share_non_belgian", "gemeente", None, (), ("provincie", "70000"))).rows
        if r.value is not None}
    html_nl = get_html(city_client, f"/rapporten/privacytoets/gemeente/{HERSTAPPE}")
    html_en = get_html(city_client, f"/rapporten/privacytoets/gemeente/{HERSTAPPE}?lang=en")
    assert WORDS["en"]["suppressed"] in html_en
    assert '<th scope="row">Herstappe</th><td>2015</td><td class="num"><span class="status status-suppressed"' in html_nl
    svgs = [b.chart.svg for b in blocks if b.chart]
    pdf_nl = pdf_text(ops.area_report_pdf(city, "privacytoets", "gemeente", HERSTAPPE), tmp_path, "h-nl.pdf")
    pdf_en = pdf_text(ops.area_report_pdf(city, "privacytoets", "gemeente", HERSTAPPE, lang="en"), tmp_path, "h-en.pdf")
    assert WORDS["nl"]["suppressed"] in flat(pdf_nl) and "onderdrukt (kleine aantallen)" in flat(pdf_nl)
    _absent(raw, 1, published, html_nl, html_en, pdf_nl, pdf_en, *svgs)


@pytest.mark.parametrize("slug, level, code", [("wijkrapport", "ggw72024", HAVEN),
                                               ("gemeenterapport", "gemeente", ANTWERPEN)])
def test_a_suppressed_wijk_never_shows_in_its_report_or_its_citys(public, client, tmp_path, slug, level, code):
    raw = suppressed_raw(public, "ggw72024", HAVEN, "vp2506_gas_res_n")
    assert raw
    published = {format_number(r.value, 1, lang) for lang in ("nl", "en") for r in ops.query_observations(
        public, ObservationQuery("vp2506_gas_res_n", "ggw72024", None, (), ("gemeente", ANTWERPEN))).rows
        if r.value is not None}
    page = ops.area_report(public, slug, level, code)
    charts_of_haven = [c for s in page.view.sections for b in s.blocks if b.chart
                       for area, _, c in b.chart.rows if area.startswith("Haven Antwerpen")
                       and "gas" in b.chart.description.lower()]
    assert charts_of_haven and all(c.value is None for c in charts_of_haven)
    html = get_html(client, f"/rapporten/{slug}/{level}/{code}")
    pdf = pdf_text(ops.area_report_pdf(public, slug, level, code), tmp_path, f"{slug}.pdf")
    _absent(raw, 1, published, html, pdf, *[b.chart.svg for s in page.view.sections for b in s.blocks if b.chart])


# --- the batch export and the command line -----------------------------------------------------

def test_the_batch_export_writes_one_pdf_per_area_and_a_manifest(demo, tmp_path):
    diksmuide = ("arrondiss", "32000")
    _, expected = ops.area_report_choices(demo, "gemeenterapport", diksmuide)
    result = ops.export_area_reports(demo, "gemeenterapport", "gemeente", tmp_path / "out", within=diksmuide)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    files = sorted(p.name for p in (tmp_path / "out").glob("*.pdf"))
    assert result["failed"] == [] and manifest["written"] == manifest["areas"] == len(expected) == len(files)
    assert {f["file"] for f in manifest["files"]} == set(files)
    assert {f["code"] for f in manifest["files"]} == {a.code for a in expected}
    assert all(f["seconds"] > 0 and f["bytes"] == (tmp_path / "out" / f["file"]).stat().st_size for f in manifest["files"])
    assert manifest["seconds_per_report"] > 0 and "32003-diksmuide.pdf" in files
    zipped = ops.export_area_reports(demo, "gemeenterapport", "gemeente", tmp_path / "zip", within=diksmuide,
                                     lang="en", archive=True, html=True)
    with zipfile.ZipFile(zipped["out"]) as archive:
        names = archive.namelist()
        assert sorted(n for n in names if n.endswith(".pdf")) == files and "manifest.json" in names
        assert sorted(n for n in names if n.endswith(".html")) == [f.replace(".pdf", ".html") for f in files]
        assert json.loads(archive.read("manifest.json"))["lang"] == "en"
        page = archive.read("32003-diksmuide.html").decode("utf-8")
    # a page of its own: its style and charts inside, nothing fetched from anywhere
    assert '<html lang="en">' in page and "Diksmuide" in page and "Population" in page and 'role="img"' in page
    assert not re.search(r'(?:src|href)="', page)


def _obmi(db_url: str, *args: str | Path) -> subprocess.CompletedProcess:
    import os
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBMI_")}
    env.update(OBMI_DATABASE_URL=db_url, OBMI_USER="analist")
    return subprocess.run([str(OBMI), *map(str, args)], env=env, capture_output=True, text=True, timeout=600)


def test_the_command_line_checks_and_exports(demo, tmp_path):
    url = str(demo.db.url)
    bundled = Path(area_report.__file__).parent.parent / "content" / "reports" / "provincierapport.yaml"
    ok = _obmi(url, "report", "check", bundled)
    assert ok.returncode == 0 and "no problems" in ok.stdout, ok.stderr
    broken = tmp_path / "kapot.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    bad = _obmi(url, "report", "check", broken)
    assert bad.returncode == 2 and f"kapot.yaml, line {_line_of(BROKEN, 'share_65plu]')}" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert _obmi(url, "report", "check", tmp_path / "nergens.yaml").returncode == 3
    wrong = _obmi(url, "report", "export", "--report", "gemeenterapport", "--level", "provincie", "--out", tmp_path)
    assert wrong.returncode == 2 and "written for gemeente" in wrong.stderr
    done = _obmi(url, "report", "export", "--report", "provincierapport", "--level", "arrondiss",
                 "--within", "provincie:10000", "--out", tmp_path / "antwerpen")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "antwerpen" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["written"] == manifest["areas"] == len(list((tmp_path / "antwerpen").glob("*.pdf"))) > 0
    assert f"{manifest['written']} of {manifest['areas']} reports written" in done.stdout
