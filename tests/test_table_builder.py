"""The table builder ("Selectietabel", issue 11): indicators × areas × periods chosen in the page,
the whole selection in a shareable URL, and the same selection downloaded in every registered
table format — with disclosure control in every channel (a withheld cell shows its sign, never a
number), plain words for what cannot be shown, and a cap on the size of a table.

The pure logic (obmi.publish.selection_table) is tested first; then the operation, the page and
the downloads through FastAPI's TestClient on the demo database (real Statbel data; Fluvius gas
figures per wijk of Antwerpen with their real small counts suppressed)."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import openpyxl
import pytest
from babel.messages.pofile import read_po

from obmi import operations as ops
from obmi.errors import NotFound
from obmi.plugins import output_renderers
from obmi.publish.selection_table import (
    LAYOUTS,
    MAX_CELLS,
    PeriodChoice,
    Selection,
    TooManyCells,
    long_rows,
    parse_selection,
    pivot,
)
from obmi.publish.signs import SIGNS
from obmi.web import table_builder
from pages_support import HTML, get_html, text_of
from test_exchange_formats import number_forms, stored_suppressed_cells

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "src" / "obmi" / "web"
WIJK = "ggw72024"
GAS = ["v2506_gas_res_n", "vp2506_gas_res_n"]  # residential gas customers, consumption per customer
# The gas figures of every wijk of Antwerpen (2020–2024 sectors) and Antwerpen itself.
WIJKEN = f"/tabel?indicator={GAS[0]}&indicator={GAS[1]}&level={WIJK}&within=gemeente:11002&ref=gemeente"
HERSTAPPE, GENT = "gemeente:73028", "gemeente:44021"  # Herstappe's few non-Belgians are withheld
SHARES = (f"/tabel?indicator=pop_non_belgian&indicator=share_non_belgian&area={HERSTAPPE}&area={GENT}"
          "&ref=provincie&ref=gewest&periods=range&from=2009&to=2015")
TABLE_FORMATS = [fmt for fmt, r in output_renderers().items() if r.kind == "table"]


def params(url: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, value in parse_qsl(urlsplit(url).query):
        found.setdefault(key, []).append(value)
    return found


def selection_of(url: str) -> Selection:
    selection, problems = parse_selection(params(url))
    assert not problems, problems
    return selection


# --- the pure logic ---------------------------------------------------------------------------

def test_a_selection_reads_back_from_the_link_it_writes():
    selection = selection_of(SHARES + "&layout=periods")
    again, problems = parse_selection(params("/tabel?" + "&".join(f"{k}={v}" for k, v in selection.params())))
    assert again == selection and not problems
    assert selection.periods == PeriodChoice("range", (), "2009", "2015")
    assert selection.references == ("provincie", "gewest") and selection.layout == "periods"


def test_a_hand_written_link_means_what_it_holds():
    # Comma-separated indicators, a period list without `periods=list`, a range the wrong way round.
    listed = selection_of("/tabel?indicator=pop_total,share_65plus&area=gemeente:44021&period=2015&period=2012")
    assert listed.indicators == ("pop_total", "share_65plus")
    assert listed.periods == PeriodChoice("list", ("2012", "2015"))
    turned = selection_of("/tabel?indicator=pop_total&level=gemeente&from=2015&to=2010")
    assert (turned.periods.mode, turned.periods.start, turned.periods.end) == ("range", "2010", "2015")


@pytest.mark.parametrize("query, words", [
    ("layout=sideways", "Onbekende indeling"), ("period=20x5", "geen periode"), ("ref=wijk", "referentiegebied"),
    ("periods=soms", "periodekeuze"), ("periods=list", "minstens één periode"), ("area=Gent44021", "geen gebied"),
    ("within=gemeente:44021", "ook het niveau"),
])
def test_what_cannot_be_used_falls_back_with_a_reason(query, words):
    selection, problems = parse_selection(params(f"/tabel?indicator=pop_total&{query}"))
    assert selection.indicators == ("pop_total",)
    assert len(problems) == 1 and words in problems[0].message % problems[0].values
    assert selection.layout in LAYOUTS and selection.within is None


def test_each_period_choice_picks_from_what_exists():
    available = ["2012", "2009", "2015", "2010"]  # as a query may return them: not in order
    assert PeriodChoice().pick(available) == ["2015"]
    assert PeriodChoice("all").pick(available) == ["2009", "2010", "2012", "2015"]
    assert PeriodChoice("list", ("2010", "2030")).pick(available) == ["2010"]
    assert PeriodChoice("range", (), "2010", "2014").pick(available) == ["2010", "2012"]
    assert PeriodChoice("range", (), None, "2010").pick(available) == ["2009", "2010"]


# --- the operation ----------------------------------------------------------------------------

def test_every_area_of_a_level_within_an_area_with_its_reference(public):
    data = ops.selection_table(public, selection_of(WIJKEN))
    wijken = [a for a in data.areas if a.role == "level"]
    expected = ops.area_geojson(public, WIJK, within=("gemeente", "11002"))["features"]
    assert {a.code for a in wijken} <= {f["properties"]["code"] for f in expected} and len(wijken) > 60
    assert [(a.level, a.code) for a in data.areas if a.role == "reference"] == [("gemeente", "11002")]
    latest = ops.indicator_availability(public, GAS[0], WIJK).periods[-1]
    assert data.periods[GAS[0]] == (latest,)
    assert data.cell_count == len(data.areas) * len(GAS)


def test_cells_equal_the_observations_of_the_query_layer(public):
    data = ops.selection_table(public, selection_of(SHARES))
    assert data.cell_count > 0
    for ind in data.indicators:
        for level in {a.level for a in data.areas}:
            codes = tuple(a.code for a in data.areas if a.level == level)
            for period in data.periods[ind.code]:
                rows = ops.query_observations(public, ops.ObservationQuery(ind.code, level, period, codes)).rows
                for row in rows:
                    cell = data.cell(ind.code, row.area_id, period)
                    assert cell is not None and (cell.value, cell.status) == (row.value, row.status)


def test_the_layouts_hold_every_cell_once(public):
    data = ops.selection_table(public, selection_of(SHARES))
    by_area = pivot(data, "areas")
    assert [r.area for r in by_area.rows] == list(data.areas)
    assert [(c.indicator.code, c.period) for c in by_area.columns] == [
        (ind.code, p) for ind in data.indicators for p in data.periods[ind.code]]
    assert sum(g.span for g in by_area.groups) == len(by_area.columns)
    by_period = pivot(data, "periods")
    assert [r.period for r in by_period.rows] == data.all_periods
    assert len(by_period.columns) == len(data.indicators) * len(data.areas)
    cells = {id(c) for row in by_area.rows for c in row.cells if c is not None}
    assert cells == {id(c) for row in by_period.rows for c in row.cells if c is not None}
    assert len(long_rows(data)) == data.cell_count == sum(len(r.cells) for r in by_area.rows)


def test_a_selection_over_the_cap_is_refused_before_any_value_is_read(public):
    everything = tuple(i.code for i in ops.list_indicators(public))
    selection = Selection(everything, (("gemeente", "44021"),), "deelgemeente2024", periods=PeriodChoice("all"))
    with pytest.raises(TooManyCells) as refused:
        ops.selection_table(public, selection)
    exc = refused.value
    assert exc.cells > MAX_CELLS and exc.indicators == len(everything) and exc.cap == MAX_CELLS
    assert exc.areas == 1 + len(ops.list_areas(public, "deelgemeente2024"))
    small = ops.selection_table(public, Selection(everything[:1], (("gemeente", "44021"),)), max_cells=1)
    assert small.cell_count == 1


def test_an_unknown_indicator_is_not_found(public):
    with pytest.raises(NotFound):
        ops.selection_table(public, Selection(("no_such_indicator",), (("gemeente", "44021"),)))


# --- the page ---------------------------------------------------------------------------------

class TableReader(HTMLParser):
    """The cells of table#selection-table: per row a list of (tag, text, data-value, class)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[tuple[str, str, str | None, str]]] = []
        self.inside = self.in_body = False
        self.cell: list | None = None

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "table" and found.get("id") == "selection-table":
            self.inside = True
        elif self.inside and tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append([])
        elif self.in_body and tag in ("th", "td"):
            self.cell = [tag, "", found.get("data-value"), found.get("class") or ""]

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1] += data

    def handle_endtag(self, tag):
        if self.cell is not None and tag in ("th", "td"):
            self.rows[-1].append((self.cell[0], " ".join(self.cell[1].split()), self.cell[2], self.cell[3]))
            self.cell = None
        elif tag == "table" and self.inside:
            self.inside = self.in_body = False


def table_rows(page: str) -> list[list[tuple[str, str, str | None, str]]]:
    reader = TableReader()
    reader.feed(page)
    return reader.rows


def table_html(page: str) -> str:
    found = re.search(r'<table class="data selection-table".*?</table>', page, re.S)
    assert found, "no table on the page"
    return found.group(0)


def share_link(page: str) -> str:
    found = re.search(r'<a href="([^"]+)" id="share-link">', page)
    assert found, "no link to the table"
    return found.group(1).replace("&amp;", "&")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layout_shows_every_cell_with_units_and_periods(client, public, layout):
    url = WIJKEN + ("" if layout == "areas" else f"&layout={layout}")
    page = get_html(client, url)
    data = ops.selection_table(public, selection_of(url))
    values = [c for row in table_rows(page) for c in row if c[0] == "td" and "num" in c[3]]
    assert len(values) == data.cell_count
    table = table_html(page)
    head = table.split("</thead>")[0] if layout != "long" else table
    for ind in data.indicators:
        assert ind.name_nl in head and (f"<td>{ind.unit}</td>" if layout == "long" else f"({ind.unit})") in table
    latest = data.periods[GAS[0]][0]
    assert (f'<th scope="row" data-value="0">{latest}</th>' in table) if layout == "periods" else (latest in head)
    assert "Selectietabel:" in text_of(page) and f"{data.cell_count} cellen" in text_of(page)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_numbers_are_formatted_per_language_at_the_indicators_precision(client, public, lang):
    columns = pivot(ops.selection_table(public, selection_of(WIJKEN))).columns
    formatted = 0
    for row in table_rows(get_html(client, f"{WIJKEN}&lang={lang}")):
        for column, (_tag, text, value, _cls) in zip(columns, row[1:]):
            if value:
                assert text == table_builder.i18n.number(float(value), column.indicator.decimals, lang)
                formatted += 1
    assert formatted > 100


def test_the_page_shows_the_same_numbers_as_the_observations_api(client, public):
    latest = ops.indicator_availability(public, GAS[0], WIJK).periods[-1]
    api = client.get("/api/v1/observations", params={"indicator": GAS[0], "level": WIJK, "period": latest,
                                                     "within": "gemeente:11002"}).json()
    by_name = {r["area_name"]: r for r in api["data"]}
    rows = {row[0][1]: row[1] for row in table_rows(get_html(client, WIJKEN))}
    assert set(by_name) <= set(rows) and len(by_name) > 60
    for name, published in by_name.items():
        shown = rows[name][2]
        assert (float(shown) if shown else None) == published["value"], name


def test_the_link_is_the_whole_selection_and_gives_the_same_table(client):
    # A name typed without JavaScript, indicators separated by commas, parameters in another order.
    asked = (f"/tabel?ref=gewest&periods=all&area=Gent&indicator=pop_total,share_65plus&area={HERSTAPPE}"
             "&layout=periods")
    page = get_html(client, asked)
    link = share_link(page)
    assert params(link)["area"] == [GENT, HERSTAPPE] and params(link)["indicator"] == ["pop_total", "share_65plus"]
    again = get_html(client, link)
    assert table_html(again) == table_html(page) and share_link(again) == link
    english = get_html(client, link.replace("lang=nl", "lang=en"))
    assert share_link(english) == link.replace("lang=nl", "lang=en")


def test_htmx_gets_the_link_for_the_address_bar(client):
    client.cookies.clear()
    answer = client.get(SHARES, headers={**HTML, "HX-Request": "true"})
    assert answer.status_code == 200 and answer.headers["HX-Push-Url"] == share_link(answer.text)
    typed = client.get("/tabel?indicator=pop_total&area=Gent", headers={**HTML, "HX-Request": "true"})
    assert typed.headers["HX-Redirect"] == f"/tabel?indicator=pop_total&area={GENT}&lang=nl"


def test_a_suppressed_cell_shows_its_sign_in_the_page(client, demo):
    cells = stored_suppressed_cells(demo.db, ["pop_non_belgian", "share_non_belgian"], "gemeente")
    herstappe = [c for c in cells if c["code"] == "73028" and "2009" <= c["period"] <= "2015"]
    assert herstappe and all(c["value"] is not None for c in herstappe)  # stored, and withheld
    page = get_html(client, SHARES)
    row = next(r for r in table_rows(page) if r[0][1].startswith("Herstappe"))
    sign = SIGNS["suppressed"].symbol("nl")
    assert [c[1] for c in row[1:]] == [f"{sign}onderdrukt"] * (len(row) - 1)  # the sign, and its word for readers
    assert all(c[2] == "" for c in row[1:])
    row_html = re.search(r"<tr><th scope=\"row\"><a href=\"/gebieden/gemeente/73028.*?</tr>", page, re.S).group(0)
    for cell in herstappe:
        for number in number_forms(float(cell["value"])):
            assert number not in row_html


@pytest.mark.parametrize("fmt", TABLE_FORMATS)
def test_no_download_carries_the_numbers_of_a_suppressed_cell(client, demo, public, fmt):
    cells = stored_suppressed_cells(demo.db, GAS, WIJK)
    assert any(c["value"] is not None for c in cells)
    published = ops.selection_table(public, selection_of(WIJKEN))
    numbers = {f for c in cells for v in (c["value"], c["numerator"], c["denominator"]) if v is not None
               for f in number_forms(float(v))}
    numbers -= {f for c in published.cells.values() if c.value is not None for f in number_forms(float(c.value))}
    body = download(client, WIJKEN, fmt)
    text = body.decode("utf-8-sig", "replace") if fmt != "xlsx" else json.dumps(xlsx_rows(body))
    assert numbers and not [n for n in numbers if n in text]
    rows = parsed(body, fmt)
    withheld = {(c["code"], c["period"]) for c in cells}
    hidden = [r for r in rows if (r["area_code"], r["period"]) in withheld]
    assert hidden and all(r["value"] in (None, "") and r["status"] == "suppressed" for r in hidden)
    assert all(r["status_label"] == "onderdrukt" for r in hidden)


# --- the downloads ----------------------------------------------------------------------------

def download(client, page_url: str, fmt: str, status: int = 200) -> bytes:
    client.cookies.clear()
    url = page_url.replace("/tabel?", f"/download/table.{fmt}?")
    answer = client.get(url)
    assert answer.status_code == status, (url, answer.status_code, answer.text[:300])
    return answer.content


def xlsx_rows(body: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True)["data"]
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def parsed(body: bytes, fmt: str) -> list[dict]:
    """The rows of a download, as dicts of its columns."""
    if fmt == "json":
        return json.loads(body)["data"]
    if fmt == "xlsx":
        header, *rows = xlsx_rows(body)
        return [dict(zip(header, r)) for r in rows]
    dialect = {"delimiter": ";"} if fmt == "csv-excel" else {}
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), **dialect))


def number(value) -> float | None:
    if value in (None, ""):
        return None
    return float(str(value).replace(",", ".")) if isinstance(value, str) else float(value)


@pytest.mark.parametrize("fmt", TABLE_FORMATS)
def test_every_format_holds_the_selection_in_long_format(client, public, fmt):
    data = ops.selection_table(public, selection_of(SHARES), rounded=False)
    rows = parsed(download(client, SHARES, fmt), fmt)
    assert len(rows) == data.cell_count
    expected = {(r.indicator.code, r.area.code, r.period): r.cell for r in long_rows(data)}
    for row in rows:
        cell = expected[(row["indicator"], row["area_code"], row["period"])]
        stored = cell.value if cell else None
        # XLSX keeps 15 significant digits (Excel's own precision)
        assert number(row["value"]) == (stored if stored is None else pytest.approx(stored, rel=1e-14))
        assert row["status"] == (str(cell.status) if cell else "missing")
    assert set(table_builder.download_columns(data)) <= set(rows[0])


def test_the_excel_dialect_uses_semicolons_and_decimal_commas(client):
    body = download(client, SHARES, "csv-excel").decode("utf-8-sig")
    header = body.split("\r\n")[0]
    assert header.startswith("indicator;name;area_code") and "\r\n" in body
    shares = [r for r in parsed(body.encode(), "csv-excel") if r["indicator"] == "share_non_belgian" and r["value"]]
    assert shares and all("," in r["value"] and "." not in r["value"] for r in shares)


def test_the_download_numbers_equal_the_observations_api(client):
    rows = parsed(download(client, SHARES, "json"), "json")
    compared = 0
    for row in rows:
        api = client.get("/api/v1/observations", params={"indicator": row["indicator"], "level": row["level"],
                                                         "period": row["period"], "area": row["area_code"]}).json()
        (published,) = api["data"]
        decimals = api["decimals"]
        value = None if row["value"] is None else round(row["value"], decimals)
        assert (value, row["status"]) == (published["value"], published["status"]), row
        compared += 1
    assert compared == len(rows) > 20


def test_a_ratio_comes_with_its_parts_only_where_both_may_be_seen(client):
    rows = parsed(download(client, SHARES, "json"), "json")
    shares = {(r["area_code"], r["period"]): r for r in rows if r["indicator"] == "share_non_belgian"}
    counts = {(r["area_code"], r["period"]): r for r in rows if r["indicator"] == "pop_non_belgian"}
    gent = shares[("44021", "2015")]
    assert gent["numerator"] == counts[("44021", "2015")]["value"] and gent["denominator"] > gent["numerator"]
    assert gent["value"] == pytest.approx(100 * gent["numerator"] / gent["denominator"])
    herstappe = [r for (code, _p), r in shares.items() if code == "73028"]
    assert herstappe and all(r["numerator"] is None and r["denominator"] is None for r in herstappe)


def test_the_metadata_names_units_sources_licences_and_periods(client, public):
    meta = json.loads(download(client, SHARES, "json"))["meta"]
    data = ops.selection_table(public, selection_of(SHARES))
    for ind in data.indicators:
        assert meta[f"{ind.code}.name"] == ind.name_nl and meta[f"{ind.code}.unit"] == ind.unit
        assert meta[f"{ind.code}.source"] == ind.source and meta[f"{ind.code}.licence"] == ind.licence
        assert meta[f"{ind.code}.periods"] == ", ".join(data.periods[ind.code])
    assert meta["url"].endswith(share_link(get_html(client, SHARES))) and meta["retrieved"]
    about = openpyxl.load_workbook(io.BytesIO(download(client, SHARES, "xlsx")), read_only=True)["bron"]
    assert dict((k, v) for k, v in about.iter_rows(values_only=True))["share_non_belgian.licence"] == "Statbel open data"


def test_a_download_of_a_bad_link_is_refused_in_words(client):
    client.cookies.clear()
    answer = client.get("/download/table.csv?indicator=pop_totaal&area=gemeente:44021")
    assert answer.status_code == 422 and "Er is geen indicator “pop_totaal”." in answer.json()["detail"]
    page = client.get("/download/table.csv?indicator=pop_totaal&area=gemeente:44021&lang=en", headers=HTML)
    assert page.status_code == 404 and "There is no indicator “pop_totaal”." in text_of(page.text)
    assert "pop_total" in page.text  # the nearest choice is offered
    assert client.get("/download/table.docx?indicator=pop_total&area=gemeente:44021").status_code == 422


# --- limits and plain words -------------------------------------------------------------------

def test_a_table_over_the_cap_says_how_big_it_is_and_how_to_narrow_it(client, public):
    everything = "&".join(f"indicator={i.code}" for i in ops.list_indicators(public))
    url = f"/tabel?{everything}&area={GENT}&level=deelgemeente2024&periods=all"
    with pytest.raises(TooManyCells) as refused:
        ops.selection_table(public, selection_of(url))
    text = text_of(get_html(client, url))
    cells = table_builder.i18n.number(refused.value.cells, 0, "nl")
    assert f"Deze selectie telt {cells} cellen" in text and "hoogstens 100.000 bevatten" in text
    assert "Kies minder indicatoren" in text and "Download:" not in text
    assert 'id="selection-table"' not in get_html(client, url)
    english = text_of(get_html(client, url + "&lang=en"))
    assert f"This selection has {table_builder.i18n.number(refused.value.cells, 0, 'en')} cells" in english
    download(client, url, "csv", status=422)


def test_a_table_too_big_for_the_page_can_still_be_downloaded(client, public):
    everything = "&".join(f"indicator={i.code}" for i in ops.list_indicators(public))
    url = f"/tabel?{everything}&level=gemeente&periods=all"
    size = ops.selection_table(public, selection_of(url), max_cells=MAX_CELLS).cell_count
    assert table_builder.MAX_SHOWN_CELLS < size <= MAX_CELLS  # the demo's real size, derived
    page = get_html(client, url)
    assert 'id="selection-table"' not in page and "download de tabel hieronder (tot 100.000 cellen)" in text_of(page)
    assert "/download/table.csv?" in page


BAD = [
    ("/tabel?indicator=pop_totaal&area=gemeente:44021", "Er is geen indicator “pop_totaal”.",
     "There is no indicator “pop_totaal”."),
    ("/tabel?indicator=pop_total&area=gemeente:4402", "Er is geen gebied met code “4402” bij de gemeenten.",
     "There is no area with code “4402” among the municipalities."),
    ("/tabel?indicator=pop_total&level=wijkje", "Het gebiedsniveau “wijkje” bestaat niet.",
     "There is no area level “wijkje”."),
    ("/tabel?indicator=pop_total&level=gemeente&within=gemeente:9999x", "Er is geen gebied met code “9999x”",
     "There is no area with code “9999x”"),
    ("/tabel?indicator=pop_total&area=gemeente:44021&periods=list&period=2030",
     "Geen gegevens voor 2030 bij deze indicatoren en gebieden.", "No data for 2030 for these indicators and areas."),
    ("/tabel?indicator=pop_total&area=gemeente:44021&period=15-2015", "“15-2015” is geen periode",
     "“15-2015” is not a period"),
    ("/tabel?indicator=pop_total&area=gemeente:44021&from=2030&to=2040",
     "Geen gegevens voor de gekozen periodes", "No data for the chosen periods"),
    ("/tabel?indicator=pop_total&area=Gnt", "Geen gebied gevonden voor “Gnt”.", "No area found for “Gnt”."),
    ("/tabel?indicator=pop_total&area=gemeente:44021&layout=sideways", "Onbekende indeling “sideways”",
     "Unknown layout “sideways”"),
    ("/tabel?indicator=pop_total&level=gemeente&within=gemeente:44021", "Er liggen geen gemeenten in Gent.",
     "There are no municipalities in Gent."),
]


@pytest.mark.parametrize("url, dutch, english", BAD)
def test_bad_parameters_get_plain_words_in_the_page_language(client, url, dutch, english):
    for lang, words in (("nl", dutch), ("en", english)):
        client.cookies.clear()
        answer = client.get(f"{url}&lang={lang}", headers=HTML)
        assert answer.status_code in (200, 404), (url, answer.status_code)
        assert answer.headers["content-type"].startswith("text/html")
        assert words in text_of(answer.text), (lang, text_of(answer.text)[:600])
        assert "Traceback" not in answer.text and '"detail"' not in answer.text


def test_nearest_choices_are_offered_as_links(client):
    page = get_html(client, "/tabel?indicator=pop_totaal&area=gemeente:44021", status=404)
    assert "/tabel?indicator=pop_total&amp;area=gemeente:44021&amp;lang=nl" in page
    assert "/tabel?area=gemeente:44021&amp;lang=nl" in page  # the table without it
    level = get_html(client, "/tabel?indicator=pop_total&level=gemeentes", status=404)
    assert "/tabel?indicator=pop_total&amp;level=gemeente&amp;lang=nl" in level


@pytest.mark.parametrize("url", ["/tabel?" + "&".join(f"indicator=x{i}" for i in range(60)),
                                 "/tabel?area=%3A&level=%3A&within=%3A&ref=&periods=&from=x&to=y",
                                 "/tabel?indicator=pop_total&area=gemeente:44021&area=gemeente:44021",
                                 "/tabel?indicator=pop_total&level=gemeente&within=provincie:40000&ref=gewest&ref=provincie"])
def test_odd_links_never_break_the_page(client, url):
    client.cookies.clear()
    assert client.get(url, headers=HTML).status_code < 500
    assert client.get(url.replace("/tabel?", "/download/table.csv?")).status_code < 500


# --- the site around it -----------------------------------------------------------------------

def test_the_navigation_and_each_indicator_page_lead_to_the_table_builder(client):
    home = get_html(client, "/")
    assert '<a href="/tabel?lang=nl">Selectietabel</a>' in home
    indicator = get_html(client, "/indicatoren/share_65plus")
    assert "/tabel?indicator=share_65plus&amp;level=gemeente&amp;lang=nl" in indicator
    assert "Maak een tabel met deze indicator" in text_of(indicator)


def test_the_empty_page_explains_itself_and_offers_an_example(client):
    page = get_html(client, "/tabel")
    assert "Kies minstens één indicator en één gebied" in text_of(page)
    example = re.search(r'href="(/tabel\?indicator=[^"]+)"', page).group(1).replace("&amp;", "&")
    assert table_rows(get_html(client, example))


def test_the_page_has_no_inline_script(client):
    page = get_html(client, WIJKEN)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="' in attrs or 'type="application/json"' in attrs for attrs, _body in scripts)
    assert not re.search(r"\son[a-z]+=", page)  # no event handler attributes either


def test_every_text_of_the_table_builder_has_an_english_translation():
    with open(WEB / "locale" / "en" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        english = {str(m.id): str(m.string) for m in read_po(handle) if m.id}
    literal = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")
    used = {a or b for a, b in literal.findall((WEB / "templates" / "table_builder.html").read_text(encoding="utf-8"))}
    sentences = re.compile(r'(?:_t\(lang, |Problem\()((?:"(?:[^"\\]|\\.)*"\s*)+)')
    for source in (WEB / "table_builder.py", ROOT / "src" / "obmi" / "publish" / "selection_table.py"):
        text = source.read_text(encoding="utf-8")
        used |= {"".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m)) for m in sentences.findall(text)}
    used |= {*table_builder.FORMAT_LABELS.values(), *table_builder.REFERENCE_WORDS.values(),
             *table_builder.LAYOUT_WORDS.values(), "1 indicator", "%(n)s indicatoren", "1 gebied", "%(n)s gebieden",
             "1 periode", "%(n)s periodes", "1 cel", "%(n)s cellen"}
    missing = sorted(text for text in used if not english.get(text, "").strip())
    assert len(used) > 60 and not missing, missing
