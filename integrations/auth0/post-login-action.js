/**
 * Auth0 Post-Login Action: reports every login to Inlet (POST /internal/auth/sync-user).
 *
 * Copy this file into a Post-Login Action of the tenant and add two Action secrets:
 *   INLET_URL           the Inlet's public URL, such as https://inlet.example
 *   INTERNAL_API_TOKEN  the same value as Inlet's INTERNAL_API_TOKEN
 *
 * It never blocks a login: the whole Action has 20 s, so the call is abandoned after
 * TIMEOUT_MS (well inside Auth0's advice of under 10 s for outbound calls), and any failure
 * (Inlet restarting, a network blip, a timeout, a refusal) is logged and the login goes
 * on. A login lost this way still reaches Inlet through the log stream
 * (POST /hooks/auth0-logs) and, failing that, the reconciler (inlet auth0 reconcile).
 *
 * Body (the shape SyncUserRoute reads): {auth0Id, email?, name?, picture?, emailVerified?,
 * loginsCount?, ip?, userAgent?, protocol?}; absent values are left out, so Inlet keeps
 * what it has. Needs no npm package: fetch and AbortController are built into Node 18+.
 */
const TIMEOUT_MS = 5000;

/**
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onExecutePostLogin = async (event, api) => {
  const base = event.secrets && event.secrets.INLET_URL;
  const token = event.secrets && event.secrets.INTERNAL_API_TOKEN;
  if (!base || !token) {
    console.log("inlet: INLET_URL or INTERNAL_API_TOKEN is not set; this login is not reported");
    return;
  }
  const user = event.user || {};
  const body = {
    auth0Id: user.user_id,
    email: user.email,
    name: user.name,
    picture: user.picture,
    emailVerified: typeof user.email_verified === "boolean" ? user.email_verified : undefined,
    loginsCount: event.stats && Number.isInteger(event.stats.logins_count) ? event.stats.logins_count : undefined,
    ip: event.request && event.request.ip,
    userAgent: event.request && event.request.user_agent,
    protocol: event.transaction && event.transaction.protocol,
  };
  const url = String(base).replace(/\/+$/, "") + "/internal/auth/sync-user";
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  const started = Date.now();
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    // Read the answer inside the same timeout, so the connection is released.
    await response.text();
    if (!response.ok) {
      console.log(`inlet: sync-user answered ${response.status}; the login goes on`);
    }
  } catch (error) {
    const reason = error && error.name === "AbortError" ? `no answer within ${TIMEOUT_MS} ms` : String(error && (error.cause || error.message || error));
    console.log(`inlet: sync-user failed after ${Date.now() - started} ms (${reason}); the login goes on`);
  } finally {
    clearTimeout(timer);
  }
};

exports.TIMEOUT_MS = TIMEOUT_MS;
