/**
 * The dashboard (observability.md §3) in headless chromium against a real
 * daemon: headers, the overview, jobs seeded over TCP, creating and removing
 * jobs from the page, job detail and recent failures without a run history.
 * Rules, security and paging are in the other dashboard_*_test.ts files.
 */
import assert from "node:assert/strict";
import { waitFor } from "../_helpers/client.ts";
import {
  browserTest,
  type DashboardDaemon,
  inHours,
  nsFromNow,
  type PageGlobals,
  queryJobs,
  quote,
  screenshot,
  stat,
  tcpOk,
  waitForRuns,
  withDashboard,
  XSS,
} from "./_dashboard.ts";

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
};

const DASHBOARD_DIR = new URL(
  "../../src/server/http/dashboard/",
  import.meta.url,
);

/** `/ui/<path>` of every file in src/server/http/dashboard/ but index.html. */
async function dashboardFiles(
  dir = DASHBOARD_DIR,
  under = "",
): Promise<string[]> {
  const paths: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) {
      const sub = new URL(`${entry.name}/`, dir);
      paths.push(...await dashboardFiles(sub, `${under}${entry.name}/`));
    } else if (under || entry.name !== "index.html") {
      paths.push(`/ui/${under}${entry.name}`);
    }
  }
  return paths.sort();
}

/** Five runs (three executed, two failed) just now, and jobs over the next 24 h. */
async function seedActivity(daemon: DashboardDaemon): Promise<void> {
  await tcpOk(daemon, [
    "a RULE SET rule.ok demo.ok. shell true",
    'b RULE SET rule.fail demo.fail. shell "exit 3"',
    ...[1, 2, 3].map((i) => `c SET demo.ok.${i} ${nsFromNow(300)}`),
    ...[1, 2].map((i) => `d SET demo.fail.${i} ${nsFromNow(300)}`),
    ...[1, 2, 2, 5, 9, 9, 9, 20].map((h, i) =>
      `e SET demo.next.${i} ${inHours(h + i / 10)}`
    ),
  ]);
  await waitForRuns(daemon, 5);
}

browserTest(
  "the page has the exact CSP, every /ui/ file its Content-Type and nosniff; the overview shows STAT, both charts and upcoming jobs",
  async () => {
    await withDashboard({ seed: seedActivity }, async ({ daemon, watched }) => {
      const { page } = watched;
      assert.equal(watched.document.status, 200);
      assert.equal(
        watched.document.headers["content-type"],
        "text/html; charset=utf-8",
      );
      assert.equal(
        watched.document.headers["content-security-policy"],
        "default-src 'self'",
      );
      assert.equal(
        watched.document.headers["x-content-type-options"],
        "nosniff",
      );
      await page.waitForSelector(".card");
      const files = await dashboardFiles();
      const loaded = () =>
        watched.responses.filter((r) =>
          new URL(r.url).pathname.startsWith("/ui/")
        );
      // The favicon is asked for on its own schedule, after the page's load.
      await waitFor(() => loaded().length >= files.length || undefined, {
        what: "every file of the dashboard",
      }).catch(() => {});
      const assets = loaded();
      assert.deepEqual(
        assets.map((r) => new URL(r.url).pathname).sort(),
        files,
        "the page loads every file of the dashboard's folder, once",
      );
      for (const r of assets) {
        const ext = r.url.split(".").pop()!;
        assert.equal(r.status, 200, r.url);
        assert.equal(r.headers["content-type"], TYPES[ext], r.url);
        assert.equal(r.headers["x-content-type-options"], "nosniff", r.url);
        assert.equal(
          r.headers["content-security-policy"],
          "default-src 'self'",
          r.url,
        );
      }
      const keys = await page.locator(".card dt").allTextContents();
      assert.deepEqual(keys, (await stat(daemon)).map(([key]) => key));
      assert.equal(await page.locator(".chart canvas").count(), 2);
      assert.match(
        await page.locator("figcaption").first().textContent() ?? "",
        /3 executed, 2 failed/,
      );
      assert.match(
        await page.locator(".lag").textContent() ?? "",
        /p50 .* ms · p99 .* ms · 5 executions/,
      );
      const front = page.locator(
        "section[aria-labelledby=front-title] tbody th",
      );
      assert.deepEqual(
        await front.allTextContents(),
        [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `demo.next.${i}`),
      );
      await page.waitForTimeout(300); // let uPlot paint
      await screenshot(watched, "overview");
    });
  },
);

browserTest(
  "jobs set over TCP appear in the Jobs table with local and UTC times, exact to the ns",
  async () => {
    await withDashboard({ hash: "#/jobs" }, async ({ daemon, watched }) => {
      const { page } = watched;
      await page.locator("td.empty", { hasText: "No jobs" }).waitFor();
      await tcpOk(daemon, [
        "a SET deploy.v1 2027-04-10 12:00:00",
        "b SET exact.ns 1807358400000000001",
        "c SET winter.job 2027-01-15 08:00:00",
      ]);
      const row = page.locator("tbody tr", { hasText: "deploy.v1" });
      await row.waitFor({ timeout: 5000 }); // the 2 s refresh
      const text = await row.textContent() ?? "";
      assert.match(text, /10\/04\/2027, 14:00:00 CEST/);
      assert.match(text, /2027-04-10 12:00:00 UTC/);
      assert.match(
        await page.locator("tbody tr", { hasText: "winter.job" })
          .textContent() ?? "",
        /15\/01\/2027, 09:00:00 CET.*one-shot/,
      );
      assert.match(
        await page.locator("tbody tr", { hasText: "exact.ns" })
          .textContent() ?? "",
        /2027-04-10 12:00:00\.000000001 UTC/,
      );
      await screenshot(watched, "jobs");
      await page.locator("a", { hasText: "exact.ns" }).click();
      await page.waitForSelector(".facts dd");
      assert.match(
        await page.locator(".facts").textContent() ?? "",
        /planned.*1807358400000000001/,
      );
      await page.locator("td.empty", { hasText: "No runs yet" }).waitFor();
      assert.equal(await page.locator("#banner").isVisible(), false);
      await screenshot(watched, "job-detail");
    });
  },
);

browserTest(
  "a job created in the page reaches the daemon with the local offset; one removed in the page is gone",
  async () => {
    const seed = (daemon: DashboardDaemon) =>
      tcpOk(daemon, [
        `a SET doomed.job ${inHours(2)}`,
        `b SET kept.job ${inHours(3)}`,
      ]);
    await withDashboard(
      { hash: "#/jobs", seed },
      async ({ daemon, watched }) => {
        const { page } = watched;
        await page.locator("summary", { hasText: "Create or replace a job" })
          .click();
        await page.getByLabel("Job id").fill("made.in.page");
        await page.getByLabel("Execution (local time)").fill(
          "2027-07-01T14:30:05",
        );
        assert.equal(
          await page.locator("output").textContent(),
          "2027-07-01T14:30:05+02:00",
        );
        await page.getByRole("button", { name: "Create job" }).click();
        await page.locator(".form-message a", { hasText: "made.in.page" })
          .waitFor();
        const ns = BigInt(Date.UTC(2027, 6, 1, 12, 30, 5)) * 1_000_000n;
        assert.equal(
          await daemon.tcp(["g GET made.in.page"]),
          `g OK planned ${ns}\n`,
        );
        await page.locator("tbody tr", { hasText: "made.in.page" }).waitFor();
        await screenshot(watched, "jobs-create");

        await page.getByRole("button", { name: "Remove job doomed.job" })
          .click();
        await page.locator("dialog[open]").waitFor();
        await screenshot(watched, "remove-confirm");
        await page.locator("dialog").getByRole("button", { name: "Remove" })
          .click();
        await page.locator("tbody tr", { hasText: "doomed.job" }).waitFor({
          state: "detached",
        });
        assert.equal(await daemon.tcp(["g GET doomed.job"]), "g ERROR\n");
        assert.deepEqual(
          (await queryJobs(daemon)).map((l) => l.split(" ")[0]),
          ["kept.job", "made.in.page"],
        );
      },
    );
  },
);

browserTest(
  "a recurring job created in the page reaches the daemon; the table shows its expression, zone and next run in local time and UTC",
  async () => {
    const seed = (daemon: DashboardDaemon) =>
      tcpOk(daemon, ['a CRON backup.nightly "30 2 * * *" tz=America/New_York']);
    await withDashboard(
      { hash: "#/jobs", seed },
      async ({ daemon, watched }) => {
        const { page } = watched;
        const seeded = page.locator("tbody tr", { hasText: "backup.nightly" });
        await seeded.waitFor();
        assert.match(
          await seeded.textContent() ?? "",
          /30 2 \* \* \*\s*America\/New_York · catchup once/,
        );
        await page.locator("summary", { hasText: "Create or replace a job" })
          .click();
        await page.getByLabel("Job id").fill("report.daily");
        await page.getByLabel("Recurring (cron)").check();
        assert.equal(
          await page.getByText("does not list recurring jobs").count(),
          0,
        );
        await page.getByLabel("Cron expression").fill("0 6 * * MON-FRI");
        assert.equal(
          await page.getByLabel("Time zone").inputValue(),
          "Europe/Paris",
        );
        await page.getByLabel("Catch-up").selectOption("skip");
        await page.getByRole("button", { name: "Create job" }).click();
        await page.locator(".form-message a", { hasText: "report.daily" })
          .waitFor();
        const answer = await daemon.tcp(["g GET report.daily"]);
        const ns = BigInt(answer.trim().split(" ")[3]!);
        const utc = new Date(Number(ns / 1_000_000n));
        assert.equal(utc.getUTCMinutes(), 0);
        // 06:00 in Paris is 04:00 or 05:00 UTC, on a weekday
        assert.ok([4, 5].includes(utc.getUTCHours()), utc.toISOString());
        assert.ok(utc.getUTCDay() >= 1 && utc.getUTCDay() <= 5);
        const row = page.locator("tbody tr", { hasText: "report.daily" });
        await row.waitFor();
        const cells = await row.locator("td").allTextContents();
        assert.match(cells[1]!, / 06:00:00/, "local (Paris) time");
        assert.match(cells[2]!, / 0[45]:00:00(\.0+)? UTC/, "UTC");
        assert.match(
          cells[4]!,
          /0 6 \* \* MON-FRI\s*Europe\/Paris · catchup skip/,
        );
        await screenshot(watched, "jobs-cron");
        assert.match(
          await daemon.tcp(["s STAT"]),
          /\ns jobs_recurring 2\n/,
        );
      },
    );
  },
);

browserTest(
  "recent failures lists failed runs newest first with detail and message as text; a job's detail shows its runs",
  async () => {
    await withDashboard({
      hash: "#/failures",
      seed: async (daemon) => {
        await tcpOk(daemon, [
          `a RULE SET rule.fail fail. shell ${
            quote(`echo '${XSS}' >&2; exit 3`)
          }`,
          "b RULE SET rule.ok ok. shell true",
          `c SET fail.first ${nsFromNow(0)}`,
          `d SET ok.1 ${nsFromNow(0)}`,
        ]);
        await waitForRuns(daemon, 2);
        await tcpOk(daemon, [`e SET fail.second ${nsFromNow(0)}`]);
        await waitForRuns(daemon, 3);
      },
    }, async ({ watched }) => {
      const { page } = watched;
      await page.locator("caption", { hasText: "2 failed runs" }).waitFor();
      const rows = await page.locator("tbody tr").evaluateAll((trs) =>
        trs.map((tr) =>
          [...tr.children].map((c) => c.textContent).filter((_, i) =>
            i === 0 || i === 6 || i === 7
          ).join(" | ")
        )
      );
      const message = `exited with code 3: ${XSS}`;
      assert.deepEqual(rows, [
        `fail.second | exit:3 | ${message}`,
        `fail.first | exit:3 | ${message}`,
      ]);
      assert.equal(await page.locator("main img").count(), 0, "no markup");
      assert.equal(await page.locator("#banner").isVisible(), false);
      await screenshot(watched, "failures");
      await page.locator("a", { hasText: "fail.first" }).click();
      await page.locator("caption", { hasText: "Runs, newest first (1 kept)" })
        .waitFor();
      assert.match(
        await page.locator("tbody tr").first().textContent() ?? "",
        /^1.*failed.*rule\.fail.*exit:3/,
      );
      await screenshot(watched, "job-runs");
    });
  },
);

browserTest("a narrow window keeps the views usable", async () => {
  await withDashboard({
    viewport: { width: 390, height: 844 },
    seed: (daemon) => tcpOk(daemon, [`a SET backup.nightly.db ${inHours(3)}`]),
  }, async ({ watched }) => {
    const { page } = watched;
    await page.waitForSelector(".card");
    await page.waitForTimeout(300);
    await screenshot(watched, "narrow-overview", { fullPage: false });
    await page.evaluate(() => (location.hash = "#/jobs"));
    await page.locator("tbody tr th", { hasText: "backup.nightly.db" })
      .waitFor();
    await screenshot(watched, "narrow-jobs", { fullPage: false });
    const overflow = await page.evaluate(() => {
      const { document, innerWidth } = globalThis as unknown as PageGlobals;
      return document.documentElement.scrollWidth - innerWidth;
    });
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  });
});

browserTest(
  "the page's date helpers honour the local zone, DST gaps included",
  async () => {
    await withDashboard({}, async ({ watched }) => {
      const results = await watched.page.evaluate(async () => {
        const f = await import(new URL("ui/format.js", location.href).href);
        return [
          f.localInputToRfc3339("2027-07-01T14:30"),
          f.localInputToRfc3339("2027-01-15T09:00:07"),
          f.localInputToRfc3339("2027-03-28T02:30"), // does not exist in Paris
          f.localInputToRfc3339("2027-10-31T02:30"), // exists twice: the first
          f.localInputToRfc3339("nonsense"),
          f.formatLocal(1807358400000000001n),
        ];
      });
      assert.deepEqual(results, [
        "2027-07-01T14:30:00+02:00",
        "2027-01-15T09:00:07+01:00",
        "2027-03-28T03:30:00+02:00",
        "2027-10-31T02:30:00+02:00",
        null,
        "10/04/2027, 14:00:00 CEST",
      ]);
    });
  },
);
