import type { Report } from '../model/report.js';

/** The kdiag/v1 JSON report (docs/json-report.md), one document, indented. */
export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
