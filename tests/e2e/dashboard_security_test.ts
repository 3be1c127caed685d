/**
 * The dashboard's safety in headless chromium against a real daemon:
 * untrusted ids render as text and run no script, a wrong token is refused
 * and a right one is kept in sessionStorage only, and the harness itself
 * notices a CSP violation.
 */
import assert from "node:assert/strict";
import { launchBrowser } from "../_helpers/browser.ts";
import {
  assertQuiet,
  browserTest,
  type DashboardDaemon,
  failedLoad,
  inHours,
  type PageGlobals,
  quote,
  screenshot,
  startDashboardDaemon,
  tcpOk,
  withDashboard,
  XSS,
} from "./_dashboard.ts";
import { ADMIN_SECRET, DEPLOY_SECRET } from "./_security.ts";

async function seedXss(daemon: DashboardDaemon): Promise<void> {
  await tcpOk(daemon, [
    `a SET ${quote(XSS)} ${inHours(1)}`,
    `b SET ${quote(`${XSS}.later`)} ${inHours(2)}`,
    `c RULE SET ${quote(`rule.${XSS}`)} ${quote(XSS)} shell true`,
  ]);
}

browserTest(`a job named ${XSS} shows as text and runs no script`, async () => {
  await withDashboard(
    { hash: "#/jobs", seed: seedXss },
    async ({ watched }) => {
      const { page } = watched;
      const cell = page.locator("tbody th", { hasText: XSS }).first();
      await cell.waitFor();
      assert.equal(await cell.textContent(), XSS);
      assert.equal(await page.locator("table img").count(), 0);
      await screenshot(watched, "xss-jobs");

      await page.locator("a", { hasText: XSS }).first().click();
      await page.locator("h2", { hasText: XSS }).waitFor();
      assert.equal(await page.title(), `Job ${XSS} · ztick`);
      await page.getByRole("button", { name: "Remove job" }).click();
      const question = page.locator("dialog[open] .question");
      await question.waitFor();
      assert.equal(
        await question.textContent(),
        `Remove job ${XSS} and its history?`,
      );
      await page.locator("dialog").getByRole("button", { name: "Cancel" })
        .click();
      await screenshot(watched, "xss-job-detail");

      await page.evaluate(() => (location.hash = "#/rules"));
      await page.locator("tbody th", { hasText: `rule.${XSS}` }).waitFor();
      await page.locator("tbody td", { hasText: XSS }).first().waitFor();
      await page.evaluate(() => (location.hash = "#/"));
      await page.locator("section[aria-labelledby=front-title] th", {
        hasText: XSS,
      }).first().waitFor();
      await page.waitForTimeout(300); // an onerror would have fired by now
      assert.equal(await page.locator("img, script:not([src])").count(), 0);
      assert.deepEqual(watched.dialogs, []);
      await screenshot(watched, "xss-overview");
    },
  );
});

browserTest(
  "a wrong token is refused; the right one is kept in sessionStorage only and its namespace applies",
  async () => {
    await using daemon = await startDashboardDaemon({ auth: true });
    await tcpOk(daemon, [
      `a SET deploy.v1 ${inHours(1)}`,
      `b SET other.job ${inHours(1)}`,
      "c RULE SET deploy.hook deploy. shell true",
      "d RULE SET other.rule other. shell true",
    ], ADMIN_SECRET);
    await using session = await launchBrowser();
    const watched = await session.open(daemon.url);
    const { page } = watched;
    const authorizations = new Set<string>();
    page.on("request", (r) => {
      const header = r.headers()["authorization"];
      if (header) authorizations.add(header);
    });
    const prompt = page.locator("#auth");
    await prompt.waitFor({ state: "visible" });
    assert.equal(await page.locator("main").isVisible(), false);
    await screenshot(watched, "auth-prompt");

    await page.getByLabel("Token", { exact: true }).fill("sk_wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#auth .error", { hasText: "refused" }).waitFor();
    assert.equal(await prompt.isVisible(), true);
    assert.equal(
      await page.evaluate(() => sessionStorage.getItem("ztick.token")),
      null,
    );
    await screenshot(watched, "auth-refused");

    await page.getByLabel("Token", { exact: true }).fill(DEPLOY_SECRET);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForSelector(".card");
    await page.locator("th", { hasText: "deploy.v1" }).waitFor();
    assert.equal(await page.locator("th", { hasText: "other.job" }).count(), 0);
    await page.evaluate(() => (location.hash = "#/rules"));
    await page.locator("th", { hasText: "deploy.hook" }).waitFor();
    assert.deepEqual(
      await page.locator("tbody th").allTextContents(),
      ["deploy.hook"],
    );
    assert.deepEqual(
      await page.evaluate(() => [
        sessionStorage.getItem("ztick.token"),
        localStorage.length,
        (globalThis as unknown as PageGlobals).document.cookie,
      ]),
      [DEPLOY_SECRET, 0, ""],
    );
    assert.deepEqual(await watched.context.cookies(), []);
    assert.ok(
      watched.responses.every((r) => !r.url.includes(DEPLOY_SECRET)),
      "the token is in no URL",
    );
    assert.deepEqual(
      [...authorizations].sort(),
      ["Bearer sk_wrong", `Bearer ${DEPLOY_SECRET}`].sort(),
    );
    assertQuiet(watched, failedLoad(401, /^\/(stats|jobs|rules)$/));
  },
);

browserTest("the harness notices a CSP violation (control)", async () => {
  await using daemon = await startDashboardDaemon();
  await using session = await launchBrowser();
  const watched = await session.open(daemon.url);
  await watched.page.waitForSelector(".card");
  await watched.page.evaluate(() =>
    (globalThis as unknown as PageGlobals).document.body.setAttribute(
      "style",
      "color: red",
    )
  );
  await watched.page.waitForTimeout(200);
  assert.ok(watched.cspViolations.length > 0, "a style attribute is reported");
});
