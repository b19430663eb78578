import type { KubeEvent, Node, Pod, Workload } from './k8s.js';

/** What kdiag looked at: one pod (or a workload's pods), a namespace, or the whole cluster. */
export interface Scope {
  kind: 'Pod' | 'Namespace' | 'Cluster';
  namespace: string | null;
  name: string | null;
}

/** The tail of one container's log, as read with `previous=true&tailLines=N`. */
export interface LogTail {
  namespace: string;
  pod: string;
  container: string;
  previous: boolean;
  lines: string[];
}

/** A read kdiag was not allowed (or not able) to make; the diagnosis goes on without it. */
export interface AccessError {
  /** Plural resource name as in RBAC: pods, nodes, events, pods/log, replicasets, ... */
  resource: string;
  /** RBAC verb: get or list. */
  verb: string;
  namespace: string | null;
  /** The object's name for a get, null for a list. */
  name?: string | null;
  /** HTTP status (403, 404, 500, ...) or 0 when no answer came. */
  status: number;
  message: string;
}

/**
 * Everything a diagnosis reads: plain data, identical whether it came from a live cluster, a recorded
 * snapshot file or `kubectl get -o json` output. Rules see nothing else.
 */
export interface Snapshot {
  scope: Scope;
  /** When the data was read (RFC 3339); rules measure ages against it, never against the wall clock. */
  capturedAt: string;
  /** The kubeconfig context the data came from, when known. */
  context?: string | null;
  pods: Pod[];
  nodes: Node[];
  events: KubeEvent[];
  owners: Workload[];
  logs: LogTail[];
  accessErrors: AccessError[];
}

/** An empty snapshot of the given scope. */
export function emptySnapshot(scope: Scope, capturedAt: string): Snapshot {
  return { scope, capturedAt, pods: [], nodes: [], events: [], owners: [], logs: [], accessErrors: [] };
}

/** One namespace's objects: what the engine diagnoses at a time. */
export interface NamespacePart {
  pods: Pod[];
  events: KubeEvent[];
  owners: Workload[];
  logs: LogTail[];
}

/** An empty namespace part. */
export function emptyPart(): NamespacePart {
  return { pods: [], events: [], owners: [], logs: [] };
}

/**
 * The namespace an event is filed in, which is its part of a sweep (events sit in the namespace of
 * the object they are about, node events in "default"; '' when a recorded event says neither).
 */
export function partOfEvent(event: KubeEvent): string {
  return event.metadata.namespace ?? event.involvedObject.namespace ?? '';
}

/** What every namespace of a sweep shares: the nodes and the refused reads (a live list, read again at the end). */
export type SweepBase = Pick<Snapshot, 'scope' | 'capturedAt' | 'context' | 'nodes' | 'accessErrors'>;
