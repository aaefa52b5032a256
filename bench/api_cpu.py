"""The server's CPU time per API completion, in one process: the app through Flask's test client on
PostgreSQL, the process and form of bench/api.py, `time.process_time` around each completion request.
Steadier than bench/api.py's gunicorn figures on a loaded machine; run it alternately with the code to
compare against.

    createdb -h 127.0.0.1 -U postgres bench     # a scratch database: the bench drops every table in it
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/api_cpu.py

BENCH_CASES (default 15 cases of 10 completions, after 3 cases to warm up).
"""
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.update(LOTSE_SECURE_TRANSPORT="0", LOTSE_API_REQUESTS_PER_MINUTE="1000000", LOTSE_SECRET_KEY="bench-secret")

from bench import api  # noqa: E402


def one_case(client, headers, times):
    answer = client.post("/api/v1/cases", json={"process": "bench10", "subject": "Bench", "data": {}},
                         headers=headers)
    reference = answer.get_json()["reference"]
    task = client.get(f"/api/v1/tasks?view=group&q={reference}", headers=headers).get_json()["items"][0]
    while task:
        started = time.process_time()
        answer = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"score": 3, "note": "ok"}},
                             headers=headers)
        times.append(time.process_time() - started)
        if answer.status_code != 200:
            raise SystemExit(f"completing {task['id']} answered {answer.status_code}: {answer.data[:500]!r}")
        task = answer.get_json()["next_task"]


def main():
    if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        raise SystemExit("set DATABASE_URL to a scratch PostgreSQL database (every table in it is dropped)")
    (_, token), = api.setup(1)
    from web import create_app
    client = create_app().test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(3):
        one_case(client, headers, [])
    times = []
    for _ in range(int(os.environ.get("BENCH_CASES", "15"))):
        one_case(client, headers, times)
    times.sort()
    print(f"CPU ms per completion: lower quartile {times[len(times) // 4] * 1000:.2f}, "
          f"median {statistics.median(times) * 1000:.2f} ({len(times)} completions); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
