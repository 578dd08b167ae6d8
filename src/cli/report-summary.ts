/** Prints the report's summary after a build that produced (or restored) one. */
import { readFile } from "node:fs/promises";
import { displayPath } from "../config/display-path.js";
import { renderReportSummary } from "../report/render-summary.js";
import type { BuildReport } from "../report/types.js";
import type { ReporterOutput } from "./build-reporter.js";

export async function printReportSummary(file: string, output: ReporterOutput): Promise<void> {
  const report = JSON.parse(await readFile(file, "utf8")) as BuildReport;
  output.out(`report ${displayPath(file)}`);
  for (const line of renderReportSummary(report)) output.out(line);
}
