"""What a campaign file really is: its type told from its content (magic bytes), never from the
name or the browser's claim alone, and checked against a short whitelist; the name must agree.

Only types a browser will not run are allowed — no HTML, SVG, scripts or executables — and even
those are served as downloads (see ``attachments.views``). ``check`` is what ``services.attachment_add``
calls before anything is stored.
"""

import codecs
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

ALLOWED_LABELS = "PDF, PNG, JPEG, GIF, WebP, Word, Excel, PowerPoint, text, CSV"
HEAD_BYTES = 4096
CONTENT_TYPES_MAX_BYTES = 1024 * 1024  # an OOXML part list is a few KB; never read a bomb whole


@dataclass(frozen=True)
class FileType:
    label: str  # "a PNG image", for messages
    content_type: str
    extensions: tuple[str, ...]  # lower case with the dot; the first is the canonical one


PDF = FileType("a PDF document", "application/pdf", (".pdf",))
PNG = FileType("a PNG image", "image/png", (".png",))
JPEG = FileType("a JPEG image", "image/jpeg", (".jpg", ".jpeg"))
GIF = FileType("a GIF image", "image/gif", (".gif",))
WEBP = FileType("a WebP image", "image/webp", (".webp",))
DOCX = FileType(
    "a Word document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)
)
XLSX = FileType("an Excel workbook", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))
PPTX = FileType(
    "a PowerPoint presentation",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    (".pptx",),
)
# Plain text is one detection (UTF-8, no NUL); the extension says which text type it is.
TEXT_TYPES = {
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".md": "text/markdown",
}
TEXT = FileType("a text file", "text/plain", tuple(TEXT_TYPES))

ALLOWED_EXTENSIONS = tuple(
    ext for t in (PDF, PNG, JPEG, GIF, WEBP, DOCX, XLSX, PPTX, TEXT) for ext in t.extensions
)  # for the file picker's ``accept``

_MAGIC = [
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
]
_EXECUTABLE_MAGIC = (
    b"MZ",  # Windows PE (.exe, .dll)
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O, both byte orders, 32 and 64 bit, and universal binaries
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",  # a script with an interpreter line
)
_OOXML_MAIN_PARTS = [  # the main part's content type in [Content_Types].xml → the document type
    (b"wordprocessingml.document.main+xml", DOCX),
    (b"spreadsheetml.sheet.main+xml", XLSX),
    (b"presentationml.presentation.main+xml", PPTX),
]
_OOXML_FOLDERS = [("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)]
_BINARY_EXTENSIONS = frozenset(ALLOWED_EXTENSIONS) - set(TEXT_TYPES)
_TAG_START = re.compile(r"<[a-z!?]")
# How refused types are named in messages when the content does not name them better.
_EXTENSION_LABELS = {
    ".html": "HTML",
    ".htm": "HTML",
    ".xhtml": "HTML",
    ".svg": "SVG",
    ".svgz": "SVG",
    **dict.fromkeys((".exe", ".dll", ".msi", ".com", ".scr", ".bat", ".cmd", ".ps1", ".sh", ".app"), "Executable"),
}


class Refused(Exception):
    """Not a type we accept: ``what`` names it for "… files cannot be attached"."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


@dataclass(frozen=True)
class Checked:
    """An upload that passed: what it is, how big, and the names to show and to store."""

    file_type: FileType
    content_type: str
    size: int
    name: str  # the user's file name, cleaned for display
    extension: str  # the canonical extension of the detected type, for the stored name


def refusal(what: str) -> str:
    return f"{what} files cannot be attached; allowed: {ALLOWED_LABELS}."


def human_size(size: int) -> str:
    """1536 → "1.5 KB"; 20971520 → "20 MB"."""
    if size < 1024:
        return f"{size} byte{'' if size == 1 else 's'}"
    value, unit = (size / 1024, "KB") if size < 1024 * 1024 else (size / (1024 * 1024), "MB")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def display_name(raw: str | None) -> str:
    """The last path component of the uploaded name, without control characters, at most 255."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > 255:
        stem, ext = os.path.splitext(name)
        name = stem[: 255 - len(ext)] + ext if len(ext) < 20 else name[:255]
    return name or "file"


def extension_of(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def check(uploaded_file, *, max_bytes: int | None = None) -> Checked:
    """Check an upload's size, type and name; raise ``ValidationError({"file": [...]})`` if refused.

    Reads the file (a Django ``File``: ``chunks()``, ``seek()``) once, plus the ZIP directory of
    Office files, and leaves it rewound.
    """
    limit = settings.ATTACHMENT_MAX_BYTES if max_bytes is None else max_bytes
    name = display_name(getattr(uploaded_file, "name", ""))
    declared = getattr(uploaded_file, "size", None)
    if declared is not None and declared > limit:
        raise _invalid(_too_big(declared, limit))
    try:
        size, head, is_text = _scan(uploaded_file, limit)
        if size == 0:
            raise _invalid("The file is empty.")
        file_type = _detect(uploaded_file, head, is_text, extension_of(name))
    except Refused as refused:
        raise _invalid(refusal(refused.what)) from None
    finally:
        uploaded_file.seek(0)
    extension = extension_of(name)
    if extension not in file_type.extensions:
        raise _invalid(_mismatch(name, extension, file_type))
    if file_type is TEXT:
        return Checked(file_type, TEXT_TYPES[extension], size, name, extension)
    return Checked(file_type, file_type.content_type, size, name, file_type.extensions[0])


def _invalid(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def _too_big(size: int, limit: int) -> str:
    return f"The file is {human_size(size)}; attachments can be at most {human_size(limit)}."


def _mismatch(name: str, extension: str, file_type: FileType) -> str:
    *others, last = file_type.extensions
    wanted = f"{', '.join(others)} or {last}" if others else last
    if not extension:
        return f"“{name}” is {file_type.label} but its name has no extension: end it with {wanted}."
    return f"“{name}” is {file_type.label} but its name ends in {extension}: rename it to end with {wanted}."


def _scan(uploaded_file, limit: int) -> tuple[int, bytes, bool]:
    """Read the whole file once: (size, first bytes, whether it is UTF-8 text without NUL)."""
    uploaded_file.seek(0)
    size, head = 0, b""
    decoder = codecs.getincrementaldecoder("utf-8")()
    is_text = True
    for chunk in uploaded_file.chunks():
        size += len(chunk)
        if size > limit:
            raise _invalid(_too_big(size, limit))
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        if is_text:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                is_text = False
            else:
                is_text = b"\x00" not in chunk
    if is_text:
        try:
            decoder.decode(b"", final=True)  # a multi-byte character cut off at the end
        except UnicodeDecodeError:
            is_text = False
    return size, head, is_text


def _detect(uploaded_file, head: bytes, is_text: bool, extension: str) -> FileType:
    for magic, file_type in _MAGIC:
        if head.startswith(magic):
            return file_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _office_type(uploaded_file)
    if head.startswith(_EXECUTABLE_MAGIC):
        raise Refused("Executable")
    if is_text:
        markup = _markup(head)
        if markup:
            raise Refused(markup)
        if extension in TEXT_TYPES or extension in _BINARY_EXTENSIONS or not extension:
            return TEXT  # a .txt or .csv passes; a .pdf or no extension gets the mismatch message
    raise Refused(_EXTENSION_LABELS.get(extension) or (extension[1:].upper() if extension else "Unrecognised"))


def _markup(head: bytes) -> str | None:
    """HTML, SVG or XML by content, whatever the name says: browsers would render them."""
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n").lower()
    if not _TAG_START.match(text):
        return None  # "<5k accounts,…" in a CSV is not a tag
    if "<svg" in text:
        return "SVG"
    if text.startswith("<?xml") and "<html" not in text:
        return "XML"
    return "HTML"


def _office_type(uploaded_file) -> FileType:
    """Word, Excel or PowerPoint: a ZIP whose entries include ``[Content_Types].xml``; which one is
    told by the main part's type there (or, failing that, by its folders). Macro-enabled files and
    other ZIP archives are refused."""
    uploaded_file.seek(0)
    try:
        with zipfile.ZipFile(uploaded_file) as archive:
            names = archive.namelist()
            if "[Content_Types].xml" not in names:
                raise Refused("ZIP")
            with archive.open("[Content_Types].xml") as part:
                content_types = part.read(CONTENT_TYPES_MAX_BYTES)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError, ValueError):
        raise Refused("Damaged or encrypted ZIP") from None
    if b"macroenabled" in content_types.lower() or any(n.lower().endswith("vbaproject.bin") for n in names):
        raise Refused("Macro-enabled Office")
    for marker, file_type in _OOXML_MAIN_PARTS:
        if marker in content_types:
            return file_type
    for folder, file_type in _OOXML_FOLDERS:
        if any(n.startswith(folder) for n in names):
            return file_type
    raise Refused("Unrecognised Office")
