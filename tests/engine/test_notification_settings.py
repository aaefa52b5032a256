"""Notices as each person wants their mail: immediately, in a daily digest grouped by case, or never. The
digest goes through a real local SMTP server (aiosmtpd), once a day from LOTSE_DIGEST_HOUR."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import cases, clock, deploy, notifications, pages, timers
from engine.db import db
from engine.errors import InvalidFields
from engine.models import MailMessage, Notification
from tests.conftest import fixture_files
from tests.engine.test_mail import smtp  # noqa: F401  (a real SMTP server)


def _failing_case(people, subject):
    return cases.start_case("divide", center=people["center"], subject=subject, data={"total": 1, "parts": 0},
                            actor=people["anna"], responsible=people["anna"])


def test_settings_choose_the_mail_and_the_digest_groups_by_case(people, smtp):  # noqa: F811
    smtp.start()
    clock.freeze(datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc))         # 11:00 in Berlin
    people["sara"].email, people["anna"].email, people["ben"].email = ("sara@example.org", "anna@example.org",
                                                                      "ben@example.org")
    db.session.commit()
    deploy.deploy(fixture_files("divide.bpmn"))
    notifications.save_settings(people["sara"], {"incident": "daily", "assigned": "never"})
    notifications.save_settings(people["anna"], {"incident": "never"})
    assert notifications.settings_of(people["sara"])["incident"] == "daily"
    with pytest.raises(InvalidFields) as wrong:
        notifications.save_settings(people["sara"], {"incident": "hourly"})
    assert set(wrong.value.errors) == {"incident"}
    assert notifications.settings_of(people["sara"])["incident"] == "daily"      # nothing changed

    first = _failing_case(people, "Erster Fall")
    cases.retry_task(first.id, actor=people["ben"])                        # fails again: a second notice
    second = _failing_case(people, "Zweiter Fall")
    cases.assign_task(_open_check_after_fix(people, second), people["ben"], people["sara"])
    db.session.expire_all()
    # in the app every notice is there, grouped by kind; no incident mail went out at once
    listing = pages.notification_list(people["sara"])
    assert [(g.kind, g.unread) for g in listing.groups] == [("incident", 3)]
    assert db.session.scalars(select(MailMessage.to).where(MailMessage.to != "ben@example.org")).all() == []
    assert len(smtp.inbox.messages) == 1 and smtp.inbox.messages[0][0] == ["ben@example.org"]   # immediately

    assert notifications.send_digests() == 0              # today's digest hour (07:00) was before these
    clock.advance(timedelta(days=1))                      # 11:00 next day: past the digest hour
    assert timers.sweep()["digests"] == 1
    assert timers.sweep()["digests"] == 0                 # once a day
    [(to, message)] = [m for m in smtp.inbox.messages if m[0] == ["sara@example.org"]]
    body = message.get_content()
    assert message["Subject"] == "Lotse: 3 Hinweise des Tages"
    assert body.index(first.reference) < body.index(second.reference)      # grouped by case
    headings = [line for line in body.splitlines() if line.startswith("Fall ")]
    assert [h.split()[1] for h in headings] == [first.reference, second.reference]        # one heading per case
    assert body.count("- Fehler im Ablauf, ") == 3 and "teilt durch null" in body
    assert not db.session.scalars(select(Notification).where(Notification.digest_pending.is_(True))).all()

    notifications.mark_all_read(people["sara"], "incident")
    assert pages.notification_list(people["sara"]).unread == 0


def _open_check_after_fix(people, case):
    fixed = cases.retry_task(case.id, data={"parts": 1}, actor=people["sara"])
    from engine.models import HumanTask
    return db.session.scalar(select(HumanTask.id).where(HumanTask.case_id == fixed.id, HumanTask.state == "open"))


def test_lotse_digest_sends_what_waits_now(people, smtp):  # noqa: F811
    from flask import current_app
    from web.cli import cli
    smtp.start()
    people["sara"].email = "sara@example.org"
    db.session.commit()
    deploy.deploy(fixture_files("divide.bpmn"))
    notifications.save_settings(people["sara"], {"incident": "daily"})
    _failing_case(people, "Sofort")
    result = current_app.test_cli_runner().invoke(cli, ["digest"])
    assert result.exit_code == 0 and "sent 1 digest mails" in result.output, result.output
    assert [to for to, _ in smtp.inbox.messages] == [["sara@example.org"]]
