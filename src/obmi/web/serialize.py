"""Domain objects → JSON-ready dicts, shared by the API, the pages' embedded data and downloads
(their shapes are the schemas of obmi.web.schemas)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from obmi.indicators.catalogue import Indicator
from obmi.indicators.observation import Observation
from obmi.operations.statistics import AreaRef, LevelInfo, Series
from obmi.reports.factsheet import FactSheet

# Who maintains an indicator and which groups see it are the organisation's business.
_PRIVATE_FIELDS = {"owner", "access_groups"}


def indicator_json(ind: Indicator) -> dict[str, Any]:
    return {k: v for k, v in ind.as_row().items() if k not in _PRIVATE_FIELDS}


def level_json(level: LevelInfo) -> dict[str, Any]:
    return asdict(level)


def observation_json(row: Observation) -> dict:
    return {"area_code": row.area_code, "area_name": row.area_name, "level": row.level, "period": row.period,
            "value": row.value, "status": row.status, "numerator": row.numerator,
            "denominator": row.denominator, "n": row.n, "ci_low": row.ci_low, "ci_high": row.ci_high,
            "origin": str(row.origin) if row.origin else None}


def area_json(ref: AreaRef) -> dict:
    return {"level": ref.level, "code": ref.code, "name": ref.name, "level_name": ref.level_name}


def point_json(row: Observation) -> dict:
    return {"period": row.period, "value": row.value, "status": row.status}


def series_json(result: Series) -> dict:
    by_id = {a.id: a for a in result.areas}
    data = []
    for (indicator, area_id), rows in result.rows.items():
        data.append({"indicator": indicator, **{f"area_{k}": v for k, v in area_json(by_id[area_id]).items()},
                     "points": [point_json(r) for r in rows]})
    return {"data": data, "count": len(data), "areas": [area_json(a) for a in result.areas]}


def factsheet_json(sheet: FactSheet) -> dict:
    def figure(f) -> dict:
        return {"indicator": f.indicator.code, "name_nl": f.indicator.name_nl, "name_en": f.indicator.name_en,
                "unit": f.indicator.unit, "decimals": f.indicator.decimals, "polarity": f.indicator.polarity,
                "period": f.period, "value": f.value, "status": f.status, "change": f.change,
                "previous_period": f.previous_period, "series": [point_json(p) for p in f.series],
                "references": [{**area_json(ref), "value": p.value if p else None,
                                "status": p.status if p else "missing"} for ref, p in f.references]}
    return {"area": area_json(sheet.area), "references": [area_json(r) for r in sheet.references],
            "themes": [{"theme": s.theme, "figures": [figure(f) for f in s.figures]} for s in sheet.sections],
            "sources": sheet.sources, "generated": sheet.generated.isoformat(timespec="seconds")}
