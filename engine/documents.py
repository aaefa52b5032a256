"""Documents of a case: the checklist the process asks for, uploads, and who may read them.

The checklist comes from the diagram (called processes included), in diagram order. Process owners
declare a document on the element that needs it with `camunda:properties`:

    <camunda:property name="document:power_of_attorney" value="Vollmacht der Fachkraft"/>   German label
    <camunda:property name="document:power_of_attorney:en" value="Power of attorney"/>      other languages
    <camunda:property name="document:power_of_attorney:from" value="employer"/>   who provides it
    <camunda:property name="document:power_of_attorney:for" value="employer,worker"/>   who sees it

`from` and `for` name parties (employer, worker, center, authority); `for` defaults to the `from` party.
The Welcome Center sees every document of its cases.

An upload is checked by its content (the `filetype` library reads the first bytes): only PDF, JPEG,
PNG, WebP, TIFF, HEIC and Office/OpenDocument files are taken, and the name's extension must agree
with the content, so a renamed program is refused whatever it is called. The size is limited
(`LOTSE_DOCUMENT_MAX_BYTES`). The bytes go to `engine.storage` under a random name; the row
records who uploaded what and for whom, and the case log gets a `document_uploaded` event.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import filetype
from sqlalchemy import select

from engine import access, clock, milestones, storage as storage_module
from engine.db import db
from engine.errors import InvalidData
from engine.models import Case, CaseDocument, CaseEvent
from engine.settings import setting

# extension the content says -> (MIME type, extensions a file name of that content may have)
ACCEPTED = {
    "pdf": ("application/pdf", {"pdf"}),
    "jpg": ("image/jpeg", {"jpg", "jpeg"}),
    "png": ("image/png", {"png"}),
    "webp": ("image/webp", {"webp"}),
    "tif": ("image/tiff", {"tif", "tiff"}),
    "heic": ("image/heic", {"heic", "heif"}),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", {"docx"}),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", {"xlsx"}),
    "odt": ("application/vnd.oasis.opendocument.text", {"odt"}),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", {"ods"}),
}
ACCEPTED_NAMES = "PDF, JPEG, PNG, WebP, TIFF, HEIC, DOCX, XLSX, ODT, ODS"
_PROPERTY = re.compile(r"^document:([a-z0-9_]{1,64})(?::([A-Za-z-]+))?$")


class UploadRefused(InvalidData):
    """An upload that is not taken; the message says why, in words for the person who sent it."""

    def __init__(self, code: str, message: str, **details):
        super().__init__(message)
        self.code, self.details = code, details


# --------------------------------------------------------------------------- the checklist

@dataclass(frozen=True)
class Requirement:
    key: str
    element_id: str
    props: dict

    def label(self, language: str) -> str:
        """In `language`, else English, else German (as milestones.text)."""
        for lang in (language, *milestones.FALLBACK_LANGUAGES):
            value = self.props.get("" if lang == "de" else lang)
            if value:
                return value
        return self.props.get("") or self.key

    @property
    def provider(self) -> str:
        return self.props.get("from") or "center"

    @property
    def shared_with(self) -> tuple[str, ...]:
        listed = [p.strip() for p in (self.props.get("for") or "").split(",") if p.strip()]
        return tuple(p for p in milestones.PARTIES if p in (listed or [self.provider]) and p != "center")


def requirements(definition_id: int) -> list[Requirement]:
    """The documents a process version asks for, in diagram order (each key once)."""
    plan = milestones.plan(definition_id)
    found: dict[str, dict] = {}
    where: dict[str, str] = {}
    for element_id in plan.elements:
        for name, value in plan.props_of.get(element_id, {}).items():
            match = _PROPERTY.match(name)
            if not match:
                continue
            key, part = match.groups()
            found.setdefault(key, {})
            where.setdefault(key, element_id)
            # the German label under "", every other part (a language, from, for) under its name
            found[key].setdefault(part or "", value)
    return [Requirement(key, where[key], props) for key, props in found.items()]


def problems(props: dict) -> list[str]:
    """What is wrong with an element's document properties (for the deploy check)."""
    out = []
    for name, value in props.items():
        if not name.startswith("document:"):
            continue
        match = _PROPERTY.match(name)
        if not match:
            out.append(f"property {name!r}: a document key is 1 to 64 of a-z, 0-9 and _, "
                       f"optionally followed by :from, :for or a language (document:power_of_attorney:en)")
            continue
        if match.group(2) == "from" and value not in milestones.PARTIES:
            out.append(f"property {name!r}: {value!r} is not a party ({', '.join(milestones.PARTIES)})")
        if match.group(2) == "for":
            unknown = [p.strip() for p in value.split(",") if p.strip() not in milestones.PARTIES]
            if unknown:
                out.append(f"property {name!r}: {', '.join(map(repr, unknown))} not a party "
                           f"({', '.join(milestones.PARTIES)})")
    return out


@dataclass(frozen=True)
class ChecklistItem:
    requirement: Requirement
    label: str
    received: CaseDocument | None          # the newest upload for it the reader may see


@dataclass
class Documents:
    """A case's documents as one party sees them: the checklist and every visible upload, newest first."""
    checklist: list[ChecklistItem]
    uploads: list[CaseDocument]


def for_party(case: Case, party: str, language: str = "de") -> Documents:
    """What `party` ("center" sees everything; "employer", "worker": what is shared with them) sees of
    `case`'s documents. The caller has checked that the reader may see the case."""
    query = select(CaseDocument).where(CaseDocument.case_id == case.id)
    if party != "center":
        query = query.where(access.shared_with_clause(party))
    uploads = db.session.scalars(query.order_by(CaseDocument.id.desc())).all()
    newest = {}
    for doc in uploads:
        if doc.key:
            newest.setdefault(doc.key, doc)
    checklist = [ChecklistItem(r, r.label(language), newest.get(r.key))
                 for r in requirements(case.definition_id)
                 if party == "center" or party in r.shared_with or party == r.provider]
    return Documents(checklist=checklist, uploads=uploads)


def find(case: Case, party: str, document_id) -> CaseDocument | None:
    """A document of `case` that `party` may see ("center": any of the case's), or None: for a page that
    reaches the case by other means than a login (the worker's link); users go through
    `engine.access.visible_document`."""
    query = select(CaseDocument).where(CaseDocument.case_id == case.id, CaseDocument.id == document_id)
    if party != "center":
        query = query.where(access.shared_with_clause(party))
    return db.session.scalar(query)


# --------------------------------------------------------------------------- uploading

def _safe_name(filename: str) -> str:
    """The file's own name, kept for the download: no path, no control characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", (filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    if len(name) > 255:
        stem, _, ext = name.rpartition(".")
        name = (stem[:250 - len(ext)] + "." + ext) if stem else name[:255]
    return name or "dokument"


def check(filename: str, data: bytes) -> tuple[str, str]:
    """(kind, MIME type) of an acceptable upload; raises UploadRefused naming what is wrong."""
    limit = setting("DOCUMENT_MAX_BYTES")
    if not data:
        raise UploadRefused("empty", "the file is empty")
    if len(data) > limit:
        raise UploadRefused("too_large", f"the file is larger than {limit // (1024 * 1024)} MB", limit=limit)
    kind = filetype.guess(data)
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if kind is None or kind.extension not in ACCEPTED:
        what = f"a {kind.extension.upper()} file" if kind is not None else "of a kind Lotse does not take"
        raise UploadRefused("type", f"the content is {what}; accepted are {ACCEPTED_NAMES}",
                            detected=kind.extension if kind else None)
    mime, extensions = ACCEPTED[kind.extension]
    if extension not in extensions:
        raise UploadRefused("extension", f"the name ends in .{extension or '(nothing)'} but the content is "
                                         f"{kind.extension.upper()}", detected=kind.extension)
    return kind.extension, mime


def upload(case: Case, *, filename: str, data: bytes, party: str, actor=None, key: str | None = None,
           share_with=(), storage=None) -> CaseDocument:
    """Store an upload for `case` by `party` (the actor's, checked by the caller) and log it; commits.

    `key` names the checklist item it answers (then it is shared as the diagram says); `share_with`
    adds parties for a document outside the checklist (an advisor's choice)."""
    name = _safe_name(filename)
    _kind, mime = check(name, data)
    shared = {party} - {"center"} | {p for p in share_with if p in milestones.PARTIES and p != "center"}
    if key:
        requirement = next((r for r in requirements(case.definition_id) if r.key == key), None)
        if requirement is None:
            raise UploadRefused("key", f"the process asks for no document {key!r}")
        shared |= set(requirement.shared_with)
    store = storage or storage_module.storage()
    stored = store.put(data)
    try:
        now = clock.now()
        doc = CaseDocument(case_id=case.id, key=key or None, filename=name, content_type=mime, size=len(data),
                           sha256=hashlib.sha256(data).hexdigest(), storage_key=stored, party=party,
                           shared_with=sorted(shared), uploaded_by_id=getattr(actor, "id", None), uploaded_at=now)
        db.session.add(doc)
        db.session.flush()
        db.session.add(CaseEvent(case_id=case.id, at=now, actor_id=getattr(actor, "id", None), kind="document_uploaded",
                                 details={"document_id": doc.id, "filename": name, "key": key, "size": len(data),
                                          "party": party}))
        case.updated_at = now
        db.session.commit()
    except Exception:
        db.session.rollback()
        store.delete(stored)              # no file without its row
        raise
    return doc


def content(doc: CaseDocument, storage=None) -> bytes:
    """The bytes of a document the caller has checked the reader may see."""
    return (storage or storage_module.storage()).get(doc.storage_key)
