// The dashboard in a real browser (Debian's Chromium, driven by playwright-core): log in,
// disable GET:/payments from the routes page, see the row change without a reload (SSE), in
// the acting page and in a second browser context; GET /payments answers 503; screenshots of
// the routes page under target/. Then the Traffic page: the refused requests charted, updated
// live; screenshots target/dashboard-traffic.png and -dark.png. Run by scripts/dashboard-browser, which starts the `basic`
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
  await page.waitForSelector(".live.on", { timeout: 10000 }); // the SSE stream is open
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
      { timeout: 5000 },
    );
    await side.page.waitForFunction(
      (want) => Number(document.querySelector(".summary .stat-disabled b")?.textContent) === want,
      disabledBefore + 1,
      { timeout: 5000 },
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
    await side.page.waitForSelector(".live.on", { timeout: 10000 });
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
  console.log("dashboard browser test: ok");
} finally {
  await browser.close();
}
