"""Completing user tasks through the JSON API and through the HTML form, the app under gunicorn on
PostgreSQL: 1 client, then 4 concurrent clients, each driving cases of a 10-user-task process to the end.

    createdb -h 127.0.0.1 -U postgres bench     # a scratch database: the bench drops every table in it
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/api.py

Each task has a small form (a required number, an optional text) that the server validates. The API
client completes a task with one POST (`/api/v1/tasks/<id>/complete`), whose answer names the case's
next task; the HTML client posts the task page's form and follows the redirect to the inbox, as a
browser does, reading the next task's link and the CSRF token from it. Only the completion POST is
timed for the latency; completions/s is over the whole run (the HTML path's redirect included).
Server CPU per completion is the gunicorn processes' user+system time over the run, per completion.

BENCH_CASES (per client, default 12), BENCH_WORKERS (gunicorn workers, default 2: one per core), BENCH_THREADS
(threads per worker, default 2: gunicorn's gthread worker, which keeps the clients' connections alive; its
sync worker closes each after one response), BENCH_PATHS (`api`, `html` or `api,html`, the default).
"""
import http.client
import json
import multiprocessing
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from queue import Empty
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TASKS = 10
CASES = int(os.environ.get("BENCH_CASES", "12"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
PATHS = os.environ.get("BENCH_PATHS", "api,html").split(",")
FORM = {"id": "bench_step", "type": "default", "schemaVersion": 16, "components": [
    {"key": "score", "label": "Bewertung", "type": "number", "validate": {"required": True, "min": 0}},
    {"key": "note", "label": "Notiz", "type": "textfield"}]}


def diagram() -> bytes:
    tasks = "".join(f'<bpmn:userTask id="t{i}" name="Schritt {i}" camunda:candidateGroups="advisor" '
                    f'camunda:formRef="bench_step"/>' for i in range(TASKS))
    chain = ["start", *[f"t{i}" for i in range(TASKS)], "end"]
    flows = "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
                    for i, (a, b) in enumerate(zip(chain, chain[1:])))
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="bench">
  <bpmn:process id="bench10" name="Bench 10" isExecutable="true">
    <bpmn:startEvent id="start"/>{tasks}<bpmn:endEvent id="end"/>{flows}
  </bpmn:process></bpmn:definitions>'''.encode()


def setup(clients: int) -> list[tuple[str, str]]:
    """A fresh database: a center, one advisor per client with an API token, the process. (username, token)."""
    from engine import api_tokens, deploy, users
    from engine.db import db, drop_everything
    from web import create_app
    app = create_app()
    with app.app_context():
        drop_everything()
        db.create_all()
        center = users.get_organisation("center", "Welcome Center Aachen", code="AC")
        out = []
        for n in range(clients):
            user = users.ensure_user(f"bench{n}", f"Bench {n}", organisation=center, groups=["advisor"],
                                     password="bench-password-1")
            db.session.commit()
            out.append((user.username, api_tokens.create_personal(user, "bench", 30)[1]))
        deploy.deploy([("bench10.bpmn", diagram()), ("bench_step.form", json.dumps(FORM).encode())])
        db.session.commit()
        db.engine.dispose()
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port):
    env = {**os.environ, "LOTSE_SECURE_TRANSPORT": "0", "LOTSE_API_REQUESTS_PER_MINUTE": "1000000",
           "LOTSE_SECRET_KEY": "bench-secret", "LOTSE_LOGIN_TRIES_PER_ADDRESS": "100000"}
    server = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "--config", "gunicorn.conf.py",
                               "-w", str(WORKERS), "--threads", str(THREADS),
                               "-b", f"127.0.0.1:{port}", "--log-level", "warning", "web:create_app()"],
                              cwd=ROOT, env=env, start_new_session=True)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.05)
    raise SystemExit("gunicorn did not start")


def server_cpu(master: int) -> float:
    """Seconds of CPU used by gunicorn's master and its workers so far."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == master or int(fields[1]) == master:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


class Http:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # gunicorn closed the kept-alive connection while it was idle (its keepalive is 2 s; a loaded
            # machine can pause a client that long): the request never reached it, so send it again
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        data = response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.headers, data


VALUES = {"score": 3, "note": "ok"}


def api_client(port, username, token, cases, queue):
    http_ = Http(port)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    samples = []
    for _ in range(cases):
        status, _h, body = http_.request("POST", "/api/v1/cases", json.dumps(
            {"process": "bench10", "subject": "Bench", "data": {}}), auth)
        assert status == 201, body
        reference = json.loads(body)["reference"]
        status, _h, body = http_.request("GET", f"/api/v1/tasks?view=group&q={reference}", headers=auth)
        task_id = json.loads(body)["items"][0]["id"]
        done = 0
        while task_id:
            t0 = time.perf_counter()
            status, _h, body = http_.request("POST", f"/api/v1/tasks/{task_id}/complete",
                                             json.dumps({"data": VALUES}), auth)
            samples.append(time.perf_counter() - t0)
            assert status == 200, body
            following = json.loads(body)["next_task"]
            task_id, done = (following["id"] if following else None), done + 1
        assert done == TASKS, done
    queue.put(samples)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT = re.compile(r'class="flash__next" href="/tasks/([0-9a-f-]+)')


def html_client(port, username, token, cases, queue):
    http_ = Http(port)
    status, _h, body = http_.request("GET", "/login")
    csrf = CSRF.search(body.decode()).group(1)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _h, body = http_.request("POST", "/login", urlencode(
        {"csrf_token": csrf, "username": username, "password": "bench-password-1"}), form)
    assert status == 302, body
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    api = Http(port)
    samples = []
    for _ in range(cases):
        status, _h, body = api.request("POST", "/api/v1/cases", json.dumps(
            {"process": "bench10", "subject": "Bench", "data": {}}), auth)
        reference = json.loads(body)["reference"]
        status, _h, body = api.request("GET", f"/api/v1/tasks?view=group&q={reference}", headers=auth)
        task_id = json.loads(body)["items"][0]["id"]
        status, _h, body = http_.request("GET", f"/tasks/{task_id}")      # the first task page, as a browser
        csrf = CSRF.search(body.decode()).group(1)
        done = 0
        while task_id:
            t0 = time.perf_counter()
            status, headers, body = http_.request("POST", f"/tasks/{task_id}", urlencode(
                {"csrf_token": csrf, **VALUES}), form)
            samples.append(time.perf_counter() - t0)
            assert status == 302, body[:300]
            status, _h, body = http_.request("GET", headers["Location"])   # the inbox with "Weiter mit …"
            page = body.decode()
            csrf = CSRF.search(page).group(1)
            following = NEXT.search(page)
            task_id, done = (following.group(1) if following else None), done + 1
        assert done == TASKS, done
    queue.put(samples)


def run(port, master, client, accounts, cases):
    queue = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=client, args=(port, name, token, cases, queue))
                 for name, token in accounts]
    cpu0, t0 = server_cpu(master), time.perf_counter()
    for p in processes:
        p.start()
    samples = []
    for _ in processes:
        while True:
            try:
                samples += queue.get(timeout=5)
                break
            except Empty:
                if any(p.exitcode not in (None, 0) for p in processes):
                    raise SystemExit("a client failed (its traceback is above)")
    for p in processes:
        p.join()
    wall, cpu = time.perf_counter() - t0, server_cpu(master) - cpu0
    ordered = sorted(samples)
    return {"completions": len(samples), "per_second": len(samples) / wall,
            "median": statistics.median(ordered) * 1000, "p95": ordered[int(len(ordered) * 0.95) - 1] * 1000,
            "cpu_ms": cpu / len(samples) * 1000}


def main():
    if not (os.environ.get("DATABASE_URL") or "").startswith(("postgres://", "postgresql")):
        raise SystemExit("set DATABASE_URL to a scratch PostgreSQL database (its tables are dropped)")
    accounts = setup(4)
    port = free_port()
    server = start_server(port)
    try:
        paths = [(label, client) for key, label, client in (("api", "API", api_client),
                                                             ("html", "HTML form", html_client)) if key in PATHS]
        for _label, client in paths:
            run(port, server.pid, client, accounts[:1], 2)           # warm up: workers, caches, plans
        results = []
        for label, client in paths:
            for clients in (1, 4):
                result = run(port, server.pid, client, accounts[:clients], CASES)
                results.append((label, clients, result))
                print(f"{label:9} {clients} client(s): {result['per_second']:6.1f} completions/s, "
                      f"median {result['median']:5.2f} ms, p95 {result['p95']:5.2f} ms, "
                      f"server CPU {result['cpu_ms']:5.2f} ms/completion ({result['completions']} completions)",
                      flush=True)
        from bench.inbox import cpu_reference
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; CPU ref "
              f"{statistics.median(cpu_reference() for _ in range(9)):.1f} ms (~4.6 ms on a quiet machine); "
              f"gunicorn -w {WORKERS} --threads {THREADS}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)


if __name__ == "__main__":
    main()
