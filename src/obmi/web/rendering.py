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
from obmi.web import i18n
from obmi.web.security import form_token, remember_csrf_binding

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STATUS_LABELS = {"suppressed": "onderdrukt", "missing": "onbekend", "not_applicable": "niet van toepassing",
                 "empty": "geen gegevens",
                 "provisional": "voorlopig", "estimated": "schatting", "final": ""}


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

    response = TEMPLATES.TemplateResponse(request, template, {
        "settings": settings, "lang": lang, "_": _, "fmt": fmt, "pick": lambda nl, en: i18n.pick(lang, nl, en),
        "status_label": status_label, "other_lang": "en" if lang == "nl" else "nl",
        "lang_url": _with_lang(request, "en" if lang == "nl" else "nl"), "version": __version__,
        "has_logo": bool(settings.logo), "actor": actor,
        "csrf_token": (lambda: form_token(request, ctx)) if ctx is not None else (lambda: ""),
        **context}, status_code=status_code)
    remember_csrf_binding(request, response)
    if request.query_params.get("lang") == lang:
        response.set_cookie("obmi_lang", lang, max_age=365 * 24 * 3600, samesite="lax")
    return response
