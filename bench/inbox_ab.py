"""The advisor's inbox of two checkouts side by side: each checkout's app in a long-lived process of its own,
asked in turn, so that both see the same moments of a shared machine.

    .venv/bin/python bench/inbox_ab.py BEFORE_CHECKOUT BEFORE_DB AFTER_CHECKOUT AFTER_DB

DROPS AND RECREATES ALL TABLES of both databases (names of scratch PostgreSQL databases on 127.0.0.1) and
fills each with its own checkout's `bench/inbox.py` data (10,000 open cases; AB_SETUP=0 reuses what is
there). Each process (its checkout's .venv, or this one's) logs in as the bench's advisor and warms up; then
for AB_ROUNDS rounds (default 15) each page gets AB_REQUESTS requests (default 60) in one process, then in
the other, the order switching every round. Prints per page the median CPU time per request of each process
(its own process_time: the PostgreSQL server's time not included) and the median of the rounds' after/before
ratios with their quartiles.
"""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PAGES = [("group tasks, 50 rows", "/?view=group"), ("my tasks, 19 rows", "/?view=mine"),
         ("a case reference, 3 rows", "/?view=group&q=WC-AC-2026-000042")]


def serve():
    """The child: the app of the checkout in the working directory; answers "URL N" with the CPU seconds of
    N requests of URL."""
    import gc
    import random
    import tempfile
    sys.path[:0] = [os.getcwd(), os.path.join(os.getcwd(), "bench")]
    import inbox as bench
    from web import create_app
    from web.config import database_url
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(os.environ["DATABASE_URL"], tempfile.mkdtemp()),
                      "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench", "TESTING": False})
    if os.environ.get("AB_SETUP", "1") == "1":
        bench.insert_cases(app, bench.setup(app), 0, 10_000, random.Random(42))
    client = app.test_client()
    client.post("/login", data={"username": "bench", "password": "bench"})
    for _ in range(100):
        for _label, url in PAGES:
            client.get(url)
    gc.collect()        # the warm-up's survivors' full collection now, not in the first page's rounds
    print("ready", flush=True)
    for line in sys.stdin:
        url, n = line.split()
        c0 = time.process_time()
        for _ in range(int(n)):
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        print(time.process_time() - c0, flush=True)


def start(checkout: str, database: str) -> subprocess.Popen:
    python = Path(checkout, ".venv", "bin", "python")
    env = dict(os.environ, DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{database}")
    child = subprocess.Popen([str(python if python.exists() else sys.executable), __file__, "--serve"],
                             cwd=checkout, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if child.stdout.readline().strip() != "ready":
        sys.exit(f"{checkout}: the app did not start")
    return child


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    rounds, requests = int(os.environ.get("AB_ROUNDS", "15")), int(os.environ.get("AB_REQUESTS", "60"))
    before, after = start(*sys.argv[1:3]), start(*sys.argv[3:5])

    def cpu_ms(child, url):
        child.stdin.write(f"{url} {requests}\n")
        child.stdin.flush()
        return float(child.stdout.readline()) / requests * 1000

    for label, url in PAGES:
        old, new = [], []
        for i in range(rounds):
            if i % 2:
                new.append(cpu_ms(after, url))
                old.append(cpu_ms(before, url))
            else:
                old.append(cpu_ms(before, url))
                new.append(cpu_ms(after, url))
        ratios = [n / o for o, n in zip(old, new)]
        low, _, high = statistics.quantiles(ratios, n=4)
        print(f"{label:<26} before {statistics.median(old):.2f} ms  after {statistics.median(new):.2f} ms  "
              f"after/before {statistics.median(ratios):.3f} ({low:.3f}–{high:.3f})  load {os.getloadavg()[0]:.1f}",
              flush=True)
    for child in (before, after):
        child.stdin.close()
        child.wait()


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main()
