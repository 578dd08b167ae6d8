/**
 * Prints the report's summary after a build that produced (or restored) one.
 * Synchronous on purpose: watch mode prints it from its event handler, where
 * an await would let the next build's lines in between.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { displayPath } from "../config/display-path.js";
import { renderReportSummary, type SummaryOptions } from "../report/render-summary.js";
import type { BuildReport } from "../report/types.js";
import { REPORT_HTML } from "../stages/report.js";
import type { ReporterOutput } from "./build-reporter.js";

export function printReportSummary(
  file: string,
  output: ReporterOutput,
  options: SummaryOptions = {},
): void {
  const report = JSON.parse(readFileSync(file, "utf8")) as BuildReport;
  output.out(`report ${displayPath(file)}`);
  // The page beside it (an older report stage wrote none).
  const page = join(dirname(file), REPORT_HTML);
  if (existsSync(page)) output.out(`  plots    ${displayPath(page)}`);
  for (const line of renderReportSummary(report, options)) output.out(line);
}
