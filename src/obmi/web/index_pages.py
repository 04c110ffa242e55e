"""The index pages behind the site's navigation and breadcrumbs: every indicator by theme, the
themes, the area levels and the areas of one level, the dashboards and the stories. Each lists
what the caller may see (the operations apply the visibility rules) and can be filtered with
`?q=` without JavaScript."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from obmi import operations as ops
from obmi.web import i18n
from obmi.web.deps import CtxDep, LangDep
from obmi.web.pages import _t, _url, level_name, themes_of, unknown_level_state
from obmi.web.params import SearchText
from obmi.web.rendering import render

router = APIRouter(include_in_schema=False)


def _matches(query: str, *texts: Optional[str]) -> bool:
    """Every word of `query` occurs in one of `texts` (case-insensitive); an empty query matches."""
    haystack = " ".join(t for t in texts if t).casefold()
    return all(word in haystack for word in query.casefold().split())


def _name_key(name: str) -> str:
    """Sort by name as people read it: "'s-Gravenvoeren" under G, case ignored."""
    return name.lstrip("'’ ").removeprefix("s-").casefold()


@router.get("/indicatoren", response_class=HTMLResponse)
def indicator_index(request: Request, ctx: CtxDep, lang: LangDep, q: SearchText = ""):
    indicators = ops.list_indicators(ctx)
    shown = [i for i in indicators if _matches(q, i.code, i.name_nl, i.name_en, *i.themes)]
    groups = [(theme, sorted(items, key=lambda i: _name_key(i18n.pick(lang, i.name_nl, i.name_en))))
              for theme, items in themes_of(shown).items()]
    groups.sort(key=lambda group: _name_key(i18n.translate(lang, group[0])))
    return render(request, "indicator_index.html", lang, groups=groups, q=q, total=len(indicators),
                  shown=len(shown))


@router.get("/themas", response_class=HTMLResponse)
def theme_index(request: Request, ctx: CtxDep, lang: LangDep):
    themes = sorted(themes_of(ops.list_indicators(ctx)).items(),
                    key=lambda item: _name_key(i18n.translate(lang, item[0])))
    return render(request, "theme_index.html", lang, themes=themes)


def _level_groups(ctx, lang: str) -> list[tuple[str, list[tuple[str, str, int]]]]:
    """The levels with areas as (code, name, number of areas): today's, then earlier versions."""
    levels = [lvl for lvl in ops.list_levels(ctx) if lvl.areas]
    rows = {current: [(lvl.code, level_name(lvl, lvl.code, lang), lvl.areas) for lvl in levels
                      if lvl.is_current == current] for current in (True, False)}
    return [(_t(lang, "Huidige indeling"), rows[True]), (_t(lang, "Vroegere indelingen"), rows[False])]


@router.get("/gebieden", response_class=HTMLResponse)
def area_index(request: Request, ctx: CtxDep, lang: LangDep):
    return render(request, "area_index.html", lang, groups=_level_groups(ctx, lang), notice=None)


@router.get("/gebieden/{level}", response_class=HTMLResponse)
def level_index(request: Request, ctx: CtxDep, lang: LangDep, level: str, q: SearchText = ""):
    info = next((lvl for lvl in ops.list_levels(ctx) if lvl.code == level), None)
    if info is None:
        notice = unknown_level_state(ctx, lang, level, lambda code: _url(f"/gebieden/{code}", [("lang", lang)]))
        return render(request, "area_index.html", lang, status_code=404, groups=[], notice=notice)
    areas = sorted(ops.list_areas(ctx, level), key=lambda a: _name_key(a.name))
    shown = [a for a in areas if _matches(q, a.name, a.code)]
    return render(request, "level_index.html", lang, level=level, level_label=level_name(info, level, lang),
                  areas=shown, total=len(areas), q=q)


@router.get("/dashboards", response_class=HTMLResponse)
def dashboard_index(request: Request, ctx: CtxDep, lang: LangDep):
    boards = sorted(ops.list_dashboards(ctx), key=lambda d: _name_key(i18n.pick(lang, d.title_nl, d.title_en)))
    return render(request, "dashboard_index.html", lang, dashboards=boards)


@router.get("/verhalen", response_class=HTMLResponse)
def story_index(request: Request, ctx: CtxDep, lang: LangDep):
    return render(request, "story_index.html", lang, stories=ops.list_stories(ctx))  # newest first
