"""The roles (groups) in words: the one definition of their labels, for pages (translated through the
catalog), for mails (plain texts: they are written outside a request) and for a group a center added."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from engine.db import db
from engine.i18n import N_
from engine.models import Group

# The roles in words, the one definition: a group row keeps the German text, pages show GROUP_LABELS.
GROUP_LABELS_DE = {
    "advisor": N_("Beratung (Welcome Center)"),
    "supervisor": N_("Leitung (Welcome Center)"),
    "process_owner": N_("Prozessverantwortliche"),
    "employer": N_("Arbeitgeber / Kümmerer:in"),
    "worker": N_("Internationale Fachkraft"),
    "admin": N_("Administration"),
}
GROUP_LABELS = {name: _l(text) for name, text in GROUP_LABELS_DE.items()}
# What mails in English call the groups (pages translate GROUP_LABELS through the catalog; mails are
# written outside a request, so they take the plain texts).
GROUP_LABELS_EN = {
    "advisor": "Advice (Welcome Center)",
    "supervisor": "Management (Welcome Center)",
    "process_owner": "Process owners",
    "employer": "Employer / welcome officer",
    "worker": "International skilled worker",
    "admin": "Administration",
}


def group_display_name(name: str, language: str = "de") -> str:
    """A candidate group as people read it (never its id, e.g. 'advisor'); an unknown group by its stored label."""
    labels = GROUP_LABELS_EN if language == "en" else GROUP_LABELS_DE
    if name in labels:
        return labels[name]
    group = db.session.scalar(select(Group).where(Group.name == name))
    return group.label if group is not None and group.label else name
