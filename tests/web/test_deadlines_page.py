"""The deadlines page shows a date-only deadline as the end of that day in Berlin, for the task and its timer."""
from datetime import datetime, timezone

from engine import cases, clock
from engine.db import db


def text(response):
    return response.get_data(as_text=True)


def test_task_due_date_and_timer_of_a_date_only_deadline_show_the_same_end_of_day(people, deploy_fixture,
                                                                                    client_for):
    deploy_fixture("deadline_day.bpmn")
    clock.freeze(datetime(2026, 12, 10, 9, tzinfo=timezone.utc))
    cases.start_case("deadline_day", center=people["center"], employer=people["firm"], subject="Ana Lima",
                     data={"register_by": "2026-12-20"}, actor=people["anna"], responsible=people["anna"])
    db.session.commit()
    html = text(client_for("anna").get("/deadlines"))
    assert "Wohnsitz anmelden" in html and "Frist abgelaufen" in html      # the task and its timer
    assert html.count("20.12.2026, 23:59") == 2
