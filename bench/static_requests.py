"""Requests per page load in Chromium: the modeler page (/processes/bpmn/worker_journey/edit), opened twice in
one browser context, the way a process owner comes back to it.

    .venv/bin/python bench/static_requests.py

Uses a scratch SQLite database in a temporary folder (DATABASE_URL is not read), the project's processes
deployed, a process owner logged in, Debian's Chromium (LOTSE_CHROMIUM) and werkzeug's server in a thread.
For each navigation it prints the requests Chromium made (Playwright's `request` event, answers from its
cache included), the requests that reached the server with their statuses, and the bytes the server sent.
"""
import logging
import os
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from web import create_app  # noqa: E402

CHROMIUM = os.environ.get("LOTSE_CHROMIUM", "/usr/bin/chromium")
PAGE = "/processes/bpmn/worker_journey/edit"


class Counting:
    """WSGI middleware: the requests that reach the server, with their status and body size."""

    def __init__(self, app):
        self.app, self.seen = app, []

    def __call__(self, environ, start_response):
        record = {"path": environ.get("PATH_INFO", ""), "query": environ.get("QUERY_STRING", "")}

        def start(status, headers, exc_info=None):
            record["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info)
        body = b"".join(self.app(environ, start))
        record["bytes"] = len(body)
        self.seen.append(record)
        return [body]


def setup(app):
    from engine import users
    from engine.db import db
    from engine.deploy import deploy_paths
    with app.app_context():
        db.create_all()
        center = users.get_organisation("center", "Welcome Center Aachen", code="AC")
        users.ensure_user("paul", "Paul Prozess", organisation=center, groups=["process_owner"], password="pw-paul")
        deploy_paths([ROOT / "bpmn", ROOT / "forms"])
        db.session.commit()


def main():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from playwright.sync_api import sync_playwright
    folder = tempfile.mkdtemp()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db", "TESTING": True,
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1})
    setup(app)
    counting = Counting(app)
    server = make_server("127.0.0.1", 0, counting, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        context = browser.new_context(base_url=url, locale="de-DE")
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Benutzername").fill("paul")
        page.get_by_label("Passwort").fill("pw-paul")
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_url("**/")
        for visit in ("first", "second"):
            made = []

            def record(request, made=made):
                made.append(request)
            page.on("request", record)
            counting.seen.clear()
            page.goto(PAGE)
            page.locator(".bpmn-modeler .djs-container").wait_for()
            page.wait_for_load_state("networkidle")
            page.remove_listener("request", record)
            statuses = Counter(r["status"] for r in counting.seen)
            print(f"{visit} visit: {len(made)} requests in Chromium, {len(counting.seen)} reached the server "
                  f"({', '.join(f'{n}× {s}' for s, n in sorted(statuses.items()))}), "
                  f"{sum(r['bytes'] for r in counting.seen):,} bytes sent")
            for r in counting.seen:
                print(f"    {r['status']} {r['path']}{'?' + r['query'] if r['query'] else ''} ({r['bytes']:,} bytes)")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
