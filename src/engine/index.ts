import type { Finding, ObjectRef, Rule, RuleContext, Severity } from '../model/finding.js';
import { severityWeight } from '../model/finding.js';
import type { Diagnosis, Report } from '../model/report.js';
import type { SettingsInput } from '../model/settings.js';
import { resolveSettings } from '../model/settings.js';
import type { OwnerRef } from '../model/snapshot-index.js';
import { SnapshotIndex } from '../model/snapshot-index.js';
import type { Snapshot } from '../model/snapshot.js';
import { neutralizeDeep } from '../model/text.js';

/** A finding tagged with the rule that made it and its effective severity. */
interface Tagged {
  rule: Rule;
  finding: Finding;
  severity: Severity;
  /** Symptoms folded into this finding: the symptom's rule and its title. */
  context: { rule: string; title: string }[];
}

/** Options for one engine run. */
export interface EngineOptions {
  /** Called when a rule throws on odd data; the rest of the diagnosis goes on. */
  onRuleError?: (ruleId: string, error: unknown) => void;
  /**
   * The user's settings: disabled rules do not run (a symptom they would have folded is then
   * reported on its own), a severity override applies to a rule's findings and again after folding, and
   * thresholds reach the rules through their context. Pod and namespace exclusions are not the
   * engine's: they are cut from the snapshot before it runs.
   */
  settings?: SettingsInput;
}

/**
 * Run every rule over the snapshot, fold symptoms into their causes, group the same problem across
 * an owner's pods, and rank: severity, then pods affected, then confidence, then rule id and name.
 * The result is deterministic for a given snapshot and rule set. All cluster text in it is
 * neutralised for printing.
 */
export function diagnose(snapshot: Snapshot, rules: readonly Rule[], options: EngineOptions = {}): Report {
  const index = new SnapshotIndex(snapshot);
  const parsedNow = Date.parse(snapshot.capturedAt);
  const settings = resolveSettings(options.settings);
  const context: RuleContext = { snapshot, index, now: Number.isFinite(parsedNow) ? parsedNow : Date.now(), settings };
  const disabled = new Set(settings.disable);

  const tagged: Tagged[] = [];
  for (const rule of rules) {
    if (disabled.has(rule.id)) continue;
    let findings: Finding[];
    try {
      findings = rule.match(context);
    } catch (error) {
      options.onRuleError?.(rule.id, error);
      continue;
    }
    const override = settings.severity[rule.id];
    for (const finding of findings) tagged.push({ rule, finding, severity: override ?? finding.severity ?? rule.severity, context: [] });
  }

  const kept = foldSymptoms(tagged);
  // A symptom folds with its overridden severity; after folding, a cause's override is the last
  // word, also over the severity it took from a symptom.
  for (const t of kept) t.severity = settings.severity[t.rule.id] ?? t.severity;
  const diagnoses = group(kept, index).sort(compareDiagnoses);
  const summary = { critical: 0, warning: 0, info: 0, pods: snapshot.pods.length };
  for (const diagnosis of diagnoses) summary[diagnosis.severity]++;

  const report: Report = {
    apiVersion: 'kdiag/v1',
    kind: 'Report',
    scope: snapshot.scope,
    capturedAt: snapshot.capturedAt,
    summary,
    diagnoses,
    accessErrors: snapshot.accessErrors,
  };
  return neutralizeDeep(report);
}

/** What samePod compares, as one key. */
function objectKey(ref: ObjectRef): string {
  return `${ref.kind}\u0000${String(ref.namespace)}\u0000${ref.name}`;
}

function samePod(a: ObjectRef, b: ObjectRef): boolean {
  return a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}

/** Whether finding `cause` is about the same pod (and container, when both name one) as `symptom`. */
function covers(cause: Finding, symptom: Finding): boolean {
  const targets = [cause.object, ...(cause.affected ?? [])];
  return targets.some(
    (target) =>
      samePod(target, symptom.object) &&
      (target.container === undefined || symptom.object.container === undefined || target.container === symptom.object.container),
  );
}

/**
 * A symptom explained by a cause on the same target becomes context of the cause's diagnosis
 * (OOMKilled over CrashLoopBackOff). The cause inherits the symptom's severity when that is higher.
 */
function foldSymptoms(tagged: Tagged[]): Tagged[] {
  // Findings by the object they are about, in order: a cause is only compared with the findings on
  // its own targets, so folding stays linear in the number of findings, not quadratic.
  const byObject = new Map<string, number[]>();
  tagged.forEach((t, i) => {
    const k = objectKey(t.finding.object);
    const list = byObject.get(k);
    if (list) list.push(i);
    else byObject.set(k, [i]);
  });
  const removed = new Set<Tagged>();
  for (const cause of tagged) {
    const supersedes = cause.rule.supersedes;
    if (!supersedes?.length) continue;
    const targets = [cause.finding.object, ...(cause.finding.affected ?? [])];
    const candidates = targets.length === 1 ? (byObject.get(objectKey(targets[0]!)) ?? []) : [...new Set(targets.flatMap((t) => byObject.get(objectKey(t)) ?? []))].sort((a, b) => a - b);
    for (const at of candidates) {
      const symptom = tagged[at]!;
      if (symptom === cause || removed.has(symptom) || !supersedes.includes(symptom.rule.id)) continue;
      if (!covers(cause.finding, symptom.finding)) continue;
      removed.add(symptom);
      cause.context.push({ rule: symptom.rule.id, title: symptom.finding.title }, ...symptom.context);
      if (severityWeight(symptom.severity) > severityWeight(cause.severity)) cause.severity = symptom.severity;
    }
  }
  return tagged.filter((t) => !removed.has(t));
}

/**
 * The same problem (rule, cause, container) on several pods of one workload is one diagnosis with
 * several affected pods. Its representative (title, evidence, log tail) is the worst of them: the
 * most severe, then the surest, then the first by name. Findings on pods without an owner, and on
 * other objects, stay separate.
 */
function group(tagged: Tagged[], index: SnapshotIndex): Diagnosis[] {
  const buckets = new Map<string, { owner: OwnerRef | null; members: Tagged[] }>();
  const podsByName = new Map(index.snapshot.pods.map((pod) => [`${pod.metadata.namespace}/${pod.metadata.name}`, pod]));
  for (const member of tagged) {
    const { rule, finding } = member;
    const { object } = finding;
    const pod = object.kind === 'Pod' ? podsByName.get(`${object.namespace}/${object.name}`) : undefined;
    const owner = pod ? index.ownerOf(pod) : null;
    const key = owner
      ? `${rule.id}|${finding.cause ?? ''}|${object.namespace}|${owner.kind}/${owner.name}|${object.container ?? ''}`
      : `${rule.id}|${finding.cause ?? ''}|${refKey(object)}`;
    const bucket = buckets.get(key);
    if (bucket) bucket.members.push(member);
    else buckets.set(key, { owner, members: [member] });
  }

  const diagnoses: Diagnosis[] = [];
  for (const { owner, members } of buckets.values()) {
    members.sort(
      (a, b) =>
        severityWeight(b.severity) - severityWeight(a.severity) ||
        b.finding.confidence - a.finding.confidence ||
        refKey(a.finding.object).localeCompare(refKey(b.finding.object)),
    );
    const { rule, finding, severity } = members[0]!;
    const affected = new Map<string, ObjectRef>();
    const context = new Map<string, string>();
    for (const member of members) {
      for (const ref of member.finding.affected?.length ? member.finding.affected : [member.finding.object]) affected.set(refKey(ref), ref);
      // One line per symptom rule: the representative's, not one per pod that differs in a count.
      for (const symptom of member.context) if (!context.has(symptom.rule)) context.set(symptom.rule, symptom.title);
    }
    const diagnosis: Diagnosis = {
      rule: rule.id,
      severity,
      title: finding.title,
      object: finding.object,
      affected: [...affected.values()].sort((a, b) => refKey(a).localeCompare(refKey(b))),
      owner: owner ? { kind: owner.kind, name: owner.name } : null,
      evidence: [...finding.evidence],
      explanation: finding.explanation,
      confidence: finding.confidence,
      context: [...context.values()],
      remediation: finding.remediation,
    };
    if (finding.exitCode !== undefined) diagnosis.exitCode = finding.exitCode;
    if (finding.signal !== undefined) diagnosis.signal = finding.signal;
    if (finding.cause !== undefined) diagnosis.cause = finding.cause;
    if (finding.logTail?.length) diagnosis.logTail = finding.logTail;
    diagnoses.push(diagnosis);
  }
  return diagnoses;
}

function refKey(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}/${ref.container ?? ''}`;
}

/** Pods a diagnosis affects (a node diagnosis counts the pods on the node). */
function podCount(diagnosis: Diagnosis): number {
  return new Set(diagnosis.affected.filter((ref) => ref.kind === 'Pod').map((ref) => `${ref.namespace}/${ref.name}`)).size;
}

function compareDiagnoses(a: Diagnosis, b: Diagnosis): number {
  return (
    severityWeight(b.severity) - severityWeight(a.severity) ||
    podCount(b) - podCount(a) ||
    b.confidence - a.confidence ||
    a.rule.localeCompare(b.rule) ||
    refKey(a.object).localeCompare(refKey(b.object))
  );
}

/** Whether a report has a diagnosis at or above the threshold (`never` never fails). */
export function failsAt(report: Report, threshold: Severity | 'never'): boolean {
  if (threshold === 'never') return false;
  const min = severityWeight(threshold);
  return report.diagnoses.some((d) => severityWeight(d.severity) >= min);
}
