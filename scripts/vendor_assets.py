#!/usr/bin/env python3
"""Copy pinned front-end builds from frontend/node_modules into the Python package.

OBMi must run offline, so the browser libraries it uses are vendored into
``src/obmi/web/static/vendor/`` (shipped with the package) and the test-only
accessibility checker into ``tests/vendor/``.  npm is only needed to refresh
them::

    cd frontend && npm ci && cd .. && python3 scripts/vendor_assets.py

The files are copied byte for byte (no rewriting), each package's licence goes
next to them, and ``static/vendor/VERSIONS.json`` records the version of every
package vendored there.  The installed version of each package must equal the
exact version pinned in ``frontend/package.json``.  Running the script again
with the same node_modules changes nothing.  A JSON summary goes to stdout.

Standard library only (Python 3.11).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "frontend"
NODE_MODULES = FRONTEND / "node_modules"
STATIC_VENDOR = ROOT / "src" / "obmi" / "web" / "static" / "vendor"
TESTS_VENDOR = ROOT / "tests" / "vendor"

# package -> (destination root, [(source path in package, destination path)], licence files)
# Leaflet's CSS refers to ``images/...`` relative to itself, so the images
# folder sits next to leaflet.css.
PACKAGES: dict[str, dict] = {
    "vega": {
        "dest": STATIC_VENDOR,
        "files": [("build/vega.min.js", "vega.min.js")],  # UMD, global `vega`
        "licenses": ["LICENSE"],
    },
    "vega-lite": {
        "dest": STATIC_VENDOR,
        "files": [("build/vega-lite.min.js", "vega-lite.min.js")],  # UMD, global `vegaLite`
        "licenses": ["LICENSE"],
    },
    "vega-embed": {
        "dest": STATIC_VENDOR,
        "files": [("build/vega-embed.min.js", "vega-embed.min.js")],  # UMD, global `vegaEmbed`
        "licenses": ["LICENSE"],
    },
    "leaflet": {
        "dest": STATIC_VENDOR,
        "files": [
            ("dist/leaflet.js", "leaflet.js"),  # UMD, globals `L` and `leaflet`
            ("dist/leaflet.css", "leaflet.css"),
            ("dist/images", "images"),
        ],
        "licenses": ["LICENSE"],
    },
    "htmx.org": {
        "dest": STATIC_VENDOR,
        "files": [("dist/htmx.min.js", "htmx.min.js")],  # global `htmx`
        "licenses": ["LICENSE"],
    },
    "axe-core": {
        "dest": TESTS_VENDOR,  # test-only, never shipped
        "files": [("axe.min.js", "axe.min.js")],  # global `axe`
        "licenses": ["LICENSE", "LICENSE-3RD-PARTY.txt"],
    },
}


def fail(message: str) -> None:
    print(f"vendor_assets: {message}", file=sys.stderr)
    raise SystemExit(1)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_file(src: Path, dst: Path, root: Path, results: list[dict]) -> None:
    """Copy ``src`` to ``dst`` unless ``dst`` already has identical bytes."""
    if not src.is_file():
        fail(f"missing source file {src}")
    data = src.read_bytes()
    if dst.is_file() and dst.read_bytes() == data:
        status = "unchanged"
    else:
        status = "updated" if dst.exists() else "created"
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(dst.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(dst)
    results.append({
        "path": dst.relative_to(root).as_posix(),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "status": status,
    })


def copy_entry(src: Path, dst: Path, root: Path, results: list[dict]) -> None:
    if src.is_dir():
        for child in sorted(src.rglob("*")):
            if child.is_file():
                copy_file(child, dst / child.relative_to(src), root, results)
    else:
        copy_file(src, dst, root, results)


def pinned_versions() -> dict[str, str]:
    manifest = json.loads((FRONTEND / "package.json").read_text(encoding="utf-8"))
    pins: dict[str, str] = {}
    for section in ("dependencies", "devDependencies"):
        pins.update(manifest.get(section, {}))
    return pins


def main() -> int:
    if not NODE_MODULES.is_dir():
        fail(f"{NODE_MODULES} not found; run `npm ci` in {FRONTEND} first")
    pins = pinned_versions()

    results: list[dict] = []
    versions: dict[str, dict[str, str]] = {}
    for package, spec in PACKAGES.items():
        pkg_dir = NODE_MODULES / package
        meta_path = pkg_dir / "package.json"
        if not meta_path.is_file():
            fail(f"{package} is not installed in {NODE_MODULES}")
        version = json.loads(meta_path.read_text(encoding="utf-8"))["version"]
        if pins.get(package) != version:
            fail(f"{package}: installed {version}, frontend/package.json pins {pins.get(package)!r}; "
                 "pin exact versions and run `npm ci`")
        dest: Path = spec["dest"]
        versions.setdefault(dest.relative_to(ROOT).as_posix(), {})[package] = version

        for rel_src, rel_dst in spec["files"]:
            copy_entry(pkg_dir / rel_src, dest / rel_dst, ROOT, results)

        licence_dir = dest / "licenses" if dest == STATIC_VENDOR else dest
        for licence in spec["licenses"]:
            stem = Path(licence).stem  # LICENSE, LICENSE-3RD-PARTY
            copy_file(pkg_dir / licence, licence_dir / f"{package}-{stem}.txt", ROOT, results)

    # VERSIONS.json for the shipped assets (deterministic: sorted keys, newline).
    static_versions = versions[STATIC_VENDOR.relative_to(ROOT).as_posix()]
    versions_path = STATIC_VENDOR / "VERSIONS.json"
    text = json.dumps(dict(sorted(static_versions.items())), indent=2) + "\n"
    if versions_path.is_file() and versions_path.read_text(encoding="utf-8") == text:
        status = "unchanged"
    else:
        status = "updated" if versions_path.exists() else "created"
        versions_path.write_text(text, encoding="utf-8")
    results.append({
        "path": versions_path.relative_to(ROOT).as_posix(),
        "bytes": len(text.encode("utf-8")),
        "sha256": sha256(versions_path),
        "status": status,
    })

    totals = {}
    for dest in (STATIC_VENDOR, TESTS_VENDOR):
        key = dest.relative_to(ROOT).as_posix()
        totals[key] = sum(r["bytes"] for r in results if r["path"].startswith(key + "/"))

    # Files in the vendor folders that this script did not produce (left alone,
    # reported so a stale copy after an upgrade is noticed).
    produced = {r["path"] for r in results}
    stray = sorted(
        p.relative_to(ROOT).as_posix()
        for dest in (STATIC_VENDOR, TESTS_VENDOR)
        for p in dest.rglob("*")
        if p.is_file() and p.relative_to(ROOT).as_posix() not in produced
    )

    summary = {
        "versions": versions,
        "files": results,
        "total_bytes": totals,
        "changed": sum(r["status"] != "unchanged" for r in results),
        "stray": stray,
    }
    json.dump(summary, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
