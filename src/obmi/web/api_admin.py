"""The import API: run the same atomic import as the command line and the upload page, and read
import runs. Writing needs an API token with scope write (`Authorization: Bearer TOKEN`); a
browser session is not accepted here (no form, so no CSRF token, could vouch for the request)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from obmi import operations as ops
from obmi.auth import permissions
from obmi.errors import ImportRejected, NotAuthenticated, ValidationError
from obmi.operations.imports import ImportResult
from obmi.web.deps import CtxDep
from obmi.web.params import Offset, RecordId
from obmi.web.schemas import ImportReport, ImportRunDetail, ImportRunList, responses

router = APIRouter(prefix="/api/v1", tags=["imports"])
MAX_REJECTED_IN_REPORT = 1000
CHUNK = 1 << 20


def upload_name(filename: str | None) -> str:
    """The uploaded file's own name (readers recognise formats by it), without any path."""
    name = Path((filename or "").replace("\\", "/")).name.strip()
    if not name or name in {".", ".."} or len(name) > 200:
        raise ValidationError("the upload needs a file name", {"file": ["no file name"]})
    return name


def save_upload(upload: UploadFile, directory: Path, max_bytes: int) -> Path:
    """Stream an upload to `directory` under its own name; refuse it beyond `max_bytes`."""
    target = directory / upload_name(upload.filename)
    written = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise ValidationError(f"the file is larger than {max_bytes // (1 << 20)} MB",
                                      {"file": ["too large"]})
            out.write(chunk)
    if written == 0:
        raise ValidationError("the file is empty", {"file": ["empty"]})
    return target


def report(result: ImportResult | None, *, kind: str, file_name: str, error: ImportRejected | None = None
           ) -> dict[str, Any]:
    """The import report as JSON (ImportReport): counts, notes and the rejected rows."""
    if error is not None:
        rejected = error.rejected
        return {"import_id": error.import_id, "kind": kind, "file_name": file_name, "status": "failed",
                "rows_in": error.rows_in, "rows_ok": 0, "rows_skipped": 0, "inserted": 0, "updated": 0,
                "unchanged": 0, "derived": 0, "notes": [], "message": str(error.args[0]),
                "rejected_count": len(rejected),
                "rejected": [{"line": line, "reason": reason} for line, reason in rejected[:MAX_REJECTED_IN_REPORT]]}
    assert result is not None
    stats = result.stats
    return {"import_id": result.import_id, "kind": kind, "file_name": file_name,
            "status": result.status, "rows_in": stats.rows_in, "rows_ok": stats.rows_ok,
            "rows_skipped": stats.rows_skipped, "inserted": stats.inserted, "updated": stats.updated,
            "unchanged": stats.unchanged, "derived": stats.derived, "notes": stats.notes, "message": "",
            "rejected_count": 0, "rejected": []}


def import_options(kind: str, level: str | None, swing: dict[str, Any], *, allow_mixed_years: bool = False
                   ) -> dict[str, Any]:
    """The options of an import kind from a form: the level of a long-format file, Swing's upload
    options, whether a Statbel file may hold several years (the page and the import API share this)."""
    if kind == "statbel":
        return {"allow_mixed_years": allow_mixed_years}
    if kind == "observations" and level and level.strip():
        return {"level": level.strip()}
    if kind == "swing":
        return swing
    return {}



@router.post("/imports", responses=responses(ImportReport, 401, 403))
def post_import(request: Request, ctx: CtxDep, file: Annotated[UploadFile, File(description="The file to import.")],
                kind: Annotated[str, Form(min_length=1, json_schema_extra={"enum": list(ops.IMPORT_KINDS)},
                                          description="statbel, observations, swing or catalogue")],
                dry_run: Annotated[bool, Form(description="Validate and compute, then roll back.")] = False,
                level: Annotated[str | None, Form(description="observations: level of the codes.")] = None,
                clear: Annotated[Literal["combinations", "all", "none"], Form(
                    description="swing: earlier values replaced (the combinations in the file, all, none)")]
                = "combinations",
                sum_duplicates: Annotated[bool, Form(description="swing: sum duplicate records")] = False,
                drop_special_values: Annotated[bool, Form(description="swing: skip -99996…-99999")] = False,
                skip_unknown_areas: Annotated[bool, Form(description="swing: skip unknown areas")] = False,
                allow_mixed_years: Annotated[bool, Form(description=(
                    "statbel: import rows of another year than the file's (refused otherwise)"))] = False
                ) -> JSONResponse:
    """Run an import (atomic: all or nothing) and answer its report; a rejected file answers 422
    with the rejected rows (line, reason) and changes nothing."""
    if ctx.actor.via != "token":
        raise NotAuthenticated("send an API token with scope write (Authorization: Bearer TOKEN)", "token_invalid")
    chosen = ops.import_kind(kind)
    options = import_options(kind, level, {"clear": clear, "sum_duplicates": sum_duplicates,
                                           "drop_special_values": drop_special_values,
                                           "skip_unknown_areas": skip_unknown_areas},
                             allow_mixed_years=allow_mixed_years)
    if not permissions.allowed(ctx.actor, chosen.run.operation.permission):  # type: ignore[attr-defined]
        # Refused before a byte of the upload is read or stored: the operation itself checks
        # first, audits the refusal and raises NotAllowed (the file it is given never exists).
        chosen.run(ctx, Path(tempfile.gettempdir()) / "obmi-refused-upload")
    with tempfile.TemporaryDirectory(prefix="obmi-upload-") as folder:
        path = save_upload(file, Path(folder), request.app.state.settings.upload_max_mb << 20)
        try:
            result = chosen.run(ctx, path, dry_run=dry_run, **options)
        except ImportRejected as exc:
            return JSONResponse(report(None, kind=kind, file_name=path.name, error=exc), status_code=422)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return JSONResponse(report(result, kind=kind, file_name=path.name))


@router.get("/imports", responses=responses(ImportRunList, 401, 403))
def get_imports(ctx: CtxDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                offset: Offset = 0) -> JSONResponse:
    """Import runs (provenance) you may see, newest first."""
    page = ops.list_imports(ctx, limit=limit, offset=offset)
    body = ImportRunList.model_validate({"data": page.data, "count": page.count})
    return JSONResponse(body.model_dump(mode="json"))


@router.get("/imports/{run_id}", responses=responses(ImportRunDetail, 401, 403, 404))
def get_import(ctx: CtxDep, run_id: RecordId) -> JSONResponse:
    """One import run with all its rejected rows."""
    details = ops.import_details(ctx, run_id)
    body = ImportRunDetail.model_validate({**details.run, "rejected": [{"line": ln, "reason": r}
                                                                      for ln, r in details.rejected]})
    return JSONResponse(body.model_dump(mode="json"))
