"""Uploads and downloads of case documents over HTTP, for the workspace and the portal alike: the refusal
of an upload in the reader's words, and a file sent as a download that never runs as a page of this site."""
from __future__ import annotations

import io

from flask import send_file
from flask_babel import lazy_gettext as _l

from engine import documents
from engine.settings import setting

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
