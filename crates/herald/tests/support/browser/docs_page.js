// Opens Herald's /docs in Debian's Chromium and reports, as one JSON line,
// what a reader would see: the rendered title and operations, errors on
// the console, and any request to another origin (the page's
// Content-Security-Policy should stop them before they leave).
//
// Usage: node docs_page.js BASE_URL SCREENSHOT_PATH
const { chromium } = require("playwright-core");

const [base, screenshot] = process.argv.slice(2);

(async () => {
  const profile = require("fs").mkdtempSync(require("path").join(require("os").tmpdir(), "herald-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run",
    ],
  });
  const page = await browser.newPage();
  const consoleErrors = [];
  const requests = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push("uncaught: " + e.message));
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(base + "/docs", { waitUntil: "networkidle" });
  await page.waitForSelector("h1", { timeout: 30000 });
  const report = {
    title: (await page.textContent("h1")).trim(),
    headings: await page.locator("h2").allTextContents(),
    consoleErrors,
    otherOrigins: requests.filter((u) => !u.startsWith(base + "/")),
  };
  await page.screenshot({ path: screenshot });
  await browser.close();
  console.log(JSON.stringify(report));
})().catch((e) => { console.error(e); process.exit(1); });
