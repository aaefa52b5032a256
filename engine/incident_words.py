"""A failed step in words a supervisor or advisor reads, from its error type (the engine's own message is
shown beside it, never instead of it). Used by the incident page (engine.oversight) and the incident
notice (engine.notifications)."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

_WORDS = {
    "NameError": _l("Der Schritt braucht einen Wert, der in den Falldaten fehlt: %(name)s."),
    "KeyError": _l("Der Schritt sucht einen Eintrag, den es in den Falldaten nicht gibt: %(name)s."),
    "ZeroDivisionError": _l("Eine Rechnung des Schritts teilt durch null: ein Wert in den Falldaten ist 0."),
    "TypeError": _l("Ein Wert in den Falldaten hat die falsche Art (etwa Text statt Zahl oder leer)."),
    "ValueError": _l("Ein Wert in den Falldaten hat eine Form, die der Schritt nicht lesen kann."),
    "Stalled": _l("Der Fall kann nicht weiterlaufen: keine Aufgabe ist offen und er wartet auf nichts."),
    "ScriptTimeout": _l("Der Schritt hat zu lange gerechnet und wurde angehalten."),
    "ScriptMemoryError": _l("Der Schritt hat zu viel Speicher gebraucht und wurde angehalten."),
}
_NAME = re.compile(r"""name ['"]([^'"]+)['"] is not defined|^['"]?([^'"]+)['"]?$""")


def in_words(incident) -> str:
    """What went wrong, in plain words (in the current locale)."""
    template = _WORDS.get(incident.error_type)
    if template is None:
        return str(_l("Der Schritt ist fehlgeschlagen (%(kind)s).", kind=incident.error_type))
    found = _NAME.search(incident.message or "")
    return str(template % {"name": (found.group(1) or found.group(2)) if found else incident.message})
