import type { Finding, ObjectRef, Retained, Rule, RuleContext, Severity } from '../model/finding.js';
import type { KubeEvent, Pod, Workload } from '../model/k8s.js';
import { severityWeight } from '../model/finding.js';
import type { Diagnosis, Report } from '../model/report.js';
import type { Settings, SettingsInput } from '../model/settings.js';
import { resolveSettings } from '../model/settings.js';
import type { OwnerRef, PodName } from '../model/snapshot-index.js';
import { SnapshotIndex } from '../model/snapshot-index.js';
import type { NamespacePart, Snapshot, SweepBase } from '../model/snapshot.js';
import { emptyPart, partOfEvent } from '../model/snapshot.js';
import { compareText, neutralizeDeep } from '../model/text.js';
import { podRef } from '../model/pod.js';
import type { Roster } from '../model/roster.js';
import type { Cut, LabelMatch, LeaveOut, NodeUse } from '../snapshot/select.js';
import { exclusionCut, selectionCut } from '../snapshot/select.js';

/** A finding tagged with the rule that made it, its effective severity and the workload it is about. */
export interface Tagged {
  rule: Rule;
  /** The rule's place in the rule list: folding goes rule by rule, as if every rule ran once. */
  order: number;
  finding: Finding;
  severity: Severity;
  /** The top of the owner chain of the pod the finding is about, found while its namespace was held. */
  owner: OwnerRef | null;
  /** Symptoms folded into this finding: the symptom's rule and its title. */
  context: { rule: string; title: string }[];
}

/** Options for one engine run. */
export interface EngineOptions {
  /** Called when a rule throws on odd data (once per rule); the rest of the diagnosis goes on. */
  onRuleError?: (ruleId: string, error: unknown) => void;
  /**
   * The user's settings: disabled rules do not run (a symptom they would have folded is then
   * reported on its own), a severity override applies to a rule's findings and again after folding, and
   * thresholds reach the rules through their context. Pod and namespace exclusions come as
   * leaveOut.
   */
  settings?: SettingsInput;
  /**
   * The pods a label selector (-l) keeps: each namespace is cut to them and theirs as it comes (see
   * selectedOf); at the end, only the nodes they run on (and those nodes' events) stay for the
   * node diagnoses. The rules of a namespace still see every node.
   */
  select?: LabelMatch;
  /**
   * What a namespace sweep leaves out (the config file's exclusions), after the selector: each
   * namespace is cut as it comes (see withoutLeftOut); at the end, nodes only left-out pods ran on,
   * their events and the refused reads of left-out namespaces go from what the cluster rules see
   * and from the report.
   */
  leaveOut?: LeaveOut;
  /** Filled with every pod diagnosed (after select and leaveOut) and its workload, for a report by workload (JUnit). */
  roster?: Roster;
}

/** A snapshot cut into its namespaces, in name order: the order the API lists them across namespaces. */
export function partition(snapshot: Snapshot): NamespacePart[] {
  const parts = new Map<string, NamespacePart>();
  const part = (namespace: string) => {
    let found = parts.get(namespace);
    if (!found) parts.set(namespace, (found = emptyPart()));
    return found;
  };
  for (const pod of snapshot.pods) part(pod.metadata.namespace ?? '').pods.push(pod);
  for (const event of snapshot.events) part(partOfEvent(event)).events.push(event);
  for (const owner of snapshot.owners) part(owner.metadata.namespace ?? '').owners.push(owner);
  for (const log of snapshot.logs) part(log.namespace).logs.push(log);
  return [...parts.keys()].sort().map((namespace) => parts.get(namespace)!);
}

/**
 * The engine, fed one namespace at a time so that a sweep of a whole cluster need not hold it: each
 * namespace is diagnosed by the namespace rules as it comes and can then be let go of; what the
 * cluster rules read of it (the pods on a NotReady node, FailedCreate events, ...) is kept for
 * their one pass at the end, with the names of every pod by node. finish() folds symptoms into
 * their causes, groups and ranks over everything.
 */
export class Engine {
  private readonly settings: Settings;
  private readonly now: number;
  private readonly local: { rule: Rule; order: number }[] = [];
  private readonly cluster: { rule: Rule; order: number }[] = [];
  /** Diagnoses of namespaces already let go of: their findings could not meet a cluster rule's. */
  private readonly diagnoses: Diagnosis[] = [];
  /** Findings held to the end: the cluster rules', and those of objects a cluster rule may be about. */
  private readonly tagged: Tagged[] = [];
  /** Findings already folded, held to be grouped with held findings of their group. */
  private readonly settled: Tagged[] = [];
  private readonly failed = new Set<string>();
  private readonly kept = { pods: new Set<Pod>(), events: new Set<KubeEvent>(), owners: new Set<Workload>() };
  private readonly podNames = new Map<string, PodName[]>();
  /** The selector's and the exclusions' cuts, in that order, each with the nodes it saw. */
  private readonly cuts: { cut: Cut; nodes: NodeUse }[] = [];
  private pods = 0;

  constructor(
    private readonly base: SweepBase,
    rules: readonly Rule[],
    private readonly options: EngineOptions = {},
  ) {
    this.settings = resolveSettings(options.settings);
    if (options.select) this.cuts.push({ cut: selectionCut(options.select), nodes: { kept: new Set(), dropped: new Set() } });
    if (options.leaveOut) this.cuts.push({ cut: exclusionCut(options.leaveOut), nodes: { kept: new Set(), dropped: new Set() } });
    const parsedNow = Date.parse(base.capturedAt);
    this.now = Number.isFinite(parsedNow) ? parsedNow : Date.now();
    const disabled = new Set(this.settings.disable);
    rules.forEach((rule, order) => {
      if (!disabled.has(rule.id)) (rule.scope === 'cluster' ? this.cluster : this.local).push({ rule, order });
    });
  }

  private snapshotOf(part: NamespacePart, nodes = this.base.nodes): Snapshot {
    const { scope, capturedAt, context } = this.base;
    return { scope, capturedAt, context, nodes, accessErrors: this.accessErrors(), pods: part.pods, events: part.events, owners: part.owners, logs: part.logs };
  }

  /** The refused reads, but those of left-out namespaces. */
  private accessErrors(): Snapshot['accessErrors'] {
    const out = this.options.leaveOut?.namespace;
    const all = this.base.accessErrors;
    return out && all.some((e) => e.namespace !== null && out(e.namespace)) ? all.filter((e) => e.namespace === null || !out(e.namespace)) : all;
  }

  /** Run rules over a context and tag their findings (with the owner of the pod each is about). */
  private run(rules: { rule: Rule; order: number }[], context: RuleContext, into: Tagged[]): void {
    let podsByName: Map<string, Pod> | undefined;
    for (const { rule, order } of rules) {
      let findings: Finding[];
      try {
        findings = rule.match(context);
      } catch (error) {
        if (!this.failed.has(rule.id)) this.options.onRuleError?.(rule.id, error);
        this.failed.add(rule.id);
        continue;
      }
      const override = this.settings.severity[rule.id];
      for (const finding of findings) {
        const { object } = finding;
        let owner: OwnerRef | null = null;
        if (object.kind === 'Pod') {
          podsByName ??= new Map(context.snapshot.pods.map((pod) => [`${pod.metadata.namespace}/${pod.metadata.name}`, pod]));
          const pod = podsByName.get(`${object.namespace}/${object.name}`);
          if (pod) owner = context.index.ownerOf(pod);
        }
        into.push({ rule, order, finding, severity: override ?? finding.severity ?? rule.severity, owner, context: [] });
      }
    }
  }

  /**
   * Diagnose one namespace's objects. The engine keeps what cluster rules retain of it and the
   * findings they may meet (see settle); the rest of its findings it folds and groups now. The
   * selector and exclusions cut the part on its own objects: objects of a namespace listed again
   * after it was handed over (a server that lists out of namespace order, see sweepAllNamespaces)
   * come as a second part, cut and diagnosed without the first part's pods and workloads.
   */
  add(part: NamespacePart): void {
    for (const { cut, nodes } of this.cuts) part = cut.part(part, nodes);
    const snapshot = this.snapshotOf(part);
    const index = new SnapshotIndex(snapshot);
    const context: RuleContext = { snapshot, index, now: this.now, settings: this.settings };
    this.pods += part.pods.length;
    this.options.roster?.add(part.pods, part.owners, index);
    const found: Tagged[] = [];
    this.run(this.local, context, found);
    /** What a cluster rule's finding may name in this namespace: the objects kept for them. */
    const touched = new Set<string>();
    if (this.cluster.length > 0) {
      for (const pod of part.pods) {
        const node = pod.spec.nodeName;
        if (!node) continue;
        const names = this.podNames.get(node);
        const name = { namespace: pod.metadata.namespace, name: pod.metadata.name };
        if (names) names.push(name);
        else this.podNames.set(node, [name]);
      }
      const pods = new Set<Pod>();
      const events = new Set<KubeEvent>();
      for (const { rule } of this.cluster) {
        let retained: Retained | undefined;
        try {
          retained = rule.retain?.(context);
        } catch (error) {
          if (!this.failed.has(rule.id)) this.options.onRuleError?.(rule.id, error);
          this.failed.add(rule.id);
          continue;
        }
        for (const pod of retained?.pods ?? []) pods.add(pod);
        for (const event of retained?.events ?? []) events.add(event);
        for (const owner of retained?.owners ?? []) {
          this.kept.owners.add(owner);
          touched.add(objectKey({ kind: owner.kind, namespace: owner.metadata.namespace ?? null, name: owner.metadata.name ?? '' }));
        }
      }
      // In the namespace's own order, so that the pass at the end sees what one pass would.
      for (const pod of part.pods) {
        if (!pods.has(pod)) continue;
        this.kept.pods.add(pod);
        touched.add(objectKey(podRef(pod)));
        for (const owner of index.ownerChain(pod)) this.kept.owners.add(owner);
      }
      for (const event of part.events) {
        if (!events.has(event)) continue;
        this.kept.events.add(event);
        const { kind, name } = event.involvedObject;
        touched.add(objectKey({ kind: kind ?? '', namespace: event.involvedObject.namespace ?? event.metadata.namespace ?? null, name: name ?? '' }));
      }
    }
    this.settle(found, touched);
  }

  /**
   * Fold and group a namespace's findings now where no cluster rule's finding can change them. A
   * cause folds a symptom only about an object it names, and groups never span namespaces; a
   * cluster rule's findings name only nodes, refused reads (kind Access) and what its retain kept.
   * So findings linked (through the objects they name) to a kept object, a refused read or one
   * without a namespace are held to the end, and so are the groups they would join; the rest
   * become diagnoses now.
   */
  private settle(found: Tagged[], touched: Set<string>): void {
    const parent = new Map<string, string>();
    const root = (key: string): string => {
      let at = key;
      for (let up = parent.get(at); up !== undefined && up !== at; up = parent.get(at)) at = up;
      parent.set(key, at);
      return at;
    };
    const keysOf = (t: Tagged) => [t.finding.object, ...(t.finding.affected ?? [])].map(objectKey);
    for (const t of found) {
      const [first, ...others] = keysOf(t);
      for (const key of [first!, ...others]) if (!parent.has(key)) parent.set(key, key);
      for (const key of others) parent.set(root(key), root(first!));
    }
    const heldRoots = new Set<string>();
    for (const t of found) {
      const targets = [t.finding.object, ...(t.finding.affected ?? [])];
      if (targets.some((ref) => ref.namespace === null || ref.kind === 'Access' || touched.has(objectKey(ref)))) heldRoots.add(root(objectKey(t.finding.object)));
    }
    const free: Tagged[] = [];
    const heldGroups = new Set<string>();
    for (const t of found) {
      if (heldRoots.has(root(objectKey(t.finding.object)))) {
        this.tagged.push(t);
        heldGroups.add(groupKey(t));
      } else free.push(t);
    }
    const now: Tagged[] = [];
    for (const t of this.fold(free)) (heldGroups.has(groupKey(t)) ? this.settled : now).push(t);
    for (const diagnosis of group(now)) this.diagnoses.push(diagnosis);
  }

  /**
   * Fold symptoms into their causes. A symptom folds with its overridden severity; after folding, a
   * cause's override is the last word, also over the severity it took from a symptom.
   */
  private fold(tagged: Tagged[]): Tagged[] {
    const kept = foldSymptoms(tagged);
    for (const t of kept) t.severity = this.settings.severity[t.rule.id] ?? t.severity;
    return kept;
  }

  /**
   * What the cluster rules see at the end: every node and refused read, what they retained of each
   * namespace (with the owner chains of the pods kept), and the names of every pod by node.
   */
  clusterContext(): RuleContext {
    let events = [...this.kept.events];
    let nodes = this.base.nodes;
    if (this.cuts.length > 0) {
      const out = (name: string | undefined) => this.cuts.some(({ cut, nodes }) => cut.nodeOut(nodes, name));
      nodes = nodes.filter((node) => !out(node.metadata.name));
      events = events.filter((event) => event.involvedObject.kind !== 'Node' || !out(event.involvedObject.name));
    }
    const snapshot = this.snapshotOf({ pods: [...this.kept.pods], events, owners: [...this.kept.owners], logs: [] }, nodes);
    return { snapshot, index: new SnapshotIndex(snapshot, this.podNames), now: this.now, settings: this.settings };
  }

  /** Run the cluster rules, fold, group and rank: the report. */
  finish(): Report {
    if (this.cluster.length > 0) this.run(this.cluster, this.clusterContext(), this.tagged);
    // Rule by rule, as if each rule had run once over everything (a stable sort keeps each rule's order).
    const tagged = this.tagged.sort((a, b) => a.order - b.order);
    const kept = this.fold(tagged);
    const diagnoses = [...this.diagnoses, ...group([...this.settled, ...kept])].sort(compareDiagnoses);
    const summary = { critical: 0, warning: 0, info: 0, pods: this.pods };
    for (const diagnosis of diagnoses) summary[diagnosis.severity]++;

    const report: Report = {
      apiVersion: 'kdiag/v1',
      kind: 'Report',
      scope: this.base.scope,
      capturedAt: this.base.capturedAt,
      summary,
      diagnoses,
      accessErrors: this.accessErrors(),
    };
    return neutralizeDeep(report);
  }
}

/**
 * Run every rule over the snapshot, fold symptoms into their causes, group the same problem across
 * an owner's pods, and rank: severity, then pods affected, then confidence, then rule id and name.
 * The result is deterministic for a given snapshot and rule set. All cluster text in it is
 * neutralised for printing. The snapshot goes through the engine namespace by namespace, like a
 * streamed sweep.
 */
export function diagnose(snapshot: Snapshot, rules: readonly Rule[], options: EngineOptions = {}): Report {
  const engine = new Engine(snapshot, rules, options);
  for (const part of partition(snapshot)) engine.add(part);
  return engine.finish();
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
export function foldSymptoms(tagged: Tagged[]): Tagged[] {
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
export function group(tagged: Tagged[]): Diagnosis[] {
  const buckets = new Map<string, { owner: OwnerRef | null; members: Tagged[] }>();
  for (const member of tagged) {
    const key = groupKey(member);
    const bucket = buckets.get(key);
    if (bucket) bucket.members.push(member);
    else buckets.set(key, { owner: member.owner, members: [member] });
  }

  const diagnoses: Diagnosis[] = [];
  for (const { owner, members } of buckets.values()) {
    members.sort(
      (a, b) =>
        severityWeight(b.severity) - severityWeight(a.severity) ||
        b.finding.confidence - a.finding.confidence ||
        compareText(refKey(a.finding.object), refKey(b.finding.object)),
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
      affected: [...affected.values()].sort((a, b) => compareText(refKey(a), refKey(b))),
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

/** The group a finding joins: same rule, cause and container on the pods of one workload, else its own object. */
function groupKey({ rule, finding, owner }: Tagged): string {
  const { object } = finding;
  return owner
    ? `${rule.id}|${finding.cause ?? ''}|${object.namespace}|${owner.kind}/${owner.name}|${object.container ?? ''}`
    : `${rule.id}|${finding.cause ?? ''}|${refKey(object)}`;
}

function refKey(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}/${ref.container ?? ''}`;
}

/** Pods a diagnosis affects (a node diagnosis counts the pods on the node). */
/** podCount of each diagnosis being ranked: a sort asks it of the same diagnosis many times. */
const podCounts = new WeakMap<Diagnosis, number>();

function podCount(diagnosis: Diagnosis): number {
  let count = podCounts.get(diagnosis);
  if (count === undefined) {
    count = new Set(diagnosis.affected.filter((ref) => ref.kind === 'Pod').map((ref) => `${ref.namespace}/${ref.name}`)).size;
    podCounts.set(diagnosis, count);
  }
  return count;
}

export function compareDiagnoses(a: Diagnosis, b: Diagnosis): number {
  return (
    severityWeight(b.severity) - severityWeight(a.severity) ||
    podCount(b) - podCount(a) ||
    b.confidence - a.confidence ||
    compareText(a.rule, b.rule) ||
    compareText(refKey(a.object), refKey(b.object))
  );
}

/** Whether a report has a diagnosis at or above the threshold (`never` never fails). */
export function failsAt(report: Report, threshold: Severity | 'never'): boolean {
  if (threshold === 'never') return false;
  const min = severityWeight(threshold);
  return report.diagnoses.some((d) => severityWeight(d.severity) >= min);
}
