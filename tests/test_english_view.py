"""The English view (issue 11, defect 13): on ?lang=en pages every word of the interface is
English — level and palette names, captions, legends, the region's name on the map, in the chart
data and in the fact sheet alike. Data values (area names, the catalogue's source texts, the
wijken's attribution the licence prescribes) stay as they are, so they are taken out first.

Through FastAPI's TestClient on the demo database; the chart legends are drawn from the page's
embedded data, which is checked here too."""

from __future__ import annotations

import html
import json
import re

import pytest

PAGES = [
    "/", "/themas/demografie",
    "/indicatoren/share_65plus", "/indicatoren/share_65plus?level=gemeente2024&palette=rdbu",
    "/indicatoren/land_built_share?level=gemeente&region=2000,4000",
    "/indicatoren/pop_total?level=provincie&area=10000", "/indicatoren/pop_total?level=gemeente&area=44021",
    "/gebieden/gemeente/44021", "/gebieden/gewest/2000",
    "/vergelijk?area=gemeente:44021&area=gewest:2000", "/dashboards/demografie",
]
# Dutch words of the interface that once showed on English pages (whole words, case as written).
DUTCH = ["gemeente", "Gemeente", "gemeenten", "Vlaams Gewest", "Brussels Hoofdstedelijk Gewest", "Gewest", "Niveau",
         "Periode", "Kleuren", "Klassen", "oplopend", "tweezijdig", "indeling", "Laatst bijgewerkt", "Eenheid",
         "Bron", "Gebiedsindeling", "omvat", "toestand", "personen", "aangiften", "Teller", "noemer", "Provincie",
         "Wijk", "Tabel", "Kaart", "Rangorde", "jaar", "reeks", "Periodes", "Afspelen", "klassen", "Toetsenbord",
         "Gebied", "Waarde", "Herkomst", "Verandering", "Evolutie", "Vergelijk", "geen gegevens"]
# What a page shows that is data, not interface: the wijken's attribution (prescribed wording).
ATTRIBUTION = "Wijken voor omgevingsanalyse. © gemeentebesturen, verzameld door Data & Analyse van de Vlaamse provincies."


def english(client, url: str) -> str:
    client.cookies.clear()
    response = client.get(url + ("&" if "?" in url else "?") + "lang=en", headers={"Accept": "text/html"})
    assert response.status_code == 200, (url, response.status_code)
    return response.text


def words_outside_data(page: str) -> str:
    """The page's visible text without its data values: the catalogue's source texts (table
    cells and the meta section's Source), area names in links to fact sheets and the attribution."""
    body = re.sub(r"<script\b.*?</script>", " ", page, flags=re.S)
    body = re.sub(r'<a href="/gebieden/[^"]*"[^>]*>.*?</a>', " ", body, flags=re.S)  # area names
    body = re.sub(r"<dt>Source</dt><dd>.*?</dd>", " ", body, flags=re.S)
    body = re.sub(r"<td>Statbel[^<]*</td>", " ", body)  # theme page: the source column
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
    return text.replace(ATTRIBUTION, " ")


@pytest.mark.parametrize("url", PAGES)
def test_english_pages_have_no_dutch_interface_words(client, url):
    text = words_outside_data(english(client, url))
    found = {w: text[max(0, m.start() - 40):m.end() + 40] for w in DUTCH
             for m in [re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)] if m}
    assert not found, found


def page_data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="page-data">(.*?)</script>', page, re.S)
                      .group(1).replace("<\\/", "</"))


def test_the_chart_legend_names_the_region_as_the_map_does(client):
    """The time-series chart draws its legend from the series' area names: in English the region
    is the Flemish Region there too, as in the map's legend and the ranking's reference line."""
    page = english(client, "/indicatoren/share_65plus?level=gemeente&area=44021")
    names = {a["name"] for a in page_data(page)["series"]["areas"]}
    assert "Flemish Region" in names and "Vlaams Gewest" not in names
    assert '<li class="reference">Flemish Region: ' in page
    sheet = page_data(english(client, "/gebieden/gemeente/44021"))
    assert "Flemish Region" in {r["name"] for r in sheet["references"]}
    board = page_data(english(client, "/dashboards/demografie"))
    areas = {s["area"] for t in board["tiles"] for s in t.get("series", [])}
    assert "Flemish Region" in areas and "Vlaams Gewest" not in areas


def test_the_dutch_pages_keep_the_dutch_names(client):
    client.cookies.clear()
    page = client.get("/indicatoren/share_65plus?level=gemeente&area=44021", headers={"Accept": "text/html"}).text
    assert "Vlaams Gewest" in {a["name"] for a in page_data(page)["series"]["areas"]}
    assert ">Gemeente (indeling 2025)</option>" in page


def test_the_series_api_names_the_regions_in_the_language_asked(client):
    """obmi.js draws the evolution chart from /api/v1/series with the page's language."""
    url = "/api/v1/series?indicator=share_65plus&area=gemeente:44021&ancestors=true"
    names = {a["name"] for a in client.get(url + "&lang=en").json()["areas"]}
    assert "Flemish Region" in names and "Gent" in names
    assert "Vlaams Gewest" in {a["name"] for a in client.get(url).json()["areas"]}
