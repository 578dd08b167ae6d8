/**
 * report.html from a real build's page data: one inline SVG per plot with
 * its title and axis titles, the headline numbers, nothing that loads from
 * elsewhere or runs, ids unique on the page, the same bytes on every render
 * (in this process and in another), and plots left out, with a note, when
 * the build has no data for them.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { liveBytesByOp } from "../../src/memory-planner/live-bytes.js";
import { flashParts } from "../../src/report/plots/flash-breakdown.js";
import { renderReportHtml } from "../../src/report/render-html.js";
import { scopeSvg } from "../../src/report/render-plots.js";
import { plotFigures, SEARCH_RECIPE_PLOTS, searchRecipePage } from "./page-fixture.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("report.html", () => {
  let rendered: { html: string; warnings: string[] };
  before(async () => {
    rendered = await renderReportHtml(searchRecipePage());
  });

  test("one SVG per plot, each with its title and axis titles; the headline numbers", () => {
    const { html, warnings } = rendered;
    assert.deepEqual(warnings, []);
    assert.match(html, /^<!doctype html>\n<html lang="en">/);
    const figures = plotFigures(html);
    assert.deepEqual(
      figures.map((figure) => figure.id),
      SEARCH_RECIPE_PLOTS.map((plot) => plot.id),
    );
    for (const [i, figure] of figures.entries()) {
      const { title } = SEARCH_RECIPE_PLOTS[i] as { title: string };
      assert.equal(figure.inner.match(/<svg[\s>]/g)?.length, 1, `${figure.id}: one SVG`);
      assert.ok(figure.inner.includes(`aria-label="${title}"`), `${figure.id}: its name`);
      assert.ok(figure.inner.includes(`>${title}</text>`), `${figure.id}: drawn title`);
      assert.match(figure.inner, /<figcaption>[^<]+<\/figcaption>/);
    }
    // Axis titles name their units.
    for (const axis of [
      "multiply-accumulates per inference (MACs)",
      "instructions per inference",
      "weights pruned (%)",
      "arena offset (bytes)",
      "flash (bytes)",
      "top-1 accuracy (%)",
      "predicted flash (bytes)",
      "predicted instructions per inference",
      "validation accuracy (%)",
    ])
      assert.ok(html.includes(`>${axis}</text>`), `an axis titled "${axis}"`);
    // The header: board, flash and SRAM against their budgets, instructions, accuracy.
    const header = html.slice(html.indexOf("<header>"), html.indexOf("</header>"));
    for (const text of [
      "on stm32f746",
      "58,320 B",
      "of 983,040 B budget",
      "18,172 B",
      "of 311,296 B budget",
      "5,503,168",
      "15.6 %",
      "float 18.8 %",
    ])
      assert.ok(header.includes(text), `the header shows ${text}`);
    assert.ok(html.includes("<td>sparsenas</td>"), "the search's prediction in the table");
    assert.ok(html.includes("<td>stage1.block0.layer0.attn.softmax</td>"), "the layer table");
  });

  test("self-contained: no script, no external resource, ids unique on the page", () => {
    const { html } = rendered;
    assert.doesNotMatch(html, /<script|<link|<iframe|<img|<object|<embed|@import/i);
    assert.doesNotMatch(html, /https?:|\/\/[a-z]/i, "no URL of any kind");
    assert.doesNotMatch(html, /\s(src|srcset)=/i);
    assert.doesNotMatch(html, /\son[a-z]+=/i, "no event handler attributes");
    for (const reference of html.matchAll(/url\(([^)]*)\)/g))
      assert.match(reference[1] as string, /^#/, "url() only to ids in the page");
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((match) => match[1]);
    assert.equal(new Set(ids).size, ids.length, "no id twice");
    for (const reference of html.matchAll(/url\(#([^)]+)\)/g))
      assert.ok(ids.includes(reference[1] as string), `#${reference[1]} exists`);
  });

  test("deterministic: the same bytes on a second render and in another process", async () => {
    const first = rendered.html;
    const second = (await renderReportHtml(searchRecipePage())).html;
    assert.equal(second, first);
    const fixture = new URL("./page-fixture.js", import.meta.url).href;
    const renderer = new URL("../../src/report/render-html.js", import.meta.url).href;
    const child = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { searchRecipePage } = await import(${JSON.stringify(fixture)});
         const { renderReportHtml } = await import(${JSON.stringify(renderer)});
         const { createHash } = await import("node:crypto");
         const { html } = await renderReportHtml(searchRecipePage());
         process.stdout.write(createHash("sha256").update(html).digest("hex"));`,
      ],
      { encoding: "utf8", cwd: fileURLToPath(new URL(".", import.meta.url)) },
    );
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, sha256(first));
  });

  test("without search or per-class data, those plots are left out and the page says why", async () => {
    const page = searchRecipePage();
    delete page.search;
    delete page.confusion;
    const { html, warnings } = await renderReportHtml(page);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      plotFigures(html).map((figure) => figure.id),
      SEARCH_RECIPE_PLOTS.map((plot) => plot.id).filter(
        (id) => !id.startsWith("search") && id !== "confusion-matrix",
      ),
    );
    assert.match(html, /No search plots: this build did not search/);
    assert.match(html, /No confusion matrix/);
  });

  test("the flash parts add up to the flash the link used", () => {
    const page = searchRecipePage();
    const parts = flashParts(page);
    const total = parts.reduce((sum, part) => sum + part.bytes, 0);
    assert.equal(total, page.report.memory.flash.used_bytes);
    assert.equal(
      parts.filter((part) => part.group === "weights").length,
      page.report.layers.filter((layer) => layer.weight_bytes > 0).length,
    );
    assert.ok(parts.every((part) => part.bytes > 0));
  });

  test("the arena's live bytes peak at codegen's lower bound", () => {
    const { arena, report } = searchRecipePage();
    const live = liveBytesByOp({
      arenaBytes: arena.bytes,
      lowerBoundBytes: arena.lowerBoundBytes,
      alignment: arena.alignment,
      buffers: arena.buffers,
    });
    assert.equal(live.length, report.layers.length);
    assert.equal(Math.max(...live), arena.lowerBoundBytes);
  });

  test("an SVG's ids are renumbered under its plot, references too", () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="4">' +
      '<defs><clipPath id="clip7"><rect/></clipPath><linearGradient id="gradient_3"/></defs>' +
      '<g clip-path="url(#clip7)"><path fill="url(#gradient_3)"/><use href="#clip7"/></g></svg>';
    assert.equal(
      scopeSvg(svg, "p"),
      '<svg width="4"><defs><clipPath id="p-1"><rect/></clipPath><linearGradient id="p-2"/></defs>' +
        '<g clip-path="url(#p-1)"><path fill="url(#p-2)"/><use href="#p-1"/></g></svg>',
    );
  });
});
