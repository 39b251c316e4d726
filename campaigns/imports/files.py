"""The uploaded file on disk: spooled to a temporary file while hashed and measured, and found
again (or copied down from remote storage) when the batch is checked or run."""

import hashlib
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from campaigns.models import ImportBatch


@contextmanager
def spooled(file):
    """Copy an upload to a local temporary file while hashing it: (path, size, sha256). Refuses an
    empty file or one over ``IMPORT_MAX_BYTES`` before reading all of it."""
    limit = settings.IMPORT_MAX_BYTES
    declared = getattr(file, "size", None)
    if declared is not None and declared > limit:
        raise ValidationError({"file": [too_big(declared, limit)]})
    digest, size = hashlib.sha256(), 0
    fd, name = tempfile.mkstemp(prefix="mops-import-")
    try:
        with os.fdopen(fd, "wb") as out:
            chunks = file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(1 << 20), b"")
            for chunk in chunks:
                if isinstance(chunk, str):
                    chunk = chunk.encode()
                size += len(chunk)
                if size > limit:
                    raise ValidationError({"file": [too_big(size, limit, at_least=True)]})
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ValidationError({"file": ["The file is empty."]})
        yield Path(name), size, digest.hexdigest()
    finally:
        os.unlink(name)


def stored_name(path) -> str:
    """The name to store a checked upload under: random, with the extension of what the file is
    (sniff() has refused anything but a workbook or delimited text). Never the uploaded name: a
    "report.html" must not land in MEDIA_ROOT as HTML should the web server ever serve that folder."""
    with open(path, "rb") as fh:
        is_workbook = fh.read(4) == b"PK\x03\x04"
    return f"{uuid.uuid4().hex}{'.xlsx' if is_workbook else '.csv'}"


def too_big(size: int, limit: int, *, at_least: bool = False) -> str:
    mb = 1024 * 1024
    return f"The file is {'over ' if at_least else ''}{size / mb:.1f} MB; the limit is {limit / mb:.0f} MB."


@contextmanager
def local_file(batch: ImportBatch):
    """A local path to the stored file (a temporary copy when the storage is remote)."""
    try:
        path = batch.file.path
    except NotImplementedError:
        path = None
    if path and os.path.exists(path):
        yield path
        return
    fd, name = tempfile.mkstemp(prefix="mops-import-")
    try:
        with os.fdopen(fd, "wb") as out, batch.file.open("rb") as source:
            shutil.copyfileobj(source, out)
        yield name
    finally:
        os.unlink(name)
