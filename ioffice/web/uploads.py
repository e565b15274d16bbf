"""Uploaded files in forms: held across a refused submission, and the fields of an over-size
request recovered so that the form can be shown again (docs/forms.md).

A form with a file posts either new files (``<input type=file>``) or the tokens of files held
from its previous, refused submission (hidden ``held`` fields). New files win: choosing another
file replaces what was held.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field

from flask import current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from ioffice.db import utcnow
from ioffice.documents import held
from ioffice.documents.pdf import InvalidPdf, inspect_pdf
from ioffice.services import services
from ioffice.text import UnsafeText, clean
from ioffice.web.auth import current_actor

# what each kind of upload accepts: the input's accept attribute and the browser's check
ACCEPTED = {"pdf": ".pdf", "draft": ".pdf,.docx", "scan": ".pdf,.jpg,.jpeg,.png"}
EXPIRED = "Tệp đã giữ từ lần gửi trước đã hết hạn hoặc không còn; vui lòng chọn lại tệp."
# field data kept from an over-size request; the file parts are skipped, not kept
_OVERSIZE_FIELDS_MAX = 256 * 1024
# a body this many times the limit is not read through at all (the fields may follow the file)
_OVERSIZE_READ_FACTOR = 4
# held tokens read from one submission (a registration takes at most 20 files)
_HELD_MAX = 20


@dataclass
class Files:
    """What a form submitted as files: (name, bytes) pairs, and the held files they came from
    (or that now hold them, after :meth:`hold`)."""

    items: list[tuple[str, bytes]] = field(default_factory=list)
    held: list[held.HeldFile] = field(default_factory=list)
    error: str | None = None
    """A held token that no longer answers (expired, or not the user's)."""

    def hold(self) -> list[held.HeldFile]:
        """Keep the files for the next submission of the form (after it was refused)."""
        if self.held or not self.items:
            return self.held
        actor = current_actor()
        now = utcnow()
        self.held = [held.hold(services().blobs, user_id=actor.user_id, agency_id=actor.agency_id,
                               filename=name, data=data, now=now, page_count=_pages(name, data))
                     for name, data in self.items]
        return self.held

    def release(self) -> None:
        """The form succeeded: its held files are no longer needed."""
        for h in self.held:
            held.release(services().blobs, h.token)


def accepted_types(kind: str) -> str:
    return ACCEPTED[kind]


def ttl() -> dt.timedelta:
    return dt.timedelta(hours=float(current_app.config["HELD_UPLOAD_HOURS"]))


def files(field_name: str) -> Files:
    """The files a form submitted in ``field_name``, or the files it held before."""
    uploads = [(f.filename or "tep.pdf", f.read())
               for f in request.files.getlist(field_name) if f and f.filename]
    if uploads:
        return Files(uploads)
    result = Files()
    actor = current_actor()
    for token in request.form.getlist("held")[:_HELD_MAX]:
        found = held.take(services().blobs, token, user_id=actor.user_id,
                          agency_id=actor.agency_id, now=utcnow(), ttl=ttl())
        if found is None:
            result.error = EXPIRED
            continue
        result.held.append(found[0])
        result.items.append((found[0].filename, found[1]))
    return result


def _pages(name: str, data: bytes) -> int | None:
    if not name.lower().endswith(".pdf") and not data.startswith(b"%PDF-"):
        return None
    try:
        return inspect_pdf(data, name).page_count
    except InvalidPdf:
        return None


def oversize_fields() -> MultiDict:
    """The text fields of a request refused as too large, read from the raw body with the file
    parts skipped. Empty when the body is not multipart or cannot be read (then the user types
    the fields again; the error still says why)."""
    form: MultiDict = MultiDict()
    boundary = request.mimetype_params.get("boundary")
    if request.mimetype != "multipart/form-data" or not boundary:
        return form
    stream = request.environ.get("wsgi.input")
    remaining = request.content_length
    if stream is None or remaining is None:  # a chunked body: werkzeug already read part of it
        return form
    if remaining > _OVERSIZE_READ_FACTOR * current_app.config["MAX_CONTENT_LENGTH"]:
        return form  # not worth reading through to find the fields
    decoder = MultipartDecoder(boundary.encode(), max_form_memory_size=None)
    kept = 0
    current: Field | None = None
    value = bytearray()
    while remaining > 0:
        chunk = stream.read(min(65536, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
        decoder.receive_data(chunk)
        event = decoder.next_event()
        while not isinstance(event, NeedData | Epilogue):
            if isinstance(event, Field):
                current, value = event, bytearray()
            elif isinstance(event, File):
                current = None
            elif isinstance(event, Data) and current is not None:
                kept += len(event.data)
                if kept > _OVERSIZE_FIELDS_MAX:
                    return form
                value += event.data
                if not event.more_data:
                    _add(form, current.name, value)
                    current = None
            event = decoder.next_event()
        if isinstance(event, Epilogue):
            break
    return form


def _add(form: MultiDict, name: str, raw: bytearray) -> None:
    # a field the normal path would refuse is simply not kept
    with contextlib.suppress(UnicodeDecodeError, UnsafeText):
        form.add(clean(name), clean(raw.decode("utf-8")))
