"""A task's form for any page that shows one (the workspace's task page, the employer portal's): the same
rendering, the same validation, the same keyboard and no-JavaScript behaviour.

The form is the form-js version the process pinned at deploy time (`HumanTask.form_version_id`),
rendered by `web.forms_html` and validated by `engine.forms` against the data the task sees.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup

from engine import access, pages, snapshot
from engine.forms import validate_submission
from engine.models import Case, HumanTask
from web.forms_html import render_form, render_markdown


@dataclass
class TaskForm:
    has_form: bool
    form_html: Markup | None
    documentation: Markup | None
    can_work: bool
    data: dict              # what the task sees (a task without a form shows it to staff)


def task_data(case: Case, row: HumanTask) -> dict:
    """The data the task sees (loads this one case's workflow; never done on lists)."""
    return snapshot.task_data(case, row.id) if row.is_open else {}


def task_form(user, row: HumanTask, case: Case, *, values=None, errors=None, submitted=None) -> TaskForm:
    """The task's form with `values` (else its draft, else the data it sees, else what was entered) and errors."""
    definition = pages.load_form(row.form_version_id)
    context = task_data(case, row)
    can_work = access.can_work(user, row)
    form_html = None
    if definition is not None:
        if values is None:
            if row.is_open and row.draft:
                values, submitted = row.draft, True
            elif row.is_open:
                values, submitted = context, False
            else:
                values, submitted = pages.completed_values(row), False
        form_html = render_form(definition, values, errors, readonly=not can_work, context=context,
                                submitted=submitted)
    documentation = render_markdown(_(row.documentation.strip()), context) if row.documentation else None
    return TaskForm(has_form=definition is not None, form_html=form_html, documentation=documentation,
                    can_work=can_work, data=context)


def validate(row: HumanTask, case: Case, form) -> tuple[dict, dict | None]:
    """(data to complete the task with, errors or None) from a submitted form."""
    definition = pages.load_form(row.form_version_id)
    if definition is None:
        return {}, None
    data, errors = validate_submission(definition, form, context=task_data(case, row))
    return data, errors or None
