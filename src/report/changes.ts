import kleur from 'kleur';
import type { Severity } from '../model/finding.js';
import type { Diagnosis, Report } from '../model/report.js';
import type { TextOptions } from './text.js';
import { affectedLine, LABEL, paint, renderDiagnosisBody, stamp, titleLine, withColor } from './text.js';

/**
 * What changed between two reports of the same scope, for `kdiag --watch`: diagnoses that appeared,
 * changed severity, or were resolved. A diagnosis is the same one in both reports when it has the
 * same rule, the same workload (or, without one, the same object) and the same container; its
 * title, evidence and affected pods may differ (a restart count goes up, a new pod joins).
 * Pure functions: the reports come from the engine, whose text is already neutralised.
 */

export type ChangeKind = 'new' | 'changed' | 'resolved';

export interface Change {
  kind: ChangeKind;
  /** The identity the two reports were matched by (diagnosisKey). */
  key: string;
  /** The diagnosis now (new, changed), or as it was last seen (resolved). */
  diagnosis: Diagnosis;
  /** The severity before, for a changed diagnosis. */
  previousSeverity?: Severity;
}

/** Rule, then the workload (or the object when there is none), then the container. */
export function diagnosisKey(d: Diagnosis): string {
  const namespace = d.object.namespace ?? '';
  const where = d.owner ? `${d.owner.kind}/${namespace}/${d.owner.name}` : `${d.object.kind}/${namespace}/${d.object.name}`;
  return `${d.rule}|${where}|${d.object.container ?? ''}`;
}

/** Group a report's diagnoses by key, in report (rank) order. */
function byKey(diagnoses: readonly Diagnosis[]): Map<string, Diagnosis[]> {
  const map = new Map<string, Diagnosis[]>();
  for (const d of diagnoses) {
    const key = diagnosisKey(d);
    const list = map.get(key);
    if (list) list.push(d);
    else map.set(key, [d]);
  }
  return map;
}

/**
 * The changes from `before` to `after` (before null: every diagnosis of `after` is new). Resolved
 * ones come first (in `before`'s order), then changed, then new ones (in `after`'s order). Two
 * diagnoses with the same key in one report (the same rule on the same container with different
 * causes) are paired by cause first, then in order.
 */
export function diffReports(before: Pick<Report, 'diagnoses'> | null, after: Pick<Report, 'diagnoses'>): Change[] {
  const old = byKey(before?.diagnoses ?? []);
  const resolved: Change[] = [];
  const changed: Change[] = [];
  const appeared: Change[] = [];
  const paired = new Set<Diagnosis>();
  /** For each diagnosis of `after`, the one of `before` it continues, if any. */
  const previous = new Map<Diagnosis, Diagnosis>();
  for (const [key, now] of byKey(after.diagnoses)) {
    const was = [...(old.get(key) ?? [])];
    // By cause first, then whatever is left, in order.
    for (const d of now) {
      const i = was.findIndex((w) => (w.cause ?? '') === (d.cause ?? ''));
      if (i >= 0) previous.set(d, was.splice(i, 1)[0]!);
    }
    for (const d of now) {
      if (previous.has(d) || was.length === 0) continue;
      previous.set(d, was.shift()!);
    }
  }
  for (const w of previous.values()) paired.add(w);

  for (const d of before?.diagnoses ?? []) {
    if (!paired.has(d)) resolved.push({ kind: 'resolved', key: diagnosisKey(d), diagnosis: d });
  }
  for (const d of after.diagnoses) {
    const w = previous.get(d);
    if (!w) appeared.push({ kind: 'new', key: diagnosisKey(d), diagnosis: d });
    else if (w.severity !== d.severity) changed.push({ kind: 'changed', key: diagnosisKey(d), diagnosis: d, previousSeverity: w.severity });
  }
  return [...resolved, ...changed, ...appeared];
}

const KIND: Record<ChangeKind, string> = { new: 'new     ', changed: 'changed ', resolved: 'resolved' };

/**
 * One line per change: time, what happened, the severity (and the one before), the title, rule and
 * where. A new diagnosis is followed by its full text, as the report prints it.
 */
export function renderChanges(changes: readonly Change[], at: Date, options: TextOptions): string {
  return withColor(options.color, () => {
    const out: string[] = [];
    for (const change of changes) {
      const d = change.diagnosis;
      const severity =
        change.kind === 'changed'
          ? `${paint(d.severity, LABEL[d.severity].trim())} ${kleur.dim(`(was ${change.previousSeverity!.toUpperCase()})`)}`
          : change.kind === 'resolved'
            ? kleur.dim(LABEL[d.severity])
            : paint(d.severity, LABEL[d.severity]);
      const kind = change.kind === 'resolved' ? kleur.green(KIND.resolved) : change.kind === 'new' ? kleur.bold(KIND.new) : KIND.changed;
      const where = affectedLine(d, options.verbose ?? false);
      out.push(`${kleur.dim(stamp(at))}  ${kind}  ${severity}  ${titleLine(d, where)}`);
      if (change.kind === 'new') {
        const body = renderDiagnosisBody(d, options);
        // The where-line is on the change line already.
        if (where && body[0]?.includes(where)) body.shift();
        out.push(...body);
        out.push('');
      }
    }
    return out.length ? `${out.join('\n')}\n` : '';
  });
}

/** One JSON object per change (kdiag --watch -o json writes each on its own line). */
export function changeJson(change: Change, at: Date): Record<string, unknown> {
  const out: Record<string, unknown> = { type: change.kind, at: stamp(at) };
  if (change.previousSeverity) out.previousSeverity = change.previousSeverity;
  out.diagnosis = change.diagnosis;
  return out;
}
