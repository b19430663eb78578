import type { KubeEvent, Pod, Workload } from './k8s.js';
import type { Settings } from './settings.js';
import type { SnapshotIndex } from './snapshot-index.js';
import type { Snapshot } from './snapshot.js';

/** How bad the kind of problem is. Ranking weighs more than this (pods affected, confidence). */
export type Severity = 'critical' | 'warning' | 'info';

/** Severities from most to least severe. */
export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

/** Numeric weight of a severity: higher is worse. */
export function severityWeight(severity: Severity): number {
  return severity === 'critical' ? 3 : severity === 'warning' ? 2 : 1;
}

/** The object a finding is about. */
export interface ObjectRef {
  kind: string;
  namespace: string | null;
  name: string;
  container?: string;
}

/** One remediation step: what to do, and where one fits, the exact command (printed, never run). */
export interface RemediationStep {
  description: string;
  command?: string;
}

/** What a rule reports about one object. The engine adds the rule id, owner and grouping. */
export interface Finding {
  /** Overrides the rule's default severity (e.g. a crash that has since recovered is a warning). */
  severity?: Severity;
  title: string;
  object: ObjectRef;
  /** Facts with where each came from: `lastState.terminated.reason=OOMKilled`, `event BackOff x12: ...`. */
  evidence: string[];
  explanation: string;
  remediation: RemediationStep[];
  /** How sure the evidence makes the rule: 0..1. */
  confidence: number;
  /** Other objects hit by the same problem (e.g. the pods on a NotReady node). */
  affected?: ObjectRef[];
  exitCode?: number;
  signal?: string;
  /** The rule's sub-cause, where it has one (kebab-case, stable). */
  cause?: string;
  /** The last log lines of the crashed container, already read from the snapshot. */
  logTail?: string[];
}

/** What a rule gets: the snapshot, its indexes, and the time to measure ages against. */
export interface RuleContext {
  snapshot: Snapshot;
  /**
   * Lookups over the snapshot. A rule about pods goes over `index.suspects` (every pod but the
   * quiet ones: running and ready since they started, with no Warning event) and reads the other
   * pods only as context; test/quiet-pods.test.ts holds every rule to finding the same either way
   * on every fixture.
   */
  index: SnapshotIndex;
  /** snapshot.capturedAt in epoch milliseconds. */
  now: number;
  /** The user's settings; rules read thresholds through thresholdsOf(context), which defaults them. */
  settings?: Settings;
}

/** A diagnosis rule: metadata, and a pure function from the snapshot to findings. */
export interface Rule {
  /** Stable kebab-case id, equal to the rule's file name in rules/. Never renamed or reused. */
  id: string;
  title: string;
  severity: Severity;
  /** What the problem is and why it matters. */
  description: string;
  /** How kdiag detects it: which fields, reasons and events it reads. */
  detection: string;
  /**
   * Symptoms this rule explains: when it fires on an object, findings of these rules on the same
   * pod (and container, when both name one) become context of this diagnosis instead of separate ones.
   */
  supersedes?: string[];
  /** Generic remediation shown by `kdiag explain RULE-ID`; findings carry filled-in commands. */
  remediation: RemediationStep[];
  /**
   * 'cluster': the rule reads several namespaces at once (the pods on a node, every refused read).
   * The engine diagnoses a sweep namespace by namespace and lets each namespace go once done; a
   * cluster rule runs once at the end, over the nodes, the refused reads and what its `retain`
   * kept of each namespace. Other rules see one namespace at a time (and every node).
   */
  scope?: 'cluster';
  /**
   * A cluster rule's part of one namespace: the pods, events and workloads of it that its match
   * reads, given that namespace's context (with every node). The owner chains of kept pods are
   * kept with them. What it leaves out the rule must not need: a test compares with one pass.
   */
  retain?(context: RuleContext): Retained;
  match(context: RuleContext): Finding[];
}

/** What a cluster rule keeps of a namespace for its pass at the end. */
export interface Retained {
  pods?: Iterable<Pod>;
  events?: Iterable<KubeEvent>;
  owners?: Iterable<Workload>;
}
