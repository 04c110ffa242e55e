"""Downloads (docs/user-guide.md, "Downloads"): values at their stored precision, a ratio with its
numerator and denominator only where both may be shown, counts as whole numbers, the Excel dialect
of CSV, and the indicator page's map, ranking and evolution as SVG and PNG drawn on the server —
on the real data of the open-data tests (Statbel; Fluvius per wijk of Antwerpen with its real small
counts suppressed), plus two ratios defined here on that data."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from obmi import operations as ops
from obmi.geo.codes import parse_area_key
from obmi.operations import ObservationQuery
from obmi.reports.charts import format_number
from obmi.store.tables import area, observation
from test_exchange_formats import OWN_VALUES, PRIVATE, build_world, number_forms, stored_suppressed_cells
from test_exchange_formats import World as ExchangeWorld

from conftest import system

WIJK = "ggw72024"
COUNT, CONSUMPTION, PER_CONNECTION = "v2506_gas_res_n", "v2506_gas_res_cons", "vp2506_gas_res_n"
# A share of non-Belgians protected by the population (as share_men is), not by the count of
# non-Belgians: in Herstappe (73028, 85 inhabitants) the ratio is published while its numerator
# (3 non-Belgians, 2015) is withheld.
SHARE_OF_TOTAL = {"code": "test_share_nb_of_total", "name_nl": "Aandeel niet-Belgen (drempel op bevolking)",
                  "unit": "%", "aggregation": "ratio", "numerator": "pop_non_belgian", "denominator": "pop_total",
                  "scale": 100, "decimals": 1, "threshold_indicator": "pop_total", "themes": ["diversiteit"]}
# A public ratio of a count only the organisation's analysts may see.
SHARE_OF_OWN = {"code": "test_share_own_count", "name_nl": "Eigen telling t.o.v. de bevolking", "unit": "%",
                "aggregation": "ratio", "numerator": PRIVATE["code"], "denominator": "pop_total", "scale": 100,
                "decimals": 1, "organisation": "stad", "themes": ["energie"]}
HERSTAPPE = "73028"


class World(ExchangeWorld):
    def __init__(self, db, tmp: Path):
        super().__init__(db, tmp, (SHARE_OF_OWN, SHARE_OF_TOTAL))

    def get(self, url: str, *, token: bool = False, **params):
        headers = {"Authorization": f"Bearer {self.token}"} if token else {}
        response = self.client.get(url, params=params or None, headers=headers)
        assert response.status_code == 200, (url, params, response.status_code, response.text[:300])
        return response

    def csv(self, url: str, **params) -> list[dict]:
        return list(csv.DictReader(io.StringIO(self.get(url, **params).content.decode("utf-8-sig"))))

    def stored(self, indicator: str, level: str, period: str) -> dict[str, tuple]:
        """{area: (value, numerator, denominator)} as stored, read straight from the table."""
        o = observation.c
        with self.db.unguarded_engine.connect() as conn:
            rows = conn.execute(select(area.c.code, o.value, o.numerator, o.denominator)
                                .join(area, area.c.id == o.area_id)
                                .where(o.indicator == indicator, area.c.level == level, o.period == period)).all()
        return {r.code: (r.value, r.numerator, r.denominator) for r in rows}


@pytest.fixture(scope="module")
def world(db_factories, templates, tmp_path_factory, shared_data):
    factory = db_factories("sqlite")
    db = factory.clone(templates.get(factory, "exchange", build_world))
    yield World(db, tmp_path_factory.mktemp("exports"))
    db.dispose()


def by_area(rows: list[dict]) -> dict[str, dict]:
    return {r["area_code"]: r for r in rows}


# --- tables ----------------------------------------------------------------------------------

def test_a_ratio_comes_at_stored_precision_with_its_numerator_and_denominator(world):
    params = {"indicator": "share_65plus", "level": "gemeente", "period": "2015"}
    stored = world.stored("share_65plus", "gemeente", "2015")
    rows = by_area(world.csv("/download/observations.csv", **params))
    gent = rows["44021"]
    value, numerator, denominator = stored["44021"]
    assert float(gent["value"]) == value and len(gent["value"]) > 6  # not the page's 16.8
    assert (gent["numerator"], gent["denominator"]) == (str(int(numerator)), str(int(denominator)))
    assert list(rows["44021"]).index("numerator") == list(rows["44021"]).index("value") + 1
    data = by_area(world.get("/download/observations.json", **params).json()["data"])
    assert data["44021"]["value"] == value and data["44021"]["numerator"] == int(numerator)
    assert isinstance(data["44021"]["numerator"], int)
    # a count has no such columns
    assert "numerator" not in world.csv("/download/observations.csv", indicator="pop_total", level="gemeente")[0]


def test_counts_are_whole_numbers_in_csv_json_and_xlsx(world):
    params = {"indicator": "pop_total", "level": "gemeente", "period": "2015"}
    text = world.get("/download/observations.csv", **params).content.decode("utf-8-sig")
    values = [r["value"] for r in csv.DictReader(io.StringIO(text)) if r["value"]]
    assert values and all(re.fullmatch(r"\d+", v) for v in values), values[:5]
    assert ".0," not in text
    assert all(type(r["value"]) is int for r in world.get("/download/observations.json", **params).json()["data"]
               if r["value"] is not None)
    sheet = openpyxl.load_workbook(io.BytesIO(world.get("/download/observations.xlsx", **params).content)).active
    header = [c.value for c in sheet[1]]
    cells = [row[header.index("value")] for row in sheet.iter_rows(min_row=2)]
    assert cells and all(type(c.value) is int and c.number_format == "#,##0" for c in cells if c.value is not None)


def test_the_excel_dialect_has_semicolons_decimal_commas_bom_and_crlf(world):
    params = {"indicator": "share_65plus", "level": "gemeente", "period": "2015"}
    response = world.get("/download/observations.csv-excel", **params)
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf") and b"\r\n" in body and body.count(b"\n") == body.count(b"\r\n")
    assert response.headers["content-disposition"].endswith('.csv"')
    excel = by_area(list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";")))
    standard = by_area(world.csv("/download/observations.csv", **params))
    assert excel.keys() == standard.keys()
    for code, row in standard.items():
        assert excel[code]["value"] == row["value"].replace(".", ","), code  # the same digits, a decimal comma
        assert excel[code]["numerator"] == row["numerator"] and excel[code]["area_name"] == row["area_name"]
    assert "," in excel["44021"]["value"] and "." not in excel["44021"]["value"]


def test_every_downloads_block_offers_the_excel_dialect(world):
    pages = ["/indicatoren/share_65plus", "/gebieden/gemeente/44021",
             "/vergelijk?area=gemeente:44021&area=gemeente:11002&indicator=share_65plus"]
    for url in pages:
        page = world.client.get(url).text
        links = re.findall(r'href="(/download/[^"]+)"', page)
        excel = [link for link in links if ".csv-excel?" in link]
        assert excel, url
        assert world.client.get(excel[0].replace("&amp;", "&")).status_code == 200, (url, excel[0])
    english = world.client.get("/indicatoren/share_65plus?lang=en").text
    assert "CSV for Excel (;)" in english


def test_a_ratio_whose_numerator_is_withheld_has_no_parts_and_only_its_rounded_value(world):
    stored_count = world.stored("pop_non_belgian", "gemeente", "2015")[HERSTAPPE][0]
    assert 0 < stored_count < 5  # real: 3 non-Belgians in Herstappe, withheld
    params = {"indicator": SHARE_OF_TOTAL["code"], "level": "gemeente", "period": "2015"}
    for fmt in ("csv", "csv-excel"):
        rows = by_area(list(csv.DictReader(io.StringIO(world.get(f"/download/observations.{fmt}", **params)
                                                       .content.decode("utf-8-sig")),
                                           delimiter=";" if fmt == "csv-excel" else ",")))
        herstappe = rows[HERSTAPPE]
        assert herstappe["status"] == "final" and herstappe["value"]  # published, as on the page
        assert herstappe["numerator"] == "" and herstappe["denominator"] == ""
        assert re.fullmatch(r"\d+[.,]\d", herstappe["value"]), herstappe  # the page's one decimal, no more
        assert rows["44021"]["numerator"] and len(rows["44021"]["value"]) > 6  # elsewhere: everything
    data = by_area(world.get("/download/observations.json", **params).json()["data"])
    assert data[HERSTAPPE]["numerator"] is None and data[HERSTAPPE]["denominator"] is None
    # The rule is the query layer's: the JSON API leaves the parts out in the same cell.
    api = by_area(world.get("/api/v1/observations", **params).json()["data"])
    assert api[HERSTAPPE]["numerator"] is None and api[HERSTAPPE]["denominator"] is None
    assert api[HERSTAPPE]["value"] is not None and api["44021"]["numerator"] is not None


def test_a_ratio_of_a_count_the_caller_may_not_see_has_no_parts(world):
    params = {"indicator": SHARE_OF_OWN["code"], "level": "gemeente", "period": "2015"}
    public = by_area(world.csv("/download/observations.csv", **params))
    assert public["11002"]["value"] and public["11002"]["numerator"] == ""
    text = world.get("/download/observations.json", **params).text
    assert not any(str(v) in text for v in OWN_VALUES.values())
    api = world.get("/api/v1/observations", **params).text
    assert not any(str(v) in api for v in OWN_VALUES.values())
    analyst = world.get("/download/observations.csv", token=True, **params).content.decode("utf-8-sig")
    assert by_area(list(csv.DictReader(io.StringIO(analyst))))["11002"]["numerator"] == str(OWN_VALUES["11002"])


# --- figures ---------------------------------------------------------------------------------

def figure(world, fmt: str, **params):
    # Dutch unless asked: the client keeps the language cookie of an earlier English page.
    response = world.get(f"/download/chart.{fmt}", **{"lang": "nl", **params})
    assert response.headers["content-type"].startswith("image/")
    return response


def test_map_ranking_and_series_come_as_svg_and_png(world):
    base = {"indicator": "share_65plus", "level": "gemeente", "period": "2015"}
    for kind, extra in (("map", {}), ("ranking", {}), ("series", {"area": "44021"})):
        svg = figure(world, "svg", kind=kind, **base, **extra).text
        assert svg.startswith("<svg") and "Aandeel 65-plussers (%)" in svg, kind
        assert "Bron: Statbel" in svg and "Licentie:" in svg, kind
        png = figure(world, "png", kind=kind, **base, **extra).content
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), kind
    english = figure(world, "svg", kind="map", lang="en", **base).text
    assert "Share aged 65+ (%)" in english and "Source: Statbel" in english
    ranking = figure(world, "svg", kind="ranking", **base).text
    assert "Gent" in ranking and format_number(16.8, 1, "nl") in ranking  # Gent's value as the page shows it


def test_bad_figure_requests_get_a_message_in_the_page_language(world):
    base = {"indicator": "share_65plus", "level": "gemeente"}
    cases = [({"kind": "taart"}, "Onbekende soort figuur", "Unknown kind of figure"),
             ({"kind": "series"}, "Kies minstens één gebied", "Choose at least one area")]
    for params, nl, en in cases:
        for lang, words in (("nl", nl), ("en", en)):
            answer = world.client.get("/download/chart.svg", params={**base, **params, "lang": lang})
            assert answer.status_code == 422 and words in answer.json()["detail"], (params, lang, answer.text)
    assert world.client.get("/download/chart.gif", params=base).status_code == 422
    assert world.client.get("/download/observations.svg", params=base).status_code == 422  # a table is no image


def test_no_figure_carries_a_suppressed_number(world):
    codes = [COUNT, CONSUMPTION, PER_CONNECTION]
    cells = stored_suppressed_cells(world.db, codes, WIJK)
    assert len(cells) >= 12
    for code in codes:
        mine = [c for c in cells if c["indicator"] == code]
        for period in sorted({c["period"] for c in mine}):
            numbers = {f for c in mine if c["period"] == period for v in (c["value"], c["numerator"], c["denominator"])
                       if v is not None for f in figure_forms(float(v))}
            shown = {f for r in ops.query_observations(world.public, query(code, period)).rows if r.value is not None
                     for f in figure_forms(float(r.value))}
            for kind in ("map", "ranking"):
                svg = figure(world, "svg", indicator=code, level=WIJK, period=period, within="gemeente:11002",
                             kind=kind).text
                leaked = sorted(n for n in numbers - shown if n in svg)
                assert not leaked, (code, period, kind, leaked)
                assert "onderdrukt" in svg, (code, period, kind)  # the withheld wijk, named


def query(code: str, period: str) -> ObservationQuery:
    return ObservationQuery(code, WIJK, period, (), parse_area_key("gemeente:11002", "within"))


def figure_forms(value: float) -> set[str]:
    """How a number could be written in a figure: as in the data and as labels in nl and en."""
    forms = set(number_forms(value))
    for decimals in (0, 1):
        forms |= {format_number(value, decimals, lang) for lang in ("nl", "en")}
    return {f for f in forms if len(re.sub(r"\D", "", f)) >= 4}


def test_the_indicator_page_links_its_figures(world):
    page = world.client.get("/indicatoren/share_65plus?level=gemeente&period=2015&area=44021&lang=nl").text
    links = [link.replace("&amp;", "&") for link in re.findall(r'href="(/download/chart\.[^"]+)"', page)]
    kinds = {(re.search(r"chart\.(\w+)", link)[1], re.search(r"kind=(\w+)", link)[1]) for link in links}
    assert kinds == {(fmt, kind) for fmt in ("png", "svg") for kind in ("map", "ranking", "series")}
    assert "Kaart als PNG" in page and "Rangorde als SVG" in page and "Evolutie als PNG" in page
    for link in links:
        if link.startswith("/download/chart.svg"):
            assert world.client.get(link).status_code == 200, link
    assert "Map as PNG" in world.client.get("/indicatoren/share_65plus?lang=en").text


# --- theme pages -----------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["nl", "en"])
def test_theme_pages_list_indicators_by_name_in_the_page_language(world, lang):
    page = world.client.get(f"/themas/demografie?lang={lang}").text
    names = re.findall(r'<a href="/indicatoren/[^"?]+\?lang=\w+">([^<]+)</a>', page)
    assert len(names) > 5
    assert names == sorted(names, key=str.casefold)
    expected_first = {"nl": "Aandeel 0-17 jarigen", "en": "Ageing index"}[lang]
    assert names[0] == expected_first  # not pop_0_17 or ageing_index first by code


def test_the_warehouse_leaves_out_the_parts_the_api_leaves_out(world, tmp_path):
    import duckdb
    root = system(world.db)
    ops.export_warehouse(root.acting_as(ops.identify_cli_user(root, "analist")), tmp_path / "public",
                         audience="public")
    facts = f"read_parquet('{tmp_path / 'public'}/fact_observation/**/*.parquet', hive_partitioning = true)"
    found = duckdb.sql(f"""
        SELECT i.indicator_code, a.area_code, o.value, o.numerator, o.denominator FROM {facts} o
        JOIN read_parquet('{tmp_path / 'public'}/dim_indicator/*.parquet') i USING (indicator_key)
        JOIN read_parquet('{tmp_path / 'public'}/dim_area/*.parquet') a USING (area_key)
        JOIN read_parquet('{tmp_path / 'public'}/dim_period/*.parquet') p USING (period_key)
        WHERE i.indicator_code IN ('{SHARE_OF_TOTAL["code"]}', '{SHARE_OF_OWN["code"]}') AND a.level = 'gemeente'
          AND p.period = '2015'""").fetchall()
    cells = {(code, area_code): (value, num, den) for code, area_code, value, num, den in found}
    herstappe = cells[(SHARE_OF_TOTAL["code"], HERSTAPPE)]
    assert herstappe[0] is not None and herstappe[1:] == (None, None)  # published, without its parts
    assert cells[(SHARE_OF_TOTAL["code"], "44021")][1] is not None  # elsewhere: with them
    own = [v for (code, _), v in cells.items() if code == SHARE_OF_OWN["code"]]
    assert own and all(v[1] is None for v in own)  # the public never sees the analysts' count
