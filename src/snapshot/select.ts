import type { KubeEvent, Pod, Workload } from '../model/k8s.js';
import { NotFoundError } from '../model/errors.js';
import { SnapshotIndex, controllerOf } from '../model/snapshot-index.js';
import type { NamespacePart, Snapshot } from '../model/snapshot.js';

/** The pods `kdiag pod NAME` means, and how NAME was matched. */
export interface PodSelection {
  pods: Pod[];
  /** The workload NAME named, when it was a workload (it may have no pods at all). */
  workload: { kind: string; name: string } | null;
  how: 'pod' | 'workload' | 'label';
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicaSet'];

/**
 * Resolve NAME in a namespace: the pod of that name; else the pods of the Deployment, StatefulSet,
 * DaemonSet, Job, CronJob or ReplicaSet of that name (through ownerReferences); else the pods
 * labelled app=NAME or app.kubernetes.io/name=NAME. Null when nothing matches.
 */
export function selectPods(snapshot: Snapshot, namespace: string, name: string): PodSelection | null {
  const inNamespace = snapshot.pods.filter((pod) => pod.metadata.namespace === namespace);
  const exact = inNamespace.find((pod) => pod.metadata.name === name);
  if (exact) return { pods: [exact], workload: null, how: 'pod' };

  const index = new SnapshotIndex(snapshot);
  const byOwner = inNamespace.filter((pod) => {
    const top = index.ownerOf(pod);
    if (top?.name === name && WORKLOAD_KINDS.includes(top.kind)) return true;
    const direct = controllerOf(pod.metadata.ownerReferences);
    return direct?.name === name && WORKLOAD_KINDS.includes(direct.kind);
  });
  const workload = WORKLOAD_KINDS.map((kind) => index.workload(kind, namespace, name)).find((w) => w !== undefined);
  if (byOwner.length > 0 || workload) {
    const first = byOwner[0];
    const top = first ? index.ownerOf(first) : null;
    return { pods: byOwner, workload: workload ? { kind: workload.kind, name } : top ? { kind: top.kind, name: top.name } : null, how: 'workload' };
  }

  const byLabel = inNamespace.filter((pod) => pod.metadata.labels?.app === name || pod.metadata.labels?.['app.kubernetes.io/name'] === name);
  if (byLabel.length > 0) return { pods: byLabel, workload: null, how: 'label' };
  return null;
}

/** Edit distance between two short strings. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** Up to `max` candidates that look like `name`: a shared prefix, containment, or a small edit distance. */
export function nearNames(name: string, candidates: Iterable<string>, max = 5): string[] {
  const scored: { candidate: string; score: number }[] = [];
  for (const candidate of new Set(candidates)) {
    const d = distance(name, candidate);
    const related = candidate.startsWith(name) || name.startsWith(candidate) || candidate.includes(name) || d <= Math.max(2, Math.floor(name.length / 3));
    if (related) scored.push({ candidate, score: candidate.startsWith(name) ? d / 10 : d });
  }
  return scored
    .sort((a, b) => a.score - b.score || a.candidate.localeCompare(b.candidate))
    .slice(0, max)
    .map((s) => s.candidate);
}

/** The not-found error for `kdiag pod NAME`, with near pod and workload names. */
export function podNotFound(snapshot: Snapshot, namespace: string, name: string): NotFoundError {
  const names = [
    ...snapshot.pods.filter((pod) => pod.metadata.namespace === namespace).map((pod) => pod.metadata.name ?? ''),
    ...snapshot.owners.filter((owner) => owner.metadata.namespace === namespace && owner.kind !== 'ReplicaSet').map((owner) => owner.metadata.name ?? ''),
  ].filter(Boolean);
  const near = nearNames(name, names);
  const hint = near.length ? `; did you mean: ${near.join(', ')}?` : '';
  return new NotFoundError(`pod or workload "${name}" not found in namespace ${namespace}${hint}`, near);
}

/**
 * The part of a snapshot a scope needs: the chosen pods, the nodes they run on, their owners and
 * everything those objects' events and logs say. Access errors are kept whole.
 */
export function narrow(snapshot: Snapshot, pods: Pod[], scope: Snapshot['scope'], workload?: PodSelection['workload']): Snapshot {
  const index = new SnapshotIndex(snapshot);
  const podKeys = new Set(pods.map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`));
  const nodeNames = new Set(pods.map((pod) => pod.spec.nodeName).filter((n): n is string => !!n));
  const ownerKeys = new Set<string>();
  const addChain = (namespace: string | undefined, refs: Pod['metadata']['ownerReferences']) => {
    let ref = controllerOf(refs);
    for (let hops = 0; ref && hops < 4; hops++) {
      ownerKeys.add(`${ref.kind}/${namespace}/${ref.name}`);
      ref = controllerOf(index.workload(ref.kind, namespace, ref.name)?.metadata.ownerReferences);
    }
  };
  for (const pod of pods) addChain(pod.metadata.namespace, pod.metadata.ownerReferences);
  if (workload && scope.namespace) {
    ownerKeys.add(`${workload.kind}/${scope.namespace}/${workload.name}`);
    // The workload's own children (a Deployment's ReplicaSets) say why it has no pods.
    for (const owner of snapshot.owners) {
      const parent = controllerOf(owner.metadata.ownerReferences);
      if (parent && owner.metadata.namespace === scope.namespace && parent.kind === workload.kind && parent.name === workload.name) {
        ownerKeys.add(`${owner.kind}/${scope.namespace}/${owner.metadata.name}`);
      }
    }
  }
  const owners = snapshot.owners.filter((o) => ownerKeys.has(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`));
  const events = snapshot.events.filter((event) => {
    const o = event.involvedObject;
    const namespace = o.namespace ?? event.metadata.namespace;
    if (o.kind === 'Pod') return podKeys.has(`${namespace}/${o.name}`);
    if (o.kind === 'Node') return nodeNames.has(o.name ?? '');
    return ownerKeys.has(`${o.kind}/${namespace}/${o.name}`);
  });
  return {
    ...snapshot,
    scope,
    pods,
    nodes: snapshot.nodes.filter((node) => nodeNames.has(node.metadata.name ?? '')),
    events,
    owners,
    logs: snapshot.logs.filter((log) => podKeys.has(`${log.namespace}/${log.pod}`)),
  };
}

/** The part of a snapshot one namespace needs (or all of it when namespace is null). */
export function narrowNamespace(snapshot: Snapshot, namespace: string | null): Snapshot {
  const scope: Snapshot['scope'] = namespace ? { kind: 'Namespace', namespace, name: null } : { kind: 'Cluster', namespace: null, name: null };
  if (!namespace) return { ...snapshot, scope };
  const pods = snapshot.pods.filter((pod) => pod.metadata.namespace === namespace);
  const nodeNames = new Set(pods.map((pod) => pod.spec.nodeName).filter((n): n is string => !!n));
  return {
    ...snapshot,
    scope,
    pods,
    nodes: snapshot.nodes.filter((node) => nodeNames.has(node.metadata.name ?? '')),
    owners: snapshot.owners.filter((owner) => owner.metadata.namespace === namespace),
    events: snapshot.events.filter((event) => {
      const eventNamespace = event.involvedObject.namespace ?? event.metadata.namespace;
      return event.involvedObject.kind === 'Node' ? nodeNames.has(event.involvedObject.name ?? '') : eventNamespace === namespace;
    }),
    logs: snapshot.logs.filter((log) => log.namespace === namespace),
  };
}

/** A workload's key: kind/namespace/name. */
export const ownerKey = (kind: string, namespace: string | null | undefined, name: string | null | undefined) => `${kind}/${namespace ?? ''}/${name ?? ''}`;

/** Namespace of an event's object (its own, else the event's). */
const eventNamespace = (event: Snapshot['events'][number]) => event.involvedObject.namespace ?? event.metadata.namespace;

/** A namespace's workloads by ownerKey. */
function workloadsOf(part: NamespacePart): Map<string, Workload> {
  return new Map(part.owners.map((o) => [ownerKey(o.kind, o.metadata.namespace, o.metadata.name), o]));
}

/** The ownerKeys of a pod's controller chain among its namespace's workloads (ReplicaSet, then Deployment). */
function chainKeys(pod: Pod, workloads: ReadonlyMap<string, Workload>): string[] {
  const keys: string[] = [];
  let ref = controllerOf(pod.metadata.ownerReferences);
  for (let hops = 0; ref && hops < 4; hops++) {
    const key = ownerKey(ref.kind, pod.metadata.namespace, ref.name);
    keys.push(key);
    ref = controllerOf(workloads.get(key)?.metadata.ownerReferences);
  }
  return keys;
}

/** A label selector as a test of a pod's (or a pod template's) labels. */
export type LabelMatch = (labels: Readonly<Record<string, string>> | undefined) => boolean;

/**
 * What a label selector keeps of a namespace: the pods whose labels match, with their owner chains
 * and log tails, and also the workloads whose pod template matches (a Deployment that cannot create
 * its pods is about them), with the events of all these. Node events stay: only the nodes the
 * selected pods run on stay in the report (see Cut.nodeOut), known once every namespace was seen;
 * those nodes go into `nodes.kept`.
 */
export function selectedOf(part: NamespacePart, matches: LabelMatch, nodes: NodeUse): NamespacePart {
  const pods = part.pods.filter((pod) => matches(pod.metadata.labels));
  const workloads = workloadsOf(part);
  const podKeys = new Set<string>();
  const ownerKeys = new Set<string>();
  for (const pod of pods) {
    podKeys.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
    if (pod.spec.nodeName) nodes.kept.add(pod.spec.nodeName);
    for (const key of chainKeys(pod, workloads)) ownerKeys.add(key);
  }
  for (const [key, owner] of workloads) if (owner.spec?.template?.metadata?.labels && matches(owner.spec.template.metadata.labels)) ownerKeys.add(key);
  return {
    pods,
    owners: part.owners.filter((o) => ownerKeys.has(ownerKey(o.kind, o.metadata.namespace, o.metadata.name))),
    events: part.events.filter((event) => {
      const o = event.involvedObject;
      if (o.kind === 'Node') return true;
      const namespace = eventNamespace(event);
      if (o.kind === 'Pod') return podKeys.has(`${namespace}/${o.name}`);
      return ownerKeys.has(ownerKey(o.kind ?? '', namespace, o.name));
    }),
    logs: part.logs.filter((log) => podKeys.has(`${log.namespace}/${log.pod}`)),
  };
}

/**
 * What a sweep keeps of each namespace, and of the nodes once every namespace went through: a label
 * selector (selectionCut) or the config file's exclusions (exclusionCut). Each gets its own NodeUse.
 */
export interface Cut {
  part(part: NamespacePart, nodes: NodeUse): NamespacePart;
  /** Whether a node goes from what the node diagnoses see. */
  nodeOut(nodes: NodeUse, name: string | undefined): boolean;
}

/** -l: the selected pods and theirs; only the nodes they run on. */
export function selectionCut(matches: LabelMatch): Cut {
  return { part: (part, nodes) => selectedOf(part, matches, nodes), nodeOut: (nodes, name) => !nodes.kept.has(name ?? '') };
}

/** The config file's exclusions: see withoutLeftOut and nodeLeftOut. */
export function exclusionCut(leaveOut: LeaveOut): Cut {
  return { part: (part, nodes) => withoutLeftOut(part, leaveOut, nodes), nodeOut: nodeLeftOut };
}

/** What a namespace sweep leaves out, as the config file says: pods by a test, namespaces by name. */
export interface LeaveOut {
  pod?: (pod: Pod) => boolean;
  namespace?: (namespace: string) => boolean;
}

/**
 * The nodes the pods of a sweep ran on, as its namespaces go by: those of kept pods and those of
 * left-out pods. A node goes from the report when only left-out pods ran on it (see nodeLeftOut),
 * which is known once every namespace was seen.
 */
export interface NodeUse {
  kept: Set<string>;
  dropped: Set<string>;
}

/** Whether a node goes from a sweep's report: pods ran on it, and every one was left out. */
export function nodeLeftOut(use: NodeUse, name: string | undefined): boolean {
  return !!name && use.dropped.has(name) && !use.kept.has(name);
}

/**
 * A namespace's objects without what a sweep leaves out: a left-out pod goes with its events and
 * log tails, and a workload when it had pods and every one was left out; a left-out namespace goes
 * whole (pods, workloads, events, logs), but for node events: whether a node goes is only known at
 * the end of the sweep, so they stay, and the nodes the pods ran on go into `nodes`. The part is
 * returned as it is when nothing in it is left out.
 */
export function withoutLeftOut(part: NamespacePart, leaveOut: LeaveOut, nodes: NodeUse): NamespacePart {
  const outNamespace = leaveOut.namespace ?? (() => false);
  const outPod = (pod: Pod) => outNamespace(pod.metadata.namespace ?? 'default') || (leaveOut.pod?.(pod) ?? false);
  const droppedPods = new Set<string>();
  for (const pod of part.pods) {
    const out = outPod(pod);
    if (pod.spec.nodeName) (out ? nodes.dropped : nodes.kept).add(pod.spec.nodeName);
    if (out) droppedPods.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
  }
  const eventOut = (event: KubeEvent) => event.involvedObject.kind !== 'Node' && outNamespace(eventNamespace(event) ?? '');
  if (droppedPods.size === 0 && !part.owners.some((o) => outNamespace(o.metadata.namespace ?? 'default')) && !part.events.some(eventOut)) return part;
  const workloads = workloadsOf(part);
  const ownersKept = new Set<string>();
  const ownersDropped = new Set<string>();
  const pods: Pod[] = [];
  for (const pod of part.pods) {
    const out = droppedPods.has(`${pod.metadata.namespace}/${pod.metadata.name}`);
    if (!out) pods.push(pod);
    for (const key of chainKeys(pod, workloads)) (out ? ownersDropped : ownersKept).add(key);
  }
  const ownerOut = (key: string) => ownersDropped.has(key) && !ownersKept.has(key);
  return {
    pods,
    owners: part.owners.filter((o) => !outNamespace(o.metadata.namespace ?? 'default') && !ownerOut(ownerKey(o.kind, o.metadata.namespace, o.metadata.name))),
    events: part.events.filter((event) => {
      const o = event.involvedObject;
      if (o.kind === 'Node') return true;
      const namespace = eventNamespace(event);
      if (namespace && outNamespace(namespace)) return false;
      if (o.kind === 'Pod') return !droppedPods.has(`${namespace}/${o.name}`);
      return !ownerOut(ownerKey(o.kind ?? '', namespace, o.name));
    }),
    logs: part.logs.filter((log) => !droppedPods.has(`${log.namespace}/${log.pod}`)),
  };
}
