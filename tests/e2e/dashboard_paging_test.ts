/**
 * Paging of the dashboard's Jobs view over `GET /jobs?limit=&after=` in
 * headless chromium against a real daemon holding 2,500 jobs set over TCP.
 */
import assert from "node:assert/strict";
import {
  browserTest,
  type DashboardDaemon,
  inHours,
  type PageGlobals,
  screenshot,
  tcpOk,
  withDashboard,
} from "./_dashboard.ts";

const IDS = Array.from(
  { length: 2500 },
  (_, i) => `bulk.${String(i).padStart(5, "0")}`,
);

async function seedBulk(daemon: DashboardDaemon): Promise<void> {
  const when = inHours(5);
  await tcpOk(daemon, [
    ...IDS.map((id) => `s SET ${id} ${when}`),
    `o SET other.job ${when}`,
  ]);
}

browserTest("paging walks 2,500 jobs 50 at a time and back", async () => {
  await withDashboard(
    { hash: "#/jobs?prefix=bulk.", seed: seedBulk },
    async ({ watched }) => {
      const { page } = watched;
      const listQueries: URLSearchParams[] = [];
      page.on("request", (r) => {
        const url = new URL(r.url());
        if (url.pathname === "/jobs") listQueries.push(url.searchParams);
      });
      const ids = page.locator("tbody tr th");
      await page.locator("tbody tr th", { hasText: "bulk.00000" }).waitFor();
      const seen: string[] = [];
      const started = performance.now();
      for (let n = 1;; n++) {
        const rows = await ids.allTextContents();
        assert.equal(rows.length, 50, `page ${n}`);
        seen.push(...rows);
        if (n === 2) await screenshot(watched, "jobs-page-2");
        const next = page.getByRole("button", { name: "Next →" });
        if (await next.isDisabled()) break;
        await next.click();
        await page.waitForFunction(
          (last) =>
            (globalThis as unknown as PageGlobals).document
              .querySelector("tbody tr th")?.textContent! > last,
          rows.at(-1)!,
        );
      }
      const walkMs = performance.now() - started;
      assert.deepEqual(seen, IDS, "every id once, in order");
      assert.match(
        await page.locator(".pager").textContent() ?? "",
        /Page 50 · 50 jobs, by id/,
      );
      for (let i = 0; i < 3; i++) {
        const top = await ids.first().textContent();
        await page.getByRole("button", { name: "← Previous" }).click();
        await page.waitForFunction(
          (t) =>
            (globalThis as unknown as PageGlobals).document
              .querySelector("tbody tr th")?.textContent !== t,
          top,
        );
      }
      assert.equal(await ids.first().textContent(), "bulk.02300");
      assert.ok(listQueries.length >= 52, `${listQueries.length} lists`);
      for (const q of listQueries) {
        assert.equal(q.get("limit"), "51", q.toString());
        assert.equal(q.get("prefix"), "bulk.", q.toString());
      }
      assert.ok(listQueries.some((q) => q.get("after") === "bulk.02449"));
      // deno-lint-ignore no-console
      console.log(`walked 50 pages in ${Math.round(walkMs)} ms`);
    },
  );
});
