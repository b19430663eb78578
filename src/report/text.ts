import kleur from 'kleur';
import type { Severity } from '../model/finding.js';
import type { Diagnosis, Report } from '../model/report.js';

/** How the text report is drawn. */
export interface TextOptions {
  color: boolean;
  /** Terminal width to wrap prose at. */
  width: number;
  /** Print every affected pod instead of the first few. */
  verbose?: boolean;
}

/** Severity labels, padded to one width. */
export const LABEL: Record<Severity, string> = { critical: 'CRITICAL', warning: 'WARNING ', info: 'INFO    ' };

/** `fn`'s result with kleur's colours on or off as `color` says, then kleur as it was. */
export function withColor<T>(color: boolean, fn: () => T): T {
  const previous = kleur.enabled;
  kleur.enabled = color;
  try {
    return fn();
  } finally {
    kleur.enabled = previous;
  }
}

/** An RFC 3339 time to the second (a Date, or an ISO text whose fraction is dropped). */
export function stamp(at: Date | string): string {
  return (typeof at === 'string' ? at : at.toISOString()).replace(/\.\d+Z$/, 'Z');
}

/** A diagnosis's title, rule and where, as one line ends (kdiag --watch); kleur set by the caller. */
export function titleLine(d: Diagnosis, where: string | undefined): string {
  return `${d.title}  ${kleur.dim(`[${d.rule}]`)}${where ? kleur.dim(`  ${where}`) : ''}`;
}

export function paint(severity: Severity, text: string): string {
  return severity === 'critical' ? kleur.red().bold(text) : severity === 'warning' ? kleur.yellow().bold(text) : kleur.cyan(text);
}

/** Wrap prose to a width, indenting every line (continuation lines by `hanging` more). */
function wrap(text: string, indent: string, width: number, hanging = ''): string[] {
  const lines: string[] = [];
  let line = '';
  const max = () => Math.max(40, width - indent.length - (lines.length ? hanging.length : 0));
  const push = (l: string) => lines.push(`${indent}${lines.length ? hanging : ''}${l}`);
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > max()) {
      push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) push(line);
  return lines;
}

function scopeLine(report: Report): string {
  const { scope } = report;
  if (scope.kind === 'Pod') return `pod ${scope.name} in namespace ${scope.namespace}`;
  if (scope.kind === 'Namespace') return `namespace ${scope.namespace}`;
  return 'all namespaces';
}

export function affectedLine(d: Diagnosis, verbose: boolean): string | undefined {
  const pods = d.affected.filter((ref) => ref.kind === 'Pod').map((ref) => ref.name);
  const owner = d.owner ? `${d.owner.kind}/${d.owner.name}` : undefined;
  if (d.object.kind === 'Pod' && pods.length <= 1) {
    const where = `pod ${d.object.name}${d.object.container ? `, container ${d.object.container}` : ''}`;
    return owner ? `${owner} · ${where}` : where;
  }
  // An access diagnosis names what could not be read in its title; there is no object to show.
  if (d.object.kind === 'Access') return undefined;
  if (d.object.kind !== 'Pod') {
    const head = `${d.object.kind} ${d.object.name}${d.object.namespace ? ` (namespace ${d.object.namespace})` : ''}`;
    if (pods.length === 0) return head;
    const shown = verbose ? pods : pods.slice(0, 3);
    return `${head} · ${pods.length} pod${pods.length > 1 ? 's' : ''}: ${shown.join(', ')}${shown.length < pods.length ? `, +${pods.length - shown.length} more` : ''}`;
  }
  const shown = verbose ? pods : pods.slice(0, 3);
  const list = `${pods.length} pods: ${shown.join(', ')}${shown.length < pods.length ? `, +${pods.length - shown.length} more` : ''}`;
  return `${owner ? `${owner} · ` : ''}${list}${d.object.container ? ` · container ${d.object.container}` : ''}`;
}

function renderDiagnosis(d: Diagnosis, n: number, options: TextOptions): string[] {
  const out: string[] = [];
  const pad = '    ';
  out.push(`${String(n).padStart(2)}. ${paint(d.severity, LABEL[d.severity])}  ${kleur.bold(d.title)}  ${kleur.dim(`[${d.rule}]`)}`);
  const where = affectedLine(d, options.verbose ?? false);
  if (where) out.push(pad + kleur.dim(where));
  const facts: string[] = [];
  if (d.exitCode !== undefined) facts.push(`exit ${d.exitCode}${d.signal ? ` (${d.signal})` : ''}`);
  if (d.cause) facts.push(`cause: ${d.cause}`);
  facts.push(`confidence ${Math.round(d.confidence * 100)}%`);
  out.push(pad + kleur.dim(facts.join(' · ')));
  for (const symptom of d.context) out.push(pad + kleur.dim(`also: ${symptom}`));
  out.push(...wrap(d.explanation, pad, options.width));
  out.push(pad + kleur.bold('Evidence'));
  for (const line of d.evidence) out.push(`${pad}  • ${line}`);
  if (d.logTail?.length) {
    out.push(pad + kleur.bold(`Last log lines (${d.object.name}/${d.object.container ?? ''})`));
    for (const line of d.logTail) out.push(`${pad}  ${kleur.dim('│')} ${line}`);
  }
  out.push(pad + kleur.bold('Next'));
  d.remediation.forEach((step, i) => {
    const number = `${i + 1}. `;
    out.push(...wrap(`${number}${step.description}`, `${pad}  `, options.width, ' '.repeat(number.length)));
    if (step.command) out.push(`${pad}     ${kleur.green('$')} ${step.command}`);
  });
  return out;
}

/** One diagnosis as the report prints it, without its numbered title line (kdiag --watch prints its own). */
export function renderDiagnosisBody(d: Diagnosis, options: TextOptions): string[] {
  return withColor(options.color, () => renderDiagnosis(d, 0, options).slice(1));
}

/**
 * The human report: a header, then each diagnosis ranked with where, why, evidence, the last log
 * lines and the next commands to type. All cluster text in the report was neutralised by the engine.
 */
export function renderText(report: Report, options: TextOptions): string {
  return withColor(options.color, () => {
    const { summary } = report;
    const out: string[] = [];
    const context = report.capturedAt ? ` · read ${stamp(report.capturedAt)}` : '';
    out.push(kleur.bold(`kdiag · ${scopeLine(report)} · ${summary.pods} pod${summary.pods === 1 ? '' : 's'}`) + kleur.dim(context));
    const counts = [
      paint('critical', `${summary.critical} critical`),
      paint('warning', `${summary.warning} warning`),
      kleur.cyan(`${summary.info} info`),
    ];
    out.push(counts.join(kleur.dim(' · ')));
    out.push('');
    if (report.diagnoses.length === 0) {
      out.push(kleur.green(`✓ No problems found${summary.pods ? ` in ${summary.pods} pod${summary.pods === 1 ? '' : 's'}` : ''}.`));
    }
    report.diagnoses.forEach((d, i) => {
      out.push(...renderDiagnosis(d, i + 1, options));
      out.push('');
    });
    if (report.accessErrors.length > 0) {
      out.push(kleur.yellow(`kdiag could not read ${report.accessErrors.length} thing${report.accessErrors.length === 1 ? '' : 's'}; the diagnosis above is made without ${report.accessErrors.length === 1 ? 'it' : 'them'}.`));
    }
    return `${out.join('\n').replace(/\n+$/, '')}\n`;
  });
}
