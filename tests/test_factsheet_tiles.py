"""Fact sheet and dashboard tiles (issue 11, defects 9 and 11), on the demo database through HTTP:
the change says against which period and in percentage points, in one wording shared with the
PDF; the sources line names each table once; the area's wijken are listed with links; a locator
map of the area among its neighbours; the PDF names levels with their boundary version and its
route answers a bad level in the page's language. Tiles follow the chosen area ("the province of
the chosen area"), say in words why a wijk has no figure, key figures carry their unit, maps their
legend and period, tables their units."""

from __future__ import annotations

import html
import json
import re
import subprocess
from datetime import UTC, datetime

from obmi import operations as ops
from obmi.indicators.catalogue import Indicator
from obmi.indicators.observation import Observation
from obmi.publish.classify import classify
from obmi.reports.factsheet import FactSheet, KeyFigure, ThemeSection, change_words, merged_sources
from pages_support import get_html as get
from pages_support import text_of

GENT, ANTWERPEN, BINNENSTAD = "44021", "11002", "44021W01"


def page_data(page: str) -> dict:
    return json.loads(html.unescape(re.search(r'<script type="application/json" id="page-data">(.*?)</script>',
                                              page, re.S).group(1)))


def tiles_of(page: str) -> list[str]:
    return re.findall(r'<section class="tile tile-\w+".*?</section>', page, re.S)


def tile(page: str, title: str) -> str:
    found = [t for t in tiles_of(page) if f">{title}</h2>" in t]
    assert found, f"no tile {title!r}"
    return found[0]


# --- the change wording, one implementation ---------------------------------------------------

def _figure(unit: str, decimals: int, values: list[float]) -> KeyFigure:
    ind = Indicator(code="x", name_nl="X", unit=unit, decimals=decimals)
    series = [Observation("x", 1, str(2013 + i), v) for i, v in enumerate(values)]
    return KeyFigure(ind, series[-1].period, values[-1], "final", values[-1] - values[-2], series[-2].period, series, [])


def test_a_change_names_its_period_and_percentage_points():
    assert change_words(_figure("%", 1, [16.8, 17.2]), "nl") == ("+0,4\u00a0%-punt", "t.o.v. 2013")
    assert change_words(_figure("%", 1, [16.8, 17.2]), "en") == ("+0.4\u00a0pp", "vs 2013")
    assert change_words(_figure("personen", 0, [2500, 1266]), "nl") == ("−1.234", "t.o.v. 2013")
    assert change_words(_figure("EUR", 0, [100, 100]), "nl")[0] == "±0"


def test_the_web_page_says_the_change_as_the_pdf_does(client, public, tmp_path):
    sheet = ops.area_factsheet(public, "gemeente", GENT)
    figure = next(f for s in sheet.sections for f in s.figures if f.indicator.code == "share_non_belgian")
    change, since = (words.replace("\u00a0", " ") for words in change_words(figure, "nl"))
    assert since == f"t.o.v. {figure.previous_period}" and "%-punt" in change
    words = text_of(get(client, f"/gebieden/gemeente/{GENT}"))
    assert f"{change} {since}" in words, "the visible change cell says against which period, in %-punt"
    assert f"{change_words(figure, 'en')[0]} vs {figure.previous_period}".replace("\u00a0", " ") in text_of(
        get(client, f"/gebieden/gemeente/{GENT}?lang=en"))
    pdf = tmp_path / "gent.pdf"
    pdf.write_bytes(ops.factsheet_pdf(public, "gemeente", GENT))
    printed = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert f"{change} {since}" in " ".join(printed.replace("\u00a0", " ").split()), "the PDF's key figure says the same"


def test_the_sources_line_names_each_table_once(client, public):
    sheet = ops.area_factsheet(public, "gemeente", GENT)
    assert len(sheet.sources) > len(merged_sources(sheet, "nl")), "the catalogue names a table in several ways"
    line = re.search(r'<p class="sources">(.*?)</p>', get(client, f"/gebieden/gemeente/{GENT}"), re.S).group(1)
    for table in set(re.findall(r"\((TF_[A-Z_]+)\)", " ".join(sheet.sources))):
        assert line.count(table) == 1, f"{table} is named {line.count(table)} times: {line}"


def test_merged_sources_keep_the_processing_and_periods():
    ind = Indicator(code="x", name_nl="X", unit="%", source="Statbel, bevolking (TF_SOC_POP_STRUCT)")
    derived = Indicator(code="y", name_nl="Y", unit="%", source="Statbel, bevolking (TF_SOC_POP_STRUCT), bewerking OBMi")
    points = [Observation("x", 1, "2014", 1.0), Observation("x", 1, "2015", 2.0)]
    figures = [KeyFigure(i, "2015", 2.0, "final", None, None, points, []) for i in (ind, derived)]
    sheet = FactSheet(None, [], [ThemeSection("demografie", figures)],  # type: ignore[arg-type]
                      sorted({ind.source, derived.source}), datetime.now(UTC))
    assert merged_sources(sheet, "nl") == ["Statbel, bevolking (TF_SOC_POP_STRUCT), 2014–2015; bewerking OBMi"]
    assert merged_sources(sheet, "en") == ["Statbel, bevolking (TF_SOC_POP_STRUCT), 2014–2015; processed by OBMi"]


# --- what lies in the area, and where it lies ----------------------------------------------------

def test_a_municipality_lists_its_wijken_with_links(client, public):
    page = get(client, f"/gebieden/gemeente/{GENT}")
    listed = re.findall(r'href="/gebieden/ggw7/(\w+)\?lang=nl"', page)
    wijken = [a.code for a in ops.list_areas(public, "ggw7") if a.code.startswith(GENT)]
    assert sorted(listed) == sorted(wijken) and len(wijken) > 20
    assert "Wijken in Gent" in text_of(page)
    assert "/gebieden/ggw72024/" not in page, "today's Gent lists today's wijken, not also the 2024 ones"
    assert "Neighbourhoods in Gent" in text_of(get(client, f"/gebieden/gemeente/{GENT}?lang=en"))
    assert "Wijken in" not in text_of(get(client, f"/gebieden/ggw7/{BINNENSTAD}")), "a wijk has no wijken"


def test_the_locator_map_shows_the_area_among_its_province(client):
    page = get(client, f"/gebieden/gemeente/{GENT}")
    locator = page_data(page)["locator"]
    assert locator["geojson"] == "/api/v1/levels/gemeente/geojson?within=provincie:40000"
    assert locator["code"] == GENT and 'id="locator"' in page and "leaflet.js" in page
    assert "Ligging van Gent in Oost-Vlaanderen" in text_of(page)
    features = client.get(locator["geojson"]).json()["features"]
    assert GENT in {f["properties"]["code"] for f in features} and len(features) > 30
    wijk = page_data(get(client, f"/gebieden/ggw7/{BINNENSTAD}"))["locator"]
    assert wijk["geojson"] == f"/api/v1/levels/ggw7/geojson?within=gemeente:{GENT}"


def test_an_area_without_boundaries_gets_no_locator_map(client):
    page = get(client, "/gebieden/ggw7/11002WONB")  # "niet te lokaliseren": no shape
    assert 'id="locator"' not in page and page_data(page)["locator"] is None


# --- the PDF ---------------------------------------------------------------------------------

def test_the_pdf_names_levels_with_their_boundary_version(public, tmp_path):
    pdf = tmp_path / "gent.pdf"
    pdf.write_bytes(ops.factsheet_pdf(public, "gemeente", GENT))
    printed = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Gemeente (indeling 2025)" in printed
    pdf.write_bytes(ops.factsheet_pdf(public, "gemeente", GENT, lang="en"))
    printed = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Municipality (2025 boundaries)" in printed


def test_the_pdf_route_answers_a_bad_level_as_the_page_does(client):
    page = get(client, f"/gebieden/gemeentx/{GENT}.pdf", status=404)
    assert "Het gebiedsniveau “gemeentx” bestaat niet." in text_of(page)
    assert f'href="/gebieden/gemeente/{GENT}?lang=nl"' in page
    english = get(client, f"/gebieden/gemeentx/{GENT}.pdf?lang=en", status=404)
    assert "gemeentx" in text_of(english) and "bestaat niet" not in english and "unknown level" not in english
    assert "Er is geen gebied met code" in text_of(get(client, "/gebieden/gemeente/99990.pdf", status=404))


# --- dashboard tiles ---------------------------------------------------------------------------

def _bar_rows(page: str) -> list[str]:
    return [r["code"] for t in page_data(page)["tiles"] if t["type"] == "bar" for r in t["rows"]]


def test_the_province_tile_follows_the_chosen_area(client, public):
    gent = get(client, f"/dashboards/demografie?area=gemeente:{GENT}")
    antwerpen = get(client, f"/dashboards/demografie?area=gemeente:{ANTWERPEN}")
    east = {a.code for a in ops.list_areas(public, "gemeente") if a.code.startswith("4")}
    north = {a.code for a in ops.list_areas(public, "gemeente") if a.code.startswith("1")}
    assert set(_bar_rows(gent)) == east and set(_bar_rows(antwerpen)) == north
    assert "Gemeenten in Oost-Vlaanderen, 2015" in text_of(tile(gent, "Aandeel niet-Belgen in de provincie"))
    assert "Gemeenten in Antwerpen (Prov.), 2015" in text_of(tile(antwerpen, "Aandeel niet-Belgen in de provincie"))
    wijk = get(client, f"/dashboards/demografie?area=ggw7:{BINNENSTAD}")
    assert set(_bar_rows(wijk)) == east, "a wijk's province"
    assert next(t for t in page_data(wijk)["tiles"] if t["type"] == "bar")["highlight"] == GENT, \
        "a wijk highlights its municipality among the municipalities"


def test_a_region_lies_in_no_province_and_the_tile_says_so(client):
    page = get(client, "/dashboards/demografie?area=gewest:2000")
    words = text_of(tile(page, "Aandeel niet-Belgen in de provincie"))
    assert "Het gekozen gebied ligt niet in een van de provincies." in words
    assert 'data-tile' not in tile(page, "Aandeel niet-Belgen in de provincie")


def test_a_wijk_tile_says_why_it_is_empty_and_links_to_its_municipality(client):
    page = get(client, f"/dashboards/demografie?area=ggw7:{BINNENSTAD}")
    inhabitants = tile(page, "Inwoners")
    assert "Geen gegevens voor Binnenstad (Gent). Deze indicator heeft geen cijfers op het niveau wijken." \
        in text_of(inhabitants)
    assert f'href="/dashboards/demografie?area=gemeente:{GENT}&amp;lang=nl"' in inhabitants
    assert "Deze indicatoren hebben geen cijfers op het niveau wijken." in text_of(tile(page, "Leeftijdsgroepen"))
    assert "geen cijfers op het niveau wijken" in text_of(tile(page, "Vergrijzing in de tijd"))
    english = get(client, f"/dashboards/demografie?area=ggw7:{BINNENSTAD}&lang=en")
    assert "This indicator has no figures at the level of neighbourhoods." in text_of(tile(english, "Inhabitants"))


def test_a_key_figure_carries_its_unit(client):
    page = get(client, f"/dashboards/inkomen?area=gemeente:{ANTWERPEN}")
    key = tile(page, "Gemiddeld inkomen per inwoner")
    assert re.search(r'<p class="big">15\.111 <span class="unit">EUR</span></p>', key), key[:400]
    assert "Antwerpen, 2013" in text_of(key)
    assert re.search(r'<p class="big">\d[\d.]* <span class="unit">personen</span></p>',
                     tile(get(client, "/dashboards/demografie"), "Inwoners"))


def test_a_map_tile_has_its_legend_and_period(client, demo):
    page = get(client, "/dashboards/demografie")
    ratio = tile(page, "Afhankelijkheidsratio")
    assert "Gemeenten, 2015" in text_of(ratio)
    data = next(t for t in page_data(page)["tiles"] if t["type"] == "map")
    classes = classify([r["value"] for r in data["rows"]], "quantile", "blues")
    legend = re.findall(r'<li class="class"><span class="swatch" style="background: (#\w+)"></span>([^<]+)</li>', ratio)
    assert [c for c, _ in legend] == classes.colours and len(legend) == 5
    assert all(r["colour"] == classes.colour_of(r["value"]) for r in data["rows"])
    assert "per 100" in text_of(ratio.split('class="legend"')[1].split("</ul>")[0])


def test_tile_tables_name_their_units_and_scroll_in_their_card(client):
    page = get(client, "/dashboards/demografie")
    assert "Waarde (per 100)" in text_of(tile(page, "Afhankelijkheidsratio"))
    assert "Aandeel 65-plussers (%)" in text_of(tile(page, "Vergrijzing in de tijd"))
    assert "Bevolking (personen)" in text_of(tile(page, "Leeftijdsgroepen"))
    for t in tiles_of(page):
        assert t.count("<table") == t.count('<div class="table-scroll"><table'), "every tile table scrolls in its card"
