"""The supervisors' pages. Each view checks its input, calls one engine function (`engine.oversight`,
`engine.report`) and renders what it returns; `engine.access.may_oversee` decides who has these pages
(others: 403), and a case of another center is a 404 like everywhere else."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import clock, oversight, report
from engine import flow as flow_model, workload as workload_model
from engine.errors import Conflict, InvalidFields, NotFound
from web.permissions import oversight_required
from web.supervisor import bp

# Downloads hold a center's figures: kept by no cache at all, the browser's own included.
_DOWNLOAD = {"Cache-Control": "private, no-store"}


def _user():
    return current_user._get_current_object()


def _ids(name) -> list[int]:
    """The selected ids of a checkbox list; what is no id is ignored (it names nothing one may select)."""
    return [int(v) for v in request.form.getlist(name) if v.isdigit() and len(v) < 10]


# --------------------------------------------------------------------------- stuck cases

@bp.route("/stuck", methods=["GET", "POST"])
@oversight_required
def stuck():
    kind = (request.values.get("reason") or "").strip()
    errors, status = {}, 200
    if request.method == "POST":
        try:
            result = oversight.bulk_action(
                _user(), request.form.get("action", ""), case_ids=_ids("case"),
                task_ids=[t for t in request.form.getlist("task") if 0 < len(t) <= 36],
                person_id=next(iter(_ids("person")), None),
                reason=request.form.get("reason_text", ""))
        except InvalidFields as exc:
            errors, status = exc.errors, 422
        else:
            if result.done:
                flash(_("Erledigt: %(items)s", items=", ".join(result.done)), "success")
            for item, why in result.failed:
                flash(_("Nicht möglich für %(item)s: %(reason)s", item=item, reason=why), "error")
            return redirect(url_for("supervisor.stuck", reason=kind or None))
    page = oversight.stuck_cases(_user(), kind)
    return render_template("supervisor/stuck.html", page=page, errors=errors, form=request.form,
                           selected_cases=set(_ids("case")), selected_tasks=set(request.form.getlist("task"))), status


# --------------------------------------------------------------------------- one case's failed steps

def _incident_page(reference, errors=None, status=200):
    page = oversight.incident_case(_user(), reference)
    if page is None:
        abort(404)
    return render_template("supervisor/incident.html", page=page, errors=errors or {},
                           form=request.form if request.method == "POST" else None), status


@bp.route("/cases/<reference>/incident")
@oversight_required
def incident(reference):
    return _incident_page(reference)


@bp.route("/cases/<reference>/retry", methods=["POST"])
@oversight_required
def retry(reference):
    try:
        case = oversight.retry_with_corrections(_user(), reference, request.form)
    except NotFound:
        abort(404)
    except InvalidFields as exc:
        return _incident_page(reference, exc.errors, 422)
    except Conflict as exc:
        flash(_("Erneuter Versuch nicht möglich: %(reason)s", reason=str(exc)), "error")
        return redirect(url_for("supervisor.incident", reference=reference))
    if case.has_incident:
        flash(_("Der Schritt ist erneut fehlgeschlagen. Bitte prüfen Sie die Daten."), "error")
        return redirect(url_for("supervisor.incident", reference=reference))
    flash(_("Die Daten wurden korrigiert und der Schritt erneut ausgeführt; der Fall läuft weiter."), "success")
    return redirect(url_for("advisor.case", reference=reference))


@bp.route("/cases/<reference>/cancel", methods=["POST"])
@oversight_required
def cancel(reference):
    try:
        oversight.cancel_with_reason(_user(), reference, request.form.get("reason_text", ""))
    except NotFound:
        abort(404)
    except InvalidFields as exc:
        return _incident_page(reference, exc.errors, 422)
    except Conflict as exc:
        flash(_("Abbruch nicht möglich: %(reason)s", reason=str(exc)), "error")
        return redirect(url_for("supervisor.incident", reference=reference))
    flash(_("Der Fall wurde abgebrochen."), "success")
    return redirect(url_for("advisor.case", reference=reference))


# --------------------------------------------------------------------------- the funder's report

def _report():
    """The report for the period the request names, or (None, errors) for a period that is wrong."""
    try:
        period = report.parse_period(request.args, clock.local_date(clock.now()))
    except InvalidFields as exc:
        return None, exc.errors
    return report.funder_report(_user(), period), {}


@bp.route("/report")
@oversight_required
def funder_report():
    result, errors = _report()
    return render_template("supervisor/report.html", report=result, errors=errors, args=request.args,
                           today=clock.local_date(clock.now())), (422 if errors else 200)


@bp.route("/report.<fmt>")
@oversight_required
def funder_report_download(fmt):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    result, errors = _report()
    if result is None:
        return Response("; ".join(f"{k}: {v}" for k, v in errors.items()) + "\n", status=422,
                        mimetype="text/plain")
    name = f"lotse-bericht-{result.period.slug}.{fmt}"
    if fmt == "csv":
        body, mimetype = report.as_csv(result).encode("utf-8-sig"), "text/csv"
    else:
        body, mimetype = report.as_xlsx(result), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"', **_DOWNLOAD})


# --------------------------------------------------------------------------- workload

@bp.route("/workload")
@oversight_required
def workload():
    return render_template("supervisor/workload.html", load=workload_model.workload(_user()))


@bp.route("/workload/<chart>.csv")
@oversight_required
def workload_csv(chart):
    if chart not in workload_model.CHARTS:
        abort(404)
    body = workload_model.chart_csv(workload_model.workload(_user()), chart)
    return Response(body.encode("utf-8-sig"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="lotse-auslastung-{chart}.csv"', **_DOWNLOAD})


# --------------------------------------------------------------------------- flow

@bp.route("/flow")
@oversight_required
def flow():
    process = (request.args.get("process") or "").strip()[:128]
    return render_template("supervisor/flow.html", flow=flow_model.flow(_user(), process))


@bp.route("/flow/cases.csv")
@oversight_required
def flow_csv():
    header, rows = flow_model.flow(_user()).chart_rows()
    body = "\n".join(",".join(str(v) for v in row) for row in [header] + rows) + "\n"
    return Response(body.encode("utf-8-sig"), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="lotse-faelle-je-woche.csv"', **_DOWNLOAD})


@bp.route("/flow/<process>/diagram.bpmn")
@oversight_required
def flow_diagram(process):
    source = flow_model.process_diagram(_user(), process)
    if source is None:
        abort(404)
    # As the case diagram: text for the viewer, never a page (web/advisor/case.py).
    return Response(source, mimetype="text/plain",
                    headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox"})
