"""Changing the level of an indicator page carries the chosen area over (issue 11), on the server,
so it works without JavaScript: the form says which level its areas are of (`from_level`), and
the page answers with the new level's own address — a wijk becomes its gemeente, a gemeente its
provincie; going down, the chosen area becomes the area to look within (a gemeente → its wijken).
Which area contains which comes from the API's `within` listing, never from the test."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from pages_support import HTML, get_html

INDICATOR = "share_65plus"
WIJK_INDICATOR = "vp2506_elek_res_n"  # Fluvius figures on Gent's wijken (2020–2024 sectors)
GENT = "44021"


def codes_within(client, indicator: str, level: str, within: str) -> set[str]:
    rows = client.get("/api/v1/observations", params={"indicator": indicator, "level": level, "within": within,
                                                      "limit": 50000}).json()["data"]
    return {r["area_code"] for r in rows}


def province_of(client, code: str) -> str:
    provinces = client.get("/api/v1/observations", params={"indicator": INDICATOR, "level": "provincie",
                                                           "limit": 50000}).json()["data"]
    found = {p["area_code"] for p in provinces
             if code in codes_within(client, INDICATOR, "gemeente", f"provincie:{p['area_code']}")}
    assert len(found) == 1, found
    return found.pop()


def switch(client, indicator: str, query: str) -> dict[str, list[str]]:
    """The form sent after a change of level: where the server sends the reader."""
    client.cookies.clear()
    response = client.get(f"/indicatoren/{indicator}?{query}", headers=HTML, follow_redirects=False)
    assert response.status_code == 303, (query, response.status_code, response.text[:300])
    target = urlsplit(response.headers["location"])
    assert target.path == f"/indicatoren/{indicator}"
    params = parse_qs(target.query)
    assert "from_level" not in params, "the new page has an address of its own, to bookmark or share"
    return params


def rows_of(page: str) -> set[str]:
    return set(re.findall(r'<tr data-code="([^"]+)"', page))


def selected_rows(page: str) -> list[str]:
    return re.findall(r'<tr data-code="([^"]+)"[^>]*aria-selected="true"', page)


def test_the_form_says_which_level_its_areas_are_of(client):
    page = get_html(client, f"/indicatoren/{INDICATOR}?level=gemeente&area={GENT}")
    assert '<input type="hidden" name="from_level" value="gemeente">' in page


def test_going_up_a_gemeente_becomes_its_provincie(client):
    province = province_of(client, GENT)
    params = switch(client, INDICATOR, f"lang=nl&from_level=gemeente&level=provincie&area={GENT}")
    assert params["area"] == [province] and params["level"] == ["provincie"] and "within" not in params
    page = get_html(client, f"/indicatoren/{INDICATOR}?level=provincie&area={province}")
    assert selected_rows(page) == [province]
    assert "staat niet in deze tabel" not in page


def test_going_down_the_chosen_provincie_becomes_the_area_to_look_within(client):
    province = province_of(client, GENT)
    params = switch(client, INDICATOR, f"from_level=provincie&level=gemeente&area={province}")
    assert params["within"] == [f"provincie:{province}"] and "area" not in params
    # The page then shows exactly that province's municipalities.
    page = get_html(client, f"/indicatoren/{INDICATOR}?level=gemeente&within=provincie:{province}")
    shown = rows_of(page)
    assert shown == codes_within(client, INDICATOR, "gemeente", f"provincie:{province}") and GENT in shown
    # … and says so, with the way back to every municipality.
    name = next(r["area_name"] for r in client.get("/api/v1/observations", params={
        "indicator": INDICATOR, "level": "provincie", "area": province}).json()["data"])
    note = re.search(r'<p class="within-note">(.*?) · <a href="([^"]+)">(.*?)</a></p>', page)
    assert note and note.group(1) == f"Gemeenten in {name}" and note.group(3) == "alle gemeenten"
    assert "within" not in parse_qs(urlsplit(html.unescape(note.group(2))).query)


def test_a_wijk_becomes_its_gemeente_and_a_gemeente_the_place_of_its_wijken(client):
    wijken = codes_within(client, WIJK_INDICATOR, "ggw72024", f"gemeente:{GENT}")
    wijk = sorted(wijken)[0]
    up = switch(client, WIJK_INDICATOR, f"from_level=ggw72024&level=gemeente&area={wijk}&within=gemeente:{GENT}")
    assert up["area"] == [GENT] and "within" not in up, "looking within Gent on the gemeente level: Gent chosen"
    down = switch(client, WIJK_INDICATOR, f"from_level=gemeente&level=ggw72024&area={GENT}")
    assert down["within"] == [f"gemeente:{GENT}"] and "area" not in down
    page = get_html(client, f"/indicatoren/{WIJK_INDICATOR}?level=ggw72024&within=gemeente:{GENT}")
    assert rows_of(page) == wijken


def test_an_older_version_of_the_same_level_keeps_the_area(client):
    params = switch(client, INDICATOR, f"from_level=gemeente&level=gemeente2024&area={GENT}")
    assert params["area"] == [GENT]


def test_the_other_choices_of_the_page_stay(client):
    params = switch(client, INDICATOR, f"lang=en&from_level=gemeente&level=provincie&area={GENT}"
                                       "&classes=jenks&palette=greens&class_count=4&region=2000")
    assert {k: params[k] for k in ("lang", "classes", "palette", "class_count", "region")} == {
        "lang": ["en"], "classes": ["jenks"], "palette": ["greens"], "class_count": ["4"], "region": ["2000"]}


@pytest.mark.parametrize("query, kept", [
    ("from_level=gemeente&level=provincie&area=4402", {}),  # no such area: dropped, no error
    ("from_level=nergens&level=provincie&area=44021", {"area": ["44021"]}),  # the page says what is wrong
    ("from_level=gemeente&level=nergens&area=44021", {"area": ["44021"]}),
    ("from_level=gemeente&level=gemeente&within=geen-sleutel", {"within": ["geen-sleutel"]}),
])
def test_what_cannot_be_carried_over_never_breaks_the_page(client, query, kept):
    params = switch(client, INDICATOR, query)
    assert {k: v for k, v in params.items() if k in ("area", "within")} == kept
    client.cookies.clear()
    final = client.get(f"/indicatoren/{INDICATOR}?{query}", headers=HTML)
    # The page (or its plain-language error) in HTML, never a server error.
    assert final.status_code < 500 and final.headers["content-type"].startswith("text/html"), final.status_code
