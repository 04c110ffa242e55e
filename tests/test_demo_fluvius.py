"""The demo's sub-municipal data (issue 10, point 6): the bundled Fluvius derivative
(src/obmi/demo_data/fluvius_swing.csv, built by scripts/build_demo_fluvius.py from the shared
Swing upload) read through the Swing reader into the demo. Its figures are checked against the
shared source file (sums of its sector rows, computed here), its small counts against the
threshold, and the pages show the wijk level with figures and the source's attribution."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from obmi import operations as ops
from obmi.demo import FLUVIUS_UPLOAD
from obmi.operations import ObservationQuery
from obmi.web.app import create_app
from test_swing_import import CONSUMPTION, COUNT, expected_per_municipality, source_rows

WIJK = "ggw72024"
PER_CONNECTION = "vp2506_elek_res_n"  # the demo's own ratio: consumption / connections
# connections → the consumption and the ratio it protects (the demo's indicator table)
PROTECTED = {f"v2506_{k}_n": (f"v2506_{k}_cons", f"vp2506_{k}_n")
             for k in ("elek_res", "elek_nietres", "gas_res", "gas_nietres")}
ATTRIBUTION = "Fluvius open data (verbruiksgegevens per statistische sector), verwerking Provincies in Cijfers"
OBMI = Path(sys.executable).with_name("obmi")


@pytest.fixture(scope="module")
def source():
    return source_rows()


@pytest.fixture(scope="module")
def bundled() -> list[dict]:
    with open(FLUVIUS_UPLOAD, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def values(ctx, indicator: str, level: str, period: str, within=None) -> dict:
    result = ops.query_observations(ctx, ObservationQuery(indicator, level, period, (), within))
    return {r.area_code: r for r in result.rows}


def test_municipal_figures_equal_the_sums_of_the_source_sectors(public, source):
    expected = expected_per_municipality(source, 2020)
    shown = values(public, COUNT, "gemeente2024", "2020")
    consumption = values(public, CONSUMPTION, "gemeente2024", "2020")
    checked = unknown = 0
    for nis, obs in shown.items():
        count, total = expected.get(nis, (0.0, 0.0))
        if nis not in expected:  # merged in 2019: its sectors carry the old codes
            continue
        if count is None:  # a sector said -99999: the total is unknown, shown as such
            assert obs.value is None and obs.status == "missing", nis
            unknown += 1
            continue
        assert obs.value == pytest.approx(count), nis
        assert consumption[nis].value == pytest.approx(total, abs=0.5 + 1e-6), nis  # in whole kWh
        checked += 1
    assert checked > 250 and unknown == 19  # the 19 Brussels municipalities


def test_gent_wijken_add_up_to_gent_and_antwerpen_includes_borsbeek(public, source, bundled):
    expected = expected_per_municipality(source, 2020)
    gent_wijken = [r for r in bundled if r["geolevel"] == WIJK and r["geoitem"].startswith("44021") and
                   r["period"] == "2020"]
    assert len(gent_wijken) == 26  # 25 wijken and "wijk onbekend"
    assert sum(float(r[COUNT]) for r in gent_wijken) == pytest.approx(expected["44021"][0])
    # The wijken lie in today's Gent; "wijk onbekend" counts in Gent's total but is no area to show.
    shown = values(public, COUNT, WIJK, "2020", ("gemeente", "44021"))
    assert len(shown) == 25 and all(o.value is not None for o in shown.values())
    today = values(public, COUNT, "gemeente", "2020")
    assert today["44021"].value == pytest.approx(expected["44021"][0])
    assert today["11002"].value == pytest.approx(expected["11002"][0] + expected["11007"][0])


def test_small_connection_counts_and_what_they_protect_never_leave_the_query_layer(public, bundled):
    small = [(r["period"], r["geolevel"], r["geoitem"], counts) for r in bundled for counts in PROTECTED
             if 0 < float(r[counts]) < 5]
    assert len(small) >= 2, "the real data has small counts at wijk and municipality level"
    for period, level, code, counts in small:
        for indicator in (counts, *PROTECTED[counts]):
            obs = values(public, indicator, level, period)[code]
            assert obs.value is None and obs.status == "suppressed", (indicator, level, code, period)


def test_the_indicator_page_offers_the_wijk_level_with_figures_and_the_attribution(demo, public):
    client = TestClient(create_app(demo.settings, demo.db))
    page = client.get(f"/indicatoren/{PER_CONNECTION}?level={WIJK}&within=gemeente:44021",
                      headers={"Accept": "text/html"}).text
    assert '<option value="ggw72024" selected>Wijk (sectoren 2020–2024)</option>' in page
    assert ATTRIBUTION in page and 'id="map"' in page and "empty-state" not in page
    latest = ops.indicator_availability(public, PER_CONNECTION, WIJK).periods[-1]
    rows = values(public, PER_CONNECTION, WIJK, latest, ("gemeente", "44021"))
    named = [o for o in rows.values() if o.value is not None]
    assert len(named) == 25 and all(f'data-code="{o.area_code}"' in page for o in named)
    english = client.get(f"/indicatoren/{PER_CONNECTION}?level={WIJK}&lang=en").text
    assert "Neighbourhood (2020–2024 sectors)" in english


def test_obmi_query_reads_the_swing_codes_at_wijk_level(demo):
    env = {**os.environ, "OBMI_DATABASE_URL": demo.db.url, "OBMI_ENVIRONMENT": "development",
           "OBMI_USER": "lezer"}  # a demo reader
    done = subprocess.run([str(OBMI), "query", "--indicator", COUNT, "--level", WIJK, "--period", "2020",
                           "--within", "gemeente:11002", "--format", "json"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["indicator"] == COUNT and answer["count"] >= 60
    published = [r for r in answer["data"] if r["value"] is not None]
    assert published and all(float(r["value"]).is_integer() for r in published)
