"""Small things people notice: a count of weeks is never a shorter gap rounded down, a closed task shows
its due date, not how far off it is, dates have 4-digit years, and there is a favicon."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import cases, clock
from engine.db import db
from engine.models import HumanTask
from web.dates import Dates


@pytest.mark.parametrize("days, expected", [(10, "in 10 Tagen"), (13, "in 13 Tagen"), (14, "in 2 Wochen"),
                                            (-10, "vor 10 Tagen"), (45, "in 6 Wochen"), (61, "in 2 Monaten"),
                                            (2, "in 2 Tagen")])
def test_relative_dates(ctx, days, expected):
    with ctx.test_request_context("/"):
        now = clock.now()
        assert Dates(now).relative(now + timedelta(days=days)) == expected


def test_a_completed_task_does_not_say_when_it_is_due(ws, client_for):
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == ws["cases"][0].id,
                                                     HumanTask.state == "open"))
    task.due_at = clock.now() + timedelta(days=7)
    db.session.commit()
    client = client_for("anna")
    assert "in 7 Tagen" in client.get(f"/tasks/{task.id}").get_data(as_text=True)
    cases.complete_task(task.id, {"passport_no": "C01X00T47", "salary": 52000, "contract_type": "permanent",
                                  "entry_date": "2027-03-01"}, actor=ws["anna"])
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Erledigt" in html and "in 7 Tagen" not in html


def test_the_outbox_and_notifications_show_four_digit_years(ctx):
    from datetime import datetime, timezone
    from web.dates import local_datetime
    with ctx.test_request_context("/"):
        assert local_datetime(datetime(2026, 12, 6, 14, 0, tzinfo=timezone.utc)) == "06.12.2026, 15:00"


def test_pages_name_a_favicon_that_is_served(ws, client_for):
    import re
    client = client_for("anna")
    icon = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">', client.get("/").get_data(as_text=True))
    assert icon and client.get(icon.group(1)).status_code == 200
