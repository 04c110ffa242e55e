"""The public site's chrome (issue 11, defects 2, 3, 4 and 16): the API documentation from
vendored files, index pages behind the navigation and every breadcrumb, an HTML error page in
the page's language for unknown routes (JSON for the machine channels), a favicon, plain words
with the nearest valid choices for a level or area that does not exist, the demo database
ignored by git, and the PDF renderer warmed up at the server's start.

HTTP through FastAPI's TestClient on the demo database (real Statbel and Provincies in Cijfers
data)."""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from obmi import operations as ops
from obmi.reports import pdf
from obmi.web import i18n
from obmi.web.app import STATIC, create_app
from pages_support import HTML
from pages_support import get_html as get

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "src" / "obmi" / "web"
INDEX_TEMPLATES = ("indicator_index.html", "theme_index.html", "area_index.html", "level_index.html",
                   "dashboard_index.html", "story_index.html", "error.html")


def main_text(page: str) -> str:
    main = re.search(r"<main.*?</main>", page, re.S)
    assert main, "no <main> on the page"
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main.group(0))))


def links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page)]


# --- defect 2: the API documentation works offline ----------------------------------------------

def test_the_api_documentation_loads_only_vendored_files(client):
    page = client.get("/api/docs").text
    referenced = re.findall(r'(?:src|href)="([^"]+)"', page) + re.findall(r"url: '([^']+)'", page)
    assert referenced and all(ref.startswith("/") and not ref.startswith("//") for ref in referenced), referenced
    assert not re.search(r"https?://", page), "the documentation page names an external host"
    assert '"validatorUrl": null' in page  # no badge sending the specification to validator.swagger.io
    for ref in referenced:
        assert client.get(ref).status_code == 200, ref
    versions = json.loads((STATIC / "vendor" / "VERSIONS.json").read_text())
    assert versions["swagger-ui-dist"] and (STATIC / "vendor" / "licenses" / "swagger-ui-dist-LICENSE.txt").is_file()


# --- defect 3: index pages, error pages, favicon ---------------------------------------------------

def test_the_favicon_is_served_and_linked_on_every_page(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert client.get("/static/favicon.svg").status_code == 200
    for url in ("/", "/indicatoren", "/bestaat-niet"):
        page = client.get(url, headers=HTML).text
        assert '<link rel="icon" href="/favicon.ico"' in page and 'href="/static/favicon.svg' in page, url


@pytest.mark.parametrize("lang, title, words", [
    ("nl", "Niet gevonden", "Deze pagina of dit object bestaat niet"),
    ("en", "Not found", "This page or object does not exist"),
])
def test_an_unknown_route_answers_a_page_in_the_page_language(client, lang, title, words):
    page = get(client, f"/bestaat-niet?lang={lang}", 404)
    text = main_text(page)
    assert title in text and words in text and "Not Found" not in text and "detail" not in text
    assert f"/indicatoren?lang={lang}" in links(page) and f"/gebieden?lang={lang}" in links(page)


def test_a_wrong_method_answers_a_page_and_keeps_its_allow_header(client):
    response = client.post("/vergelijk?lang=en", headers=HTML)
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"  # HEAD answers like GET
    assert "Not allowed" in main_text(response.text)


@pytest.mark.parametrize("url", ["/api/v1/bestaat-niet", "/download/bestaat-niet", "/api/docs/bestaat-niet"])
def test_machine_channels_keep_answering_json(client, url):
    response = client.get(url, headers=HTML)
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}


def test_the_indicator_index_lists_what_the_public_may_see_by_theme_and_name(client, public, demo):
    page = get(client, "/indicatoren")
    visible = ops.list_indicators(public)
    listed = {h.split("/")[2].split("?")[0] for h in links(page) if h.startswith("/indicatoren/")}
    assert listed == {i.code for i in visible}
    hidden = {i.code for i in ops.list_indicators(demo)} - listed  # the demo's organisation-only indicators
    assert not hidden & listed
    # Within a theme, by name: the demography section in the order of the names.
    section = page.split('href="/themas/demografie?lang=nl"')[1].split("</section>")[0]
    names = [html.unescape(n) for n in re.findall(r'/indicatoren/[^"]+">([^<]+)</a>', section)]
    assert len(names) > 5 and names == sorted(names, key=str.casefold)
    filtered = main_text(get(client, "/indicatoren?q=65"))
    assert "Aandeel 65-plussers" in filtered and "Bevolkingsdichtheid" not in filtered


def test_the_theme_index_links_every_theme(client, public):
    page = get(client, "/themas?lang=en")
    themes = {t for i in ops.list_indicators(public) for t in i.themes}
    assert {f"/themas/{t}?lang=en" for t in themes} <= set(links(page))
    for theme in themes:
        get(client, f"/themas/{theme}?lang=en")


def test_the_area_indexes_list_levels_and_their_areas_by_name(client, public):
    page = get(client, "/gebieden")
    for level in ("gemeente", "provincie", "ggw7"):
        assert f"/gebieden/{level}?lang=nl" in links(page)
    municipalities = get(client, "/gebieden/provincie")
    names = re.findall(r'href="/gebieden/provincie/\d+\?lang=nl">([^<]+)</a>', municipalities)
    assert names == sorted(a.name for a in ops.list_areas(public, "provincie"))
    assert "Oost-Vlaanderen" in names
    filtered = get(client, "/gebieden/gemeente?q=gent")
    assert "/gebieden/gemeente/44021?lang=nl" in links(filtered)
    assert "/gebieden/gemeente/11002?lang=nl" not in links(filtered)


def test_the_dashboard_and_story_indexes_list_titles_and_descriptions(client, public):
    boards, stories = ops.list_dashboards(public), ops.list_stories(public)
    page = main_text(get(client, "/dashboards?lang=en"))
    for board in boards:
        assert board.title_en in page and board.description_en in page
    page = main_text(get(client, "/verhalen"))
    for story in stories:
        assert story.title_nl in page and story.summary_nl in page


def test_navigation_and_breadcrumbs_lead_to_index_pages_that_exist(client):
    pages = ["/?lang=en", "/indicatoren/share_65plus", "/gebieden/gemeente/44021", "/dashboards/demografie",
             "/verhalen/vergrijzing-centrumsteden", "/themas/demografie"]
    crumbs = {"/gebieden/gemeente/44021": ["/gebieden?lang=nl", "/gebieden/gemeente?lang=nl"],
              "/dashboards/demografie": ["/dashboards?lang=nl"], "/verhalen/vergrijzing-centrumsteden": ["/verhalen?lang=nl"],
              "/themas/demografie": ["/themas?lang=nl"], "/indicatoren/share_65plus": ["/themas?lang=nl"]}
    for url in pages:
        page = get(client, url)
        nav = page.split('aria-label="' + ("Main menu" if "lang=en" in url else "Hoofdmenu"))[1].split("</nav>")[0]
        assert "/themas?lang=" in nav and "/indicatoren?lang=" in nav and "/gebieden?lang=" in nav
        trail = page.split('class="wrap breadcrumbs"')[1].split("</nav>")[0] if "breadcrumbs" in page else ""
        for target in crumbs.get(url, []):
            assert f'href="{target}"' in html.unescape(trail), (url, target)
        for target in [h for h in links(trail) if h.startswith("/")]:
            get(client, target)


# --- defect 4: plain words and the nearest valid choices ------------------------------------------

def test_an_unknown_level_on_the_indicator_page_offers_the_levels_with_data(client):
    page = get(client, "/indicatoren/share_65plus?level=foo", 404)
    text = main_text(page)
    assert "Het gebiedsniveau “foo” bestaat niet." in text and "unknown level" not in text
    assert "/indicatoren/share_65plus?level=gemeente&lang=nl" in links(page)
    english = main_text(get(client, "/indicatoren/share_65plus?level=foo&lang=en", 404))
    assert "There is no area level “foo”." in english and "Choose one of these levels:" in english


def test_an_unknown_area_on_the_indicator_page_is_said_not_dropped(client):
    page = get(client, "/indicatoren/share_65plus?area=44021&area=4402")
    assert "Er is geen gebied met code “4402” bij de gemeenten." in main_text(page)
    assert "/indicatoren/share_65plus?level=gemeente&period=2015&area=44021&area=44020&lang=nl" in links(page)


@pytest.mark.parametrize("url, sentence, offered", [
    ("/gebieden/foo/44021", "Het gebiedsniveau “foo” bestaat niet.", "/gebieden/gemeente/44021?lang=nl"),
    ("/gebieden/gemeente/4402", "Er is geen gebied met code “4402” bij de gemeenten.", "/gebieden/gemeente/44021?lang=nl"),
])
def test_an_unknown_fact_sheet_offers_the_nearest_ones(client, url, sentence, offered):
    page = get(client, url, 404)
    assert sentence in main_text(page) and offered in links(page)
    assert "unknown" not in main_text(page)


def test_compare_keeps_the_valid_areas_and_names_the_wrong_ones(client):
    # (A text that is no LEVEL:CODE at all is looked up as a name by the area picker.)
    page = get(client, "/vergelijk?area=gemeente:44021&area=gemeente:4402&area=foo:11002")
    text = main_text(page)
    assert "Er is geen gebied met code “4402” bij de gemeenten." in text
    assert "Het gebiedsniveau “foo” bestaat niet." in text
    assert "/vergelijk?area=gemeente:44021&area=gemeente:4402&area=gemeente:11002" in " ".join(links(page))
    assert "253.266" in text  # Gent's population in 2015 (Statbel) is still compared
    english = main_text(get(client, "/vergelijk?area=gemeente:4402&lang=en"))
    assert "There is no area with code “4402” among the municipalities." in english


def test_a_dashboard_with_an_unknown_area_says_so_and_shows_its_default(client):
    page = get(client, "/dashboards/demografie?area=gemeente:4402")
    text = main_text(page)
    assert "Er is geen gebied met code “4402” bij de gemeenten." in text
    assert "Daarom toont het dashboard het standaardgebied gemeente:44021." in text
    assert "/dashboards/demografie?area=gemeente:44021&lang=nl" in links(page)
    assert "Daarom" in main_text(get(client, "/dashboards/demografie?area=nonsense"))


def test_every_text_of_the_new_pages_has_an_english_translation():
    with open(WEB / "locale" / "en" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        english = {str(m.id): str(m.string) for m in read_po(handle) if m.id}
    literal = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")
    used = set()
    for name in INDEX_TEMPLATES:
        used |= {a or b for a, b in literal.findall((WEB / "templates" / name).read_text(encoding="utf-8"))}
    sentences = re.compile(r'_t\(lang, ((?:"(?:[^"\\]|\\.)*"\s*)+)')
    for module in ("pages.py", "index_pages.py"):
        source = (WEB / module).read_text(encoding="utf-8")
        if module == "pages.py":  # only the unknown-choice messages are this issue's
            source = source.split("NEAREST_AREAS = 5")[1].split("def _levels_with_area")[0]
        used |= {"".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m)) for m in sentences.findall(source)}
    missing = sorted(text for text in used if not english.get(text, "").strip())
    assert len(used) > 30 and not missing, missing
    assert i18n.translate("en", "Bedoelde u:") == "Did you mean:"


# --- defect 16: the demo database, the PDF warm-up ---------------------------------------------

@pytest.mark.parametrize("name", ["obmi-demo.db", "obmi-demo.db-wal", "obmi-demo.db-journal",
                                  "obmi-demo.db-outbox/0001.eml"])
def test_the_demo_database_beside_the_checkout_is_ignored_by_git(name):
    # `obmi demo` (README's first command) writes obmi-demo.db and its companions in the working directory.
    found = subprocess.run(["git", "check-ignore", "--no-index", "-q", name], cwd=ROOT, check=False)
    assert found.returncode == 0, f"{name} would show up as untracked"


def test_the_server_warms_the_pdf_renderer_up_in_the_background(demo):
    pdf._vega_templates.clear()  # as after a start: no chart shape compiled yet
    app = create_app(demo.settings, demo.db, warm_up=True)
    app.state.warm_up.join(timeout=120)
    assert not app.state.warm_up.is_alive()
    assert len(pdf._vega_templates) >= 5, "the warm-up compiled no fact sheet charts"
    assert create_app(demo.settings, demo.db).state.warm_up is None  # tests and tools do not pay for it
