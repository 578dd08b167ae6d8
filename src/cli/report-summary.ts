/** Prints the report's summary after a build that produced (or restored) one. */
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { displayPath } from "../config/display-path.js";
import { renderReportSummary, type SummaryOptions } from "../report/render-summary.js";
import type { BuildReport } from "../report/types.js";
import { REPORT_HTML } from "../stages/report.js";
import type { ReporterOutput } from "./build-reporter.js";

export async function printReportSummary(
  file: string,
  output: ReporterOutput,
  options: SummaryOptions = {},
): Promise<void> {
  const report = JSON.parse(await readFile(file, "utf8")) as BuildReport;
  output.out(`report ${displayPath(file)}`);
  // The page beside it (an older report stage wrote none).
  const page = join(dirname(file), REPORT_HTML);
  if (existsSync(page)) output.out(`  plots    ${displayPath(page)}`);
  for (const line of renderReportSummary(report, options)) output.out(line);
}

/**
 * The same, read synchronously: watch mode prints it from its event handler,
 * where an await would let the next build's lines in between.
 */
export function printReportSummarySync(file: string, output: ReporterOutput): void {
  if (!existsSync(file)) return;
  const report = JSON.parse(readFileSync(file, "utf8")) as BuildReport;
  output.out(`report ${displayPath(file)}`);
  const page = join(dirname(file), REPORT_HTML);
  if (existsSync(page)) output.out(`  plots    ${displayPath(page)}`);
  for (const line of renderReportSummary(report)) output.out(line);
}
