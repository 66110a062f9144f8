#!/usr/bin/env python3
"""How fast the operator console's pages answer with many events in the database.

    python3 Benchmarks/console-pages.py [--binary .build/debug/inlet] [--events 100000] [--rounds 20]

Starts `inlet serve` on loopback with a fresh SQLite file (the audit handler, and the
provisioning handler enabled without Auth0 credentials, so that its deliveries stay pending:
a backlog as large as the event count), appends --events employee.created events through the real
admin import route (10,000 per call), waits until the audit handler has drained them, signs
in to the console and times each page --rounds times (sequential requests, keep-alive).
Prints the median and the 95th percentile per page, in milliseconds. Loopback only.
"""

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts/console"))
from browser_test import Inlet  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build/debug/inlet"))
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="inlet-console-bench-") as folder:
        inlet = Inlet(args.binary, Path(folder), command_handler=False, waiting_provisioning=True)
        try:
            started = time.monotonic()
            for first in range(0, args.events, 10_000):
                batch = [{"employee_id": f"EMP-{n:07d}", "name": f"Employee {n}", "email": f"e{n}@example.com",
                          "department": "Production"} for n in range(first, min(args.events, first + 10_000))]
                status, body = inlet.request("POST", "/admin/employees/import", json.dumps(batch).encode(), {
                    "Content-Type": "application/json", "Authorization": f"Bearer {inlet.admin_token}"})
                if status != 202:
                    raise RuntimeError(f"import: {status} {body[:200]!r}")
            print(f"imported {args.events} events in {time.monotonic() - started:.1f} s", flush=True)
            last = f"import:EMP-{args.events - 1:07d}"
            inlet.wait_for("the audit handler drained the import", lambda: inlet.delivery_state(last, "audit") == "done", 1800)
            print(f"audit drained after {time.monotonic() - started:.1f} s", flush=True)

            host, port = urllib.parse.urlsplit(inlet.base).hostname, urllib.parse.urlsplit(inlet.base).port
            connection = http.client.HTTPConnection(host, port, timeout=30)
            connection.request("POST", "/console/sign-in", urllib.parse.urlencode({"token": inlet.admin_token}),
                               {"Content-Type": "application/x-www-form-urlencoded"})
            answer = connection.getresponse()
            answer.read()
            cookie = answer.getheader("Set-Cookie").split(";")[0]
            middle = f"EMP-{args.events // 2:07d}"
            pages = [
                "/console/", "/console/events", "/console/events?state=pending&handler=provisioning",
                f"/console/events?q={middle}", f"/console/events?q=e{args.events // 2}%40example.com",
                "/console/events?type=employee.created&from=2000-01-01T00%3A00",
                f"/console/events/import%3A{middle}", "/console/dead-letters", "/console/handlers", "/console/employees",
            ]
            print(f"{'page':<64} {'median ms':>10} {'p95 ms':>8}")
            for page in pages:
                times = []
                for _ in range(args.rounds):
                    begin = time.perf_counter()
                    connection.request("GET", page, headers={"Cookie": cookie})
                    response = connection.getresponse()
                    response.read()
                    times.append((time.perf_counter() - begin) * 1000)
                    if response.status != 200:
                        raise RuntimeError(f"{page}: {response.status}")
                times.sort()
                p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
                print(f"{page:<64} {statistics.median(times):>10.1f} {p95:>8.1f}", flush=True)
        finally:
            inlet.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
