"""Domain objects → JSON-ready dicts, shared by the API, the pages' embedded data and downloads."""

from __future__ import annotations

from obmi.privacy.suppression import Row
from obmi.reports.factsheet import AreaRef, FactSheet


def observation_json(row: Row) -> dict:
    return {"area_code": row.area_code, "area_name": row.area_name, "level": row.level, "period": row.period,
            "value": row.value, "status": row.status, "numerator": row.numerator,
            "denominator": row.denominator, "n": row.n, "ci_low": row.ci_low, "ci_high": row.ci_high}


def area_json(ref: AreaRef) -> dict:
    return {"level": ref.level, "code": ref.code, "name": ref.name, "level_name": ref.level_name}


def series_json(result: dict) -> dict:
    areas = result["areas"]
    data = []
    for (indicator, area_id), rows in result["rows"].items():
        ref = next(a for a in areas if a.id == area_id)
        data.append({"indicator": indicator, **{f"area_{k}": v for k, v in area_json(ref).items()},
                     "points": [{"period": r.period, "value": r.value, "status": r.status} for r in rows]})
    return {"data": data, "count": len(data), "areas": [area_json(a) for a in areas]}


def factsheet_json(sheet: FactSheet) -> dict:
    def figure(f):
        return {"indicator": f.indicator.code, "name_nl": f.indicator.name_nl, "name_en": f.indicator.name_en,
                "unit": f.indicator.unit, "decimals": f.indicator.decimals, "polarity": f.indicator.polarity,
                "period": f.period, "value": f.value, "status": f.status, "change": f.change,
                "previous_period": f.previous_period,
                "series": [{"period": p.period, "value": p.value, "status": p.status} for p in f.series],
                "references": [{**area_json(ref), "value": p.value if p else None,
                                "status": p.status if p else "missing"} for ref, p in f.references]}
    return {"area": area_json(sheet.area), "references": [area_json(r) for r in sheet.references],
            "themes": [{"theme": s.theme, "figures": [figure(f) for f in s.figures]} for s in sheet.sections],
            "sources": sheet.sources, "generated": sheet.generated.isoformat(timespec="seconds")}
