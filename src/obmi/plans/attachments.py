"""Attachments to status updates: what a file is, decided by its content, never by its name.

Accepted: PDF, PNG, JPEG, GIF, Word/Excel/PowerPoint (docx, xlsx, pptx), OpenDocument text and
spreadsheet (odt, ods), and plain text or CSV (UTF-8). Refused: empty or too large files,
anything else (executables, archives, documents with macros), HTML and SVG (they can carry
scripts), and a name whose extension says something else than the content (a PNG named
evil.pdf). A name without an extension gets the one of its content.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
import zlib
from pathlib import PurePosixPath
from typing import NoReturn

from obmi.errors import ValidationError

MAX_NAME = 200
# Office viewers and thumbnailers unpack a zip-based document: refuse one that claims to unpack
# to far more than any real report (a zip bomb passes the size limit by its compressed size).
MAX_UNPACKED = 500 << 20

_ZIP_PROBE_LIMIT = 64 << 10  # [Content_Types].xml and mimetype are small: read no bigger entry
_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')

# kind → (content type, accepted extensions; the first is added to a name without one)
TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "pdf": ("application/pdf", (".pdf",)),
    "png": ("image/png", (".png",)),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg")),
    "gif": ("image/gif", (".gif",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx",)),
    "odt": ("application/vnd.oasis.opendocument.text", (".odt",)),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", (".ods",)),
    "text": ("text/plain; charset=utf-8", (".txt", ".csv", ".tsv")),
}
CSV_TYPE = "text/csv; charset=utf-8"
ACCEPTED = "PDF, PNG, JPEG, GIF, Word, Excel, PowerPoint (docx, xlsx, pptx), OpenDocument (odt, ods), text and CSV"

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
# Windows, Linux and macOS programs; only binary files count (a text may well start with "MZ").
_PROGRAMS = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",
             b"\xca\xfe\xba\xbe")
# The main part of an OOXML package tells the three apart, and the macro-enabled variants from them.
_OOXML_MAIN = {
    "wordprocessingml.document.main+xml": "docx",
    "spreadsheetml.sheet.main+xml": "xlsx",
    "presentationml.presentation.main+xml": "pptx",
}
_ODF_MIMETYPES = {"application/vnd.oasis.opendocument.text": "odt",
                  "application/vnd.oasis.opendocument.spreadsheet": "ods"}
_MARKUP = re.compile(rb"<\s*(?:!doctype\s+html|html|svg|script|\?xml|body|iframe)\b", re.IGNORECASE)


def check_attachment(filename: str, data: bytes, max_bytes: int) -> tuple[str, str]:
    """(safe name, content type) of an acceptable attachment; ValidationError (field "file")
    saying why one is refused."""
    name = safe_name(filename)
    if not data:
        _refuse("the file is empty")
    if len(data) > max_bytes:
        _refuse(f"the file is larger than {_megabytes(max_bytes)} MB ({_megabytes(len(data))} MB)")
    kind = _kind_of(data)
    content_type, extensions = TYPES[kind]
    extension = PurePosixPath(name).suffix.lower()
    if not extension:
        return _with_extension(name, extensions[0]), content_type
    if extension not in extensions:
        _refuse(f"the name ends in {extension} but the file is {_describe(kind)}: rename it to {extensions[0]}"
                if kind != "text" else f"the name ends in {extension} but the file is plain text (.txt or .csv)")
    if kind == "text" and extension == ".csv":
        content_type = CSV_TYPE
    return name, content_type


def safe_name(filename: str) -> str:
    """The file's own name: no folders, no control or invisible formatting characters (a
    right-to-left override makes "fdp.exe" look like "exe.pdf"), at most 200 characters."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch) not in ("Cc", "Cf"))
    text = " ".join(_WINDOWS_RESERVED.sub("_", text).split()).lstrip(". ")
    if not text:
        _refuse("the file needs a name")
    if len(text) > MAX_NAME:
        suffix = PurePosixPath(text).suffix
        suffix = suffix if len(suffix) <= 10 else ""
        text = text[: MAX_NAME - len(suffix)].rstrip(". ") + suffix
    return text


def _kind_of(data: bytes) -> str:
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    text = _is_text(data)
    if data.startswith(b"#!") or (not text and data.startswith(_PROGRAMS)):
        _refuse("programs and scripts are not accepted as attachments")
    if text:
        # Browsers sniff markup near the start of a file, not only at its first byte.
        if _MARKUP.search(data[:4096]):
            _refuse("HTML, SVG and XML files are not accepted (they can contain scripts): send a PDF instead")
        return "text"
    _refuse(f"this type of file is not accepted: send {ACCEPTED}")


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            if sum(info.file_size for info in infos.values()) > MAX_UNPACKED:
                _refuse(f"the file unpacks to more than {MAX_UNPACKED >> 20} MB")
            if any(name.lower().endswith("vbaproject.bin") or name.startswith(("Basic/", "Scripts/")) for name in infos):
                _refuse("documents with macros are not accepted: save it without macros (docx, xlsx, pptx, odt, ods)")
            kind = _ooxml_kind(archive, infos) or _odf_kind(archive, infos)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError):
        # RuntimeError: an encrypted entry; NotImplementedError: an unknown compression method.
        _refuse("the file is a damaged, encrypted or unusual zip archive")
    if kind is None:
        _refuse(f"zip archives are not accepted: send {ACCEPTED}")
    return kind


def _ooxml_kind(archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> str | None:
    manifest = _small_entry(archive, infos, "[Content_Types].xml")
    if manifest is None:
        return None
    found = [kind for marker, kind in _OOXML_MAIN.items() if marker in manifest]
    if len(found) != 1:
        _refuse("this Office document is not a plain docx, xlsx or pptx (macro-enabled or a template?)")
    return found[0]


def _odf_kind(archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> str | None:
    mimetype = _small_entry(archive, infos, "mimetype")
    if mimetype is None:
        return None
    kind = _ODF_MIMETYPES.get(mimetype.strip())
    if kind is None:
        _refuse(f"this OpenDocument file ({mimetype.strip()[:80]}) is not accepted: send a text (odt) or spreadsheet (ods)")
    return kind


def _small_entry(archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], name: str) -> str | None:
    info = infos.get(name)
    if info is None or info.file_size > _ZIP_PROBE_LIMIT:
        return None
    return archive.read(info).decode("utf-8", errors="replace")


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _with_extension(name: str, extension: str) -> str:
    return name[: MAX_NAME - len(extension)].rstrip(". ") + extension


_DESCRIPTIONS = {"pdf": "a PDF", "png": "a PNG image", "jpeg": "a JPEG image", "gif": "a GIF image",
                 "docx": "a Word document (docx)", "xlsx": "an Excel workbook (xlsx)",
                 "pptx": "a PowerPoint presentation (pptx)", "odt": "an OpenDocument text (odt)",
                 "ods": "an OpenDocument spreadsheet (ods)"}


def _describe(kind: str) -> str:
    return _DESCRIPTIONS[kind]


def _megabytes(size: int) -> str:
    return f"{size / (1 << 20):.1f}".removesuffix(".0")


def _refuse(message: str) -> NoReturn:
    raise ValidationError(message, {"file": [message]})
