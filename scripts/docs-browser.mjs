// The docs page in a real browser (Debian's Chromium, driven by playwright-core), offline:
// every request not to 127.0.0.1 is blocked, so Swagger UI must come from the binary. Checks
// the "All systems operational" chip and the maintenance badge of GET /payments, then turns
// global maintenance on through the admin API and waits for the banner (no reload), takes a
// screenshot, disables GET /v2/users and sees it leave the page, and turns maintenance off.
// Run by scripts/docs-browser, which starts the `basic` example and passes its URL.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const base = process.argv[2];
const shots = process.argv[3];
assert.ok(base && shots, "usage: docs-browser.mjs <app url> <screenshot dir>");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});

async function admin(path, body) {
  if (!admin.token) {
    const login = await fetch(`${base}/waygate/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: "secret" }),
    });
    assert.equal(login.status, 200, "admin login");
    admin.token = (await login.json()).token;
  }
  const response = await fetch(`${base}/waygate/api/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-waygate-token": admin.token },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, `POST ${path}`);
}

const opblock = (method, path) =>
  `.opblock-${method}:has(.opblock-summary-path[data-path="${path}"])`;

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const blocked = [];
  const host = new URL(base).host;
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.host === host) return route.continue();
    blocked.push(url.href);
    return route.abort();
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("response", (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });

  await page.goto(`${base}/docs`);
  assert.equal(await page.title(), "waygate — Basic Example - Swagger UI");
  await page.waitForSelector(opblock("get", "/health"), { timeout: 15000 });
  await page.waitForSelector("#waygate-ok-chip", { timeout: 30000 });
  assert.equal((await page.textContent("#waygate-ok-chip")).trim(), "All systems operational");
  assert.equal(await page.locator("#waygate-global-banner").count(), 0);
  // GET /payments is in maintenance: badge and border; GET /old-endpoint (disabled) is absent.
  await page.waitForSelector(`${opblock("get", "/payments")} .waygate-badge`);
  assert.match(await page.textContent(`${opblock("get", "/payments")} .waygate-badge`), /MAINTENANCE/);
  assert.equal(await page.locator(opblock("get", "/health") + " .waygate-badge").count(), 0);
  assert.equal(await page.locator(opblock("get", "/old-endpoint")).count(), 0);
  await page.evaluate(() => { window.__noReload = true; });

  await admin("global/enable", { reason: "Emergency patch", exempt_paths: ["/health"] });
  await page.waitForSelector("#waygate-global-banner", { timeout: 15000 });
  const banner = await page.textContent("#waygate-global-banner");
  assert.match(banner, /Site-Wide Maintenance In Progress/);
  assert.match(banner, /Emergency patch/);
  assert.match(banner, /Exempt: \/health/);
  assert.equal(await page.locator("#waygate-ok-chip").count(), 0);
  // Every operation but the exempt /health now carries the badge.
  await page.waitForSelector(`${opblock("get", "/v2/users")} .waygate-badge`, { timeout: 30000 });
  assert.equal(await page.locator(opblock("get", "/health") + " .waygate-badge").count(), 0);
  // Deprecated operations too (Swagger UI marks their path differently).
  await page.waitForSelector(".opblock-deprecated .waygate-badge", { timeout: 30000 });
  assert.equal(await page.evaluate(() => window.__noReload), true, "no reload");
  await page.screenshot({ path: `${shots}/docs-global-maintenance.png`, fullPage: true });

  await admin("global/disable", {});
  await admin("routes/R0VUOi92Mi91c2Vycw/disable", { reason: "retired" }); // b64u("GET:/v2/users")
  await page.waitForSelector("#waygate-ok-chip", { timeout: 15000 });
  await page.waitForFunction(
    (sel) => document.querySelectorAll(sel).length === 0,
    opblock("get", "/v2/users"),
    { timeout: 15000 },
  );
  assert.equal(await page.locator("#waygate-global-banner").count(), 0);
  await page.waitForFunction(() => !document.querySelector(".opblock-deprecated .waygate-badge"));
  assert.equal(await page.evaluate(() => window.__noReload), true, "no reload");
  await page.screenshot({ path: `${shots}/docs-operational.png`, fullPage: true });
  await admin("routes/R0VUOi92Mi91c2Vycw/enable", { reason: "" });

  assert.deepEqual(blocked, [], "the page asked for nothing outside loopback");
  assert.deepEqual(errors, [], "no script errors, no failed requests");
  console.log(`docs page: ok (screenshots in ${shots}/docs-*.png)`);
} finally {
  await browser.close();
}
