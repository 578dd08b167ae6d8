/**
 * report.html in a real browser (headless Chromium over the DevTools
 * protocol): it loads nothing but itself, logs no error, every plot's SVG
 * is laid out at a non-zero size with its title drawn, and a full-page
 * screenshot shows ink in every plot's box. Skipped, saying so, where no
 * Chromium is installed.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { renderReportHtml } from "../../src/report/render-html.js";
import { type Browser, findChromium, launchChromium, needsChromium } from "../helpers/chromium.js";
import { checkPlotsDrawn, openPage, pageProblems } from "../helpers/report-page.js";
import { SEARCH_RECIPE_PLOTS, searchRecipePage } from "./page-fixture.js";

const WIDTH = 1100;

describe("report.html in headless Chromium", { skip: needsChromium }, () => {
  let dir: string;
  let browser: Browser;
  let session: string;
  let pageUrl: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tinyformer-report-browser-"));
    const { html } = await renderReportHtml(searchRecipePage());
    await writeFile(join(dir, "report.html"), html);
    pageUrl = pathToFileURL(join(dir, "report.html")).href;
    browser = await launchChromium(findChromium() as string, { width: WIDTH, height: 900 });
    session = await openPage(browser, pageUrl, WIDTH);
  });

  after(async () => {
    await browser?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test("loads only itself and logs no error", async () => {
    const { problems, requested } = await pageProblems(browser, session);
    assert.deepEqual(problems, []);
    assert.deepEqual(requested, [pageUrl], "the page requests nothing else");
  });

  test("every plot's SVG is laid out at a non-zero size with its title drawn; the screenshot has ink in each", async (t) => {
    const { scripts, plots, png } = await checkPlotsDrawn(browser, session, WIDTH);
    assert.equal(scripts, 0);
    assert.deepEqual(
      plots.map((plot) => [plot.id, plot.label]),
      SEARCH_RECIPE_PLOTS.map((plot) => [plot.id, plot.title]),
    );
    await writeFile(join(dir, "report.png"), png);
    t.diagnostic(`screenshot of ${plots.length} plots: ${png.length} bytes`);
  });
});
