"""The information library: pages of offices and portals (the registration office, the recognition portal)
that process owners keep per topic and language, each with the date they last checked it.

A diagram element names its topics with properties `info:<topic>` (the value is free, e.g. a note for the
modeler); the worker's page (`engine.worker_page`) shows the items of each of the worker's open steps in
the worker's language, else in English, and says so. Who may keep the library: `engine.access`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from engine import access, clock
from engine.db import db
from engine.errors import Forbidden, InvalidFields, NotFound
from engine.models import InfoItem
from engine.worker_links import WORKER_LANGUAGES

TOPIC_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
PROPERTY_PREFIX = "info:"
FIELDS = ("topic", "language", "title", "url", "text", "reviewed_on")


def topics_of(props: dict) -> list[str]:
    """The library topics a diagram element names (`info:<topic>` properties), in the diagram's order."""
    return [name[len(PROPERTY_PREFIX):] for name in props if name.startswith(PROPERTY_PREFIX)
            and TOPIC_RE.fullmatch(name[len(PROPERTY_PREFIX):])]


@dataclass
class StepInfo:
    pages: list[InfoItem]
    in_english: bool            # none in the worker's language: these are the English ones


def for_topics(topics: list[str], language: str) -> StepInfo:
    """The items of `topics` in `language`, else (per topic) in English; one statement."""
    if not topics:
        return StepInfo([], False)
    rows = db.session.scalars(select(InfoItem).where(InfoItem.topic.in_(topics),
                                                     InfoItem.language.in_(sorted({language, "en"})))
                              .order_by(InfoItem.title, InfoItem.id)).all()
    items, fallback = [], False
    for topic in dict.fromkeys(topics):
        own = [row for row in rows if row.topic == topic and row.language == language]
        if not own and language != "en":
            own = [row for row in rows if row.topic == topic and row.language == "en"]
            fallback = fallback or bool(own)
        items.extend(own)
    return StepInfo(items, fallback)


# --------------------------------------------------------------------------- process owners

def _keeper(user) -> None:
    if not access.may_keep_info_library(user):
        raise Forbidden("only process owners keep the information library")


def library(user) -> list[InfoItem]:
    """Every item, by topic and language (the library page)."""
    _keeper(user)
    return list(db.session.scalars(select(InfoItem).order_by(InfoItem.topic, InfoItem.language, InfoItem.title)))


def item(user, item_id) -> InfoItem:
    _keeper(user)
    row = db.session.get(InfoItem, item_id) if isinstance(item_id, int) else None
    if row is None:
        raise NotFound(f"info item {item_id} does not exist")
    return row


def _check(fields: dict) -> dict:
    """The form's fields, checked: each wrong one named with what is wrong."""
    errors, values = {}, {name: (fields.get(name) or "").strip() for name in FIELDS}
    if not TOPIC_RE.fullmatch(values["topic"]):
        errors["topic"] = _l("Das Thema ist ein kurzer Schlüssel aus Kleinbuchstaben, Ziffern, - und _ "
                             "(wie im Diagramm: info:Thema), höchstens 64 Zeichen.")
    if values["language"] not in WORKER_LANGUAGES:
        errors["language"] = _l("Bitte wählen Sie eine der angebotenen Sprachen.")
    if not values["title"]:
        errors["title"] = _l("Bitte geben Sie einen Titel an.")
    elif len(values["title"]) > 200:
        errors["title"] = _l("Der Titel ist länger als 200 Zeichen.")
    url = values["url"]
    if url and (urlsplit(url).scheme not in ("https", "http") or not urlsplit(url).netloc or " " in url
                or len(url) > 500):
        errors["url"] = _l("Die Adresse muss mit https:// beginnen (höchstens 500 Zeichen).")
    if len(values["text"]) > 2000:
        errors["text"] = _l("Der Text ist länger als 2000 Zeichen.")
    if not url and not values["text"]:
        errors.setdefault("text", _l("Bitte geben Sie eine Adresse oder einen Text an."))
    try:
        values["reviewed_on"] = date.fromisoformat(values["reviewed_on"])
        if values["reviewed_on"] > clock.now().date():
            errors["reviewed_on"] = _l("Das Prüfdatum darf nicht in der Zukunft liegen.")
    except ValueError:
        errors["reviewed_on"] = _l("Bitte geben Sie das Datum der letzten Prüfung an (TT.MM.JJJJ).")
    if errors:
        raise InvalidFields(errors)
    return values


def save(user, item_id, fields: dict) -> InfoItem:
    """Add an item (`item_id` None) or change one (who and when are kept on the row); committed.
    Raises Forbidden, NotFound, or InvalidFields naming each wrong field (nothing is stored)."""
    _keeper(user)
    row = InfoItem() if item_id is None else item(user, item_id)
    values = _check(fields)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at, row.updated_by_id = clock.now(), user.id
    db.session.add(row)
    db.session.commit()
    return row


def delete(user, item_id) -> None:
    db.session.delete(item(user, item_id))
    db.session.commit()
