"""The administration pages, under /admin: users, API tokens, organisations, imports (with an
upload page that runs in the background and shows its progress), and the audit log.

Each page calls operations only; the operations check the permissions. A page that shows
nothing of the store still refuses the anonymous public first (`_signed_in`), so no /admin page
is ever served to someone who is not signed in: they are sent to /login. Which links and forms
a page shows follows the pure permission rules (obmi.auth.permissions.allowed); the operation
behind each form checks again. Every POST checks its CSRF token first, then acts, then
redirects (post/redirect/get) — except where a secret must be shown exactly once (a new token).
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Iterable
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from obmi import operations as ops
from obmi.auth.actor import Actor
from obmi.auth.permissions import Resource, allowed
from obmi.auth.roles import Role
from obmi.context import Context
from obmi.errors import ImportRejected, NotAllowed, NotAuthenticated, NotFound, ValidationError
from obmi.operations import AuditFilter
from obmi.operations.accounts import ORGANISATION_KINDS
from obmi.operations.imports import ImportKind
from obmi.timeutil import as_utc
from obmi.web import i18n
from obmi.web.api_admin import import_options, report, save_upload
from obmi.web.auth_pages import NO_STORE, ROLE_TEXT, password_problems, role_label
from obmi.web.deps import CtxDep, LangDep
from obmi.web.jobs import registry
from obmi.web.params import PageNumber, RecordId
from obmi.web.rendering import render
from obmi.web.security import check_csrf

router = APIRouter(prefix="/admin", include_in_schema=False)
IMPORTS_PER_PAGE = 25
AUDIT_PER_PAGE = 50
LOCAL_TIME = ZoneInfo("Europe/Brussels")
OUTCOMES = ("ok", "refused", "rejected", "failed")
IMPORT_PERMISSIONS = tuple(sorted({k.run.operation.permission for k in ops.IMPORT_KINDS.values()}))  # type: ignore[attr-defined]

# (path, label, permission that makes the page useful; None: every signed-in user)
NAV: tuple[tuple[str, str, str | tuple[str, ...] | None], ...] = (
    ("/admin", "Overzicht", None),
    ("/admin/gebruikers", "Gebruikers", "users.read"),
    ("/admin/tokens", "API-sleutels", "tokens.read"),
    ("/admin/organisaties", "Organisaties", "organisations.read"),
    ("/admin/imports", "Imports", "imports.read"),
    ("/admin/imports/nieuw", "Nieuwe import", IMPORT_PERMISSIONS),
    ("/admin/audit", "Auditlog", "audit.read"),
    ("/account", "Mijn account", None),
)


# --- helpers ---------------------------------------------------------------------------------

def _signed_in(ctx: Context) -> None:
    if ctx.actor.is_anonymous:
        raise NotAuthenticated("sign in first")


def may(actor: Actor, permission: str | tuple[str, ...] | None, resource: Resource | None = None) -> bool:
    if permission is None:
        return not actor.is_anonymous
    names = (permission,) if isinstance(permission, str) else permission
    return any(allowed(actor, name, resource) for name in names)


def when(value: Any) -> str:
    """A stored time (UTC) as Belgian local time."""
    if value is None:
        return ""
    return as_utc(value).astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M:%S")


def _page(request: Request, ctx: Context, lang: str, template: str, current: str, *, status_code: int = 200,
          **context: Any) -> Response:
    actor = ctx.actor
    nav = [{"url": url, "label": label, "current": url == current} for url, label, perm in NAV if may(actor, perm)]
    response = render(request, template, lang, status_code=status_code, admin_nav=nav, when=when,
                      may=lambda permission, resource=None: may(actor, permission, resource),
                      role_label=lambda role: role_label(role, lang), **context)
    response.headers.update(NO_STORE)
    return response


def _back(url: str, lang: str, **params: Any) -> RedirectResponse:
    query = urlencode({**{k: v for k, v in params.items() if v not in (None, "")}, "lang": lang})
    return RedirectResponse(f"{url}?{query}", status_code=303)


def _split_groups(text: str) -> list[str]:
    return [g for g in (part.strip() for part in text.replace(";", ",").split(",")) if g]


def _assignable_roles(actor: Actor) -> list[str]:
    """The roles this actor may hand out (only instance administrators make administrators)."""
    return [r.value for r in Role if actor.is_admin or r != Role.ADMIN]


def _pages(total: int, per_page: int, page: int, url: str, params: dict[str, Any]) -> dict:
    count = max(1, math.ceil(total / per_page))
    page = min(max(1, page), count)

    def link(n: int) -> str:
        return f"{url}?{urlencode({**{k: v for k, v in params.items() if v}, 'page': n})}"
    return {"page": page, "count": count, "total": total, "first": (page - 1) * per_page + 1 if total else 0,
            "last": min(page * per_page, total), "prev": link(page - 1) if page > 1 else "",
            "next": link(page + 1) if page < count else "",
            "links": [(n, link(n)) for n in _window(page, count)]}


def _window(page: int, count: int) -> list[int]:
    """The page numbers to link: the first, the last and two either side of the current one."""
    return sorted({1, count, *range(max(1, page - 2), min(count, page + 2) + 1)})


def _user_resource(user: dict) -> Resource:
    return Resource("user", user["name"], user["organisation"], admin_only=Role.ADMIN in user["roles"])


def import_kinds(actor: Actor) -> list[ImportKind]:
    return [k for k in ops.IMPORT_KINDS.values() if allowed(actor, k.run.operation.permission)]  # type: ignore[attr-defined]


# --- the overview ----------------------------------------------------------------------------

@router.get("", response_class=HTMLResponse)
def overview(request: Request, ctx: CtxDep, lang: LangDep) -> Response:
    organisations = ops.list_organisations(ctx)  # refuses the anonymous public (→ /login)
    own = next((o for o in organisations if o.code == ctx.actor.organisation), None)
    return _page(request, ctx, lang, "admin_index.html", "/admin", organisation=own)


# --- users -----------------------------------------------------------------------------------

def _users_view(request: Request, ctx: Context, lang: str, *, status_code: int = 200,
                error: ValidationError | None = None, form: dict | None = None) -> Response:
    users = ops.list_users(ctx)
    organisations = ops.list_organisations(ctx)
    return _page(request, ctx, lang, "admin_users.html", "/admin/gebruikers", status_code=status_code,
                 users=users, organisations=organisations, roles=_assignable_roles(ctx.actor), error=error,
                 form=form or {"roles": [Role.READER.value], "organisation": ctx.actor.organisation or ""},
                 problems=password_problems(error, lang) if error else [])


@router.get("/gebruikers", response_class=HTMLResponse)
def users_page(request: Request, ctx: CtxDep, lang: LangDep) -> Response:
    return _users_view(request, ctx, lang)


@router.post("/gebruikers", response_class=HTMLResponse)
def add_user(request: Request, ctx: CtxDep, lang: LangDep, csrf_token: Annotated[str, Form()] = "",
             name: Annotated[str, Form()] = "", display_name: Annotated[str, Form()] = "",
             email: Annotated[str, Form()] = "", organisation: Annotated[str, Form()] = "",
             roles: Annotated[list[str], Form()] = [], groups: Annotated[str, Form()] = "",  # noqa: B006
             password: Annotated[str, Form()] = "", send_link: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    form = {"name": name, "display_name": display_name, "email": email, "organisation": organisation,
            "roles": roles, "groups": groups, "send_link": bool(send_link)}
    try:
        created = ops.add_user(ctx, name, roles=roles, organisation=organisation or None, password=password or None,
                               display_name=display_name, email=email, groups=_split_groups(groups))
    except ValidationError as exc:
        return _users_view(request, ctx, lang, status_code=422, error=exc, form=form)
    link = ""
    if send_link:
        try:
            ops.send_password_reset(ctx, created["name"])
            link = "verzonden"
        except ValidationError:
            link = "geen-email"
    return _back(f"/admin/gebruikers/{quote(created['name'])}", lang, aangemaakt=1, link=link)


def _user_view(request: Request, ctx: Context, lang: str, name: str, *, status_code: int = 200,
               error: ValidationError | None = None, problems: Iterable[str] = (), notice: str = "",
               link: str = "") -> Response:
    users = ops.list_users(ctx)  # the users one may see: another organisation's are unknown here
    user = next((u for u in users if u["name"] == name.strip().lower()), None)
    if user is None:
        raise NotFound(f"unknown user {name!r}")
    return _page(request, ctx, lang, "admin_user.html", "/admin/gebruikers", status_code=status_code, user=user,
                 manageable=may(ctx.actor, "users.manage", _user_resource(user)),
                 roles=_assignable_roles(ctx.actor), error=error, problems=list(problems), notice=notice, link=link,
                 role_help={r: i18n.translate(lang, text[1]) for r, text in ROLE_TEXT.items()})


@router.get("/gebruikers/{name}", response_class=HTMLResponse)
def user_page(request: Request, ctx: CtxDep, lang: LangDep, name: str, aangemaakt: str = "",
              gewijzigd: str = "", link: str = "") -> Response:
    notice = "created" if aangemaakt else gewijzigd if gewijzigd in ("gegevens", "status", "wachtwoord") else ""
    return _user_view(request, ctx, lang, name, notice=notice,
                      link=link if link in ("verzonden", "geen-email") else "")


@router.post("/gebruikers/{name}", response_class=HTMLResponse)
def update_user(request: Request, ctx: CtxDep, lang: LangDep, name: str, csrf_token: Annotated[str, Form()] = "",
                display_name: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "",
                roles: Annotated[list[str], Form()] = [], groups: Annotated[str, Form()] = "",  # noqa: B006
                ) -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    try:
        ops.update_user(ctx, name, roles=roles, groups=_split_groups(groups), display_name=display_name, email=email)
    except ValidationError as exc:
        return _user_view(request, ctx, lang, name, status_code=422, error=exc)
    return _back(f"/admin/gebruikers/{quote(name)}", lang, gewijzigd="gegevens")


@router.post("/gebruikers/{name}/status", response_class=HTMLResponse)
def user_status(request: Request, ctx: CtxDep, lang: LangDep, name: str, csrf_token: Annotated[str, Form()] = "",
                active: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    try:
        ops.update_user(ctx, name, active=active == "1")
    except ValidationError as exc:
        return _user_view(request, ctx, lang, name, status_code=422, error=exc)
    return _back(f"/admin/gebruikers/{quote(name)}", lang, gewijzigd="status")


@router.post("/gebruikers/{name}/wachtwoord", response_class=HTMLResponse)
def user_password(request: Request, ctx: CtxDep, lang: LangDep, name: str, csrf_token: Annotated[str, Form()] = "",
                  password: Annotated[str, Form()] = "", password2: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    if password != password2:
        return _user_view(request, ctx, lang, name, status_code=422,
                          problems=[i18n.translate(lang, "de twee wachtwoorden zijn niet gelijk")])
    try:
        ops.set_password(ctx, name, password)
    except ValidationError as exc:
        return _user_view(request, ctx, lang, name, status_code=422, problems=password_problems(exc, lang))
    return _back(f"/admin/gebruikers/{quote(name)}", lang, gewijzigd="wachtwoord")


@router.post("/gebruikers/{name}/resetlink", response_class=HTMLResponse)
def user_reset_link(request: Request, ctx: CtxDep, lang: LangDep, name: str,
                    csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    try:
        ops.send_password_reset(ctx, name)
    except ValidationError:
        return _back(f"/admin/gebruikers/{quote(name)}", lang, link="geen-email")
    return _back(f"/admin/gebruikers/{quote(name)}", lang, link="verzonden")


# --- API tokens ------------------------------------------------------------------------------

def _tokens_view(request: Request, ctx: Context, lang: str, *, status_code: int = 200, created: Any = None,
                 error: ValidationError | None = None, revoked: str = "") -> Response:
    tokens = ops.list_tokens(ctx)
    users = [u for u in ops.list_users(ctx) if u["is_active"]] if may(ctx.actor, "tokens.manage") else []
    return _page(request, ctx, lang, "admin_tokens.html", "/admin/tokens", status_code=status_code, tokens=tokens,
                 users=users, created=created, error=error, revoked=revoked)


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, ctx: CtxDep, lang: LangDep, ingetrokken: str = "") -> Response:
    return _tokens_view(request, ctx, lang, revoked=ingetrokken[:20])


@router.post("/tokens", response_class=HTMLResponse)
def create_token(request: Request, ctx: CtxDep, lang: LangDep, csrf_token: Annotated[str, Form()] = "",
                 user: Annotated[str, Form()] = "", scope: Annotated[str, Form()] = "read",
                 name: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    try:
        created = ops.create_token(ctx, user, scope=scope, name=name)
    except ValidationError as exc:
        return _tokens_view(request, ctx, lang, status_code=422, error=exc)
    # The token is in this page only (never stored, never in a URL): shown once, not kept by any cache.
    return _tokens_view(request, ctx, lang, status_code=201, created=created)


@router.post("/tokens/{token_id:int}/intrekken")
def revoke_token(request: Request, ctx: CtxDep, lang: LangDep, token_id: RecordId,
                 csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    ops.revoke_token(ctx, token_id)
    return _back("/admin/tokens", lang, ingetrokken=token_id)


# --- organisations ---------------------------------------------------------------------------

def _organisations_view(request: Request, ctx: Context, lang: str, *, status_code: int = 200,
                        error: ValidationError | None = None, form: dict | None = None, added: str = "") -> Response:
    organisations = ops.list_organisations(ctx)
    return _page(request, ctx, lang, "admin_organisations.html", "/admin/organisaties", status_code=status_code,
                 organisations=organisations, kinds=ORGANISATION_KINDS, error=error, form=form or {}, added=added)


@router.get("/organisaties", response_class=HTMLResponse)
def organisations_page(request: Request, ctx: CtxDep, lang: LangDep, toegevoegd: str = "") -> Response:
    return _organisations_view(request, ctx, lang, added=toegevoegd[:40])


@router.post("/organisaties", response_class=HTMLResponse)
def add_organisation(request: Request, ctx: CtxDep, lang: LangDep, csrf_token: Annotated[str, Form()] = "",
                     code: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
                     kind: Annotated[str, Form()] = "gemeente", host: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    try:
        row = ops.add_organisation(ctx, code, name, kind=kind, host=True if host else None)
    except ValidationError as exc:
        return _organisations_view(request, ctx, lang, status_code=422, error=exc,
                                   form={"code": code, "name": name, "kind": kind, "host": bool(host)})
    return _back("/admin/organisaties", lang, toegevoegd=row.code)


# --- imports ---------------------------------------------------------------------------------

@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, ctx: CtxDep, lang: LangDep, page: PageNumber = 1) -> Response:
    runs = ops.list_imports(ctx, limit=IMPORTS_PER_PAGE, offset=(page - 1) * IMPORTS_PER_PAGE)
    pages = _pages(runs.count, IMPORTS_PER_PAGE, page, "/admin/imports", {"lang": lang})
    return _page(request, ctx, lang, "admin_imports.html", "/admin/imports", runs=runs.data, pages=pages,
                 kinds={k.name: k for k in ops.IMPORT_KINDS.values()})


def _upload_view(request: Request, ctx: Context, lang: str, *, status_code: int = 200,
                 error: ValidationError | None = None, form: dict | None = None) -> Response:
    _signed_in(ctx)
    kinds = import_kinds(ctx.actor)
    if not kinds:
        raise NotAllowed(f"{ctx.actor.label} may not import anything (needs one of: {', '.join(IMPORT_PERMISSIONS)})")
    return _page(request, ctx, lang, "admin_upload.html", "/admin/imports/nieuw", status_code=status_code,
                 kinds=kinds, error=error, form=form or {"kind": kinds[0].name},
                 max_mb=request.app.state.settings.upload_max_mb)


@router.get("/imports/nieuw", response_class=HTMLResponse)
def upload_page(request: Request, ctx: CtxDep, lang: LangDep) -> Response:
    return _upload_view(request, ctx, lang)


@router.post("/imports/nieuw", response_class=HTMLResponse)
def upload(request: Request, ctx: CtxDep, lang: LangDep, csrf_token: Annotated[str, Form()] = "",
           kind: Annotated[str, Form()] = "", file: Annotated[UploadFile | None, File()] = None,
           dry_run: Annotated[str, Form()] = "", level: Annotated[str, Form()] = "",
           clear: Annotated[str, Form()] = "combinations", sum_duplicates: Annotated[str, Form()] = "",
           drop_special_values: Annotated[str, Form()] = "", skip_unknown_areas: Annotated[str, Form()] = "",
           allow_mixed_years: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, ctx, csrf_token)
    _signed_in(ctx)
    swing = {"clear": clear, "sum_duplicates": bool(sum_duplicates), "drop_special_values": bool(drop_special_values),
             "skip_unknown_areas": bool(skip_unknown_areas)}
    form = {"kind": kind, "dry_run": bool(dry_run), "level": level, "allow_mixed_years": bool(allow_mixed_years),
            **swing}
    try:
        chosen = ops.import_kind(kind)
        if chosen not in import_kinds(ctx.actor):
            # Refused before the upload is stored; the operation itself would refuse it too.
            raise NotAllowed(f"{ctx.actor.label} may not import {kind}")
        if file is None or not file.filename:
            raise ValidationError("choose a file to import", {"file": ["required"]})
        folder = Path(tempfile.mkdtemp(prefix="obmi-upload-"))
        try:
            path = save_upload(file, folder, request.app.state.settings.upload_max_mb << 20)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    except ValidationError as exc:
        return _upload_view(request, ctx, lang, status_code=422, error=exc, form=form)
    options = import_options(chosen.name, level, swing, allow_mixed_years=bool(allow_mixed_years))
    job_ctx, is_dry_run = ctx, bool(dry_run)

    def work(progress) -> dict:
        run_ctx = dataclasses.replace(job_ctx, progress=progress)
        try:
            result = chosen.run(run_ctx, path, dry_run=is_dry_run, **options)
        except ImportRejected as exc:
            return report(None, kind=chosen.name, file_name=path.name, error=exc)
        return report(result, kind=chosen.name, file_name=path.name)

    try:
        job = registry(request.app).submit(ctx.actor, title=path.name, kind=chosen.name, work=work, cleanup=folder)
    except ValidationError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return _upload_view(request, ctx, lang, status_code=422, error=exc, form=form)
    return RedirectResponse(f"/admin/imports/taken/{job.id}?lang={lang}", status_code=303)


def _job_context(request: Request, ctx: Context, lang: str, job_id: str) -> dict:
    jobs = registry(request.app)
    job = jobs.get(job_id, ctx.actor)
    kind = ops.IMPORT_KINDS.get(job.kind)
    return {"job": job, "kind_label": (kind.label_en if lang == "en" else kind.label_nl) if kind else job.kind,
            "position": jobs.position(job) if job.state == "queued" else 0,
            "status_url": f"/admin/imports/taken/{job.id}/status?lang={lang}"}


@router.get("/imports/taken/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, ctx: CtxDep, lang: LangDep, job_id: str) -> Response:
    _signed_in(ctx)
    return _page(request, ctx, lang, "admin_job.html", "/admin/imports/nieuw",
                 **_job_context(request, ctx, lang, job_id))


@router.get("/imports/taken/{job_id}/status", response_class=HTMLResponse)
def job_status(request: Request, ctx: CtxDep, lang: LangDep, job_id: str) -> Response:
    """The part of the job page that htmx fetches every second, until the job is over."""
    if ctx.actor.is_anonymous:
        if request.headers.get("hx-request"):  # the session ended while the page was polling
            target = quote(f"/admin/imports/taken/{job_id}", safe="")
            return Response(status_code=204, headers={"HX-Redirect": f"/login?next={target}"})
        raise NotAuthenticated("sign in first")
    response = render(request, "admin_job_status.html", lang, when=when, **_job_context(request, ctx, lang, job_id))
    response.headers.update(NO_STORE)
    return response


@router.get("/imports/{run_id:int}", response_class=HTMLResponse)
def import_page(request: Request, ctx: CtxDep, lang: LangDep, run_id: RecordId) -> Response:
    details = ops.import_details(ctx, run_id)
    kind = ops.IMPORT_KINDS.get(details.run["kind"])
    return _page(request, ctx, lang, "admin_import.html", "/admin/imports", run=details.run,
                 rejected=details.rejected,
                 kind_label=(kind.label_en if lang == "en" else kind.label_nl) if kind else details.run["kind"])


@router.get("/imports/{run_id:int}/rapport.csv")
def import_report(ctx: CtxDep, run_id: RecordId) -> Response:
    details = ops.import_details(ctx, run_id)
    return Response("\ufeff" + details.report_csv, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="import-{run_id}-rapport.csv"',
                             **NO_STORE})


# --- the audit log ---------------------------------------------------------------------------

def _audit_filter(resource_type: str, resource_id: str, actor: str, outcome: str, since: str,
                  until: str) -> AuditFilter:
    errors: dict[str, list[str]] = {}
    dates: dict[str, date | None] = {}
    for field, text in (("since", since), ("until", until)):
        try:
            dates[field] = date.fromisoformat(text.strip()) if text.strip() else None
        except ValueError:
            errors[field] = [text]
    if outcome and outcome not in OUTCOMES:
        errors["outcome"] = [outcome]
    if errors:
        raise ValidationError("invalid filter: dates are YYYY-MM-DD", errors)
    return AuditFilter(resource_type=resource_type.strip() or None, resource_id=resource_id.strip() or None,
                       actor=actor.strip().lower() or None, outcome=outcome or None, since=dates["since"],
                       until=dates["until"])


AuditQuery = Annotated[str, Query(max_length=200)]


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, ctx: CtxDep, lang: LangDep, resource_type: AuditQuery = "",
               resource_id: AuditQuery = "", actor: AuditQuery = "", outcome: AuditQuery = "",
               since: AuditQuery = "", until: AuditQuery = "", page: PageNumber = 1) -> Response:
    params = {"resource_type": resource_type, "resource_id": resource_id, "actor": actor, "outcome": outcome,
              "since": since, "until": until}
    try:
        f = _audit_filter(**params)
        error = None
    except ValidationError as exc:
        f, error = None, exc
    if f is None:
        ops.list_audit(ctx, AuditFilter(), limit=1)  # the permission check, even for a bad filter
        events, pages, status = [], _pages(0, AUDIT_PER_PAGE, 1, "/admin/audit", params), 422
    else:
        result = ops.list_audit(ctx, f, limit=AUDIT_PER_PAGE, offset=(page - 1) * AUDIT_PER_PAGE)
        events, status = result.data, 200
        pages = _pages(result.count, AUDIT_PER_PAGE, page, "/admin/audit", {**params, "lang": lang})
    csv_url = "/admin/audit.csv?" + urlencode({k: v for k, v in params.items() if v})
    return _page(request, ctx, lang, "admin_audit.html", "/admin/audit", status_code=status, events=events,
                 pages=pages, filters=params, outcomes=OUTCOMES, error=error, csv_url=csv_url)


@router.get("/audit.csv")
def audit_csv(ctx: CtxDep, resource_type: AuditQuery = "", resource_id: AuditQuery = "", actor: AuditQuery = "",
              outcome: AuditQuery = "", since: AuditQuery = "", until: AuditQuery = "") -> Response:
    _signed_in(ctx)
    f = _audit_filter(resource_type, resource_id, actor, outcome, since, until)
    text = ops.export_audit_csv(ctx, f)
    return Response("\ufeff" + text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"', **NO_STORE})
