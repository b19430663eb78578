import type { Severity } from '../model/finding.js';
import type { Diagnosis, Report } from '../model/report.js';
import { stamp } from './text.js';

/**
 * The Markdown report, for pull-request comments and $GITHUB_STEP_SUMMARY: a heading with the
 * scope, the counts, a table of the ranked diagnoses, then one collapsible <details> block per
 * diagnosis. Cluster text was neutralised by the engine (no control characters, no newlines); here
 * it is also escaped so that it cannot add Markdown or HTML of its own: no table cell split by a
 * `|`, no <script>, no emphasis, link or heading, no fence closed early by a log line.
 */

/** How the Markdown report is drawn. */
export interface MarkdownOptions {
  /** List every affected pod in the table instead of the first few. */
  verbose?: boolean;
}

const LABEL: Record<Severity, string> = { critical: 'CRITICAL', warning: 'WARNING', info: 'INFO' };

/**
 * Escape text for Markdown inline content (a paragraph, a list item, a table cell): the characters
 * that start emphasis, code, links, strikethrough, math or a cell are backslash-escaped, `&`, `<`
 * and `>` become entities (no HTML, no autolink), and a line start that would open a heading,
 * quote or list is escaped. Newlines become spaces: each piece of text stays on its line.
 */
export function escapeMarkdown(text: string): string {
  const escaped = text
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/[\\`*_[\]|~$]/g, (ch) => `\\${ch}`)
    .replace(/[&<>]/g, (ch) => (ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : '&gt;'))
    .replace(/^ +/, '');
  return escaped.replace(/^([#+=-])/, '\\$1').replace(/^(\d+)([.)])/, '$1\\$2');
}

/** Escape text for raw HTML (the <summary> line, where Markdown is not read). */
export function escapeHtml(text: string): string {
  return text.replace(/\r\n|\r|\n/g, ' ').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * A fenced code block that no line of its content can close: the fence is one backtick longer than
 * the longest run of backticks in the content, and never shorter than three.
 */
export function fenced(lines: readonly string[], info = ''): string[] {
  let longest = 0;
  for (const line of lines) for (const run of line.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${fence}${info}`, ...lines.map((line) => line.replace(/\r\n|\r|\n/g, ' ')), fence];
}

/** The scope in words: `namespace shop`, `pod cart in namespace shop`, `all namespaces`. */
export function describeScope(report: Report): string {
  const { scope } = report;
  if (scope.kind === 'Pod') return `pod ${scope.name} in namespace ${scope.namespace}`;
  if (scope.kind === 'Namespace') return `namespace ${scope.namespace}`;
  return 'all namespaces';
}

/**
 * What a diagnosis affects, in one line of plain text: the workload and its pods, the pod and
 * container, or the node and the pods on it (the first three pods unless `verbose`). Undefined for
 * an access diagnosis, whose title names what could not be read.
 */
export function describeAffected(d: Diagnosis, verbose = false): string | undefined {
  const pods = d.affected.filter((ref) => ref.kind === 'Pod').map((ref) => ref.name);
  const shown = verbose ? pods : pods.slice(0, 3);
  const more = shown.length < pods.length ? `, +${pods.length - shown.length} more` : '';
  const owner = d.owner ? `${d.owner.kind}/${d.owner.name}` : undefined;
  if (d.object.kind === 'Access') return undefined;
  if (d.object.kind === 'Pod' && pods.length <= 1) {
    const where = `pod ${d.object.name}${d.object.container ? `, container ${d.object.container}` : ''}`;
    return owner ? `${owner} · ${where}` : where;
  }
  if (d.object.kind !== 'Pod') {
    const head = `${d.object.kind} ${d.object.name}${d.object.namespace ? ` (namespace ${d.object.namespace})` : ''}`;
    if (pods.length === 0) return head;
    return `${head} · ${pods.length} pod${pods.length > 1 ? 's' : ''}: ${shown.join(', ')}${more}`;
  }
  return `${owner ? `${owner} · ` : ''}${pods.length} pods: ${shown.join(', ')}${more}${d.object.container ? ` · container ${d.object.container}` : ''}`;
}

/** Exit code, cause and confidence, in one line of plain text. */
export function describeFacts(d: Diagnosis): string {
  const facts: string[] = [];
  if (d.exitCode !== undefined) facts.push(`exit ${d.exitCode}${d.signal ? ` (${d.signal})` : ''}`);
  if (d.cause) facts.push(`cause: ${d.cause}`);
  facts.push(`confidence ${Math.round(d.confidence * 100)}%`);
  return facts.join(' · ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The table row of one diagnosis. */
function row(d: Diagnosis, n: number, options: MarkdownOptions): string {
  const affected = describeAffected(d, options.verbose ?? false) ?? '';
  return `| ${n} | **${LABEL[d.severity]}** | \`${d.rule}\` | ${escapeMarkdown(d.title)} | ${escapeMarkdown(affected)} |`;
}

/** The collapsible block of one diagnosis. */
function details(d: Diagnosis, n: number, options: MarkdownOptions): string[] {
  const out: string[] = [];
  out.push('<details>', `<summary><b>${n}. ${LABEL[d.severity]}</b> ${escapeHtml(d.rule)}: ${escapeHtml(d.title)}</summary>`, '');
  const affected = describeAffected(d, options.verbose ?? false);
  if (affected) out.push(`**Affected:** ${escapeMarkdown(affected)}<br>`);
  out.push(escapeMarkdown(describeFacts(d)), '');
  if (d.context.length) {
    out.push('**Also explains:**', '', ...d.context.map((symptom) => `- ${escapeMarkdown(symptom)}`), '');
  }
  out.push(escapeMarkdown(d.explanation), '');
  out.push('**Evidence:**', '', ...d.evidence.map((line) => `- ${escapeMarkdown(line)}`), '');
  if (d.logTail?.length) {
    out.push(`**Last log lines** (${escapeMarkdown(`${d.object.name}/${d.object.container ?? ''}`)}):`, '', ...fenced(d.logTail, 'text'), '');
  }
  if (d.remediation.length) {
    out.push('**Next** (kdiag prints these and never runs them; some change the cluster, so read them before pasting):', '');
    const lines: string[] = [];
    d.remediation.forEach((step, i) => {
      lines.push(`# ${i + 1}. ${step.description}`);
      if (step.command) lines.push(step.command);
    });
    out.push(...fenced(lines, 'sh'), '');
  }
  out.push('</details>', '');
  return out;
}

/** The Markdown report (GitHub-flavoured), ending with one newline. */
export function renderMarkdown(report: Report, options: MarkdownOptions = {}): string {
  const { summary } = report;
  const out: string[] = [];
  out.push(`## kdiag: ${escapeMarkdown(describeScope(report))}`, '');
  const counts = [`${summary.critical} critical`, `${summary.warning} warning`, `${summary.info} info`].map((count) =>
    count.startsWith('0 ') ? count : `**${count}**`,
  );
  const read = report.capturedAt ? ` · read ${escapeMarkdown(stamp(report.capturedAt))}` : '';
  out.push(`${counts.join(' · ')} · ${plural(summary.pods, 'pod')} examined${read}`, '');

  if (report.diagnoses.length === 0) {
    out.push(`No problems found${summary.pods ? ` in ${plural(summary.pods, 'pod')}` : ''}.`, '');
  } else {
    out.push('| # | Severity | Rule | Diagnosis | Affected |', '|---:|---|---|---|---|');
    report.diagnoses.forEach((d, i) => out.push(row(d, i + 1, options)));
    out.push('');
    report.diagnoses.forEach((d, i) => out.push(...details(d, i + 1, options)));
  }

  if (report.accessErrors.length > 0) {
    const n = report.accessErrors.length;
    out.push(`**kdiag could not read ${plural(n, 'thing')}**; the diagnosis above is made without ${n === 1 ? 'it' : 'them'}:`, '');
    for (const error of report.accessErrors) {
      const what = `${error.verb} ${error.resource}${error.name ? ` ${error.name}` : ''}${error.namespace ? ` in namespace ${error.namespace}` : ''}`;
      out.push(`- ${escapeMarkdown(`${what}: ${error.status ? `HTTP ${error.status}` : 'no answer'}${error.message ? `, ${error.message}` : ''}`)}`);
    }
    out.push('');
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}
