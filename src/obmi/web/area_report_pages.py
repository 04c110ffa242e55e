"""The area reports on the web: the list at /rapporten, one report for one area at
/rapporten/<slug>/<level>/<code> (with the area picker to choose another) and its PDF at
…/<code>.pdf. Pages call operations only. What a visitor asks for that does not exist — a report,
a level, an area, an area of a level the report is not written for — is said in words with links
to what does; a report file with errors says so (and, to signed-in staff, what they are)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Optional
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from obmi import operations as ops
from obmi.context import Context
from obmi.operations.area_reports import ReportEntry, ReportPage
from obmi.reports.area_report_build import unit_word
from obmi.reports.area_report_charts import inline_svg
from obmi.web import i18n
from obmi.web.area_picker import is_area_key, picked, tree_in_language
from obmi.web.deps import CtxDep, LangDep
from obmi.web.pages import EmptyState, area_key_problem, level_words, typed_areas
from obmi.web.rendering import render

router = APIRouter(include_in_schema=False)


def _t(lang: str, text: str, **values: object) -> str:
    translated = i18n.translate(lang, text)
    return translated % values if values else translated


def _url(path: str, *params: tuple[str, Optional[str]]) -> str:
    # ":" stays readable in LEVEL:CODE, as in the links of the other pages
    return f"{path}?{urlencode([(k, v) for k, v in params if v], safe=':')}"


def _report_url(slug: str, level: str, code: str, lang: str, suffix: str = "") -> str:
    return _url(f"/rapporten/{slug}/{level}/{code}{suffix}", ("lang", lang))


def _levels(ctx: Context, lang: str) -> Callable[[str], str]:
    """A level in a sentence, plural ("gemeenten", "wijken (sectoren 2020–2024)")."""
    infos = {lvl.code: lvl for lvl in ops.list_levels(ctx)}
    return lambda code: level_words(infos.get(code), code, lang)


def _title(entry: ReportEntry, lang: str) -> str:
    if entry.report is None:
        return entry.slug
    return i18n.pick(lang, entry.report.title_nl, entry.report.title_en)


# --- the list --------------------------------------------------------------------------------

@router.get("/rapporten", response_class=HTMLResponse)
def report_index(request: Request, ctx: CtxDep, lang: LangDep, area: str = "") -> Response:
    entries = ops.list_area_reports(ctx)
    key, problem = area_key_problem(ctx, lang, area, lambda lvl, c: _url("/rapporten", ("area", f"{lvl}:{c}"),
                                                                          ("lang", lang))) if area else (None, None)
    words = _levels(ctx, lang)
    rows = []
    for entry in entries:
        if entry.report is None or entry.problems:
            continue
        fits = key is not None and key[0] in entry.report.levels
        target = key if fits else entry.default_area
        rows.append({"entry": entry, "title": _title(entry, lang), "fits": fits,
                     "url": _report_url(entry.slug, *target, lang) if target else "",
                     "levels": [words(lvl) for lvl in entry.report.levels]})
    broken = [e for e in entries if e.report is None or e.problems] if not ctx.actor.is_anonymous else []
    return render(request, "area_report_index.html", lang, rows=rows, broken=broken, area_key=key,
                  area_problem=problem, area_name=_area_name(ctx, key) if key else "")


def _area_name(ctx: Context, key: tuple[str, str]) -> str:
    found = ops.list_areas(ctx, key[0], codes=[key[1]], include_unknown=True)
    return found[0].name if found else key[1]


# --- one report ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Refusal:
    """Why a report cannot be shown as asked: what the page says, and its status."""

    notice: EmptyState
    status: int


def _entry(ctx: Context, lang: str, slug: str) -> ReportEntry | Refusal:
    """The report `slug` when it can be shown."""
    entries = ops.list_area_reports(ctx)
    entry = next((e for e in entries if e.slug == slug), None)
    if entry is None:
        offers = [(_title(e, lang), _url(f"/rapporten/{e.slug}", ("lang", lang))) for e in entries
                  if e.report is not None and not e.problems]
        return Refusal(EmptyState(_t(lang, "Er is geen rapport “%(slug)s”.", slug=slug),
                                  offers_label=_t(lang, "Kies een van deze rapporten:") if offers else "",
                                  offers=offers, unknown=True), 404)
    if entry.report is None or entry.problems:
        # the public learns that it is broken and who can mend it; staff, what is wrong
        lines = [str(p) for p in entry.problems] if not ctx.actor.is_anonymous else [
            _t(lang, "De beheerders van deze site kunnen het rapport nakijken met “obmi report check”.")]
        return Refusal(EmptyState(_t(lang, "Het rapport “%(slug)s” bevat fouten en kan niet getoond worden.",
                                     slug=slug), lines=lines), 422)
    return entry


def _shown(ctx: Context, lang: str, slug: str, level: str, code: str) -> ReportEntry | Refusal:
    """The report `slug` when it can be shown for the area LEVEL:CODE."""
    entry = _entry(ctx, lang, slug)
    if isinstance(entry, Refusal):
        return entry
    problem = _checked_area(ctx, lang, entry, level, code)
    return Refusal(problem, 404) if problem is not None else entry


def _refused(request: Request, lang: str, refusal: Refusal) -> Response:
    return render(request, "area_report_index.html", lang, status_code=refusal.status, rows=[], broken=[],
                  area_key=None, area_problem=None, area_name="", notice=refusal.notice)


@router.get("/rapporten/{slug}", response_class=HTMLResponse)
def report_start(request: Request, ctx: CtxDep, lang: LangDep, slug: str,
                 area: Annotated[Optional[list[str]], Query()] = None) -> Response:
    """The area picker's form lands here: a LEVEL:CODE or a typed name; nothing: the report's default area."""
    entry = _entry(ctx, lang, slug)
    if isinstance(entry, Refusal):
        return _refused(request, lang, entry)
    values = [v.strip() for v in area or [] if v.strip()]
    typed = [v for v in values if not is_area_key(v)]
    if typed or values:
        keys, problems = typed_areas(ctx, lang, typed[-1:] or values[-1:], lambda text, key: _url(
            f"/rapporten/{slug}", ("area", key), ("lang", lang)))
        if problems:
            return _refused(request, lang, Refusal(problems[0], 404))
        key, problem = area_key_problem(ctx, lang, keys[0], lambda lvl, c: _url(
            f"/rapporten/{slug}", ("area", f"{lvl}:{c}"), ("lang", lang)))
        if problem is not None:
            return _refused(request, lang, Refusal(problem, 404))
    else:
        key = entry.default_area
    if key is None:
        return _refused(request, lang, Refusal(EmptyState(_t(lang, "Er zijn geen gebieden voor dit rapport.")), 404))
    return RedirectResponse(_report_url(slug, *key, lang), status_code=303)


def _level_problem(ctx: Context, lang: str, entry: ReportEntry, level: str, code: str) -> EmptyState:
    """The area is of a level the report is not written for: offer the areas near it that are."""
    assert entry.report is not None
    around, choices = ops.area_report_choices(ctx, entry.slug, (level, code))
    words = _levels(ctx, lang)
    return EmptyState(
        _t(lang, "Het rapport “%(title)s” is er voor %(levels)s, niet voor %(level)s.", title=_title(entry, lang),
           levels=", ".join(words(lvl) for lvl in entry.report.levels), level=words(level)),
        offers_label=_t(lang, "Kies een gebied in %(area)s:", area=around.name) if around and choices else "",
        offers=[(a.name, _report_url(entry.slug, a.level, a.code, lang)) for a in choices], unknown=True)


def _checked_area(ctx: Context, lang: str, entry: ReportEntry, level: str, code: str) -> EmptyState | None:
    """What is wrong with the area of a report's URL (None: the report can be shown for it)."""
    _, problem = area_key_problem(ctx, lang, f"{level}:{code}",
                                  lambda lvl, c: _report_url(entry.slug, lvl, c, lang))
    if problem is None and entry.report is not None and level not in entry.report.levels:
        problem = _level_problem(ctx, lang, entry, level, code)
    if problem is None and any(a.is_unknown for a in ops.list_areas(ctx, level, codes=[code], include_unknown=True)):
        # "niet te lokaliseren": what cannot be placed counts in the totals, but is no area to report on
        problem = EmptyState(_t(lang, "“%(code)s” verzamelt wat niet te lokaliseren is: daarover is er geen rapport.",
                                code=code), offers_label=_t(lang, "Bekijk de lijst:"),
                             offers=[(_t(lang, "alle %(level)s", level=_levels(ctx, lang)(level)),
                                      _url(f"/gebieden/{level}", ("lang", lang)))], unknown=True)
    return problem


# Registered before the page: that route would otherwise take "44021.pdf" for the code.
@router.get("/rapporten/{slug}/{level}/{code}.pdf")
def report_pdf(request: Request, ctx: CtxDep, lang: LangDep, slug: str, level: str, code: str) -> Response:
    entry = _shown(ctx, lang, slug, level, code)
    if isinstance(entry, Refusal):
        return _refused(request, lang, entry)
    pdf = ops.area_report_pdf(ctx, slug, level, code, lang=lang)
    name = re.sub(r"[^A-Za-z0-9-]+", "-", f"{slug}-{level}-{code}")
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})


@router.get("/rapporten/{slug}/{level}/{code}", response_class=HTMLResponse)
def report_page(request: Request, ctx: CtxDep, lang: LangDep, slug: str, level: str, code: str) -> Response:
    entry = _shown(ctx, lang, slug, level, code)
    if isinstance(entry, Refusal):
        return _refused(request, lang, entry)
    page = ops.area_report(ctx, slug, level, code, lang=lang)
    return render(request, "area_report.html", lang, page=page, report=page.view, slug=slug,
                  pdf_url=_report_url(slug, level, code, lang, ".pdf"),
                  picked=picked([page.view.area], lang), area_tree=tree_in_language(ops.area_tree(ctx), lang),
                  area_link=_url(f"/rapporten/{slug}", ("lang", lang)) + "&area=",
                  others=[(a.name, _report_url(slug, a.level, a.code, lang)) for a in page.others
                          if a.code != code],
                  others_title=_others_title(ctx, lang, page), svg=inline_svg, unit_word=unit_word)


def _others_title(ctx: Context, lang: str, page: ReportPage) -> str:
    if page.others_in is None:
        return ""
    return _t(lang, "Dit rapport voor de andere %(level)s van %(area)s",
              level=_levels(ctx, lang)(page.view.area.level), area=page.others_in.name)


