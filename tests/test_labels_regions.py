"""Human names, boundary versions, the region choice and the indicator's metadata (issue 11,
defects 5, 6 and 14): levels and palettes by name (never `gemeente2024` or `blues`), the 2025
mergers stated on every indicator page, the areas of the chosen region(s) only — in the query
layer, so the map, ranking, classes, table, API and downloads agree — and the reference period
next to the date of the last import, numerator and denominator by name.

Pure functions first, then the demo database (real Statbel figures) through the query layer and
FastAPI's TestClient."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest

from obmi import operations as ops
from obmi.errors import ValidationError
from obmi.operations import ObservationQuery
from obmi.publish import labels
from obmi.settings import load_settings
from obmi.web.region_choice import filters_level, parse_region

HTML = {"Accept": "text/html"}
BRUSSELS_MUNICIPALITIES = 19


# --- names ----------------------------------------------------------------------------------

@pytest.mark.parametrize("code, lang, expected", [
    ("gemeente", "nl", "Gemeente (indeling 2025)"), ("gemeente", "en", "Municipality (2025 boundaries)"),
    ("gemeente2024", "nl", "Gemeente (2019–2024)"), ("gemeente2024", "en", "Municipality (2019–2024)"),
    ("gemeente2018", "nl", "Gemeente (tot 2018)"), ("ggw7", "nl", "Wijk"), ("ggw7", "en", "Neighbourhood"),
    ("arrondiss", "nl", "Arrondissement"), ("arrondiss", "en", "District"),
])
def test_levels_have_human_names_with_their_boundary_version(code, lang, expected):
    assert labels.level_label(code, lang) == expected


def test_a_citys_own_level_keeps_its_stored_name_and_sentences_stay_plain():
    assert labels.level_label("districten", "nl", "District (stad)", "District (city)") == "District (stad)"
    assert labels.level_label("districten", "en", "District (stad)", "") == "District (stad)"
    assert labels.level_label("districten", "en") == "districten"
    assert labels.level_plural("gemeente", "gemeente", "nl") == "gemeenten"
    assert labels.level_plural("gemeente2024", "gemeente", "en") == "municipalities (2019–2024)"


def test_palettes_have_names_and_say_what_a_diverging_one_centres_on():
    assert labels.palette_label("blues", "nl") == "Blauw (oplopend)"
    assert labels.palette_label("blues", "en") == "Blue (sequential)"
    assert labels.palette_label("rdbu", "nl", "Vlaams Gewest") == "Rood-blauw (tweezijdig rond Vlaams Gewest)"
    assert labels.palette_label("puor", "en", "Flemish Region") == "Orange-purple (diverging around Flemish Region)"
    assert labels.palette_label("rdbu", "en") == "Red-blue (diverging)"
    assert set(labels.palette_labels("nl")) == {"blues", "ylgnbu", "purples", "rdbu", "puor"}


def test_the_regions_have_english_names_other_areas_keep_theirs():
    assert labels.area_name("gewest", "2000", "Vlaams Gewest", "en") == "Flemish Region"
    assert labels.area_name("gewest", "4000", "Brussels Hoofdstedelijk Gewest", "en") == "Brussels-Capital Region"
    assert labels.area_name("gewest", "2000", "Vlaams Gewest", "nl") == "Vlaams Gewest"
    assert labels.area_name("gemeente", "44021", "Gent", "en") == "Gent"


# --- the region choice ----------------------------------------------------------------------

def test_the_region_parameter_defaults_to_the_home_region_and_names_the_choices_when_wrong():
    assert parse_region(None, "2000", "nl").codes == ("2000",)
    assert parse_region("4000", "2000", "nl").param == "4000"
    both = parse_region("4000,2000", "2000", "nl")
    assert both.codes == ("2000", "4000") and both.param == "2000,4000"
    assert parse_region("", "4000", "nl").param is None  # the default is not repeated in links
    wrong = parse_region("9999", "2000", "en")
    assert wrong.codes == ("2000",)
    assert "9999" in wrong.notice and "Brussels-Capital Region" in wrong.notice and "Flemish Region" in wrong.notice
    assert "Onbekend gewest" in parse_region("vlaanderen", "2000", "nl").notice


def test_the_region_choice_applies_below_the_regions_only():
    orders = {"gemeente": 40, "provincie": 60, "gewest": 70, "belgie": 80}
    assert filters_level("gemeente", orders) and filters_level("provincie", orders)
    assert not filters_level("gewest", orders) and not filters_level("belgie", orders)
    assert not filters_level("gemeente", {"gemeente": 40})  # a geography without regions


def test_the_home_region_setting_is_validated():
    assert load_settings({}).home_region == "2000"
    assert load_settings({"OBMI_HOME_REGION": " 4000, 2000 "}).home_region == "4000,2000"
    with pytest.raises(Exception, match="OBMI_HOME_REGION|home_region"):
        load_settings({"OBMI_HOME_REGION": "Vlaanderen"})


# --- the query layer on the demo database -----------------------------------------------------

def _codes(ctx, level: str, regions: tuple[str, ...], indicator: str = "pop_total") -> set[str]:
    rows = ops.query_observations(ctx, ObservationQuery(indicator, level, "2015", regions=regions)).rows
    return {r.area_code for r in rows}


def test_the_query_layer_keeps_the_areas_of_the_chosen_regions(public):
    flemish, brussels = _codes(public, "gemeente", ("2000",)), _codes(public, "gemeente", ("4000",))
    everything = _codes(public, "gemeente", ())
    assert len(brussels) == BRUSSELS_MUNICIPALITIES and all(c.startswith("21") for c in brussels)
    assert not any(c.startswith("21") for c in flemish) and "44021" in flemish
    assert flemish | brussels == everything and not flemish & brussels
    assert _codes(public, "gemeente", ("2000", "4000")) == everything


def test_old_geography_versions_filter_through_their_version_links(public):
    """The municipalities of before 2019 have no parent links: they lie in a region through the
    version links to today's municipalities."""
    old_brussels = _codes(public, "gemeente2018", ("4000",))
    assert len(old_brussels) == BRUSSELS_MUNICIPALITIES
    assert "44021" in _codes(public, "gemeente2018", ("2000",))


def test_an_unknown_region_is_refused_with_the_known_ones(public):
    with pytest.raises(ValidationError, match="unknown region 9 .*known: 2000"):
        ops.query_observations(public, ObservationQuery("pop_total", "gemeente", "2015", regions=("9",)))


def test_the_map_geometry_follows_the_region_choice(public):
    features = ops.area_geojson(public, "gemeente", regions=("4000",))["features"]
    assert len(features) == BRUSSELS_MUNICIPALITIES


def test_mergers_say_which_old_municipalities_a_new_one_covers(public):
    merged = {m.name: m.parts for m in ops.level_mergers(public, "gemeente")}
    assert merged["Antwerpen"] == ("Antwerpen", "Borsbeek")
    assert set(merged["Beveren-Kruibeke-Zwijndrecht"]) == {"Beveren", "Kruibeke", "Zwijndrecht"}
    assert "Gent" not in merged  # unchanged in 2025
    assert "Deinze" in {m.name for m in ops.level_mergers(public, "gemeente2024")}  # the 2019 merger with Nevele
    assert ops.level_mergers(public, "provincie") == []


# --- the pages -----------------------------------------------------------------------------------

def get(client, url: str) -> str:
    client.cookies.clear()
    response = client.get(url, headers=HTML)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return response.text


def table_codes(page: str) -> list[str]:
    return re.findall(r'<tr data-code="([^"]+)"', page)


def legend_numbers(page: str) -> list[float]:
    legend = re.search(r'<ul class="legend".*?</ul>', page, re.S).group(0)
    classes = re.findall(r'</span>([\d.,]+) – ([\d.,]+)</li>', legend)
    return [float(n.replace(".", "").replace(",", ".")) for pair in classes for n in pair]


def table_values(page: str) -> list[float]:
    return [float(v) for v in re.findall(r'<tr data-code="[^"]+"[^>]*data-value="([^"]+)"', page)]


def test_the_indicator_page_shows_the_home_region_by_default(client):
    page = get(client, "/indicatoren/land_built_share?level=gemeente&period=2014")
    codes = table_codes(page)
    assert codes and not any(c.startswith("21") for c in codes)  # no Brussels municipality
    assert '<option value="2000" selected>Vlaams Gewest</option>' in page
    # the classes are computed over the Flemish municipalities only (Brussels goes up to 94.8 %)
    assert max(legend_numbers(page)) == max(table_values(page)) < 94.8
    assert 'class="reference">Vlaams Gewest: 20,3<' in page
    assert "&amp;region=2000" in page and "/download/observations.csv?indicator=land_built_share" in page


def test_brussels_alone_has_its_own_ranking_classes_and_reference(client):
    page = get(client, "/indicatoren/land_built_share?level=gemeente&period=2014&region=4000")
    codes = table_codes(page)
    assert len(codes) == BRUSSELS_MUNICIPALITIES and all(c.startswith("21") for c in codes)
    assert 'class="reference">Brussels Hoofdstedelijk Gewest: 59,0<' in page
    assert "Vlaams Gewest: 20,3" not in page
    assert max(legend_numbers(page)) == max(table_values(page))
    # the choice is kept in the page's links (other periods, levels) and in the map's geometry
    assert re.search(r'href="/indicatoren/land_built_share\?level=gemeente&amp;period=[0-9]+&amp;region=4000', page)
    assert "/api/v1/levels/gemeente/geojson?region=4000" in page


def test_both_regions_show_both_references(client):
    page = get(client, "/indicatoren/land_built_share?level=gemeente&period=2014&region=2000,4000")
    assert len(table_codes(page)) == 285 + BRUSSELS_MUNICIPALITIES
    assert "Vlaams Gewest: 20,3" in page and "Brussels Hoofdstedelijk Gewest: 59,0" in page


def test_a_wrong_region_shows_the_default_with_a_notice_in_the_pages_language(client):
    nl = get(client, "/indicatoren/pop_total?region=wallonie")
    assert "Onbekend gewest wallonie: kies uit 2000 (Vlaams Gewest), 4000 (Brussels Hoofdstedelijk Gewest)" \
        in html.unescape(nl)
    en = get(client, "/indicatoren/pop_total?region=3000&lang=en")
    assert "Unknown region 3000: choose from 2000 (Flemish Region), 4000 (Brussels-Capital Region)" in html.unescape(en)
    assert table_codes(en) and not any(c.startswith("21") for c in table_codes(en))


def test_downloads_and_the_api_give_the_areas_the_page_shows(client):
    response = client.get("/download/observations.csv?indicator=pop_total&level=gemeente&period=2015&region=4000")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == BRUSSELS_MUNICIPALITIES and all(r["area_code"].startswith("21") for r in rows)
    api = client.get("/api/v1/observations?indicator=pop_total&level=gemeente&period=2015&region=2000").json()
    assert api["count"] == 285
    refused = client.get("/api/v1/observations?indicator=pop_total&level=gemeente&region=9")
    # The API's schema names Belgium's regions (obmi.web.params.REGIONS): refused before the query layer.
    assert refused.status_code == 422 and "region" in refused.json()["errors"]
    assert "2000, 3000, 4000" in refused.json()["detail"]


def test_levels_and_palettes_are_shown_by_name_in_both_languages(client):
    nl = get(client, "/indicatoren/share_65plus?level=gemeente2024")
    assert ">Gemeente (indeling 2025)</option>" in nl and ">Gemeente (2019–2024)</option>" in nl
    assert ">Blauw (oplopend)</option>" in nl and ">Rood-blauw (tweezijdig rond Vlaams Gewest)</option>" in nl
    assert "gemeente2024</option>" not in nl and "blues (" not in nl
    en = get(client, "/indicatoren/share_65plus?lang=en")
    assert ">Municipality (2025 boundaries)</option>" in en and ">Blue (sequential)</option>" in en
    assert "Municipality (2025 boundaries), " in en  # the table's caption


def meta(page: str) -> str:
    section = re.search(r'<section class="meta".*?</section>', page, re.S).group(0)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", section)).split())


def test_the_meta_section_names_numerator_denominator_and_what_a_share_is_measured_against(client):
    page = get(client, "/indicatoren/land_built_share")
    text = meta(page)
    assert "Teller / noemer Bebouwde oppervlakte / Gekadastreerde oppervlakte × 100" in text
    assert "% gemeten t.o.v. gekadastreerde oppervlakte" in text
    assert '<a href="/indicatoren/land_built_area?lang=nl">Bebouwde oppervlakte</a>' in page
    assert "land_built_area /" not in text
    assert "Unit % measured against cadastral area" in meta(get(client, "/indicatoren/land_built_share?lang=en"))


def test_the_meta_section_gives_the_reference_period_next_to_the_last_update(client):
    text = meta(get(client, "/indicatoren/share_65plus"))
    assert "Meest recente cijfers toestand op 1 januari 2015 (reeks 2009–2015)" in text
    assert re.search(r"Laatst bijgewerkt \d{1,2} \w+ \d{4}", text)  # the import's date, in words
    land = meta(get(client, "/indicatoren/land_built_share?lang=en"))
    assert "Latest figures year 2014 (series 1983–2014)" in land


def test_every_indicator_page_says_on_which_boundaries_the_figures_are(client):
    text = meta(get(client, "/indicatoren/pop_total?level=gemeente"))
    assert "Gebiedsindeling Gemeente (indeling 2025): de cijfers van alle jaren staan op deze grenzen." in text
    assert "Antwerpen omvat ook Borsbeek" in text
    assert "Beveren-Kruibeke-Zwijndrecht omvat ook Beveren, Kruibeke en Zwijndrecht" in text
    en = meta(get(client, "/indicatoren/pop_total?level=gemeente&lang=en"))
    assert "Municipality (2025 boundaries): the figures of every year are on these boundaries." in en
    assert "Antwerpen also covers Borsbeek" in en
    old = meta(get(client, "/indicatoren/pop_total?level=gemeente2024"))
    assert "Gemeente (2019–2024)" in old and "Deinze omvat ook Nevele" in old and "Borsbeek" not in old
    province = meta(get(client, "/indicatoren/pop_total?level=provincie"))
    assert "Provincie: de cijfers van alle jaren staan op deze grenzen." in province and "omvat" not in province


def test_the_fact_sheet_names_its_level_with_the_boundary_version(client):
    page = get(client, "/gebieden/gemeente/11002")
    assert '<small class="level">Gemeente (indeling 2025)</small>' in page
