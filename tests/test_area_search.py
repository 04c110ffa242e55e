"""Finding areas and figures by name (issue 11, defects 1 and 12): the type-ahead behind the area
picker (/api/v1/areas/suggest), the picker without JavaScript (a typed name is looked up when the
form is sent; the tree chooses directly) on compare, fact sheets and dashboards, and search
(/zoeken): several words across indicator and area, counts and "more", former municipalities
leading to today's, accents and case ignored. All on the real demo geography (Statbel codes,
the 2019 and 2025 mergers)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from obmi.query.area_names import normalise, prefix_match
from obmi.web import schemas
from obmi.web.app import create_app

ANTWERPEN, GENT, LIER, SINT_NIKLAAS, VLAANDEREN = "gemeente:11002", "gemeente:44021", "gemeente:12021", \
    "gemeente:46021", "gewest:2000"


@pytest.fixture
def client(demo):
    # Function scope: a page asked in English remembers the language in a cookie.
    return TestClient(create_app(demo.settings, demo.db))


def suggest(client, q: str, **params) -> dict:
    response = client.get("/api/v1/areas/suggest", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return schemas.AreaSuggestionList.model_validate(response.json()).model_dump()


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


# --- reading what people type ------------------------------------------------------------------

def test_names_read_alike_whatever_the_accents_case_and_hyphens():
    assert normalise("Sint-Niklaas") == normalise("sint niklaas") == normalise("SINT–NIKLAAS") == "sint niklaas"
    assert normalise("Écaussinnes") == "ecaussinnes"
    assert normalise("'s-Gravenvoeren") == "s gravenvoeren"
    assert prefix_match(["sint", "nik"], normalise("Sint-Niklaas").split()) == {"sint", "nik"}


# --- the type-ahead ----------------------------------------------------------------------------

def test_a_former_municipality_leads_to_the_one_it_is_part_of_today(client):
    found = suggest(client, "Borsbeek")
    first = found["data"][0]
    assert (first["key"], first["former"], first["since"]) == (ANTWERPEN, "Borsbeek", "2025")
    assert first["label"] == "Borsbeek → Antwerpen (sinds 2025)" and first["exact"]
    assert suggest(client, "Borsbeek", lang="en")["data"][0]["label"] == "Borsbeek → Antwerpen (since 2025)"
    # The 2019 merger too: Kruishoutem (with Zingem) is Kruisem since 2019.
    kruisem = suggest(client, "kruishoutem")["data"][0]
    assert (kruisem["name"], kruisem["former"], kruisem["since"]) == ("Kruisem", "Kruishoutem", "2019")


def test_everyday_names_accents_and_case_find_the_area(client):
    assert suggest(client, "Vlaanderen")["data"][0]["key"] == VLAANDEREN
    assert suggest(client, "flanders", lang="en")["data"][0]["label"] == "Flemish Region (region)"
    for typed in ("Sint-Niklaas", "sint niklaas", "SINT NIK"):
        assert suggest(client, typed)["data"][0]["key"] == SINT_NIKLAAS, typed
    lier = suggest(client, "Lier")
    assert [a["key"] for a in lier["data"][:2]] == [LIER, "gemeente:45063"]  # Lier before Lierde
    assert suggest(client, "44021")["data"][0]["key"] == GENT  # a code works too


def test_the_type_ahead_says_how_many_match_and_returns_the_best(client):
    gent = suggest(client, "gent", limit=3)
    assert len(gent["data"]) == 3 and gent["count"] > 20  # Gent, its arrondissement and its wijken
    assert gent["data"][0]["key"] == GENT
    assert suggest(client, "")["data"] == [] and suggest(client, "xyzzy")["count"] == 0
    assert client.get("/api/v1/areas/suggest", params={"q": "gent", "limit": 0}).status_code == 422


# --- the picker without JavaScript ---------------------------------------------------------------

def test_compare_takes_typed_names_and_says_what_it_cannot_find(client):
    page = client.get("/vergelijk", params=[("area", GENT), ("area", "Borsbeek"), ("area", "brussel"),
                                            ("area", "xyzzy"), ("area", "")])
    assert page.status_code == 200
    text = text_of(page.text)
    heads = re.findall(r'<th scope="col" class="num"><a href="/gebieden/([^"?]+)', page.text)
    assert heads == ["gemeente/44021", "gemeente/11002"]  # Gent, and Borsbeek's Antwerpen
    assert "Meerdere gebieden passen bij “brussel”." in text and "Bedoelde u:" in text
    assert "area=gemeente:21004" in page.text  # the offer for the city of Brussel keeps the others
    assert "Geen gebied gevonden voor “xyzzy”." in text
    english = text_of(client.get("/vergelijk", params={"area": "xyzzy", "lang": "en"}).text)
    assert "No area found for “xyzzy”." in english


def test_the_picker_offers_the_tree_with_the_chosen_areas_marked(client):
    page = client.get("/vergelijk", params={"area": GENT}).text
    assert 'role="combobox"' not in page  # the combobox is the script's: without it, a plain field
    assert re.search(r'<input type="checkbox" name="area" value="gemeente:44021" checked>', page)
    # In the tree, Gent is already chosen (not sent twice); Antwerpen and a wijk of Gent can be.
    assert re.search(r'value="gemeente:44021" data-tree-key="gemeente:44021" checked disabled', page)
    assert 'value="gemeente:11002" data-tree-key="gemeente:11002">' in page
    assert 'data-tree-key="ggw7:' in page and 'data-tree-key="provincie:40000"' in page
    assert "NIVEAU:CODE, gescheiden door spaties" not in page


def test_a_fact_sheet_compares_with_a_typed_name(client):
    page = client.get("/gebieden/gemeente/44021", params={"ref": "Vlaanderen"})
    assert page.status_code == 200
    assert re.findall(r'name="ref" value="([^"]+)" checked', page.text) == [VLAANDEREN]


def test_a_dashboard_shows_the_typed_area_rather_than_the_one_before(client):
    page = client.get("/dashboards/demografie", params=[("area", ANTWERPEN), ("area", "Lier")])
    assert page.status_code == 200
    assert re.findall(r'<input type="hidden" name="area" value="([^"]+)">', page.text) == [LIER]
    # The tree's entries are links that show the dashboard for that area, keeping the period.
    assert 'href="/dashboards/demografie?lang=nl&amp;area=gemeente%3A44021"' in page.text


def test_the_indicator_page_keeps_an_area_of_another_level(client):
    """Switching from municipalities to provinces and back keeps Gent chosen: the form carries
    every area asked for, not only those of the level shown."""
    page = client.get("/indicatoren/share_65plus", params={"level": "provincie", "area": "44021"}).text
    assert '<input type="hidden" name="area" value="44021">' in page


# --- search ------------------------------------------------------------------------------------

def search(client, q: str, **params) -> dict:
    response = client.get("/api/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return schemas.SearchOut.model_validate(response.json()).model_dump()


def test_an_indicator_and_an_area_together_lead_to_the_figure(client):
    found = search(client, "gent inkomen")
    pairs = [(c["indicator"]["code"], f'{c["area"]["level"]}:{c["area"]["code"]}') for c in found["combinations"]]
    assert ("inc_mean_per_inhabitant", GENT) in pairs
    assert pairs[0][1] == GENT  # Gent itself before its arrondissement
    page = client.get("/zoeken", params={"q": "inkomen Gent"}).text  # any order of the words
    assert 'href="/indicatoren/inc_mean_per_inhabitant?level=gemeente&amp;area=44021&amp;lang=nl"' in page
    assert "Gemiddeld netto belastbaar inkomen per inwoner in Gent" in text_of(page)


def test_search_counts_every_match_and_offers_more(client):
    first = search(client, "gent")
    assert first["counts"]["areas"] > 20 and len(first["areas"]) == 20
    page = client.get("/zoeken", params={"q": "gent"}).text
    assert f'20 van {first["counts"]["areas"]}' in text_of(page)
    more = re.search(r'href="(/zoeken\?q=gent&amp;limit=\d+&amp;lang=nl)"', page)
    assert more, "a link to more results"
    everything = client.get(unescape(more.group(1))).text
    assert everything.count('href="/gebieden/') >= first["counts"]["areas"]
    assert client.get("/zoeken", params={"q": "gent", "limit": "veel"}).status_code == 200


def test_search_finds_former_municipalities_and_ignores_accents_and_case(client):
    borsbeek = search(client, "borsbeek")["areas"][0]
    assert (borsbeek["level"], borsbeek["code"], borsbeek["former"]) == ("gemeente", "11002", "Borsbeek")
    assert "Borsbeek → Antwerpen" in text_of(client.get("/zoeken", params={"q": "Borsbeek"}).text)
    for typed, code in (("Lier", "12021"), ("Sint-Niklaas", "46021"), ("sint niklaas", "46021"),
                        ("SINT-NIKLAAS", "46021")):
        assert search(client, typed)["areas"][0]["code"] == code, typed
    combined = search(client, "borsbeek bevolking")["combinations"]
    assert combined and combined[0]["area"]["code"] == "11002" and combined[0]["area"]["former"] == "Borsbeek"


def test_every_word_must_match_and_nothing_found_is_said(client):
    assert search(client, "bevolking")["counts"]["indicators"] >= 1
    nothing = search(client, "bevolking xyzzy")
    assert nothing["counts"] == {"indicators": 0, "areas": 0, "combinations": 0}
    assert "Niets gevonden voor “bevolking xyzzy”." in text_of(client.get("/zoeken", params={"q": "bevolking xyzzy"}).text)
    assert "Nothing found" in client.get("/zoeken", params={"q": "bevolking xyzzy", "lang": "en"}).text
