// The Post-Login Action against a live `inlet serve`: a login arrives; with Inlet stopped
// (a closed port) or hanging (a port that accepts and never answers) the Action returns
// within its timeout and the login goes on. Node 20's own test runner; no npm packages.
//
//   node --test integrations/auth0/post-login-action.test.js
//
// INLET_BINARY names the inlet binary (default: .build/debug/inlet from the repository).
"use strict";
const { test, before, after } = require("node:test");
const assert = require("node:assert");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const action = require("./post-login-action.js");

const root = path.resolve(__dirname, "../..");
const binary = process.env.INLET_BINARY || path.join(root, ".build/debug/inlet");
const internalToken = "itok_" + "7".repeat(40);
const adminToken = "atok_" + "8".repeat(40);
let inlet;
let inletURL;
let folder;

/** A port nothing listens on: bound, read, closed. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 100 ms until it is true or `ms` pass. */
async function eventually(ms, check) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`not true within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A stubbed `event` for a login of `userID`, sent to `url`. */
function loginEvent(url, userID) {
  return {
    secrets: { INLET_URL: url, INTERNAL_API_TOKEN: internalToken },
    user: { user_id: userID, email: "maria.lopez@example.com", email_verified: true, name: "Maria Lopez", picture: "https://s.gravatar.com/avatar/1.png" },
    stats: { logins_count: 42 },
    request: { ip: "203.0.113.24", user_agent: "node-test" },
    transaction: { protocol: "oidc-basic-profile" },
  };
}

/** A stubbed `api` that records whatever the Action asks of it. */
function recordingAPI() {
  const calls = [];
  const record = (name) => (...args) => { calls.push([name, ...args]); };
  return { calls, access: { deny: record("access.deny") }, user: { setAppMetadata: record("user.setAppMetadata") }, idToken: { setCustomClaim: record("idToken.setCustomClaim") } };
}

before(async () => {
  assert.ok(fs.existsSync(binary), `no inlet binary at ${binary}; run swift build first`);
  folder = fs.mkdtempSync(path.join(os.tmpdir(), "inlet-action-"));
  const port = await freePort();
  inletURL = `http://127.0.0.1:${port}`;
  inlet = spawn(binary, ["serve"], {
    env: {
      PATH: process.env.PATH, INLET_LISTEN: `127.0.0.1:${port}`, INLET_DATABASE: path.join(folder, "inlet.sqlite"),
      INTERNAL_API_TOKEN: internalToken, ADMIN_API_TOKEN: adminToken, INLET_LOG_LEVEL: "warning",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await eventually(30000, async () => (await fetch(`${inletURL}/healthz`)).ok);
});

after(async () => {
  if (inlet && inlet.exitCode === null) {
    const exited = new Promise((resolve) => inlet.once("exit", resolve));
    inlet.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10000))]);
    if (inlet.exitCode === null) inlet.kill("SIGKILL");
  }
  if (folder) fs.rmSync(folder, { recursive: true, force: true });
});

test("a login reaches Inlet as an auth0.user.login event", { timeout: 20000 }, async () => {
  const api = recordingAPI();
  await action.onExecutePostLogin(loginEvent(inletURL + "/", "auth0|6745a1f0c2d94e0012ab34cd"), api);
  assert.deepStrictEqual(api.calls, []);
  const response = await fetch(`${inletURL}/admin/events?type=auth0.user.login`, { headers: { Authorization: `Bearer ${adminToken}` } });
  assert.strictEqual(response.status, 200);
  const { events } = await response.json();
  assert.strictEqual(events.length, 1);
  const detail = await (await fetch(`${inletURL}/admin/events/${events[0].id}`, { headers: { Authorization: `Bearer ${adminToken}` } })).json();
  assert.strictEqual(detail.payload.auth0Id, "auth0|6745a1f0c2d94e0012ab34cd");
  assert.strictEqual(detail.payload.loginsCount, 42);
  assert.strictEqual(detail.payload.emailVerified, true);
});

test("with Inlet stopped (a closed port) the login goes on at once", { timeout: 20000 }, async () => {
  const api = recordingAPI();
  const started = Date.now();
  await action.onExecutePostLogin(loginEvent(`http://127.0.0.1:${await freePort()}`, "auth0|closed"), api);
  assert.ok(Date.now() - started < action.TIMEOUT_MS, `took ${Date.now() - started} ms`);
  assert.deepStrictEqual(api.calls, []);
});

test("with Inlet hanging (accepts, never answers) the login goes on after the timeout", { timeout: 20000 }, async () => {
  const sockets = [];
  const silent = net.createServer((socket) => { sockets.push(socket); });
  await new Promise((resolve) => silent.listen(0, "127.0.0.1", resolve));
  try {
    const api = recordingAPI();
    const started = Date.now();
    await action.onExecutePostLogin(loginEvent(`http://127.0.0.1:${silent.address().port}`, "auth0|hanging"), api);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= action.TIMEOUT_MS - 100, `returned after ${elapsed} ms, before the timeout`);
    assert.ok(elapsed < action.TIMEOUT_MS + 2000, `returned after ${elapsed} ms, well past the timeout`);
    assert.ok(elapsed < 20000, "inside the login's 20 s budget");
    assert.ok(sockets.length >= 1, "the Action connected");
    assert.deepStrictEqual(api.calls, []);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});

test("without its secrets the Action does nothing and the login goes on", { timeout: 5000 }, async () => {
  const api = recordingAPI();
  await action.onExecutePostLogin({ secrets: {}, user: { user_id: "auth0|x" } }, api);
  assert.deepStrictEqual(api.calls, []);
});
