"""One place for dates: web/dates.py formats every date a page shows, with engine.clock's one absolute
format (which mails use too); no other module of web/ formats a date itself."""
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from flask import g
from flask_babel import force_locale

from engine import clock
from flask import render_template_string

from web.dates import Dates, DueView, due_html, local_datetime

WEB = Path(__file__).resolve().parents[2] / "web"
MOMENT = datetime(2026, 12, 6, 14, 0, tzinfo=timezone.utc)          # 15:00 in Berlin


def test_one_absolute_format_in_both_languages():
    assert clock.format_local(MOMENT, "de") == "06.12.2026, 15:00"
    assert clock.format_local(MOMENT, "en") == "6 Dec 2026, 15:00"
    assert clock.format_local(datetime(2026, 7, 1, 22, 30, tzinfo=timezone.utc), "de") == "02.07.2026, 00:30"
    assert clock.format_day(date(2027, 3, 1), "de") == "01.03.2027"


def test_the_filters_follow_the_language_of_the_request(ctx):
    with ctx.test_request_context("/"):
        assert local_datetime(MOMENT) == render_template_string("{{ v|dt }}", v=MOMENT) == "06.12.2026, 15:00"
        assert local_datetime(None) == ""
    with ctx.test_request_context("/"), force_locale("en"):
        g.pop("_lotse_dates", None)          # the test's app context outlives a request: forget the German one
        assert local_datetime(MOMENT) == "6 Dec 2026, 15:00"


def test_relative_dates_and_due_state_at_another_moment(ctx):
    with ctx.test_request_context("/"):
        later = clock.now() + timedelta(days=30)
        page = "{{ a|relative_to(now) }} / {{ b|relative_to(now) }} / {{ c|due_state(now) }} / {{ c|due_state }}"
        assert render_template_string(page, now=later, a=later + timedelta(days=10), b=later - timedelta(hours=2),
                                      c=later - timedelta(minutes=1)) == "in 10 Tagen / vor 2 Stunden / overdue / "
        assert Dates(later).relative(later + timedelta(seconds=20)) == "gerade eben"


def test_a_mail_says_the_due_date_as_the_pages_do(ctx):
    from engine.notifications import _format
    assert _format(MOMENT, "de") == "06.12.2026, 15:00 Uhr"
    assert _format(MOMENT, "en") == "6 Dec 2026, 15:00"


def test_no_other_module_of_web_formats_a_date():
    formatting = re.compile(r"\b(strftime|format_date|format_datetime|format_time|format_timedelta|format_skeleton)\(")
    offending = [f"{path.relative_to(WEB)}:{n}" for path in WEB.rglob("*.py")
                 if path.name != "dates.py" and path.name != "cli.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if formatting.search(line)]
    assert not offending, offending


def test_a_due_dates_badge_escapes_its_texts():
    badge = due_html(DueView("overdue", "<über>", "2026-12-01T10:00:00+00:00", "vor 5 Tagen & mehr", "01.12.2026"))
    assert badge == ('<span class="due due--overdue"><strong class="badge badge--overdue">&lt;über&gt;</strong> '
                     '<time datetime="2026-12-01T10:00:00+00:00">vor 5 Tagen &amp; mehr</time>\n'
                     '  <span class="due__abs">01.12.2026</span>\n</span>')
    assert 'class="due">' in due_html(DueView("", "", "x", "in 3 Tagen", "a"))      # no state, no badge
    assert due_html(None, "<ohne Frist>") == '<span class="muted">&lt;ohne Frist&gt;</span>'
    assert due_html(None) == '<span class="muted">—</span>'
