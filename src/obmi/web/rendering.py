"""Template rendering with what every page needs: settings (name, logo, colours), language,
translation, locale number formatting, and links that keep the current view."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates

from obmi import __version__
from obmi.auth.actor import ANONYMOUS
from obmi.publish import signs
from obmi.web import i18n
from obmi.web.security import form_token, remember_csrf_binding

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
# The word for every status (Dutch msgids; obmi.publish.signs is the one table of them).
STATUS_LABELS = {**{status: nl for status, (nl, _en) in signs.VALUE_WORDS.items()},
                 **{status: sign.label_nl for status, sign in signs.SIGNS.items()}}


class SignLegend:
    """The signs a page has shown so far (x, n.v.t., ?, –): each table's legend lists those its
    cells used — `take()` returns them once, in legend order, and starts over."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.used: set[str] = set()

    def sign(self, value, status) -> dict | None:
        """How a cell shows: None for its number, else its status, symbol and label."""
        found = signs.sign_of(value, status)
        if found is None:
            return None
        self.used.add(found.status)
        return {"status": str(found.status), "symbol": found.symbol(self.lang), "label": found.label(self.lang)}

    def take(self) -> list[dict]:
        shown = [{"status": str(s.status), "symbol": s.symbol(self.lang), "label": s.label(self.lang)}
                 for s in signs.used_signs(self.used)]
        self.used = set()
        return shown


def origin_words(origin, lang: str) -> dict | None:
    """The compact marker and the words for where a value comes from; None without observation."""
    found = signs.ORIGINS.get(origin or "")
    return {"origin": str(found.origin), "marker": found.marker, "label": found.label(lang)} if found else None


def script_json(data) -> str:
    """JSON safe inside <script type="application/json">: no "</script>" can end the element."""
    return json.dumps(data, ensure_ascii=False, default=str).replace("</", "<\\/")


def _with_lang(request: Request, lang: str) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", lang)]
    return f"{request.url.path}?{urlencode(params)}"


def render(request: Request, template: str, lang: str, status_code: int = 200, **context):
    settings = request.app.state.settings
    ctx = getattr(request.state, "context", None)
    actor = ctx.actor if ctx is not None else ANONYMOUS

    def _(text: str) -> str:
        return i18n.translate(lang, text)

    def fmt(value, decimals: int = 0) -> str:
        return i18n.number(value, decimals, lang)

    def status_label(status: str) -> str:
        return _(STATUS_LABELS.get(status, status))

    legend = SignLegend(lang)

    response = TEMPLATES.TemplateResponse(request, template, {
        "settings": settings, "lang": lang, "_": _, "fmt": fmt, "pick": lambda nl, en: i18n.pick(lang, nl, en),
        "status_label": status_label, "sign": legend.sign, "take_signs": legend.take,
        "other_lang": "en" if lang == "nl" else "nl",
        "lang_url": _with_lang(request, "en" if lang == "nl" else "nl"), "version": __version__,
        "has_logo": bool(settings.logo), "actor": actor,
        "csrf_token": (lambda: form_token(request, ctx)) if ctx is not None else (lambda: ""),
        **context}, status_code=status_code)
    remember_csrf_binding(request, response)
    if request.query_params.get("lang") == lang:
        response.set_cookie("obmi_lang", lang, max_age=365 * 24 * 3600, samesite="lax")
    return response
