"""Uploads and downloads of case documents over HTTP, for the workspace and the portal alike: the request
limit of an upload, the refusal of an upload in the reader's words, and a file sent as a download that never
runs as a page of this site."""
from __future__ import annotations

import io

from flask import current_app, flash, redirect, request, send_file
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from engine import documents
from engine.settings import setting

UPLOAD_SLACK = 64 * 1024          # the form's other fields and the multipart framing


def accepts_upload(view):
    """Mark a view that takes a document: its request may be as large as a document (LOTSE_DOCUMENT_MAX_BYTES)
    rather than LOTSE_MAX_CONTENT_LENGTH."""
    view.lotse_accepts_upload = True
    return view


def _raise_limit_for_uploads():
    # before the CSRF check, which reads the form: the limit must be in place before the body is parsed
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if getattr(view, "lotse_accepts_upload", False):
        request.max_content_length = setting("DOCUMENT_MAX_BYTES") + UPLOAD_SLACK


def init_app(app):
    """Called first in web.create_app: the request guards and the CSRF check read the form in their own hooks."""
    app.before_request(_raise_limit_for_uploads)


UPLOAD_REFUSALS = {
    "empty": _l("Die Datei ist leer."),
    "too_large": _l("Die Datei ist größer als %(mb)s MB."),
    "type": _l("Diese Art von Datei nimmt Lotse nicht an (erkannt am Inhalt, nicht am Namen). Erlaubt sind PDF, "
               "Bilder (JPEG, PNG, WebP, TIFF, HEIC) und Office-Dokumente (DOCX, XLSX, ODT, ODS)."),
    "extension": _l("Der Dateiname passt nicht zum Inhalt: Die Datei ist eine %(kind)s-Datei."),
    "key": _l("Diese Unterlage gehört nicht zu diesem Fall."),
}


def refusal_text(refused: documents.UploadRefused) -> str:
    text = UPLOAD_REFUSALS.get(refused.code)
    if text is None:
        return str(refused)
    return str(text) % {"mb": setting("DOCUMENT_MAX_BYTES") // (1024 * 1024),
                        "kind": (refused.details.get("detected") or "").upper()}


def send_document(doc):
    """The file as a download, never shown as a page of this site."""
    response = send_file(io.BytesIO(documents.content(doc)), mimetype=doc.content_type, as_attachment=True,
                         download_name=doc.filename)
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"      # personal data: kept by no cache
    return response


def receive_upload(case, party: str, back: str, share_with=()):
    """The form's file (field `file`, optional `key`) as a document of `case` from `party`, uploaded by the
    current user; a message says what became of it, and the browser goes back to `back`."""
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        flash(_("Bitte wählen Sie eine Datei aus (Feld „Datei“)."), "error")
        return redirect(back)
    try:
        doc = documents.upload(case, filename=sent.filename, data=sent.read(), party=party, actor=current_user,
                               key=request.form.get("key") or None, share_with=share_with)
    except documents.UploadRefused as refused:
        flash(_("„%(name)s“ wurde nicht angenommen: %(reason)s", name=sent.filename, reason=refusal_text(refused)),
              "error")
        return redirect(back)
    flash(_("„%(name)s“ ist hochgeladen.", name=doc.filename), "success")
    return redirect(back)
