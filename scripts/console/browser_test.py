#!/usr/bin/env python3
"""The operator console in a real browser: Debian's chromium driven by Playwright.

    python3 scripts/console/browser_test.py [--binary .build/debug/inlet] [--out .build/test-output/console] [--time-limit 240]

Starts, on loopback only, `inlet serve` on an ephemeral port with a SQLite file in a
temporary folder, the `audit` handler and a `command` handler (a small script here) that
fails twice and then succeeds for the event `evt-flaky`, fails for good for the `evt-doomed-*`
events until a marker file exists, and succeeds otherwise. Seeds it through the real HTTP
routes (signed productivity webhooks, Post-Login Action logins) and one employee row, then
drives the console as an operator would and checks what the pages show. A screenshot of
each page goes to --out. Every wait is bounded; the whole run has a time limit. Prints
"N passed, N failed" and exits non-zero on any failure.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = os.environ.get("INLET_CHROMIUM", "/usr/bin/chromium")
TIMEOUT_MS = 10_000

# The command handler: its exit code decides the outcome (0 done, 75 retry, 1 dead).
HANDLER_SCRIPT = """#!/bin/sh
case "$INLET_EVENT_ID" in
  evt-flaky)
    if [ "$INLET_DELIVERY_ATTEMPT" -lt 3 ]; then
      echo "upstream timed out on attempt $INLET_DELIVERY_ATTEMPT"; exit 75
    fi ;;
  evt-doomed-*)
    if [ ! -e "__MARKER__" ]; then
      echo "account service refused employee $INLET_EVENT_ID: error 4711"; exit 1
    fi ;;
esac
exit 0
"""


def sign(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


class Inlet:
    """A live `inlet serve` and the HTTP calls that seed it."""

    def __init__(self, binary: str, folder: Path, command_handler: bool = True, waiting_provisioning: bool = False):
        self.folder = folder
        self.admin_token = "adm_" + secrets.token_urlsafe(32)
        self.internal_token = "int_" + secrets.token_urlsafe(32)
        self.webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        self.marker = folder / "healed"
        script = folder / "on-employee.sh"
        # The handler runs with a clean environment: the marker's path is written into it.
        script.write_text(HANDLER_SCRIPT.replace("__MARKER__", str(self.marker)))
        script.chmod(0o755)
        config = folder / "inlet.json"
        handlers = {"audit": {"enabled": True}}
        if command_handler:
            handlers["command"] = {"program": str(script), "subscriptions": ["employee.*"], "max_attempts": 3,
                                   "backoff_base_seconds": 0.1, "backoff_cap_seconds": 0.3, "timeout_seconds": 10}
        if waiting_provisioning:
            # Enabled without Auth0 credentials: its deliveries are planned and wait (a backlog).
            handlers["provisioning"] = {"enabled": True}
        config.write_text(json.dumps({"handlers": handlers}))
        database = folder / "inlet.sqlite"
        prefixes = ("INLET_", "AUTH0_", "INTERNAL_API", "ADMIN_API", "PRODUCTIVITY_")
        env = {name: value for name, value in os.environ.items() if not name.startswith(prefixes)}
        env.update({
            "INLET_LISTEN": "127.0.0.1:0", "INLET_DATABASE": str(database), "INLET_CONFIG": str(config),
            "INLET_DB_SYNCHRONOUS": "normal", "INLET_AUTH_RATE_LIMIT": "0",
            "ADMIN_API_TOKEN": self.admin_token, "INTERNAL_API_TOKEN": self.internal_token,
            "PRODUCTIVITY_WEBHOOK_SECRET": self.webhook_secret,
        })
        subprocess.run([binary, "migrate"], env=env, check=True, capture_output=True, timeout=120)
        with sqlite3.connect(database) as db:
            db.execute(
                "INSERT INTO employees (employee_id, name, email, department, auth0_sync_status, last_error, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, 'failed', ?, ?, ?)",
                ("EMP-7", "Grace Hopper", "grace@example.com", "Production", "Auth0 answered 429 <rate limited>",
                 "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
            )
        db.close()
        self.log = folder / "inlet.log"
        with open(self.log, "wb") as log_file:
            self.process = subprocess.Popen([binary, "serve"], env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.wait_for_port(time.monotonic() + 60)}"

    def wait_for_port(self, deadline: float) -> int:
        pattern = re.compile(r"address=127\.0\.0\.1:(\d+).*listening|listening.*address=127\.0\.0\.1:(\d+)")
        while time.monotonic() < deadline:
            for line in self.log.read_text(errors="replace").splitlines():
                if match := pattern.search(line):
                    return int(match.group(1) or match.group(2))
            if self.process.poll() is not None:
                raise RuntimeError(f"inlet serve exited with {self.process.returncode}")
            time.sleep(0.05)
        raise RuntimeError("inlet serve did not report its address in time")

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def post_event(self, event_id: str, event_type: str, data: dict) -> None:
        body = json.dumps({"type": event_type, "occurred_at": "2026-11-30T10:00:00Z", "data": data}).encode()
        timestamp = int(time.time())
        status, answer = self.request("POST", "/hooks/productivity", body, {
            "Content-Type": "application/json", "webhook-id": event_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self.webhook_secret, event_id, timestamp, body),
        })
        if status != 202:
            raise RuntimeError(f"event {event_id}: {status} {answer[:300]!r}")

    def post_login(self, auth0_id: str, email: str) -> None:
        body = json.dumps({"auth0Id": auth0_id, "email": email, "name": email.split("@")[0], "ip": "203.0.113.9"}).encode()
        status, answer = self.request("POST", "/internal/auth/sync-user", body, {
            "Content-Type": "application/json", "Authorization": f"Bearer {self.internal_token}"})
        if status not in (200, 201):
            raise RuntimeError(f"login {auth0_id}: {status} {answer[:300]!r}")

    def delivery_state(self, event_id: str, handler: str) -> str | None:
        status, body = self.request("GET", f"/admin/events/{event_id}", headers={"Authorization": f"Bearer {self.admin_token}"})
        if status != 200:
            return None
        for delivery in json.loads(body).get("deliveries", []):
            if delivery["handler"] == handler:
                return delivery["state"]
        return None

    def wait_for(self, what: str, condition, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def employee(employee_id: str, name: str = "Ada Lovelace", email: str | None = None, department: str = "Production") -> dict:
    return {"employee_id": employee_id, "name": name, "email": email or f"{employee_id.lower()}@example.com", "department": department}


def run(args) -> int:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):  # screenshots of an earlier run
        old.unlink()
    started = time.monotonic()
    results: list[tuple[str, str | None]] = []

    with tempfile.TemporaryDirectory(prefix="inlet-console-browser-") as folder_name:
        inlet = Inlet(args.binary, Path(folder_name))
        try:
            # Seed through the real routes.
            inlet.post_event("evt-ok-1", "employee.created", employee("EMP-1"))
            inlet.post_event("evt-flaky", "employee.updated", employee("EMP-2"))
            inlet.post_event("evt-doomed-1", "employee.created", employee("EMP-3"))
            inlet.post_event("evt-doomed-2", "employee.created", employee("EMP-4"))
            inlet.post_event("evt-xss", "employee.created", employee(
                "EMP-5", name="<script>alert('xss-script')</script>", department="\"><img src=x onerror=alert('xss-img')>"))
            inlet.post_login("auth0|alice", "alice@example.com")
            inlet.post_login("auth0|bob", "bob@example.com")
            seeded_events = 7  # five webhooks and two logins
            inlet.wait_for("evt-flaky delivered after two failures", lambda: inlet.delivery_state("evt-flaky", "command") == "done")
            inlet.wait_for("the doomed events dead-lettered", lambda: all(
                inlet.delivery_state(f"evt-doomed-{n}", "command") == "dead" for n in (1, 2)))

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"])
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.set_default_timeout(TIMEOUT_MS)
                page = context.new_page()
                dialogs: list[tuple[str, str]] = []

                def on_dialog(dialog):
                    dialogs.append((dialog.type, dialog.message))
                    dialog.accept() if dialog.type == "confirm" else dialog.dismiss()

                page.on("dialog", on_dialog)
                console_errors: list[str] = []
                page.on("pageerror", lambda error: console_errors.append(str(error)))

                def step(name: str, body) -> None:
                    if time.monotonic() - started > args.time_limit:
                        results.append((name, "skipped: the run's time limit was reached"))
                        return
                    try:
                        body()
                        results.append((name, None))
                        print(f"ok   {name}", flush=True)
                    except Exception as error:  # noqa: BLE001 - every failure is reported, then the run goes on
                        results.append((name, f"{type(error).__name__}: {error}"))
                        print(f"FAIL {name}: {error}", flush=True)
                        traceback.print_exc()
                        try:
                            page.screenshot(path=str(out / f"failed-{re.sub('[^a-z0-9]+', '-', name.lower())}.png"), full_page=True)
                        except Exception:  # noqa: BLE001
                            pass

                def shot(name: str) -> None:
                    page.screenshot(path=str(out / f"{name}.png"), full_page=True)

                def go(path: str) -> None:
                    page.goto(inlet.base + path)

                def closed_without_session():
                    go("/console/")
                    expect(page).to_have_url(re.compile(r"/console/sign-in$"))
                    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
                    shot("sign-in")

                def sign_in():
                    page.get_by_label("Admin token").fill("not-the-token")
                    page.get_by_role("button", name="Sign in").click()
                    expect(page.get_by_role("alert")).to_contain_text("not the admin token")
                    page.get_by_label("Admin token").fill(inlet.admin_token)
                    page.get_by_role("button", name="Sign in").click()
                    expect(page).to_have_url(re.compile(r"/console/$"))
                    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
                    cookie = next(c for c in context.cookies() if c["name"] == "inlet_console")
                    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
                    assert inlet.admin_token not in page.content()

                def overview():
                    row = page.locator("#overview-handlers tr[data-handler=command]")
                    expect(row.locator("[data-count=dead]")).to_have_text("2")
                    expect(row.locator("[data-count=pending]")).to_have_text("0")
                    expect(page.locator("[data-total=received]")).to_have_text(str(seeded_events))
                    expect(page.locator("svg.bars-received rect")).not_to_have_count(0)
                    expect(page.locator("#overview-handlers tr[data-handler=audit] td").first).to_contain_text("running")
                    shot("overview")

                def filter_events():
                    page.get_by_role("link", name="Events", exact=True).click()
                    expect(page.locator("#events tbody tr[data-event-id]")).to_have_count(seeded_events)
                    page.get_by_label("Type").fill("employee.created")
                    page.get_by_label("Delivery state").select_option("dead")
                    page.get_by_role("button", name="Apply").click()
                    rows = page.locator("#events tbody tr[data-event-id]")
                    expect(rows).to_have_count(2)
                    ids = sorted(rows.nth(i).get_attribute("data-event-id") for i in range(2))
                    assert ids == ["evt-doomed-1", "evt-doomed-2"], ids
                    expect(page.get_by_label("Delivery state")).to_have_value("dead")
                    shot("events-filtered")
                    page.get_by_label("Type").fill("employee.updated")
                    page.get_by_label("Delivery state").select_option("done")
                    page.get_by_role("button", name="Apply").click()
                    expect(rows).to_have_count(1)
                    expect(rows.first).to_have_attribute("data-event-id", "evt-flaky")
                    go("/console/events")
                    shot("events")

                def attempts_timeline():
                    go("/console/events")
                    page.get_by_role("link", name="evt-flaky").click()
                    section = page.locator("section.delivery[data-handler=command]")
                    attempts = section.locator("tr.attempt")
                    expect(attempts).to_have_count(3)
                    outcomes = [attempts.nth(i).get_attribute("data-outcome") for i in range(3)]
                    assert outcomes == ["retry", "retry", "done"], outcomes
                    expect(attempts.nth(0)).to_contain_text("upstream timed out on attempt 1")
                    expect(attempts.nth(1)).to_contain_text("upstream timed out on attempt 2")
                    expect(section.locator("h3 .state")).to_have_text("done")
                    expect(page.locator("#payload")).to_contain_text('"employee_id": "EMP-2"')
                    shot("event-detail")

                def replay_dead_group():
                    page.get_by_role("link", name="Dead letters").click()
                    groups = page.locator("#dead-letter-groups tbody tr[data-handler=command]")
                    expect(groups).to_have_count(1)
                    expect(groups.locator("td.num")).to_have_text("2")
                    expect(groups).to_contain_text("account service refused employee")
                    shot("dead-letters")
                    inlet.marker.write_text("ok")
                    groups.get_by_role("button").click()
                    expect(page).to_have_url(re.compile(r"/console/dead-letters$"))
                    expect(page.get_by_role("status")).to_have_text("Replayed 2 dead deliveries of command.")
                    assert any(kind == "confirm" for kind, _ in dialogs), dialogs
                    shot("dead-letters-replayed")
                    inlet.wait_for("the replayed deliveries done", lambda: all(
                        inlet.delivery_state(f"evt-doomed-{n}", "command") == "done" for n in (1, 2)))
                    page.reload()
                    expect(page.get_by_role("status")).to_have_count(0)  # the flash was shown once
                    expect(page.locator("#dead-letter-groups")).to_contain_text("No dead delivery.")
                    go("/console/events/evt-doomed-1")
                    expect(page.locator("section.delivery[data-handler=command] h3 .state")).to_have_text("done")
                    expect(page.locator("section.delivery[data-handler=command] tr.attempt").last).to_have_attribute("data-outcome", "done")

                def pause_and_resume():
                    page.get_by_role("link", name="Handlers").click()
                    page.get_by_role("button", name="Pause command").click()
                    expect(page.get_by_role("status")).to_have_text("Paused command.")
                    expect(page.locator("section.handler[data-handler=command] h2 .state")).to_have_text("paused")
                    shot("handlers-paused")
                    inlet.post_event("evt-paused", "employee.updated", employee("EMP-6"))
                    # The audit handler (not paused) finishes it; the command delivery stays pending.
                    inlet.wait_for("audit done for evt-paused", lambda: inlet.delivery_state("evt-paused", "audit") == "done")
                    go("/console/events/evt-paused")
                    expect(page.locator("section.delivery[data-handler=command] h3 .state")).to_have_text("pending")
                    expect(page.locator("section.delivery[data-handler=command] tr.attempt")).to_have_count(0)
                    go("/console/")
                    expect(page.locator("#overview-handlers tr[data-handler=command] [data-count=pending]")).to_have_text("1")
                    expect(page.locator("#overview-handlers tr[data-handler=command] .state")).to_have_text("paused")
                    assert inlet.delivery_state("evt-paused", "command") == "pending"
                    go("/console/handlers")
                    page.get_by_role("button", name="Resume command").click()
                    expect(page.get_by_role("status")).to_have_text("Resumed command.")
                    inlet.wait_for("evt-paused delivered after resume", lambda: inlet.delivery_state("evt-paused", "command") == "done")
                    go("/console/events/evt-paused")
                    expect(page.locator("section.delivery[data-handler=command] h3 .state")).to_have_text("done")
                    go("/console/handlers")
                    shot("handlers")

                def employees_and_logins():
                    page.get_by_role("link", name="Employees and logins").click()
                    row = page.locator("#employees tr[data-employee-id=EMP-7]")
                    expect(row).to_contain_text("Grace Hopper")
                    expect(row).to_contain_text("failed")
                    expect(row).to_contain_text("Auth0 answered 429 <rate limited>")
                    expect(page.locator("#logins tbody tr")).to_have_count(2)
                    expect(page.locator("#logins")).to_contain_text("auth0|alice")
                    shot("employees")

                def script_payload_inert():
                    before = len(dialogs)
                    go("/console/events/evt-xss")
                    payload = page.locator("#payload")
                    expect(payload).to_contain_text("<script>alert('xss-script')</script>")
                    expect(payload).to_contain_text("<img src=x onerror=alert('xss-img')>")
                    assert page.locator("main script, main img").count() == 0
                    # Give an injected handler every chance to run: the image would have failed to load by now.
                    page.wait_for_load_state("load")
                    page.evaluate("() => new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve, 0)))")
                    alerts = [d for d in dialogs[before:] if d[0] == "alert"]
                    assert not alerts, alerts
                    assert not any("xss" in message for _, message in dialogs), dialogs
                    go("/console/events")
                    expect(page.locator("#events")).to_contain_text("evt-xss")
                    assert not any(d[0] == "alert" for d in dialogs), dialogs
                    shot("event-script-payload")

                def readable_without_javascript():
                    plain = browser.new_context(java_script_enabled=False)
                    plain.set_default_timeout(TIMEOUT_MS)
                    other = plain.new_page()
                    other.goto(inlet.base + "/console/sign-in")
                    other.get_by_label("Admin token").fill(inlet.admin_token)
                    other.get_by_role("button", name="Sign in").click()
                    expect(other.get_by_role("heading", level=1)).to_have_text("Overview")
                    expect(other.locator("#overview-handlers tr[data-handler=command]")).to_be_visible()
                    other.goto(inlet.base + "/console/handlers")
                    other.get_by_role("button", name="Pause audit").click()  # no confirm without scripts: the form posts
                    expect(other.get_by_role("status")).to_have_text("Paused audit.")
                    other.get_by_role("button", name="Resume audit").click()
                    expect(other.get_by_role("status")).to_have_text("Resumed audit.")
                    plain.close()

                def keyboard_reaches_the_navigation():
                    go("/console/")
                    page.keyboard.press("Tab")
                    expect(page.locator(":focus")).to_have_text("Skip to content")
                    page.keyboard.press("Tab")
                    page.keyboard.press("Tab")
                    expect(page.locator(":focus")).to_have_text("Overview")

                def sign_out_closes_the_pages():
                    go("/console/")
                    page.get_by_role("button", name="Sign out").click()
                    expect(page).to_have_url(re.compile(r"/console/sign-in$"))
                    for path in ("/console/", "/console/events", "/console/events/evt-flaky", "/console/dead-letters",
                                 "/console/handlers", "/console/employees"):
                        go(path)
                        expect(page).to_have_url(re.compile(r"/console/sign-in$"))
                    # An action with the old cookie (if the browser still sent one) is refused.
                    answer = context.request.post(inlet.base + "/console/dead-letters/replay",
                                                  form={"csrf": "x", "handler": "command"}, max_redirects=0)
                    assert answer.status == 403, answer.status
                    headers = answer.headers
                    assert "script-src 'self'" in headers.get("content-security-policy", ""), headers
                    shot("signed-out")

                step("without a session the console redirects to sign-in", closed_without_session)
                step("sign in with the admin token", sign_in)
                step("the overview shows the seeded counts", overview)
                step("filter events by type and state", filter_events)
                step("an event shows each attempt of a delivery that failed twice and then succeeded", attempts_timeline)
                step("replay a dead-letter group and see the deliveries run", replay_dead_group)
                step("pause a handler: its delivery stays pending; resume: delivered", pause_and_resume)
                step("employees and recent logins", employees_and_logins)
                step("a payload with script tags renders inert", script_payload_inert)
                step("the pages work with JavaScript off", readable_without_javascript)
                step("keyboard navigation reaches the skip link and the navigation", keyboard_reaches_the_navigation)
                step("sign out closes every page", sign_out_closes_the_pages)
                if console_errors:
                    results.append(("no script error on any page", "; ".join(console_errors)))
                else:
                    results.append(("no script error on any page", None))
                browser.close()
        except Exception as error:  # noqa: BLE001
            traceback.print_exc()
            results.append(("set-up", f"{type(error).__name__}: {error}"))
        finally:
            inlet.stop() if "inlet" in locals() else None
            failed = [name for name, problem in results if problem]
            if failed and "inlet" in locals():
                print("console-browser: last lines of the server log:", file=sys.stderr)
                print("\n".join(inlet.log.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)

    passed = sum(1 for _, problem in results if problem is None)
    failed = len(results) - passed
    for name, problem in results:
        if problem:
            print(f"failed: {name}: {problem}")
    print(f"screenshots: {out}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build/debug/inlet"))
    parser.add_argument("--out", default=str(ROOT / ".build/test-output/console"))
    parser.add_argument("--time-limit", type=float, default=240, help="seconds for the whole browser run")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
