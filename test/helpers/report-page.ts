/**
 * Checks of a report.html page open in headless Chromium (helpers/chromium.ts),
 * shared by the report's browser test and the first-hour acceptance test:
 * open it, list the problems it logged and what it requested, each plot's
 * layout, and a full-page screenshot with the ink in a box.
 */
import assert from "node:assert/strict";
import { PNG } from "pngjs";
import type { Browser } from "./chromium.js";

export interface PlotLayout {
  id: string;
  svgs: number;
  label: string | null;
  box: { x: number; y: number; width: number; height: number } | null;
  titleWidth: number;
  marks: number;
}

/** The fields of the problem events (exceptions, console, log, failed loads) the test reads. */
interface ProblemParams {
  exceptionDetails?: { text?: string; exception?: { description?: string } };
  type?: string;
  args?: { value?: unknown; description?: string }[];
  entry?: { level?: string; text?: string; url?: string };
  errorText?: string;
}

/** Runs in the page: each plot figure's SVG count, box (page coordinates) and drawn title. */
export const LAYOUT = `(() => ({
  scripts: document.scripts.length,
  plots: [...document.querySelectorAll("figure[data-plot]")].map((figure) => {
    const svgs = figure.querySelectorAll("svg");
    const svg = svgs[0];
    const box = svg ? svg.getBoundingClientRect() : null;
    const label = svg ? svg.getAttribute("aria-label") : null;
    const title = svg ? [...svg.querySelectorAll("text")].find((t) => t.textContent === label) : undefined;
    return {
      id: figure.dataset.plot,
      svgs: svgs.length,
      label,
      box: box && { x: box.x + scrollX, y: box.y + scrollY, width: box.width, height: box.height },
      titleWidth: title ? title.getBBox().width : 0,
      marks: svg ? svg.querySelectorAll("path, rect, line").length : 0,
    };
  }),
}))()`;

/** Share of the pixels in a box that are not white, and how many colours it has. */
export function ink(png: PNG, box: { x: number; y: number; width: number; height: number }) {
  let inked = 0;
  let pixels = 0;
  const colours = new Set<number>();
  const x1 = Math.min(png.width, Math.floor(box.x + box.width));
  const y1 = Math.min(png.height, Math.floor(box.y + box.height));
  for (let y = Math.max(0, Math.floor(box.y)); y < y1; y++)
    for (let x = Math.max(0, Math.floor(box.x)); x < x1; x++) {
      const i = (y * png.width + x) * 4;
      const [r, g, b] = [
        png.data[i] as number,
        png.data[i + 1] as number,
        png.data[i + 2] as number,
      ];
      pixels++;
      if (r < 245 || g < 245 || b < 245) inked++;
      if (colours.size < 1000) colours.add((r << 16) | (g << 8) | b);
    }
  return { share: pixels === 0 ? 0 : inked / pixels, colours: colours.size };
}

/** Opens `url` in a new page `width` px wide; resolves with the page's session once it has loaded. */
export async function openPage(browser: Browser, url: string, width: number): Promise<string> {
  const { targetId } = await browser.send<{ targetId: string }>("Target.createTarget", {
    url: "about:blank",
  });
  const { sessionId } = await browser.send<{ sessionId: string }>("Target.attachToTarget", {
    targetId,
    flatten: true,
  });
  for (const domain of ["Page", "Runtime", "Log", "Network"])
    await browser.send(`${domain}.enable`, {}, sessionId);
  await browser.send(
    "Emulation.setDeviceMetricsOverride",
    { width, height: 900, deviceScaleFactor: 1, mobile: false },
    sessionId,
  );
  const loaded = browser.waitFor(
    (event) => event.method === "Page.loadEventFired" && event.sessionId === sessionId,
  );
  await browser.send("Page.navigate", { url }, sessionId);
  await loaded;
  return sessionId;
}

/** What the page logged as a problem (exceptions, console errors, failed loads) and every URL it requested. */
export async function pageProblems(
  browser: Browser,
  session: string,
): Promise<{ problems: string[]; requested: string[] }> {
  // Anything late (a lazy request, a deferred error) has had a frame to show up.
  await browser.send(
    "Runtime.evaluate",
    {
      expression: "new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50)))",
      awaitPromise: true,
    },
    session,
  );
  const events = browser.events.filter((event) => event.sessionId === session);
  const problems = events.flatMap((event) => {
    const p = event.params as ProblemParams;
    if (event.method === "Runtime.exceptionThrown")
      return [
        `exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`,
      ];
    if (event.method === "Runtime.consoleAPICalled" && ["error", "assert"].includes(p.type ?? ""))
      return [`console.${p.type}: ${JSON.stringify(p.args?.map((a) => a.value ?? a.description))}`];
    if (event.method === "Log.entryAdded" && p.entry?.level === "error")
      return [`log: ${p.entry.text} ${p.entry.url ?? ""}`];
    if (event.method === "Network.loadingFailed") return [`failed load: ${p.errorText}`];
    return [];
  });
  const requested = events
    .filter((event) => event.method === "Network.requestWillBeSent")
    .map((event) => (event.params as { request: { url: string } }).request.url);
  return { problems, requested };
}

/**
 * Asserts every plot's SVG is laid out at a non-zero size with its title
 * drawn and marks in it, and that a full-page screenshot has ink in each
 * plot's box. Resolves with the plots and the screenshot's PNG bytes.
 */
export async function checkPlotsDrawn(
  browser: Browser,
  session: string,
  width: number,
): Promise<{ scripts: number; plots: PlotLayout[]; png: Buffer }> {
  const { result } = await browser.send<{
    result: { value: { scripts: number; plots: PlotLayout[] } };
  }>("Runtime.evaluate", { expression: LAYOUT, returnByValue: true }, session);
  const { scripts, plots } = result.value;
  assert.ok(plots.length > 0, "the page has plots");
  for (const plot of plots) {
    assert.equal(plot.svgs, 1, plot.id);
    assert.ok(
      plot.box !== null && plot.box.width > 100 && plot.box.height > 100,
      `${plot.id}: ${JSON.stringify(plot.box)}`,
    );
    assert.ok(plot.titleWidth > 0, `${plot.id}: its title is drawn`);
    assert.ok(plot.marks > 5, `${plot.id}: ${plot.marks} marks`);
  }
  const { cssContentSize: size } = await browser.send<{
    cssContentSize: { width: number; height: number };
  }>("Page.getLayoutMetrics", {}, session);
  const { data } = await browser.send<{ data: string }>(
    "Page.captureScreenshot",
    {
      format: "png",
      captureBeyondViewport: true,
      clip: { x: 0, y: 0, width, height: Math.ceil(size.height), scale: 1 },
    },
    session,
  );
  const bytes = Buffer.from(data, "base64");
  const png = PNG.sync.read(bytes);
  assert.equal(png.width, width);
  assert.ok(
    png.height >= Math.max(...plots.map((plot) => (plot.box?.y ?? 0) + (plot.box?.height ?? 0))),
  );
  const page = ink(png, { x: 0, y: 0, width: png.width, height: png.height });
  assert.ok(
    page.share > 0.03 && page.colours > 20,
    `the page is not blank: ${JSON.stringify(page)}`,
  );
  for (const plot of plots) {
    const drawn = ink(png, plot.box as NonNullable<PlotLayout["box"]>);
    assert.ok(
      drawn.share > 0.02 && drawn.colours > 3,
      `${plot.id} is drawn: ${JSON.stringify(drawn)}`,
    );
  }
  return { scripts, plots, png: bytes };
}
