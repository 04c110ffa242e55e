"""Honest empty states (issue 10, point 7): wherever a level, period or area has no data (or no
geometry), the public pages say so in words and link to what does exist — never "None", an empty
map with a legend, an empty chart or table, a 500, or a silent switch to another period or level.

HTTP through FastAPI's TestClient on the demo database: it has data for municipalities,
districts, provinces and regions (2009–2015), none for wijken (ggw7) or Belgium, and levels
without boundaries (the municipalities of before 2019)."""

from __future__ import annotations

import html
import re
import subprocess

import pytest

from obmi import operations as ops
from obmi.web.pages import level_words, nearest_periods
from pages_support import HTML, text_of
from pages_support import get_html as get

DONK = "11002P01"  # a wijk of Antwerpen (no figures in the demo)
UNLOCATED_WIJK = "11002WONB"  # "Antwerpen - niet te lokaliseren": no figures, no boundaries


def empty_states(page: str) -> list[str]:
    return [text_of(m) for m in re.findall(r'<div class="empty-state" role="status">.*?</div>', page, re.S)]


def state_links(page: str) -> list[str]:
    """The links offered by the page's empty states."""
    found = re.findall(r'<div class="empty-state" role="status">.*?</div>', page, re.S)
    return links(" ".join(found))


def links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page)]


def assert_honest(page: str) -> None:
    assert "None" not in page
    assert 'class="legend"' not in page and 'id="map"' not in page, "no map or legend without data"
    assert 'id="chart"' not in page and 'class="downloads"' not in page


# --- the indicator page --------------------------------------------------------------------

def test_a_level_without_data_says_so_and_links_to_the_levels_with_data(client, public):
    page = get(client, "/indicatoren/pop_total?level=ggw7")
    assert_honest(page)
    assert empty_states(page)[0].startswith("Er zijn nog geen gegevens op het niveau wijken.")
    assert "Kaart" not in text_of(page).split("Over deze indicator")[0]  # no "Kaart None" heading
    with_data = ops.indicator_availability(public, "pop_total").levels
    assert "ggw7" not in with_data and "gemeente" in with_data
    for level in with_data:
        assert f"/indicatoren/pop_total?level={level}&lang=nl" in links(page), level
    # The level selector keeps the asked level, marked, and lists only the levels with data.
    options = re.findall(r'<option value="([^"]+)" (selected)?>([^<]*)</option>',
                         page.split('name="level"')[1].split("</select>")[0])
    assert [code for code, _, _ in options if code != "ggw7"] == with_data
    assert ("ggw7", "selected", "Wijk (geen gegevens)") in options
    assert 'name="period"' not in page, "no period selector for a level without periods"


def test_the_level_message_in_english(client):
    page = get(client, "/indicatoren/pop_total?level=ggw7&lang=en")
    assert_honest(page)
    state = empty_states(page)[0]
    assert state.startswith("There are no data yet at the level of neighbourhoods.")
    assert "municipalities" in state and "Neighbourhood (no data)" in page


def test_every_level_answers_with_figures_or_with_words(client, public):
    with_data = set(ops.indicator_availability(public, "share_65plus").levels)
    for level in ops.list_levels(public):
        page = get(client, f"/indicatoren/share_65plus?level={level.code}")
        assert "None" not in page, level.code
        if level.code not in with_data:
            assert_honest(page)
            assert "Er zijn nog geen gegevens op het niveau" in empty_states(page)[0], level.code
        elif level.with_geometry == 0:
            assert 'id="map"' not in page and 'class="legend"' not in page, level.code
            assert "Geen kaart voor" in " ".join(empty_states(page)), level.code
            assert 'id="table"' in page and 'id="chart"' in page, level.code
        else:
            assert 'id="map"' in page and 'class="legend"' in page and not empty_states(page), level.code


def test_a_period_without_data_is_not_silently_another_period(client, public):
    periods = ops.indicator_availability(public, "pop_total", "gemeente").periods
    assert "2030" not in periods and periods[-1] == "2015"
    page = get(client, "/indicatoren/pop_total?level=gemeente&period=2030")
    assert_honest(page)
    state = empty_states(page)[0]
    assert state.startswith("Geen gegevens voor gemeenten in 2030.")
    assert f"van {periods[0]} tot en met {periods[-1]}" in state
    offered = [u for u in state_links(page) if "&period=" in u and u.startswith("/indicatoren/pop_total")]
    assert offered and all("level=gemeente" in u for u in offered)
    assert [re.search(r"period=([^&]+)", u).group(1) for u in offered] == nearest_periods("2030", periods)
    assert "period=2015" in " ".join(offered)
    # The selector shows the period asked for, marked; no other period is selected.
    assert '<option value="2030" selected>2030 (geen gegevens)</option>' in page
    assert '<option value="2015" selected' not in page
    assert 'id="table"' not in page


def test_a_period_before_the_first_links_to_the_earliest_periods(client, public):
    periods = ops.indicator_availability(public, "pop_total", "gemeente").periods
    page = get(client, "/indicatoren/pop_total?level=gemeente&period=1970")
    assert_honest(page)
    assert empty_states(page)[0].startswith("Geen gegevens voor gemeenten in 1970.")
    offered = [re.search(r"period=([^&]+)", u).group(1) for u in state_links(page) if "&period=" in u]
    assert offered[:3] == periods[:3] and offered[-1] == periods[-1]  # the nearest three and the latest


def test_a_text_that_is_no_period_gets_the_latest_periods(client):
    page = get(client, "/indicatoren/pop_total?level=gemeente&period=abc")
    assert_honest(page)
    state = empty_states(page)[0]
    assert state.startswith("Geen gegevens voor gemeenten in abc.") and "De meest recente periodes" in state


def test_a_level_without_boundaries_shows_no_map_but_the_table(client):
    page = get(client, "/indicatoren/pop_total?level=gemeente2018")
    assert "None" not in page
    assert 'id="map"' not in page and 'class="legend"' not in page
    assert "Geen kaart voor gemeenten (tot 2018): voor dit niveau zijn er geen gebiedsgrenzen." in text_of(page)
    assert 'id="table"' in page and 'id="chart"' in page and 'class="downloads"' in page
    assert '"geojson": null' in page  # the script draws no empty map either


def test_within_an_area_without_data(client):
    page = get(client, "/indicatoren/pop_total?level=gemeente&within=provincie:99991")
    assert_honest(page)
    state = empty_states(page)[0]
    assert state.startswith("Geen gegevens voor gemeenten in provincie onbekend (Vlaanderen) in 2015.")
    assert "/indicatoren/pop_total?level=gemeente&period=2015&lang=nl" in links(page)  # all municipalities


def test_downloads_of_a_page_with_data_name_the_period_and_empty_downloads_are_honest(client):
    page = get(client, "/indicatoren/pop_total?level=gemeente")
    csv_link = next(u for u in links(page) if u.startswith("/download/observations.csv"))
    assert "period=2015" in csv_link and "period=&" not in csv_link
    assert client.get(csv_link).status_code == 200
    # A selection without rows downloads as a file with only the header, never an error.
    empty = client.get("/download/observations.csv?indicator=pop_total&level=ggw7")
    assert empty.status_code == 200
    assert empty.content.decode("utf-8-sig").strip() == \
        "indicator,area_code,area_name,level,period,value,unit,status,status_label,origin,origin_label"
    assert client.get("/download/observations.xlsx?indicator=pop_total&level=ggw7").status_code == 200


def test_truly_unknown_things_are_404(client):
    assert client.get("/indicatoren/pop_total?level=sector", headers=HTML).status_code == 404
    assert client.get("/indicatoren/no_such_indicator", headers=HTML).status_code == 404
    assert client.get("/gebieden/ggw7/NOPE", headers=HTML).status_code == 404
    assert client.get("/gebieden/ggw7/NOPE.pdf").status_code == 404
    # The demo has no statistical sectors at all: their fact sheet is unknown, not empty.
    assert client.get("/gebieden/statsec/11002A00-", headers=HTML).status_code == 404


# --- fact sheets -----------------------------------------------------------------------------

def test_the_fact_sheet_of_a_wijk_without_figures(client):
    page = get(client, f"/gebieden/ggw7/{DONK}")
    assert "None" not in page
    state = empty_states(page)[0]
    assert state.startswith("Voor Donk (Antwerpen) zijn er (nog) geen cijfers.")
    assert "Er zijn nog geen gegevens op het niveau wijken." in state
    for url in ("/gebieden/gemeente/11002?lang=nl", "/gebieden/provincie/10000?lang=nl", "/gebieden/gewest/2000?lang=nl"):
        assert url in links(page), url
    words = text_of(page)
    assert "Bronnen: ." not in words and "vergeleken met" not in words
    assert 'class="downloads"' not in page and ".pdf" not in page, "no downloads of an empty sheet"


@pytest.mark.parametrize(("level", "code", "line"), [
    ("ggw7", UNLOCATED_WIJK, "Er zijn nog geen gegevens op het niveau wijken."),
    ("gemeente", "99991", "Voor andere gemeenten zijn er wel cijfers."),
])
def test_the_fact_sheet_of_an_unknown_location_area(client, level, code, line):
    page = get(client, f"/gebieden/{level}/{code}")
    assert "None" not in page
    state = empty_states(page)[0]
    assert "zijn er (nog) geen cijfers." in state and line in state
    assert any(u.startswith("/gebieden/") for u in links(page) if u.endswith("?lang=nl") and code not in u)


def test_a_fact_sheet_with_nothing_around_it_points_to_search(client):
    page = get(client, "/gebieden/belgie/100")
    assert "None" not in page and "vergeleken met ." not in page
    state = empty_states(page)[0]
    assert state.startswith("Voor België zijn er (nog) geen cijfers.") and "zoekveld" in state


def test_the_fact_sheet_pdf_of_a_wijk_says_there_are_no_figures(client, tmp_path):
    response = client.get(f"/gebieden/ggw7/{DONK}.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    path = tmp_path / "wijk.pdf"
    path.write_bytes(response.content)
    text = " ".join(subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())
    assert "Donk (Antwerpen)" in text and "Voor dit gebied zijn (nog) geen cijfers gepubliceerd." in text
    assert "None" not in text and "Vergeleken met" not in text


# --- compare, dashboards, stories, themes, search ------------------------------------------------

def test_compare_with_an_area_without_data(client):
    page = get(client, f"/vergelijk?area=ggw7:{DONK}&area=gemeente:11002")
    assert "None" not in page
    state = empty_states(page)[0]
    assert state.startswith("Geen gegevens voor Donk (Antwerpen) (wijk) bij deze indicatoren.")
    swap = [u for u in links(page) if u.startswith("/vergelijk?") and "provincie:10000" in u]
    assert swap and DONK not in swap[0] and "gemeente:11002" in swap[0]
    assert 'id="multiples"' in page  # Antwerpen has figures: its table and chart stay


def test_compare_with_only_areas_without_data_shows_no_empty_table_or_chart(client):
    page = get(client, f"/vergelijk?area=ggw7:{DONK}")
    assert "None" not in page
    assert empty_states(page) and "<table" not in page and 'id="multiples"' not in page
    assert 'class="downloads"' not in page
    assert "/vergelijk?area=gemeente:11002&indicator=pop_total" in " ".join(links(page))


def test_a_dashboard_for_a_wijk_without_figures(client):
    page = get(client, f"/dashboards/demografie?area=ggw7:{DONK}")
    assert "None" not in page
    states = empty_states(page)
    assert states[0].startswith("Voor Donk (Antwerpen) (wijk) zijn er (nog) geen cijfers in dit dashboard.")
    assert "/dashboards/demografie?area=gemeente:11002&lang=nl" in links(page)
    # The key figures and the table of age groups say so instead of an empty tile, and why.
    assert sum(s.startswith("Geen gegevens voor Donk (Antwerpen). Deze indicator") for s in states) >= 2
    # The line chart keeps Antwerpen and its province, and names the missing wijk.
    assert any(hint.startswith("Geen gegevens voor Donk (Antwerpen).")
               for hint in re.findall(r'<p class="hint" role="status">([^<]*)</p>', page))


@pytest.mark.parametrize("period", ["2030", "1970"])
def test_a_dashboard_period_without_data(client, period):
    page = get(client, f"/dashboards/demografie?period={period}")
    assert "None" not in page
    states = empty_states(page)
    maps = [s for s in states if s.startswith(f"Geen gegevens voor gemeenten in {period}.")]
    assert len(maps) == 2, states  # the bar and the map tile: words instead of an empty axis or grey map
    offered = [u for u in links(page) if u.startswith("/dashboards/demografie?") and "period=" in u]
    assert "/dashboards/demografie?period=2015&lang=nl" in offered
    # Those tiles have no visual left for the script to draw (of 7: 2 key figures — written by the
    # server —, line, bar, map, table, text; before 2009 not even Gent has figures).
    assert page.count("data-tile=") == {"2030": 3, "1970": 1}[period]


def test_stories_themes_and_search_have_no_none(client):
    for url in ("/verhalen/vergrijzing-centrumsteden", "/themas/demografie", "/zoeken?q=Donk", "/zoeken?q=xyzzy",
                "/zoeken"):
        assert "None" not in get(client, url), url
    assert "Geen gebieden gevonden." in get(client, "/zoeken?q=xyzzy")


# --- the words ------------------------------------------------------------------------------

def test_levels_in_sentences(public):
    levels = {lvl.code: lvl for lvl in ops.list_levels(public)}
    assert level_words(levels["ggw7"], "ggw7", "nl") == "wijken"
    assert level_words(levels["ggw7"], "ggw7", "en") == "neighbourhoods"
    assert level_words(levels["gemeente2018"], "gemeente2018", "nl") == "gemeenten (tot 2018)"
    assert level_words(levels["gemeente2024"], "gemeente2024", "en") == "municipalities (2019–2024)"
    assert level_words(None, "eigen", "nl") == "eigen"


def test_nearest_periods():
    periods = ["2009", "2010", "2011", "2012", "2014", "2015"]
    assert nearest_periods("2013", periods) == ["2012", "2014", "2015"]  # a tie goes to the later period
    assert nearest_periods("2030", periods) == ["2012", "2014", "2015"]
    assert nearest_periods("1970", periods) == ["2009", "2010", "2011"]
    assert nearest_periods("abc", periods) == ["2012", "2014", "2015"]
    assert nearest_periods("2013-Q2", periods, 2) == ["2012", "2014"]
