"""The plan reports API under /api/v1: the opvolgingsrapportering of a year and the college report
of a reporting period as PDF or XLSX, and their text sections (list, write, add, submit, decide).
Operations do the permission checks (another organisation's plan answers 404); writes need a
token with scope write or a session's CSRF token; a section changed by someone else since your
version answers 409 with both versions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from obmi import operations as ops
from obmi.web.deps import CtxDep
from obmi.web.params import PathCode, RecordId, Version, Year
from obmi.web.plans_api import _json, _writer
from obmi.web.plans_schemas import In, Out, dump, responses
from obmi.web.schemas import Timestamp

router = APIRouter(prefix="/api/v1", tags=["reports"])
ReportKind = Literal["opvolging", "college"]
Format = Literal["pdf", "xlsx"]
MEDIA = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class SectionOut(Out):
    id: int | None = Field(description="None: a legal section nobody wrote yet (write it with expected_version 0)")
    code: str
    title_nl: str
    title_en: str = ""
    position: int
    body: str = Field(description="The text; empty for readers until it is approved")
    state: str | None = Field(description="draft, submitted, returned, approved; None: nothing written (or not "
                                          "visible to you yet)")
    row_version: int = Field(description="Send as expected_version with the next change")
    updated_at: Timestamp | None = None
    updated_by: str | None = None
    decided_at: Timestamp | None = None
    decided_by: str | None = None
    decision_comment: str = ""


class SectionList(Out):
    report: str
    period: str
    data: list[SectionOut]


class SectionIn(In):
    body: str = Field(max_length=20_000, description="The text; a blank line starts a new paragraph")
    expected_version: int = Field(ge=0, description="The row_version your text is based on (0: never written)")
    title_nl: str | None = Field(None, max_length=300)
    title_en: str | None = Field(None, max_length=300)
    submit: bool = Field(False, description="Submit for approval after saving")


class NewSectionIn(In):
    title_nl: str = Field(min_length=1, max_length=300)
    title_en: str = Field("", max_length=300)
    code: str | None = Field(None, description="a–z, 0–9 and _ (default: from the title)")
    body: str = Field("", max_length=20_000)


class DecisionIn(In):
    decision: Literal["approve", "return", "reopen", "submit"]
    comment: str = Field("", max_length=5000, description="Required when returning")
    expected_version: int | None = Field(None, ge=1)


FILE_RESPONSES = {**responses(Out, 401, 403, 404),
                  200: {"content": {m: {"schema": {"type": "string", "format": "binary"}} for m in MEDIA.values()},
                        "description": "The report as a file"}}


def _file(data: bytes, name: str, fmt: str) -> Response:
    return Response(data, media_type=MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                          "Cache-Control": "private, no-store"})


@router.get("/plans/{plan_id}/reports/opvolging/{year}.{fmt}", response_class=Response,
            responses=FILE_RESPONSES)
def opvolging(ctx: CtxDep, plan_id: RecordId, year: Year, fmt: Format,
              lang: Annotated[Literal["nl", "en"], Query()] = "nl",
              version: Version = None,
              drafts: Annotated[bool, Query(description="Include texts not yet approved (report writers)")] = False
              ) -> Response:
    """The opvolgingsrapportering of the first semester of `year` (PDF or XLSX)."""
    data = ops.opvolging_report(ctx, year, plan_id=plan_id, fmt=fmt, lang=lang, version=version,
                                include_drafts=drafts)
    return _file(data, f"opvolging-{year}-{lang}.{fmt}", fmt)


@router.get("/plans/{plan_id}/reports/college/{period}.{fmt}", response_class=Response,
            responses=FILE_RESPONSES)
def college(ctx: CtxDep, plan_id: RecordId, period: PathCode, fmt: Format,
            lang: Annotated[Literal["nl", "en"], Query()] = "nl",
            version: Version = None,
            drafts: Annotated[bool, Query(description="Include texts not yet approved (report writers)")] = False
            ) -> Response:
    """The college report of one reporting period (PDF or XLSX)."""
    data = ops.college_report(ctx, period, plan_id=plan_id, fmt=fmt, lang=lang, version=version,
                              include_drafts=drafts)
    return _file(data, f"college-{period}-{lang}.{fmt}", fmt)


@router.get("/plans/{plan_id}/reports/{report}/{period}/sections", responses=responses(SectionList, 401, 403, 404))
def sections(ctx: CtxDep, plan_id: RecordId, report: ReportKind, period: PathCode) -> JSONResponse:
    """The text sections of a report: the legal ones first, then the organisation's own."""
    rows = ops.list_report_sections(ctx, plan_id, report, period)
    return _json(dump(SectionList, {"report": report, "period": period, "data": rows}))


@router.put("/plans/{plan_id}/reports/{report}/{period}/sections/{code}",
            responses=responses(SectionOut, 401, 403, 404, 409, stale=True))
def write_section(request: Request, ctx: CtxDep, plan_id: RecordId, report: ReportKind, period: PathCode, code: PathCode,
                  body: SectionIn) -> JSONResponse:
    """Save the text of a section as a draft (and submit it with submit=true)."""
    _writer(request, ctx)
    row = ops.save_report_section(ctx, plan_id, report, period, code, body.body, title_nl=body.title_nl,
                                  title_en=body.title_en, expected_version=body.expected_version)
    if body.submit:
        row = ops.submit_report_section(ctx, row["id"])
    return _json(dump(SectionOut, row))


@router.post("/plans/{plan_id}/reports/{report}/{period}/sections",
             responses=responses(SectionOut, 401, 403, 404, 409))
def add_section(request: Request, ctx: CtxDep, plan_id: RecordId, report: ReportKind, period: PathCode,
                body: NewSectionIn) -> JSONResponse:
    """Add an organisation's own section (a draft, after the legal ones)."""
    _writer(request, ctx)
    row = ops.add_report_section(ctx, plan_id, report, period, body.title_nl, title_en=body.title_en,
                                 code=body.code, body=body.body)
    return _json(dump(SectionOut, row), status_code=201)


@router.post("/report-sections/{section_id}/decision", responses=responses(SectionOut, 401, 403, 404, 409,
                                                                             stale=True))
def decide(request: Request, ctx: CtxDep, section_id: RecordId, body: DecisionIn) -> JSONResponse:
    """Submit a draft, or approve, return (with a comment) or reopen a submitted section."""
    _writer(request, ctx)
    if body.decision == "submit":
        row = ops.submit_report_section(ctx, section_id, expected_version=body.expected_version)
    else:
        row = ops.decide_report_section(ctx, section_id, decision=body.decision, comment=body.comment,
                                        expected_version=body.expected_version)
    return _json(dump(SectionOut, row))
