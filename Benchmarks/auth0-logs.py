#!/usr/bin/env python3
"""Log-stream intake benchmark: the time to store an Auth0 log-stream batch of 1, 100 and
1,000 entries (POST /hooks/auth0-logs, answered only after the batch's commit).

    swift build -c release --product inlet
    Benchmarks/auth0-logs.py --binary .build/release/inlet [--rounds 30] [--sizes 1,100,1000]

With `--database postgres://…` it measures PostgreSQL instead (an empty database, e.g.
the throwaway cluster of scripts/test-postgres.sh).

Starts `inlet serve` (SQLite in a temporary folder, synchronous=full, audit on) on a free
loopback port, then, for each size, posts ROUNDS batches in JSON lines (Auth0's format for
the streams `inlet auth0 connect` makes) over one keep-alive connection, one at a time:
every entry a new `log_id`, a mix of `s` (a login, which upserts its user), `ss`, `f` and
`fp`, for 200 distinct users. Prints, per size, the median, p90 and max of the request
time (client side: send to the 200 after the commit) and the entries stored per second.
Python's client and the server share the machine's 2 cores.
"""
import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOKEN = "lstok_" + "5" * 40


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def entry(counter, rng):
    kind = rng.choice(["s", "s", "s", "ss", "f", "fp"])
    user = rng.randrange(200)
    log_id = f"900{counter:047d}"
    when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{counter % 1000:03d}Z"
    data = {
        "log_id": log_id, "date": when, "type": kind, "connection": "Username-Password-Authentication",
        "client_id": "aBcDeFgHiJkLmNoPqRsTuVwXyZ012345", "client_name": "Inlet Frontend", "ip": "203.0.113.24",
        "user_agent": "Chrome 131.0.0 / Mac OS X 10.15.7", "user_id": f"auth0|bench{user:06d}",
        "user_name": f"user{user}@example.com", "strategy": "auth0", "strategy_type": "database",
        "details": {"stats": {"loginsCount": counter}} if kind == "s" else {},
    }
    return json.dumps({"log_id": log_id, "data": data}, separators=(",", ":"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/inlet")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--sizes", default="1,100,1000")
    parser.add_argument("--database", help="a postgres:// URL instead of a temporary SQLite file (password in INLET_DATABASE_PASSWORD)")
    args = parser.parse_args()
    rng = random.Random(7)
    folder = tempfile.mkdtemp(prefix="inlet-bench-logs-")
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""), "INLET_LISTEN": f"127.0.0.1:{port}", "INLET_DATABASE": f"{folder}/inlet.sqlite",
        "AUTH0_LOG_STREAM_TOKEN": TOKEN, **({"INLET_DATABASE": args.database, "INLET_DATABASE_PASSWORD": os.environ.get("INLET_DATABASE_PASSWORD", "")} if args.database else {}), "INLET_BODY_LIMIT": str(8 << 20), "INLET_LOG_LEVEL": "warning",
    }
    server = subprocess.Popen([args.binary, "serve"], env=env)
    try:
        deadline = time.time() + 30
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                sys.exit("inlet serve did not start")
            time.sleep(0.1)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
        counter = 0
        print(f"{'entries':>8} {'median ms':>10} {'p90 ms':>8} {'max ms':>8} {'entries/s':>10}")
        for size in [int(text) for text in args.sizes.split(",")]:
            times = []
            for round_ in range(args.rounds + 3):
                lines = []
                for _ in range(size):
                    counter += 1
                    lines.append(entry(counter, rng))
                body = "\n".join(lines).encode()
                started = time.perf_counter()
                connection.request("POST", "/hooks/auth0-logs", body=body, headers=headers)
                response = connection.getresponse()
                answer = json.loads(response.read())
                elapsed = time.perf_counter() - started
                if response.status != 200 or answer.get("stored") != size:
                    sys.exit(f"unexpected answer {response.status}: {answer}")
                if round_ >= 3:  # the first rounds warm up
                    times.append(elapsed * 1000)
            times.sort()
            median = statistics.median(times)
            p90 = times[int(len(times) * 0.9) - 1]
            print(f"{size:>8} {median:>10.2f} {p90:>8.2f} {times[-1]:>8.2f} {size / (median / 1000):>10.0f}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run(["rm", "-rf", folder])


if __name__ == "__main__":
    main()
