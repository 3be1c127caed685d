/**
 * The dashboard's Rules view in headless chromium against a real daemon:
 * rules set over TCP appear; a rule created and removed in the page is
 * created and removed in the daemon (LISTRULES over TCP); a bad rule shows
 * the API's message.
 */
import assert from "node:assert/strict";
import {
  browserTest,
  type DashboardDaemon,
  failedLoad,
  listRules,
  screenshot,
  tcpOk,
  withDashboard,
} from "./_dashboard.ts";

const seedRules = (daemon: DashboardDaemon) =>
  tcpOk(daemon, [
    "a RULE SET rule.backup backup. shell /usr/local/bin/backup.sh",
    "b RULE SET rule.ping ping. direct /usr/bin/ping -c 1 10.0.0.1",
    "c RULE SET rule.hook deploy. http POST https://ci.example.org/hooks/deploy",
    "d RULE SET rule.review review. awf nightly-review --input branch=main",
    'e RULE SET rule.all "" shell "logger ztick"',
  ]);

browserTest("rules set over TCP appear with pattern and runner", async () => {
  await withDashboard(
    { hash: "#/rules", seed: seedRules },
    async ({ watched }) => {
      const { page } = watched;
      await page.locator("tbody tr").first().waitFor();
      const rows = await page.locator("tbody tr").evaluateAll((trs) =>
        trs.map((tr) =>
          [...tr.children].slice(0, 4).map((c) => c.textContent).join(" | ")
        )
      );
      assert.deepEqual(rows, [
        "rule.all | (empty: every job) | shell | defaults",
        "rule.backup | backup. | shell | defaults",
        "rule.hook | deploy. | http | defaults",
        "rule.ping | ping. | direct | defaults",
        "rule.review | review. | awf | defaults",
      ]);
      assert.equal(
        await page.locator("caption").textContent(),
        "5 rules",
      );
      await screenshot(watched, "rules");
    },
  );
});

browserTest(
  "a rule created and removed in the page is created and removed in the daemon",
  async () => {
    await withDashboard(
      { hash: "#/rules", seed: seedRules },
      async ({ daemon, watched }) => {
        const { page } = watched;
        await page.locator("tbody tr").first().waitFor();
        await page.getByLabel("Rule id").fill("rule.notify");
        await page.getByLabel("Pattern (job id prefix)").fill("notify.");
        await page.getByLabel("Runner").selectOption("http");
        await page.getByLabel("Method, then URL, one per line").fill(
          "POST\nhttp://127.0.0.1:9/hook\n",
        );
        await page.getByLabel("Retries", { exact: true }).fill("3");
        await page.getByLabel("Backoff", { exact: true }).fill("30000ms");
        await page.getByRole("button", { name: "Save rule" }).click();
        const row = page.locator("tbody tr", { hasText: "rule.notify" });
        await row.waitFor();
        assert.match(
          await page.locator(".form-message").textContent() ?? "",
          /Saved rule rule\.notify/,
        );
        assert.ok(
          (await listRules(daemon)).includes(
            "rule.notify notify. retries=3 backoff=30s http POST http://127.0.0.1:9/hook",
          ),
        );
        await screenshot(watched, "rules-created");

        await page.getByRole("button", { name: "Remove rule rule.backup" })
          .click();
        await page.locator("dialog").getByRole("button", { name: "Remove" })
          .click();
        await page.locator("tbody tr", { hasText: "rule.backup" }).waitFor({
          state: "detached",
        });
        assert.deepEqual(
          (await listRules(daemon)).map((l) => l.split(" ")[0]),
          ["rule.all", "rule.hook", "rule.notify", "rule.ping", "rule.review"],
        );
      },
    );
  },
);

browserTest(
  "a bad rule shows the API's message and changes nothing",
  async () => {
    await withDashboard({
      hash: "#/rules",
      allowErrors: failedLoad(400, /^\/rules\/rule\.bad$/),
    }, async ({ daemon, watched }) => {
      const { page } = watched;
      await page.locator("td.empty", { hasText: "No rules" }).waitFor();
      await page.getByLabel("Rule id").fill("rule.bad");
      await page.getByLabel("Runner").selectOption("shell");
      await page.getByLabel("Command (one line)").fill("one\ntwo");
      await page.getByRole("button", { name: "Save rule" }).click();
      await page.locator(".form-message .error", {
        hasText: "Cannot save the rule: invalid shell runner arguments",
      }).waitFor();
      await page.getByLabel("Runner").selectOption("http");
      await page.getByLabel("Method, then URL, one per line").fill(
        "FETCH\nhttp://127.0.0.1:9/",
      );
      await page.getByRole("button", { name: "Save rule" }).click();
      await page.locator(".form-message .error", {
        hasText: "invalid http runner arguments",
      }).waitFor();
      assert.equal(await page.locator("#banner").isVisible(), false);
      await screenshot(watched, "rules-refused");
      assert.deepEqual(await listRules(daemon), []);
    });
  },
);
