"""`_()` and `ngettext()` in templates: the request's language, Jinja's newstyle formatting, escaped values.

Templates get these per render from `web.filters.translations_for_render` instead of Flask-Babel's
globals (which look the catalog up for every string); what a page says must not change.
"""
import pytest
from flask import render_template_string
from flask_babel import force_locale

from web import create_app

PAGE = ("{{ _('Aufgaben') }} | {{ _('%(n)s Aufgaben', n=count) }} | "
        "{{ ngettext('%(num)s Feld', '%(num)s Felder', 2) }} | {{ ngettext('%(num)s Feld', '%(num)s Felder', 1) }}")


@pytest.fixture(scope="module")
def app():
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "test", "TESTING": True})


@pytest.mark.parametrize("language, expected", [
    ("de", "Aufgaben | &lt;b&gt;7 Aufgaben | 2 Felder | 1 Feld"),
    ("en", "Tasks | &lt;b&gt;7 tasks | 2 fields | 1 field"),
])
def test_templates_speak_the_request_language_and_escape_the_values(app, language, expected):
    with app.test_request_context("/", headers={"Accept-Language": language}):
        assert render_template_string(PAGE, count="<b>7") == expected


def test_a_forced_locale_applies_to_a_render_inside_it(app):
    # e.g. a text rendered for a recipient in their language during someone else's request
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert render_template_string("{{ _('Aufgaben') }}") == "Aufgaben"
        with force_locale("en"):
            assert render_template_string("{{ _('Aufgaben') }}") == "Tasks"
        assert render_template_string("{{ _('Aufgaben') }}") == "Aufgaben"


def test_percent_signs_follow_jinja_newstyle_rules(app):
    # newstyle gettext always formats with %, so a literal percent sign is written %% in the message id
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert render_template_string("{{ _('100%% sicher') }}") == "100% sicher"
