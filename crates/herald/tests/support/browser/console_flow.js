// Drives Herald's web console in Debian's Chromium as a user would, and
// fails (exit 1, with the step that failed) at the first thing that is not
// as it should be. Prints one JSON line at the end: what was created, the
// accessibility findings per page, and every request to another origin.
//
// Usage: node console_flow.js CONFIG_JSON
//   {base, token, okUrl, failUrl, portalUrl, portalWebhook, screenshots}
const { chromium } = require("playwright-core");
const AxeBuilder = require("@axe-core/playwright").default;
const fs = require("fs");
const os = require("os");
const path = require("path");

const config = JSON.parse(process.argv[2]);
const { base } = config;
const report = { steps: [], axe: {}, otherOrigins: [], consoleErrors: [] };

function check(condition, message) {
  if (!condition) {
    throw new Error(`step "${report.steps[report.steps.length - 1]}": ${message}`);
  }
}

function step(name) {
  report.steps.push(name);
}

async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "herald-chromium-"));
  return chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run",
    ],
  });
}

function watch(page) {
  page.on("request", (r) => {
    if (!r.url().startsWith(base + "/") && !r.url().startsWith("data:")) {
      report.otherOrigins.push(r.url());
    }
  });
  // An answer with an error status is logged too; the steps check those.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource: the server responded with a status of")) {
      report.consoleErrors.push(m.text());
    }
  });
  page.on("pageerror", (e) => report.consoleErrors.push("uncaught: " + e.message));
}

// Every serious or critical axe finding of the page, by page name.
async function scan(page, name) {
  const result = await new AxeBuilder({ page }).analyze();
  report.axe[name] = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} @ ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
}

async function shot(page, name) {
  if (config.screenshots) {
    await page.screenshot({ path: path.join(config.screenshots, `console-${name}.png`), fullPage: false });
  }
}

async function text(page) {
  return page.locator("main").innerText();
}

// Submits with `button`, waits for the page it leads to, and checks that
// its address matches `expected`; the page's text says why when not.
async function submitTo(page, button, expected) {
  await Promise.all([page.waitForNavigation(), page.click(button)]);
  check(expected.test(page.url()), `landed on ${page.url()}: ${await text(page)}`);
}

(async () => {
  const browser = await launch();
  const page = await browser.newPage();
  watch(page);

  step("an unsigned visit is sent to sign in");
  await page.goto(base + "/ui");
  check(page.url().endsWith("/ui/sign-in"), `landed on ${page.url()}`);
  await scan(page, "sign-in");
  await shot(page, "sign-in");

  step("a wrong token is refused");
  await page.fill("#token", "not-the-token-at-all");
  await page.click("button[type=submit]");
  check((await text(page)).includes("not the admin token"), "no refusal shown");

  step("sign in with the admin token");
  await page.fill("#token", config.token);
  await page.click("button[type=submit]");
  await page.waitForURL(base + "/ui");
  check((await page.textContent("h1")) === "Overview", "no overview");
  const cookies = await browser.cookies();
  const session = cookies.find((c) => c.name.includes("herald_session"));
  check(session && session.httpOnly && session.sameSite === "Strict", `session cookie ${JSON.stringify(session)}`);

  step("create a Slack webhook through the form, a 422 shown at its field");
  await page.goto(base + "/ui/webhooks/new");
  await page.selectOption("#provider", "slack");
  await page.waitForURL(/provider=slack/);
  await page.fill("#name", "Team alerts");
  await page.fill("#url", config.okUrl);
  await page.fill("#event_types", "build.done");
  await page.fill("#settings-theme_color", "not-a-colour");
  await page.click("form button[type=submit]:has-text('Create webhook')");
  const fieldError = page.locator("[data-field='settings-theme_color'] .error");
  check(await fieldError.count() === 1, "no error at the theme_color field");
  check((await fieldError.innerText()).includes("hex colour"), `error says ${await fieldError.innerText()}`);
  check(await page.getAttribute("#settings-theme_color", "aria-invalid") === "true", "field not marked invalid");
  check(await page.inputValue("#name") === "Team alerts", "the form lost what was typed");
  await scan(page, "webhook-form");
  await fieldError.scrollIntoViewIfNeeded();
  await shot(page, "webhook-form");
  await page.fill("#settings-theme_color", "#2EB67D");
  await submitTo(page, "form button[type=submit]:has-text('Create webhook')", /\/ui\/webhooks\/wh_/);
  const slackId = page.url().match(/(wh_[0-9A-Z]+)/)[1];
  check((await text(page)).includes("Created."), "no confirmation");
  report.slackId = slackId;

  step("create a plain webhook whose receiver fails");
  await page.goto(base + "/ui/webhooks/new?provider=webhook");
  await page.fill("#name", "Failing receiver");
  await page.fill("#url", config.failUrl);
  await page.fill("#event_types", "build.done");
  await page.click("summary:has-text('Delivery settings')");
  await page.fill("#retry", '{"max_retries": 0}');
  await submitTo(page, "form button[type=submit]:has-text('Create webhook')", /\/ui\/webhooks\/wh_/);
  const failingId = page.url().match(/(wh_[0-9A-Z]+)/)[1];
  report.failingId = failingId;

  step("send a test event and see it delivered");
  await page.goto(`${base}/ui/webhooks/${slackId}`);
  await page.click("button:has-text('Send test')");
  await page.waitForSelector("h1:has-text('Test result')");
  check((await text(page)).includes("Delivered"), `test result: ${await text(page)}`);

  step("post an event; the failing delivery shows the receiver's body");
  const posted = await fetch(`${base}/api/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${config.token}`, "content-type": "application/json" },
    body: JSON.stringify({ type: "build.done", data: { build: 42, status: "green" } }),
  });
  check(posted.status === 202, `ingest answered ${posted.status}`);
  const eventId = (await posted.json()).id;
  report.eventId = eventId;
  let failedLink = null;
  for (let i = 0; i < 60 && !failedLink; i++) {
    await page.goto(`${base}/ui/deliveries?status=failed&webhook_id=${failingId}`);
    const links = page.locator("table a[href^='/ui/deliveries/dlv_']");
    if (await links.count() > 0) failedLink = await links.first().getAttribute("href");
    else await page.waitForTimeout(250);
  }
  check(failedLink, "no failed delivery listed");
  await scan(page, "deliveries");
  await shot(page, "deliveries");
  step("the log filters by event type and time; a bad time is shown at its field");
  await page.goto(`${base}/ui/deliveries?status=failed&event_type=build.done&window=1h`);
  check(await page.locator(`table a[href='${failedLink}']`).count() === 1, "the failed delivery is not in its own window");
  await page.goto(`${base}/ui/deliveries?event_type=nothing.posted`);
  check((await text(page)).includes("No deliveries match"), "a filter that matches nothing shows rows");
  await page.goto(`${base}/ui/deliveries?since=yesterday`);
  check(await page.getAttribute("#since", "aria-invalid") === "true", "the bad time is not marked at its field");
  check(await page.locator("#since + .error").count() === 1, "no error under the field");
  await scan(page, "deliveries-refused");

  step("open the failed delivery");
  await page.goto(base + failedLink);
  const detail = await text(page);
  check(detail.includes("receiver exploded"), "the receiver's response body is not shown");
  check(detail.includes("HTTP 500"), "the attempt's status is not shown");
  await scan(page, "delivery");
  await shot(page, "delivery");

  step("retry the failed delivery");
  await page.click("button:has-text('Retry this delivery')");
  await page.waitForSelector(".notice");
  check((await text(page)).includes("Requeued"), `after retry: ${await text(page)}`);
  report.retriedDelivery = failedLink.split("/").pop();

  step("pause and resume");
  await page.goto(`${base}/ui/webhooks/${slackId}`);
  await page.click("button:has-text('Pause')");
  await page.waitForSelector(".notice");
  check((await text(page)).includes("Paused."), "not paused");
  check(await page.locator("h1 + .row .badge", { hasText: "paused" }).count() >= 1, "no paused badge");
  await page.click("button:has-text('Resume')");
  await page.waitForSelector(".notice");
  check((await text(page)).includes("Resumed."), "not resumed");
  await scan(page, "webhook");
  await shot(page, "webhook");

  step("replay the event");
  await page.goto(`${base}/ui/events?q=${eventId}`);
  await page.waitForURL(new RegExp(`/ui/events/${eventId}`));
  await page.click("button:has-text('Replay event')");
  await page.waitForSelector(".notice");
  check(/Replayed: [1-9]/.test(await text(page)), `after replay: ${await text(page)}`);
  await scan(page, "event");

  step("a form posted without its CSRF token is refused");
  const forged = await page.request.post(`${base}/ui/webhooks/${slackId}/status`, {
    form: { status: "paused" },
    maxRedirects: 0,
  });
  check(forged.status() === 403, `a CSRF-less POST answered ${forged.status()}`);
  const wrong = await page.request.post(`${base}/ui/webhooks/${slackId}/status`, {
    form: { status: "paused", csrf: "guessed" },
    maxRedirects: 0,
  });
  check(wrong.status() === 403, `a wrong CSRF token answered ${wrong.status()}`);

  step("every other page renders and passes the scan");
  for (const [name, url] of [
    ["overview", "/ui"], ["webhooks", "/ui/webhooks"], ["events", "/ui/events"],
    ["event-types", "/ui/event-types"], ["schedules", "/ui/schedules"],
    ["providers", "/ui/providers"], ["audit", "/ui/audit"], ["tenants", "/ui/tenants"],
  ]) {
    const answer = await page.goto(base + url);
    check(answer.status() === 200, `${url} answered ${answer.status()}`);
    await scan(page, name);
    if (name === "overview" || name === "webhooks" || name === "providers") await shot(page, name);
  }

  step("an operator creates a tenant; its key is shown once");
  await page.goto(base + "/ui/tenants");
  await page.fill("#tenant-name", "beta");
  await submitTo(page, "button:has-text('Create tenant')", /\/ui\/tenants$/);
  check(/^hrld_/.test(await page.textContent("#api-key")), "no key shown");
  await scan(page, "tenant-key");

  step("the main pages fit a 390 px screen");
  await page.setViewportSize({ width: 390, height: 844 });
  for (const url of ["/ui", "/ui/webhooks", `/ui/webhooks/${slackId}`, "/ui/webhooks/new", failedLink, "/ui/deliveries"]) {
    await page.goto(base + url);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, `${url} is ${overflow}px wider than the screen`);
    if (url === "/ui/webhooks") await shot(page, "webhooks-narrow");
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  step("keyboard: the first Tab reaches the skip link, with a visible focus");
  await page.goto(base + "/ui");
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => ({
    text: document.activeElement.textContent,
    outline: getComputedStyle(document.activeElement).outlineStyle,
  }));
  check(focused.text === "Skip to content" && focused.outline !== "none", `focus: ${JSON.stringify(focused)}`);

  step("sign out");
  await page.click("button:has-text('Sign out')");
  await page.waitForURL(base + "/ui/sign-in");
  await page.goto(base + "/ui/webhooks");
  check(page.url().endsWith("/ui/sign-in"), "still signed in after signing out");
  const replayed = await browser.request.get(`${base}/ui`, { maxRedirects: 0 });
  check(replayed.status() === 303, "the old session still opens pages");
  await browser.close();

  step("a portal link opens only its tenant's webhooks");
  const portal = await launch();
  const portalPage = await portal.newPage();
  watch(portalPage);
  await portalPage.goto(config.portalUrl);
  await scan(portalPage, "portal-landing");
  await portalPage.click("button:has-text('Open the portal')");
  await portalPage.waitForURL(base + "/ui");
  await portalPage.goto(base + "/ui/webhooks");
  await scan(portalPage, "portal-webhooks");
  const listed = await text(portalPage);
  check(listed.includes(config.portalWebhook), "the tenant's webhook is missing");
  check(!listed.includes("Team alerts") && !listed.includes("Failing receiver"), "another tenant's webhooks are shown");
  const other = await portalPage.goto(`${base}/ui/webhooks/${slackId}`);
  check(other.status() === 404, `another tenant's webhook answered ${other.status()}`);
  const tenants = await portalPage.goto(`${base}/ui/tenants`);
  check(tenants.status() === 403, `the operator's page answered ${tenants.status()}`);
  await portal.close();

  step("the same portal link is refused the second time");
  const again = await launch();
  const againPage = await again.newPage();
  watch(againPage);
  await againPage.goto(config.portalUrl);
  const [refusal] = await Promise.all([
    againPage.waitForResponse((r) => r.request().method() === "POST"),
    againPage.click("button:has-text('Open the portal')"),
  ]);
  check(refusal.status() === 410, `a second use answered ${refusal.status()}`);
  check((await text(againPage)).includes("no longer works"), "no refusal shown");
  await scan(againPage, "portal-used");
  await again.close();

  console.log(JSON.stringify(report));
})().catch((e) => {
  console.log(JSON.stringify(report));
  console.error(e.stack || String(e));
  process.exit(1);
});
