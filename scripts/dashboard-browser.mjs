// The dashboard in a real browser (Debian's Chromium, driven by playwright-core): log in,
// disable GET:/payments from the routes page, see the row change without a reload (SSE), in
// the acting page and in a second browser context; GET /payments answers 503; screenshots of
// the routes page under target/. Then the Traffic page: the refused requests charted, updated
// live; screenshots target/dashboard-traffic.png and -dark.png. Then the Flags and Segments
// pages (target/dashboard-flag*.png, dashboard-segment.png). Run by scripts/dashboard-browser, which starts the `basic`
// example and passes its URL.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const base = process.argv[2];
const shots = process.argv[3];
assert.ok(base && shots, "usage: dashboard-browser.mjs <app url> <screenshot dir>");
const dashboard = `${base}/waygate`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});

// An API token (for reading back what the pages changed).
async function token() {
  const reply = await fetch(`${base}/waygate/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: "secret" }),
  });
  return (await reply.json()).token;
}

async function loggedIn(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("response", (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
  await page.goto(dashboard);
  assert.match(page.url(), /\/waygate\/login$/, "a page without a session goes to login");
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", "wrong");
  await page.click("button[type=submit]");
  await page.waitForURL(/login\?error=/);
  assert.ok((await page.textContent(".alert")).includes("Invalid credentials"));
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", "secret");
  await page.click("button[type=submit]");
  await page.waitForURL(`${dashboard}`);
  await page.waitForSelector("#row-GET--payments");
  await page.waitForSelector(".live.on", { timeout: 30000 }); // the SSE stream is open
  // Anything that reloads the page drops this marker.
  await page.evaluate(() => { window.__noReload = true; });
  return { context, page, errors };
}

// What a user sees, checked: no word of the routes table broken over lines (a column
// narrower than its longest word: a key printed one letter per line), and on a phone nothing
// wider than the viewport.
async function assertLayout(page, name, viewportWidth) {
  const problems = await page.evaluate((viewportWidth) => {
    const found = [];
    const hidden = (el) => el.offsetParent === null || el.closest("dialog, .menu, .sr-only");
    const table = document.querySelector("table.routes");
    const walker = document.createTreeWalker(table, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (hidden(node.parentElement)) continue;
      for (const word of node.textContent.matchAll(/\S+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (lines.size > 1) found.push(`"${word[0]}" is broken over ${lines.size} lines`);
      }
    }
    if (viewportWidth) {
      const width = document.documentElement.scrollWidth;
      if (width > viewportWidth) found.push(`the page is ${width}px wide`);
      for (const el of document.querySelectorAll("main *")) {
        if (hidden(el)) continue;
        const right = el.getBoundingClientRect().right;
        if (right > viewportWidth + 0.5) {
          found.push(`${el.tagName.toLowerCase()}.${el.className} reaches ${Math.round(right)}px`);
          break;
        }
      }
    }
    return found;
  }, viewportWidth);
  assert.deepEqual(problems, [], `${name}: layout`);
}

try {
  const a = await loggedIn();
  const b = await loggedIn();
  const badge = "#row-GET--payments .badge";
  assert.equal((await a.page.textContent(badge)).trim(), "maintenance");
  assert.equal((await b.page.textContent(badge)).trim(), "maintenance");

  const disabledCount = (page) =>
    page.evaluate(() => Number(document.querySelector(".summary .stat-disabled b")?.textContent));
  const disabledBefore = await disabledCount(b.page);
  // Disable from page A through the modal.
  await a.page.click("#row-GET--payments button[data-open^='d-']");
  const dialog = a.page.locator("dialog#d-GET--payments");
  await dialog.waitFor({ state: "visible" });
  await dialog.locator("input[name=reason]").fill("hotfix <b>now</b>");
  await dialog.locator("button[type=submit]").click();

  for (const [name, side] of [["acting page", a], ["second context", b]]) {
    await side.page.waitForFunction(
      (sel) => document.querySelector(sel)?.textContent.trim() === "disabled",
      badge,
      { timeout: 30000 },
    );
    await side.page.waitForFunction(
      (want) => Number(document.querySelector(".summary .stat-disabled b")?.textContent) === want,
      disabledBefore + 1,
      { timeout: 30000 },
    );
    assert.equal(await side.page.evaluate(() => window.__noReload), true, `${name}: no reload`);
    const reason = await side.page.textContent("#row-GET--payments td.reason");
    assert.equal(reason.trim(), "hotfix <b>now</b>", `${name}: the reason shows as text`);
    assert.deepEqual(side.errors, [], `${name}: no script errors`);
  }

  const response = await fetch(`${base}/payments`);
  assert.equal(response.status, 503, "GET /payments after disabling");
  const body = await response.json();
  assert.equal(body.error.code, "ROUTE_DISABLED");

  await a.page.mouse.move(0, 0);
  await a.page.waitForTimeout(1500); // let the row flash fade
  await a.page.screenshot({ path: `${shots}/dashboard-routes.png`, fullPage: true });
  await assertLayout(a.page, "desktop (1280 px)", 0);
  // Counts per status, and force-active routes marked.
  const counts = await a.page.evaluate(() =>
    Object.fromEntries([...document.querySelectorAll(".summary .stat")].map((s) =>
      [s.className.replace(/^stat stat-| zero$/g, ""), Number(s.querySelector("b").textContent)])));
  assert.ok(counts.disabled >= 1 && counts.active >= 1 && counts.force >= 1, JSON.stringify(counts));
  assert.ok(await a.page.isVisible("#row-GET--health .tag-force"), "/health is marked force-active");
  const phone = await loggedIn({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await assertLayout(phone.page, "phone (390 px)", 390);
  await phone.page.screenshot({ path: `${shots}/dashboard-routes-phone.png`, fullPage: true });
  const dark = await loggedIn({ colorScheme: "dark" });
  await dark.page.screenshot({ path: `${shots}/dashboard-routes-dark.png`, fullPage: true });

  // Charts of refused requests: the strip on the routes page counts the 503 above; on the
  // Traffic page, more refused requests show up live (SSE), without a reload.
  const totals = (p, slug) => p.evaluate((slug) => {
    const figure = document.getElementById(`chart-${slug}`);
    if (!figure) return null;
    const [blocked, limited] = [...figure.querySelectorAll(".legend b")].map((b) => Number(b.textContent));
    return { blocked, limited };
  }, slug);
  const strip = await totals(a.page, "total");
  assert.ok(strip && strip.blocked >= 1, `the strip counts the refused request: ${JSON.stringify(strip)}`);
  for (const [name, side, file] of [["light", a, "dashboard-traffic.png"], ["dark", dark, "dashboard-traffic-dark.png"]]) {
    await side.page.click("nav a[href=traffic]");
    await side.page.waitForURL(`${dashboard}/traffic`);
    await side.page.waitForSelector("#chart-GET--payments svg path.line-blocked");
    await side.page.waitForSelector(".live.on", { timeout: 30000 });
    await side.page.evaluate(() => { window.__noReload = true; });
    const before = await totals(side.page, "GET--payments");
    for (let i = 0; i < 5; i++) {
      const refused = await fetch(`${base}/payments`);
      assert.equal(refused.status, 503);
    }
    await side.page.waitForFunction(
      ([want]) => Number(document.querySelector("#chart-GET--payments .legend b")?.textContent) >= want,
      [before.blocked + 5],
      { timeout: 15000 },
    );
    assert.equal(await side.page.evaluate(() => window.__noReload), true, `${name}: no reload`);
    const colours = await side.page.evaluate(() => {
      const line = document.querySelector("#chart-total path.line-blocked");
      return { stroke: getComputedStyle(line).stroke, bg: getComputedStyle(document.body).backgroundColor };
    });
    assert.notEqual(colours.stroke, "none", `${name}: the line is drawn`);
    assert.deepEqual(side.errors, [], `${name}: no script errors`);
    await side.page.mouse.move(0, 0);
    await side.page.waitForTimeout(1500);
    await side.page.screenshot({ path: `${shots}/${file}`, fullPage: true });
  }
  // Feature flags: created, targeted and evaluated from the Flags pages; another browser's
  // list follows live; names show as text; screenshots on a laptop and a phone.
  await a.page.click("nav a[href=flags]");
  await a.page.waitForURL(`${dashboard}/flags`);
  await dark.page.goto(`${dashboard}/flags`);
  await dark.page.waitForSelector("#flag-rows");
  await dark.page.evaluate(() => { window.__noReload = true; });
  await a.page.click("details.create > summary");
  await a.page.fill("details.create input[name=key]", "new-checkout");
  await a.page.fill("details.create input[name=name]", "New <b>checkout</b>");
  await a.page.click("details.create button[type=submit]");
  await a.page.waitForSelector('#flag-rows a[href="flags/new-checkout"]');
  assert.equal((await a.page.textContent("#flag-rows tbody tr td[data-label=Name]")).trim(), "New <b>checkout</b>", "a flag's name shows as text");
  await dark.page.waitForSelector('#flag-rows a[href="flags/new-checkout"]', { timeout: 30000 });
  await a.page.click('#flag-rows a[href="flags/new-checkout"]');
  await a.page.waitForURL(`${dashboard}/flags/new-checkout`);
  await a.page.selectOption("select[name=fallthrough]", "on");
  await a.page.click("form[action$='/settings'] button[type=submit]");
  await a.page.waitForSelector("#flag .notice >> text=Settings saved.");
  await a.page.fill("form[action$='/rules'] input[name=attribute]", "plan");
  await a.page.fill("form[action$='/rules'] input[name=values]", "pro, enterprise");
  await a.page.selectOption("form[action$='/rules'] select[name=operator]", "in");
  await a.page.selectOption("form[action$='/rules'] select[name=variation]", "off");
  await a.page.click("form[action$='/rules'] button[type=submit]");
  await a.page.waitForSelector("#flag code >> text=plan in pro, enterprise");
  await a.page.fill("textarea[name=on]", "vip-1, vip-2");
  await a.page.click("form[action$='/targets'] button[type=submit]");
  await a.page.waitForSelector("#flag .notice >> text=Targets saved.", { timeout: 30000 }).catch(async (e) => {
    throw new Error(`targets not saved: ${await a.page.textContent("#flag .alert").catch(() => "no alert")} ${a.errors}`);
  });
  const evaluate = async (key, attributes) => {
    await a.page.fill("form[action$='/evaluate'] input[name=key]", key);
    await a.page.fill("form[action$='/evaluate'] textarea[name=attributes]", attributes);
    await a.page.evaluate(() => { document.querySelector("#eval-result").innerHTML = ""; });
    await a.page.click("form[action$='/evaluate'] button[type=submit]");
    await a.page.waitForSelector("#eval-result dl");
    return (await a.page.textContent("#eval-result .tag")).trim();
  };
  assert.equal(await evaluate("u1", "plan=pro"), "RULE_MATCH");
  assert.equal(await evaluate("vip-2", ""), "TARGET_MATCH");
  assert.equal(await evaluate("u2", "plan=free"), "FALLTHROUGH");
  await a.page.click("#flag button.btn-warn");
  await a.page.waitForSelector("#flag .badge-disabled");
  await dark.page.waitForSelector("#flag-rows .badge-disabled", { timeout: 30000 });
  assert.equal(await dark.page.evaluate(() => window.__noReload), true, "the flags list follows without a reload");
  const api = await fetch(`${base}/waygate/api/flags/new-checkout`, { headers: { "x-waygate-token": await token() } });
  const stored = await api.json();
  assert.equal(stored.enabled, false);
  assert.equal(stored.rules.length, 1);
  await a.page.mouse.move(0, 0);
  await a.page.screenshot({ path: `${shots}/dashboard-flag.png`, fullPage: true });
  await a.page.click("nav a[href=flags]");
  // No code declares it and nothing read it (the debugger does not count): stale.
  await a.page.waitForSelector('#flag-new-checkout td[data-label="In code"] >> text=stale');
  await a.page.screenshot({ path: `${shots}/dashboard-flags.png`, fullPage: true });
  await a.page.click("nav a[href=segments]");
  await a.page.click("details.create > summary");
  await a.page.fill("details.create input[name=key]", "beta-users");
  await a.page.fill("details.create input[name=name]", "Beta users");
  await a.page.click("details.create button[type=submit]");
  await a.page.click('#segment-rows a[href="segments/beta-users"]');
  await a.page.fill("textarea[name=included]", "alice, bob");
  await a.page.click("form[action$='/save'] button[type=submit]");
  await a.page.waitForSelector("#segment .notice >> text=Segment saved.");
  await a.page.screenshot({ path: `${shots}/dashboard-segment.png`, fullPage: true });
  await phone.page.goto(`${dashboard}/flags/new-checkout`);
  await phone.page.waitForSelector("#flag");
  const wide = await phone.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 390, `the flag page fits a phone: ${wide}px wide`);
  await phone.page.screenshot({ path: `${shots}/dashboard-flag-phone.png`, fullPage: true });
  await phone.page.goto(`${dashboard}/flags`);
  await phone.page.screenshot({ path: `${shots}/dashboard-flags-phone.png`, fullPage: true });
  assert.deepEqual(a.errors, [], "flag pages: no script errors");
  assert.deepEqual(dark.errors, [], "flag pages (second browser): no script errors");
  console.log("dashboard browser test: ok");
} finally {
  await browser.close();
}
