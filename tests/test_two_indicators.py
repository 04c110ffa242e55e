"""Two indicators on one map (/kaart, issue 11): the bivariate classes, palette, symbol sizes and
Pearson's r (obmi.publish.bivariate), and the page and its download of pairs on the demo database —
a share (non-Belgians, with Herstappe's withheld cell) against an income, and a share against a
count for proportional symbols. Expected figures come from the API and the query layer of the
same database; a withheld value never reaches the page, the scatter plot, r or the download."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import statistics
from types import SimpleNamespace

import numpy as np
import openpyxl
import pytest
from babel.messages.pofile import read_po
from shapely.geometry import Point, shape
from sqlalchemy import select

from obmi import operations as ops
from obmi.operations import ObservationQuery
from obmi.publish import bivariate
from obmi.store.tables import area, observation
from obmi.web import two_indicators
from pages_support import get_html, text_of

SHARE, INCOME, POPULATION = "share_non_belgian", "inc_mean_per_inhabitant", "pop_total"
SHARE_65 = "share_65plus"
HERSTAPPE = "73028"  # 85 inhabitants: its share of non-Belgians is withheld (the count is below 5)
PAGE = f"/kaart?x={SHARE}&y={INCOME}"
WEB = two_indicators.__file__.rsplit("/", 1)[0]


# --- pure logic ------------------------------------------------------------------------------

def obs(code: str, value, status: str = "final"):
    return SimpleNamespace(area_code=code, area_name=f"area {code}", value=value, status=status)


def published_values(public, code: str, period: str, level: str = "gemeente") -> dict[str, float]:
    rows = ops.query_observations(public, ObservationQuery(code, level, period, regions=("2000",))).rows
    return {r.area_code: r.value for r in rows if r.value is not None}


def test_tertiles_put_a_third_of_the_values_in_each_class(public):
    values = list(published_values(public, SHARE_65, "2015").values())
    axis = bivariate.tertiles(values)
    counts = [sum(axis.class_of(v) == i for v in values) for i in range(3)]
    assert sum(counts) == len(values) and max(counts) - min(counts) <= len(values) * 0.05, counts
    lows, highs = zip(*axis.bounds)  # type: ignore[misc]
    assert lows[0] == min(values) and highs[-1] == max(values)
    assert all(h <= lo for h, lo in zip(highs, lows[1:]))  # classes do not overlap


def test_fewer_distinct_values_than_classes_spread_over_low_middle_and_high():
    two = bivariate.tertiles([1.0, 1.0, 5.0, 5.0])
    assert two.bounds[1] is None and two.class_of(1.0) == 0 and two.class_of(5.0) == 2
    one = bivariate.tertiles([7.0, 7.0])
    assert one.bounds[0] is None and one.bounds[2] is None and one.class_of(7.0) == 1
    assert bivariate.tertiles([]).class_of(3.0) is None


def test_colours_follow_stevens_scheme_and_an_area_without_both_values_is_not_classed():
    pairs = [bivariate.Pair(str(i), "", obs(str(i), x), obs(str(i), y))
             for i, (x, y) in enumerate([(1, 1), (2, 5), (3, 9), (4, 2), (5, 6), (6, 7), (7, 3), (8, 4), (9, 8)])]
    classes = bivariate.bivariate_classes(pairs)
    assert classes.colour(1, 1) == bivariate.STEVENS_BLUE_PINK[0][0] == "#e8e8e8"  # low/low: the lightest
    assert classes.colour(9, 9) == bivariate.STEVENS_BLUE_PINK[2][2]
    assert classes.colour(None, 5) == classes.colour(5, None) == bivariate.NO_DATA
    assert classes.cell(None, 5) is None
    grid = bivariate.legend(classes, pairs)
    assert [c.row for c in grid[0]] == [2, 2, 2] and [c.column for c in grid[0]] == [0, 1, 2]  # high y on top
    assert sum(c.count for row in grid for c in row) == len(pairs)


def test_every_legend_colour_carries_a_readable_count():
    def luminance(colour: str) -> float:
        def channel(c: float) -> float:
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        r, g, b = (channel(int(colour[i:i + 2], 16) / 255) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    for colour in (c for row in bivariate.STEVENS_BLUE_PINK for c in row):
        a, b = sorted((luminance(colour), luminance(bivariate.ink(colour))))
        assert (b + 0.05) / (a + 0.05) >= 4.5, colour


def test_a_circles_area_is_proportional_to_its_value(public):
    values = published_values(public, POPULATION, "2015")
    largest = max(values.values())
    for value in list(values.values())[:50]:
        radius = bivariate.symbol_radius(value, largest)
        assert radius is not None
        assert math.isclose((radius / bivariate.MAX_RADIUS) ** 2, value / largest, rel_tol=1e-9)
    assert bivariate.symbol_radius(largest, largest) == bivariate.MAX_RADIUS
    assert bivariate.symbol_radius(None, largest) is None and bivariate.symbol_radius(-1.0, largest) is None
    sizes = bivariate.symbol_legend(largest)
    assert sizes[0][0] <= largest and re.fullmatch(r"[125]0*", f"{sizes[0][0]:.0f}")
    assert [round(r, 6) for _, r in sizes] == [round(bivariate.symbol_radius(v, largest) or 0, 6) for v, _ in sizes]


def test_only_counts_and_amounts_get_symbols(public):
    kinds = {i.code: i.aggregation for i in ops.list_indicators(public)}
    assert bivariate.suits_symbols(kinds[POPULATION]) and not bivariate.suits_symbols(kinds[SHARE])
    assert not bivariate.suits_symbols(kinds["ageing_index"])  # a ratio computed by formula: "none"


def test_a_symbol_sits_inside_its_area(public):
    features = ops.area_geojson(public, "gemeente", regions=("2000",))["features"]
    points = bivariate.interior_points(features)
    assert len(points) == len(features)
    for f in features:
        lat, lon = points[f["properties"]["code"]]
        assert shape(f["geometry"]).contains(Point(lon, lat)), f["properties"]["name"]


def test_pearson_r_agrees_with_numpy_and_leaves_withheld_values_out(public):
    x = ops.query_observations(public, ObservationQuery(SHARE, "gemeente", "2015", regions=("2000",))).rows
    y = ops.query_observations(public, ObservationQuery(INCOME, "gemeente", "2013", regions=("2000",))).rows
    pairs = bivariate.pair_up(x, y)
    withheld = [p for p in pairs if p.x is not None and p.x.status == "suppressed"]
    assert [p.code for p in withheld] == [HERSTAPPE]
    found = bivariate.pearson(pairs)
    complete = [p for p in pairs if p.complete]
    assert found.n == len(complete) == len(pairs) - 1
    assert found.r == pytest.approx(float(np.corrcoef([p.x_value for p in complete], [p.y_value for p in complete])[0, 1]))
    assert found.r == pytest.approx(statistics.correlation([p.x_value for p in complete], [p.y_value for p in complete]))
    assert bivariate.pearson(pairs[:2]).r is None  # two points draw a line through anything
    constant = [bivariate.Pair(p.code, p.name, obs(p.code, 1.0), p.y) for p in complete]
    assert bivariate.pearson(constant).r is None and bivariate.pearson(constant).n == len(constant)


def test_the_strength_of_r_is_said_in_words():
    assert bivariate.Correlation(0.05, 10).strength == "nauwelijks samenhang"
    assert bivariate.Correlation(-0.2, 10).strength == "zwakke negatieve samenhang"
    assert bivariate.Correlation(0.45, 10).strength == "matige positieve samenhang"
    assert bivariate.Correlation(-0.9, 10).strength == "sterke negatieve samenhang"
    assert bivariate.Correlation(None, 2).strength == ""


# --- the page --------------------------------------------------------------------------------

def page_json(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="twomap-data">(.*?)</script>', page, re.S)
    assert found, "no page data"
    return json.loads(found.group(1))


def stored_value(demo, indicator: str, code: str, period: str) -> float:
    """A value as stored, read straight from the table (what must never leave when withheld)."""
    o = observation.c
    with demo.db.unguarded_engine.connect() as conn:
        return conn.execute(select(o.value).join(area, area.c.id == o.area_id).where(
            o.indicator == indicator, area.c.level == "gemeente", area.c.code == code, o.period == period)).scalar_one()


def test_the_page_shows_both_latest_periods_and_says_they_differ(client, public):
    latest_x = ops.indicator_availability(public, SHARE, "gemeente").periods[-1]
    latest_y = ops.indicator_availability(public, INCOME, "gemeente").periods[-1]
    assert latest_x != latest_y  # the demo: population to 2015, income to 2013
    page = get_html(client, PAGE)
    text = text_of(page)
    assert f"x: {latest_x}, y: {latest_y}" in text
    data = page_json(page)
    assert (data["x"]["period"], data["y"]["period"], data["level"]) == (latest_x, latest_y, "gemeente")
    api_x = {r["area_code"]: r["value"] for r in client.get(
        "/api/v1/observations", params={"indicator": SHARE, "level": "gemeente", "period": latest_x,
                                        "region": "2000"}).json()["data"]}
    assert {a["code"]: a["x"] for a in data["areas"]} == api_x  # the home region's municipalities, as the API


def test_a_withheld_value_never_leaves_through_the_page(client, demo):
    period = page_json(get_html(client, PAGE))["x"]["period"]
    secret = stored_value(demo, SHARE, HERSTAPPE, period)
    page = get_html(client, PAGE)
    herstappe = next(a for a in page_json(page)["areas"] if a["code"] == HERSTAPPE)
    assert herstappe["x"] is None and herstappe["xText"] == "onderdrukt" and herstappe["colour"] is None
    assert herstappe["cell"] is None and herstappe["y"] is not None  # its income is public
    row = re.search(rf'<tr data-code="{HERSTAPPE}".*?</tr>', page, re.S).group(0)
    x_cell = re.findall(r'<td class="num">(.*?)</td>', row, re.S)[0]
    assert "status-suppressed" in x_cell and not re.search(r"\d", text_of(x_cell))
    assert 'data-x=""' in row
    for shown in {f"{secret:.1f}", f"{secret:.1f}".replace(".", ","), repr(secret)}:
        assert shown not in row and shown not in json.dumps(herstappe)
    assert "Herstappe: x onderdrukt" in text_of(page)  # listed among the areas without both values


def test_r_and_the_number_of_areas_are_those_of_the_published_pairs(client):
    data = page_json(get_html(client, PAGE))
    plotted = [a for a in data["areas"] if a["x"] is not None and a["y"] is not None]
    r = statistics.correlation([a["x"] for a in plotted], [a["y"] for a in plotted])
    text = text_of(get_html(client, PAGE))
    assert f"{len(plotted)} gebieden met beide waarden" in text
    assert f"Pearsons r = {r:.2f}".replace(".", ",") in text.replace("−", "-")
    assert "Samenhang is geen oorzaak" in text


def test_the_bivariate_colours_are_those_of_the_tertiles(client):
    data = page_json(get_html(client, PAGE))
    complete = [a for a in data["areas"] if a["cell"] is not None]
    xs = bivariate.tertiles([a["x"] for a in complete])
    ys = bivariate.tertiles([a["y"] for a in complete])
    for a in complete:
        i, j = a["cell"]
        assert (xs.class_of(a["x"]), ys.class_of(a["y"])) == (i, j)
        assert a["colour"] == bivariate.STEVENS_BLUE_PINK[j][i]


def test_symbols_for_a_count_with_areas_proportional_to_it(client):
    page = get_html(client, f"/kaart?x={SHARE_65}&y={POPULATION}&mode=symbols&within=provincie:40000")
    data = page_json(page)
    assert data["mode"] == "symbols"
    sized = [a for a in data["areas"] if a["radius"] is not None]
    largest = max(a["y"] for a in sized)
    assert sized and all(a["point"] for a in sized)
    for a in sized:
        assert math.isclose((a["radius"] / bivariate.MAX_RADIUS) ** 2, a["y"] / largest, rel_tol=1e-9)
    assert "oppervlakte evenredig met de waarde" in text_of(page)


def test_symbols_for_a_ratio_fall_back_to_the_bivariate_map_and_say_why(client):
    page = get_html(client, f"{PAGE}&mode=symbols")
    assert page_json(page)["mode"] == "bivariate"
    assert "Symbolen passen alleen bij aantallen en bedragen" in text_of(page)
    english = get_html(client, f"{PAGE}&mode=symbols&lang=en")
    assert "Symbols only suit counts and amounts" in text_of(english)


def test_the_chosen_area_is_in_the_page_data_and_its_row_is_selected(client):
    page = get_html(client, f"{PAGE}&area=44021")
    assert page_json(page)["selected"] == "44021"
    assert re.search(r'<tr data-code="44021" tabindex="0" aria-selected="true"', page)
    assert len(re.findall(r'<tr data-code="\d+" tabindex="0"', page)) == 1  # one tab stop


def test_the_indicator_page_links_to_the_combination(client):
    page = get_html(client, f"/indicatoren/{SHARE_65}?level=gemeente")
    assert f'href="/kaart?x={SHARE_65}&amp;level=gemeente&amp;lang=nl"' in page
    prompt = get_html(client, f"/kaart?x={SHARE_65}&level=gemeente")
    assert "Kies een tweede indicator om te combineren met Aandeel 65-plussers." in text_of(prompt)
    assert f"/kaart?x={SHARE_65}&amp;y=pop_total&amp;level=gemeente" in prompt  # a suggestion, as a link


@pytest.mark.parametrize("url, status, words", [
    ("/kaart?x=share_65plu&y=pop_total", 404, ["Er is geen indicator met code “share_65plu”.", "Aandeel 65-plussers"]),
    (f"/kaart?x={SHARE_65}&y={POPULATION}&level=gemeenten", 404, ["Het gebiedsniveau “gemeenten” bestaat niet."]),
    (f"/kaart?x={SHARE_65}&y={POPULATION}&level=ggw72024", 200, ["Niet beide indicatoren hebben cijfers"]),
    (f"/kaart?x={SHARE_65}&y={POPULATION}&period=2030", 200,
     ["Geen gegevens van Aandeel 65-plussers voor gemeenten in 2030.", "Periodes met gegevens, het dichtst bij 2030:"]),
    (f"/kaart?x={SHARE_65}&y={POPULATION}&within=gemeente:4402", 404, ["Er is geen gebied met code “4402”"]),
    (f"/kaart?x={SHARE_65}&y={POPULATION}&within=nonsense", 200, ["“nonsense” is geen gebied"]),
    (f"/kaart?x={SHARE_65}&y={POPULATION}&area=4402", 200, ["Er is geen gebied met code “4402”", "Bedoelde u:"]),
    (f"/kaart?x={SHARE_65}&y={POPULATION}&mode=3d", 200, ["Onbekende kaartsoort “3d”"]),
    (f"/kaart?x={SHARE_65}&y={SHARE_65}", 200, ["Kies twee verschillende indicatoren"]),
    ("/kaart", 200, ["Kies twee indicatoren om ze op één kaart te zien."]),
    (f"/kaart?x={SHARE_65}&y={POPULATION}&region=9999", 200, ["Onbekend gewest 9999"]),
])
def test_bad_choices_are_said_in_words_with_the_nearest_ones(client, url, status, words):
    text = text_of(get_html(client, url, status))
    for expected in words:
        assert expected in text, (url, expected)


def test_bad_choices_in_english(client, public):
    name = next(i.name_en for i in ops.list_indicators(public) if i.code == SHARE_65)
    text = text_of(get_html(client, f"/kaart?x={SHARE_65}&y={POPULATION}&period=2030&lang=en", 200))
    assert f"No data of {name} for municipalities in 2030." in text
    assert "Periods with data, closest to 2030:" in text
    assert "There is no indicator with code “nope”." in text_of(get_html(client, "/kaart?x=nope&y=pop_total&lang=en",
                                                                         404))


def test_a_level_without_boundaries_shows_the_scatter_plot_and_the_table(client):
    page = get_html(client, f"/kaart?x={SHARE_65}&y={POPULATION}&level=gemeente2024")
    assert "voor dit niveau zijn er geen gebiedsgrenzen" in text_of(page)
    data = page_json(page)
    assert data["geojson"] is None and any(a["x"] is not None for a in data["areas"])
    assert 'id="scatter"' in page and 'id="map"' not in page


def test_no_parameter_ever_breaks_the_page(client):
    odd = ["", " ", "%00", "x" * 300, "../../etc", "gemeente:", ":44021", "2015-13", "<script>", "1e309"]
    for name in ("x", "y", "level", "within", "period", "period_y", "mode", "area", "region"):
        for value in odd:
            params = {"x": SHARE_65, "y": POPULATION, name: value}
            response = client.get("/kaart", params=params, headers={"Accept": "text/html"})
            assert response.status_code in (200, 404, 422), (name, value, response.status_code)
            assert "<script>" not in response.text  # what the URL says is escaped, wherever it is shown


# --- the download of the pairs ---------------------------------------------------------------

def download_url(page: str, fmt: str) -> str:
    found = re.search(rf'href="(/download/pairs\.{re.escape(fmt)}\?[^"]+)"', page)
    assert found, f"no {fmt} download on the page"
    return found.group(1).replace("&amp;", "&")


def test_the_csv_holds_the_pages_pairs_at_stored_precision_without_the_withheld_value(client, demo):
    page = get_html(client, PAGE)
    data = page_json(page)
    response = client.get(download_url(page, "csv"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = {r["area_code"]: r for r in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))}
    assert rows.keys() == {a["code"] for a in data["areas"]}
    herstappe = rows[HERSTAPPE]
    assert herstappe["x_value"] == "" and herstappe["x_status"] == "suppressed"
    assert herstappe["x_status_label"] == "onderdrukt" and herstappe["y_value"] != ""
    gent = rows["44021"]
    assert float(gent["x_value"]) == stored_value(demo, SHARE, "44021", data["x"]["period"])  # full precision
    assert (gent["x_period"], gent["y_period"]) == (data["x"]["period"], data["y"]["period"])


def test_every_table_format_of_the_pairs_parses(client):
    page = get_html(client, PAGE)
    excel = client.get(download_url(page, "csv-excel")).content
    assert excel.startswith(b"\xef\xbb\xbf") and b"\r\n" in excel
    rows = list(csv.DictReader(io.StringIO(excel.decode("utf-8-sig")), delimiter=";"))
    assert "," in next(r for r in rows if r["area_code"] == "44021")["x_value"]
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(download_url(page, "xlsx")).content)).active
    assert [c.value for c in sheet[1]] == two_indicators.PAIR_COLUMNS and sheet.max_row == len(rows) + 1
    body = client.get(download_url(page, "json")).json()
    assert body["count"] == len(rows) and body["meta"]["x"] == SHARE and body["meta"]["y"] == INCOME
    complete = [r for r in body["data"] if r["x_value"] is not None and r["y_value"] is not None]
    assert body["meta"]["pairs"] == len(complete)
    assert body["meta"]["pearson_r"] == pytest.approx(
        statistics.correlation([r["x_value"] for r in complete], [r["y_value"] for r in complete]), abs=1e-4)


def test_an_unknown_download_format_is_refused(client):
    response = client.get(f"/download/pairs.docx?x={SHARE}&y={INCOME}&level=gemeente")
    assert response.status_code == 422 and "format" in response.json()["errors"]


# --- languages -------------------------------------------------------------------------------

def test_the_english_page_is_english(client):
    text = text_of(get_html(client, f"{PAGE}&lang=en"))
    for words in ("Two indicators on one map", "Scatter plot", "Correlation is not causation", "areas with both values",
                  "Herstappe: x suppressed"):
        assert words in text


def test_every_text_of_the_page_has_an_english_translation():
    with open(f"{WEB}/locale/en/LC_MESSAGES/messages.po", "rb") as handle:
        english = {str(m.id): str(m.string) for m in read_po(handle) if m.id}
    literal = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")
    with open(f"{WEB}/templates/two_indicators.html", encoding="utf-8") as handle:
        used = {a or b for a, b in literal.findall(handle.read())}
    with open(two_indicators.__file__, encoding="utf-8") as handle:
        source = handle.read()
    sentences = re.compile(r'_t\(\s*lang,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)')
    used |= {"".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m)) for m in sentences.findall(source)}
    used |= {bivariate.Correlation(r, 10).strength for r in (0.05, 0.2, -0.2, 0.4, -0.4, 0.8, -0.8)}
    missing = sorted(text for text in used if not english.get(text, "").strip())
    assert len(used) > 60 and not missing, missing
