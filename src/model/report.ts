import type { ObjectRef, RemediationStep, Severity } from './finding.js';
import type { AccessError, Scope } from './snapshot.js';

/** One ranked diagnosis of the kdiag/v1 report (docs/json-report.md). */
export interface Diagnosis {
  rule: string;
  severity: Severity;
  title: string;
  /** The first (representative) object; `affected` lists every object with the same problem. */
  object: ObjectRef;
  affected: ObjectRef[];
  /** The workload the affected pods belong to, or null. */
  owner: { kind: string; name: string } | null;
  evidence: string[];
  explanation: string;
  exitCode?: number;
  signal?: string;
  cause?: string;
  /** 0..1: how sure the evidence makes the diagnosis. */
  confidence: number;
  /** Symptoms explained by this diagnosis (e.g. the CrashLoopBackOff an OOM kill causes). */
  context: string[];
  /** The last lines of the crashed container's previous log, when read. */
  logTail?: string[];
  remediation: RemediationStep[];
}

/** The kdiag/v1 report: what -o json prints. Field names and meanings are stable. */
export interface Report {
  apiVersion: 'kdiag/v1';
  kind: 'Report';
  scope: Scope;
  capturedAt: string;
  summary: { critical: number; warning: number; info: number; pods: number };
  diagnoses: Diagnosis[];
  accessErrors: AccessError[];
}
