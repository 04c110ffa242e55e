"""Shapefile geometry → WGS84 GeoJSON, with a simplified copy for web maps (pyshp, shapely, pyproj)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import shapefile
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import shape
from shapely.validation import make_valid

LAMBERT72 = 31370
# Tolerances in metres (Lambert 72) for the web copy: fine enough for a wijk, light for a map of 300.
WEB_TOLERANCE = {"statsec": 5.0, "ggw7": 10.0, "deelgemeente": 20.0}
DEFAULT_WEB_TOLERANCE = 30.0


@lru_cache(maxsize=8)
def _transformer(epsg: int) -> Transformer:
    return Transformer.from_crs(epsg, 4326, always_xy=True)


def source_epsg(prj_path: Path) -> tuple[int, str | None]:
    """EPSG code of a shapefile's .prj; (31370, warning) when it is missing or unrecognised."""
    if not prj_path.exists():
        return LAMBERT72, f"{prj_path.name} missing: assumed Belgian Lambert 72 (EPSG:31370)"
    wkt = prj_path.read_text(encoding="utf-8", errors="replace")
    if "Lambert_1972" in wkt or "Lambert 72" in wkt:
        return LAMBERT72, None  # ESRI WKT lacks the datum shift; EPSG:31370 carries it
    epsg = CRS.from_wkt(wkt).to_epsg(min_confidence=70)
    if epsg is None:
        return LAMBERT72, f"{prj_path.name}: unrecognised projection, assumed EPSG:31370"
    return epsg, None


def to_wgs84(shp_geometry, epsg: int, web_tolerance: float) -> tuple[str, str]:
    """Return (full, web) GeoJSON geometry texts in WGS84 for one shapefile shape."""
    geom = shape(shp_geometry)
    if not geom.is_valid:
        geom = make_valid(geom)
    web = geom.simplify(web_tolerance, preserve_topology=True)
    transformer = _transformer(epsg)

    def geojson(g, decimals: int) -> str:
        def project(xy: np.ndarray) -> np.ndarray:  # one vectorised call per geometry
            return np.round(np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])), decimals)
        return shapely.to_geojson(shapely.transform(g, project))

    # 6 decimals ≈ 10 cm, 5 ≈ 1 m: more digits only make the files bigger.
    return geojson(geom, 6), geojson(web, 5)


def _code_field(fields: list[str], layer: str) -> int:
    """The field holding the area code: `geoitem`, else one named after the layer (dBase cuts
    names at 10 characters: gemeente2018 → gemeente20), else the first field."""
    lowered = [f.lower() for f in fields]
    for candidate in ("geoitem", layer.lower(), layer.lower()[:10]):
        if candidate in lowered:
            return lowered.index(candidate)
    for i, name in enumerate(lowered):
        if layer.lower().startswith(name) or name.startswith(layer.lower()[:6]):
            return i
    return 0


def read_layer(shp_path: Path) -> tuple[list[tuple[object, str | None, object]], list[str]]:
    """Read a shapefile: [(raw code, name or None, shape)], warnings."""
    layer = shp_path.stem
    warnings: list[str] = []
    cpg = shp_path.with_suffix(".cpg")
    encoding = cpg.read_text().strip() if cpg.exists() else "latin-1"
    with shapefile.Reader(str(shp_path), encoding=encoding) as reader:
        fields = [f[0] for f in reader.fields[1:]]
        code_i = _code_field(fields, layer)
        lowered = [f.lower() for f in fields]
        name_i = next((lowered.index(n) for n in ("naam", "name") if n in lowered), None)
        records = []
        for rec in reader.iterShapeRecords():
            name = rec.record[name_i] if name_i is not None else None
            if rec.shape.shapeType == shapefile.NULL:
                warnings.append(f"{layer}: area {rec.record[code_i]} has an empty shape")
                continue
            records.append((rec.record[code_i], name, rec.shape.__geo_interface__))
    return records, warnings
