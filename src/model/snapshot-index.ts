import type { KubeEvent, Node, OwnerReference, Pod, Workload } from './k8s.js';
import type { LogTail, Snapshot } from './snapshot.js';

/** A workload at the top of a pod's owner chain (Deployment over its ReplicaSet, CronJob over its Job). */
export interface OwnerRef {
  kind: string;
  name: string;
}

function key(kind: string | undefined, namespace: string | null | undefined, name: string | undefined): string {
  return `${kind ?? ''}/${namespace ?? ''}/${name ?? ''}`;
}

/** The controller ownerReference of an object, or its first owner when none is marked controller. */
export function controllerOf(refs: OwnerReference[] | undefined): OwnerReference | undefined {
  return refs?.find((ref) => ref.controller) ?? refs?.[0];
}

/** A pod by name only: where the pods of other namespaces on a node are known by name alone. */
export interface PodName {
  namespace?: string;
  name?: string;
}

/**
 * Lookups built once per snapshot so that rules stay O(pods + events): events by the object they are
 * about, pods by node, owners by name, log tails by container.
 */
export class SnapshotIndex {
  private readonly eventsByName = new Map<string, KubeEvent[]>();
  /** eventsByName's lists sorted oldest first, each sorted once, on first use. */
  private readonly sortedByName = new Map<string, KubeEvent[]>();
  private readonly podEventsCache = new WeakMap<Pod, readonly KubeEvent[]>();
  /** A pod's events as listed (not sorted), for the lookups by reason that sort only what they find. */
  private readonly listedCache = new WeakMap<Pod, readonly KubeEvent[]>();
  private readonly nodesByName = new Map<string, Node>();
  private readonly podsByNode = new Map<string, Pod[]>();
  private readonly ownersByName = new Map<string, Workload>();
  private readonly ownersByUid = new Map<string, Workload>();
  private readonly logsByContainer = new Map<string, LogTail>();
  private readonly ownerCache = new Map<string, OwnerRef | null>();
  private suspectPods: readonly Pod[] | undefined;
  /** The events about nodes, in snapshot order. */
  readonly nodeEvents: readonly KubeEvent[];

  /**
   * `podNames`: every pod of the sweep by node, when the snapshot holds only part of them (the
   * engine's pass over the cluster keeps the names of the pods it lets go of).
   */
  constructor(
    readonly snapshot: Snapshot,
    private readonly podNames?: ReadonlyMap<string, readonly PodName[]>,
  ) {
    const nodeEvents: KubeEvent[] = [];
    for (const event of snapshot.events) {
      const involved = event.involvedObject;
      const byName = key(involved.kind, involved.namespace ?? event.metadata.namespace, involved.name);
      push(this.eventsByName, byName, event);
      if (involved.kind === 'Node') nodeEvents.push(event);
    }
    this.nodeEvents = nodeEvents;
    for (const node of snapshot.nodes) if (node.metadata.name) this.nodesByName.set(node.metadata.name, node);
    for (const pod of snapshot.pods) if (pod.spec.nodeName) push(this.podsByNode, pod.spec.nodeName, pod);
    for (const owner of snapshot.owners) {
      this.ownersByName.set(key(owner.kind, owner.metadata.namespace, owner.metadata.name), owner);
      if (owner.metadata.uid) this.ownersByUid.set(owner.metadata.uid, owner);
    }
    for (const log of snapshot.logs) this.logsByContainer.set(`${log.namespace}/${log.pod}/${log.container}`, log);
  }

  /**
   * Events about an object, oldest first. Matched by uid when both sides have one (a recreated pod
   * with the same name must not inherit its predecessor's events), by kind/namespace/name otherwise.
   * The list may be the index's own: a caller that sorts or cuts it copies it first.
   */
  eventsFor(kind: string, namespace: string | null | undefined, name: string | undefined, uid?: string): readonly KubeEvent[] {
    const k = key(kind, namespace, name);
    let sorted = this.sortedByName.get(k);
    if (!sorted) {
      sorted = byTime(this.eventsByName.get(k) ?? []);
      this.sortedByName.set(k, sorted);
    }
    return uid ? sorted.filter((event) => !event.involvedObject.uid || event.involvedObject.uid === uid) : sorted;
  }

  /** Events about a pod, oldest first (rules ask for them again and again: found once per pod, and shared). */
  podEvents(pod: Pod): readonly KubeEvent[] {
    let events = this.podEventsCache.get(pod);
    if (!events) {
      events = this.eventsFor('Pod', pod.metadata.namespace, pod.metadata.name, pod.metadata.uid);
      this.podEventsCache.set(pod, events);
    }
    return events;
  }

  /**
   * A pod's events with one of `reasons`, oldest first: the order podEvents would give them in.
   * Most pods have none of the reasons a rule asks for, and then nothing is sorted.
   */
  podEventsWithReason(pod: Pod, reasons: readonly string[]): KubeEvent[] {
    const sorted = this.podEventsCache.get(pod);
    let picked: KubeEvent[] | undefined;
    for (const event of sorted ?? this.listedPodEvents(pod)) if (event.reason !== undefined && reasons.includes(event.reason)) (picked ??= []).push(event);
    if (!picked) return [];
    return sorted || picked.length < 2 ? picked : byTime(picked);
  }

  /** A pod's events in list order, by uid as in eventsFor. */
  private listedPodEvents(pod: Pod): readonly KubeEvent[] {
    let events = this.listedCache.get(pod);
    if (!events) {
      const all = this.eventsByName.get(key('Pod', pod.metadata.namespace, pod.metadata.name)) ?? [];
      const uid = pod.metadata.uid;
      events = uid && all.some((event) => event.involvedObject.uid && event.involvedObject.uid !== uid) ? all.filter((event) => !event.involvedObject.uid || event.involvedObject.uid === uid) : all;
      this.listedCache.set(pod, events);
    }
    return events;
  }

  /**
   * The pods a pod rule may diagnose, in snapshot order: every pod but the quiet ones (see isQuiet).
   * Pod rules go over these; they read the others only as context (a workload's other pods, the
   * pods on a node). In a healthy namespace most pods are quiet, so the rules' work follows the
   * pods in trouble rather than the namespace's size.
   */
  get suspects(): readonly Pod[] {
    // A Warning event about the pod's name makes it a suspect, whichever pod of that name it was about.
    this.suspectPods ??= this.snapshot.pods.filter(
      (pod) => !isQuiet(pod) || !!this.eventsByName.get(key('Pod', pod.metadata.namespace, pod.metadata.name))?.some((event) => event.type === 'Warning'),
    );
    return this.suspectPods;
  }

  node(name: string | undefined): Node | undefined {
    return name ? this.nodesByName.get(name) : undefined;
  }

  podsOnNode(name: string): Pod[] {
    return this.podsByNode.get(name) ?? [];
  }

  /** The names of every pod of the sweep on a node, also of those the snapshot no longer holds. */
  podNamesOnNode(name: string): readonly PodName[] {
    if (this.podNames) return this.podNames.get(name) ?? [];
    return this.podsOnNode(name).map((pod) => pod.metadata);
  }

  workload(kind: string, namespace: string | null | undefined, name: string): Workload | undefined {
    return this.ownersByName.get(key(kind, namespace, name));
  }

  /** The previous (crashed) container's log tail, when it was read. */
  logTail(namespace: string | undefined, pod: string | undefined, container: string): LogTail | undefined {
    return this.logsByContainer.get(`${namespace ?? ''}/${pod ?? ''}/${container}`);
  }

  /**
   * The workload a pod belongs to, following controller references up through the owners in the
   * snapshot: Pod -> ReplicaSet -> Deployment, Pod -> Job -> CronJob. When a ReplicaSet could not be
   * read, its Deployment is inferred from the pod-template-hash suffix Kubernetes gives it.
   */
  ownerOf(pod: Pod): OwnerRef | null {
    const cacheKey = pod.metadata.uid ?? key('Pod', pod.metadata.namespace, pod.metadata.name);
    const cached = this.ownerCache.get(cacheKey);
    if (cached !== undefined) return cached;
    const resolved = this.resolveOwner(pod);
    this.ownerCache.set(cacheKey, resolved);
    return resolved;
  }

  /** The workloads ownerOf goes through for a pod (what it needs kept to give the same answer). */
  ownerChain(pod: Pod): Workload[] {
    const chain: Workload[] = [];
    this.resolveOwner(pod, chain);
    return chain;
  }

  private resolveOwner(pod: Pod, chain?: Workload[]): OwnerRef | null {
    let ref = controllerOf(pod.metadata.ownerReferences);
    if (!ref) return null;
    const namespace = pod.metadata.namespace;
    let top: OwnerRef = { kind: ref.kind, name: ref.name };
    for (let hops = 0; hops < 4 && ref; hops++) {
      const owner = (ref.uid && this.ownersByUid.get(ref.uid)) || this.workload(ref.kind, namespace, ref.name);
      if (!owner) {
        const hash = pod.metadata.labels?.['pod-template-hash'];
        if (top.kind === 'ReplicaSet' && hash && top.name.endsWith(`-${hash}`)) {
          return { kind: 'Deployment', name: top.name.slice(0, -hash.length - 1) };
        }
        return top;
      }
      chain?.push(owner);
      ref = controllerOf(owner.metadata.ownerReferences);
      if (ref) top = { kind: ref.kind, name: ref.name };
    }
    return top;
  }
}

/**
 * Whether a pod is quiet by its own state (SnapshotIndex.suspects adds: no Warning event about it):
 * Running and not being deleted, with no reason set; every condition True, Ready among them; a
 * status for every container, each running since it started (no restart, no earlier termination),
 * ready, and nothing waiting; init containers never restarted and either running (a sidecar) or
 * completed plainly (exit 0, reason Completed or none, no message: an exit 0 marked OOMKilled or
 * carrying an exec format error is something rules report); no ephemeral container waiting or
 * failed. No pod rule finds anything on a quiet pod (test/quiet-pods.test.ts checks every rule on
 * every fixture); anything unsure makes the pod a suspect.
 */
export function isQuiet(pod: Pod): boolean {
  const status = pod.status;
  if (pod.metadata.deletionTimestamp || status.phase !== 'Running' || status.reason !== undefined) return false;
  const conditions = status.conditions;
  if (!conditions || !conditions.some((c) => c.type === 'Ready')) return false;
  for (const c of conditions) if (c.status !== 'True') return false;
  const main = status.containerStatuses;
  if (!main || main.length < pod.spec.containers.length) return false;
  for (const c of main) {
    if (c.restartCount || c.lastState?.terminated || c.lastState?.waiting || !c.state?.running || c.state.waiting || c.state.terminated || c.ready !== true) return false;
  }
  for (const c of status.initContainerStatuses ?? []) {
    if (c.restartCount || c.lastState?.terminated || c.state?.waiting) return false;
    const done = c.state?.terminated;
    if (done ? done.exitCode !== 0 || (done.reason !== undefined && done.reason !== 'Completed') || done.message : !c.state?.running) return false;
  }
  for (const c of status.ephemeralContainerStatuses ?? []) {
    if (c.state?.waiting || (c.state?.terminated && c.state.terminated.exitCode !== 0)) return false;
  }
  return true;
}

/**
 * Events oldest first (a stable sort: equal times keep their order), each time parsed once. An
 * object usually has a handful of events: an insertion sort then, with no arrays beyond the result.
 */
function byTime(events: KubeEvent[]): KubeEvent[] {
  const out = events.slice();
  if (out.length < 2) return out;
  const times = out.map(eventTime);
  if (out.length > 32) {
    const order = out.map((_, i) => i).sort((a, b) => times[a]! - times[b]! || a - b);
    return order.map((i) => events[i]!);
  }
  for (let i = 1; i < out.length; i++) {
    const event = out[i]!;
    const time = times[i]!;
    let j = i - 1;
    while (j >= 0 && times[j]! > time) {
      out[j + 1] = out[j]!;
      times[j + 1] = times[j]!;
      j--;
    }
    out[j + 1] = event;
    times[j + 1] = time;
  }
  return out;
}

function push<T>(map: Map<string, T[]>, k: string, value: T): void {
  const list = map.get(k);
  if (list) list.push(value);
  else map.set(k, [value]);
}

/** When an event last happened, in epoch ms (0 when it carries no time). */
export function eventTime(event: KubeEvent): number {
  const stamp = event.series?.lastObservedTime ?? event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata.creationTimestamp;
  const ms = stamp ? Date.parse(stamp) : NaN;
  return Number.isFinite(ms) ? ms : 0;
}

/** How many times an event was seen (count, or series.count for events.k8s.io-style events). */
export function eventCount(event: KubeEvent): number {
  return event.series?.count ?? event.count ?? 1;
}
