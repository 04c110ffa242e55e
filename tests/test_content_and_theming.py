"""A city's own dashboards, stories and house style, without code; pasted Word HTML cannot break
a page; GeoJSON at a chosen simplification; the centrumsteden comparison preset."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from obmi.settings import load_settings
from obmi.web.app import create_app

WORD_PASTE = """---
title_nl: Een verhaal uit Word
summary_nl: Geplakt uit Word.
date: 2026-11-01
---
<p class=MsoNormal style='margin-bottom:0cm;mso-line-height-rule:exactly'><b><span
style='font-family:"Calibri Light"'>Inwoners<o:p></o:p></span></b></p>
<script>alert("boe")</script><img src=x onerror="alert(1)">
<table class=MsoTableGrid border=1><tr><td width=300 style='border:solid windowtext 1.0pt'>cel</td></tr></table>
<div style="position:fixed;top:0;left:0;width:100%;height:100%">overlay

{{< keyfigure indicator=pop_total area=gemeente:44021 >}}

Nog een alinea met een <a href="javascript:alert(1)">link</a>.
"""

DASHBOARD = """title_nl: Gent in cijfers
title_en: Ghent in figures
default_area: gemeente:44021
tiles:
  - {type: keyfigure, indicator: pop_total, title_nl: Inwoners}
  - {type: bar, indicator: share_65plus, level: gemeente, within: provincie:40000}
"""


@pytest.fixture
def city(loaded_db, tmp_path):
    (tmp_path / "stories").mkdir()
    (tmp_path / "dashboards").mkdir()
    (tmp_path / "stories" / "uit-word.md").write_text(WORD_PASTE)
    (tmp_path / "dashboards" / "gent.yaml").write_text(DASHBOARD)
    (tmp_path / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    settings = load_settings({"OBMI_CONTENT_DIR": str(tmp_path), "OBMI_SITE_NAME": "Stad Gent",
                              "OBMI_PRIMARY_COLOR": "#E30613", "OBMI_LOGO": str(tmp_path / "logo.svg")})
    return TestClient(create_app(settings, loaded_db))


def test_pasted_word_html_is_cleaned_and_embeds_still_work(city):
    page = city.get("/verhalen/uit-word", headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.text
    for unsafe in ("<script>alert", "onerror", "javascript:", "mso-line-height", "position:fixed", "<o:p>",
                   "MsoNormal"):
        assert unsafe not in html
    assert "<b>" in html and "Inwoners" in html and "<table>" in html and "cel" in html
    assert "253.266" in html  # the live key figure (Gent, 2015) rendered as a table equivalent
    assert html.count("</main>") == 1  # the stray <div> did not swallow the page


def test_a_city_adds_a_dashboard_and_its_house_style_without_code(city):
    page = city.get("/dashboards/gent").text
    assert "Gent in cijfers" in page and "--primary: #e30613" in page
    assert "<title>Gent in cijfers — Stad Gent</title>" in page and 'src="/brand/logo"' in page
    assert city.get("/brand/logo").status_code == 200
    assert "Gent in cijfers" in city.get("/").text  # listed on the home page
    english = city.get("/dashboards/gent?lang=en").text
    assert "Ghent in figures" in english
    assert city.get("/dashboards/bestaat-niet", headers={"Accept": "text/html"}).status_code == 404


def test_geojson_at_a_chosen_simplification(city):
    def points(geojson):
        def count(coords):
            return 1 if isinstance(coords[0], float) else sum(count(c) for c in coords)
        return sum(count(f["geometry"]["coordinates"]) for f in geojson["features"])
    full = city.get("/api/v1/levels/provincie/geojson", params={"detail": "full"}).json()
    web = city.get("/api/v1/levels/provincie/geojson").json()
    coarse = city.get("/api/v1/levels/provincie/geojson", params={"tolerance": 2000}).json()
    assert points(full) > points(web) > points(coarse) > 0
    assert city.get("/api/v1/levels/provincie/geojson", params={"tolerance": -1}).status_code == 422


def test_compare_with_the_centrumsteden(city):
    sheet = city.get("/api/v1/factsheets/gemeente/44021", params={"ref": "centrumsteden"}).json()
    names = [r["name"] for r in sheet["references"]]
    assert len(names) == 12 and "Gent" not in names and "Antwerpen" in names and "Hasselt" in names
