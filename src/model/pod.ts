import type { Container, ContainerStateTerminated, ContainerStatus, KubeEvent, Pod } from './k8s.js';
import type { ObjectRef, RemediationStep, Severity } from './finding.js';
import type { SnapshotIndex } from './snapshot-index.js';
import { controllerOf, eventCount, eventTime } from './snapshot-index.js';
import { firstLine, shellQuote } from './text.js';

/** One container of a pod with its spec and status side by side. */
export interface ContainerView {
  pod: Pod;
  spec: Container | undefined;
  status: ContainerStatus;
  /** An init container (including native sidecars, which are init containers with restartPolicy Always). */
  init: boolean;
  /** A native sidecar: an init container with restartPolicy Always. */
  sidecar: boolean;
}

const viewsOf = new WeakMap<Pod, readonly ContainerView[]>();

/**
 * Every container status of a pod (init containers first), paired with its spec. Made once per
 * pod: most rules ask, and pods are not changed once projected.
 */
export function containers(pod: Pod): readonly ContainerView[] {
  let views = viewsOf.get(pod);
  if (!views) {
    views = pairContainers(pod);
    viewsOf.set(pod, views);
  }
  return views;
}

function pairContainers(pod: Pod): ContainerView[] {
  const views: ContainerView[] = [];
  for (const status of pod.status?.initContainerStatuses ?? []) {
    const spec = pod.spec?.initContainers?.find((c) => c.name === status.name);
    views.push({ pod, spec, status, init: true, sidecar: spec?.restartPolicy === 'Always' });
  }
  for (const status of pod.status?.containerStatuses ?? []) {
    const spec = pod.spec?.containers?.find((c) => c.name === status.name);
    views.push({ pod, spec, status, init: false, sidecar: false });
  }
  return views;
}

/** Where a termination was read: the current state, or lastState once the container restarted. */
export interface Termination {
  terminated: ContainerStateTerminated;
  field: 'state.terminated' | 'lastState.terminated';
}

/**
 * The container's most recent termination. A container that restarted shows it in
 * lastState.terminated (its state is then waiting or running); one that stopped for good shows it in
 * state.terminated.
 */
export function lastTermination(status: ContainerStatus): Termination | undefined {
  if (status.state?.terminated) return { terminated: status.state.terminated, field: 'state.terminated' };
  if (status.lastState?.terminated) return { terminated: status.lastState.terminated, field: 'lastState.terminated' };
  return undefined;
}

/** Whether the pod belongs to a Job (directly, by its controller reference). */
export function isJobPod(pod: Pod): boolean {
  return controllerOf(pod.metadata.ownerReferences)?.kind === 'Job';
}

/**
 * A pod whose work is done: phase Succeeded, or a Job pod whose main containers all exited 0 (a
 * sidecar that then exits non-zero, e.g. a mesh proxy killed at the end, is not a failure).
 */
export function finishedSuccessfully(pod: Pod): boolean {
  if (pod.status?.phase === 'Succeeded') return true;
  if (!isJobPod(pod)) return false;
  const main = pod.status?.containerStatuses ?? [];
  return main.length > 0 && main.some((c) => c.state?.terminated?.exitCode === 0) && main.every((c) => !c.state?.terminated || c.state.terminated.exitCode === 0 || isLikelySidecar(c.name));
}

const SIDECAR_NAMES = /^(istio-proxy|linkerd-proxy|envoy|cloud-sql-proxy|vault-agent|datadog-agent|fluent-bit|otel-collector)$/;
function isLikelySidecar(name: string): boolean {
  return SIDECAR_NAMES.test(name);
}

/** A reference to a pod, or to one of its containers. */
export function podRef(pod: Pod, container?: string): ObjectRef {
  const ref: ObjectRef = { kind: 'Pod', namespace: pod.metadata.namespace ?? null, name: pod.metadata.name ?? '' };
  if (container) ref.container = container;
  return ref;
}

/** `-n NS` for kubectl commands. */
export function nsFlag(namespace: string | null | undefined): string {
  return namespace ? `-n ${shellQuote(namespace)} ` : '';
}

/** The kubectl commands remediation steps print, filled in with real names. Printed, never run. */
export const kubectl = {
  logsPrevious: (pod: Pod, container: string): string =>
    `kubectl logs ${nsFlag(pod.metadata.namespace)}${pod.metadata.name} -c ${container} --previous`,
  logs: (pod: Pod, container: string): string => `kubectl logs ${nsFlag(pod.metadata.namespace)}${pod.metadata.name} -c ${container}`,
  describePod: (pod: Pod): string => `kubectl describe pod ${nsFlag(pod.metadata.namespace)}${pod.metadata.name}`,
  podEvents: (pod: Pod): string =>
    `kubectl get events ${nsFlag(pod.metadata.namespace)}--field-selector involvedObject.name=${pod.metadata.name} --sort-by=.lastTimestamp`,
  describeNode: (node: string): string => `kubectl describe node ${node}`,
  /** The object a fix is applied to: the pod's workload when it has one (deployment/web), else the pod. */
  target: (pod: Pod, index: SnapshotIndex): string => {
    const owner = index.ownerOf(pod);
    return owner ? `${owner.kind.toLowerCase()}/${owner.name}` : `pod/${pod.metadata.name}`;
  },
  /** `kubectl rollout undo` for a pod's Deployment / StatefulSet / DaemonSet, when it has one. */
  rolloutUndo: (pod: Pod, index: SnapshotIndex): string | undefined => {
    const owner = index.ownerOf(pod);
    if (!owner || !['Deployment', 'StatefulSet', 'DaemonSet'].includes(owner.kind)) return undefined;
    return `kubectl rollout undo ${nsFlag(pod.metadata.namespace)}${owner.kind.toLowerCase()}/${owner.name}`;
  },
};

/** A container's memory limit (e.g. "128Mi"), if set. */
export function memoryLimit(view: ContainerView): string | undefined {
  return view.spec?.resources?.limits?.memory;
}

/** Evidence line for one event: `event BackOff (x12, kubelet): Back-off restarting failed container`. */
export function eventEvidence(event: KubeEvent): string {
  const count = eventCount(event);
  const from = event.source?.component ?? event.reportingComponent;
  return `event ${event.reason ?? '?'} (x${count}${from ? `, ${from}` : ''}): ${firstLine(event.message)}`;
}

/** The pod's events with one of the given reasons, oldest first. */
export function eventsWithReason(index: SnapshotIndex, pod: Pod, ...reasons: string[]): KubeEvent[] {
  return index.podEventsWithReason(pod, reasons);
}

/** Events that concern one container: the kubelet sets fieldPath `spec.containers{NAME}`. */
export function isAboutContainer(event: KubeEvent, container: string): boolean {
  const path = event.involvedObject.fieldPath;
  return !path || path.endsWith(`{${container}}`);
}

/**
 * How bad a container's crash is right now: critical while it cannot stay up (crash loop, waiting
 * after a failure, or terminated for good in a failed pod); warning when it crashed before but is
 * running again.
 */
export function crashSeverity(view: ContainerView): Severity {
  const { status, pod } = view;
  if (status.state?.running) return 'warning';
  if (status.state?.waiting) return 'critical';
  if (status.state?.terminated) return pod.status?.phase === 'Running' && view.init ? 'warning' : 'critical';
  return 'warning';
}

/** Evidence lines that describe a container's state and restarts. */
export function stateEvidence(view: ContainerView): string[] {
  const { status } = view;
  const lines: string[] = [];
  const waiting = status.state?.waiting;
  if (waiting?.reason) lines.push(`state.waiting.reason=${waiting.reason}`);
  if (status.state?.running) lines.push(`state.running since ${status.state.running.startedAt ?? '?'}`);
  if (status.restartCount) lines.push(`restartCount=${status.restartCount}`);
  return lines;
}

/** The log tail of the previous container, as evidence lines and as the finding's logTail. */
export function previousLogs(index: SnapshotIndex, view: ContainerView): string[] | undefined {
  const tail = index.logTail(view.pod.metadata.namespace, view.pod.metadata.name, view.status.name);
  return tail && tail.lines.length > 0 ? tail.lines : undefined;
}

/** The standard first step for any crash: read the crashed container's log. */
export function readLogsStep(view: ContainerView): RemediationStep {
  return view.status.lastState?.terminated
    ? { description: 'Read the log of the crashed container (the previous instance)', command: kubectl.logsPrevious(view.pod, view.status.name) }
    : { description: 'Read the container log', command: kubectl.logs(view.pod, view.status.name) };
}

/** Milliseconds from an RFC 3339 timestamp to `now`, or undefined when the timestamp is missing or invalid. */
export function msSince(stamp: string | undefined, now: number): number | undefined {
  const ms = stamp ? Date.parse(stamp) : NaN;
  return Number.isFinite(ms) ? now - ms : undefined;
}

const QUANTITY_SUFFIXES: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A resource quantity ("500m", "2", "8Gi", "1e3") in base units (cores, bytes, devices), or undefined. */
export function parseQuantity(quantity: string | undefined): number | undefined {
  const match = quantity?.trim().match(/^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/);
  if (!match) return undefined;
  const factor = QUANTITY_SUFFIXES[match[2] ?? ''];
  return factor === undefined ? undefined : Number(match[1]) * factor;
}

/**
 * Whether a workload's controller has created all the pods it wants (a ReplicaSet or StatefulSet at
 * its replica count, a DaemonSet on every node it targets, a Job complete or at its parallelism).
 * A FailedCreate event about such a workload is history. False when the workload is not in the snapshot.
 */
export function hasAllPods(index: SnapshotIndex, kind: string, namespace: string | undefined, name: string): boolean {
  const workload = index.workload(kind, namespace, name);
  if (!workload) return false;
  const { spec, status } = workload;
  if (kind === 'ReplicaSet' || kind === 'StatefulSet') return spec?.replicas !== undefined && (status?.replicas ?? 0) >= spec.replicas;
  if (kind === 'DaemonSet') return status?.desiredNumberScheduled !== undefined && (status.currentNumberScheduled ?? 0) >= status.desiredNumberScheduled;
  if (kind === 'Job') return !!status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') || (status?.active ?? 0) >= (spec?.parallelism ?? 1);
  return false;
}

/**
 * Where a workload's pod template is edited, as kubectl names it: `deployment/web` for a ReplicaSet
 * the snapshot shows is owned by Deployment web (editing the ReplicaSet would be undone), else `kind/name`.
 */
export function templateTarget(index: SnapshotIndex, kind: string, namespace: string | undefined, name: string): string {
  const owner = controllerOf(index.workload(kind, namespace, name)?.metadata.ownerReferences);
  if (owner && kind === 'ReplicaSet' && owner.kind === 'Deployment') return `deployment/${owner.name}`;
  return `${kind.toLowerCase()}/${name}`;
}

/** Events about a node, oldest first: the kubelet and node controllers file them in "default" or in no namespace. */
export function nodeEvents(index: SnapshotIndex, name: string): KubeEvent[] {
  const events = new Set([...index.eventsFor('Node', undefined, name), ...index.eventsFor('Node', 'default', name)]);
  return [...events].sort((a, b) => eventTime(a) - eventTime(b));
}

/** Waiting reasons of a container the kubelet has not created yet (volumes, sandbox or image still to come). */
const NOT_CREATED = new Set(['ContainerCreating', 'PodInitializing']);

/**
 * Whether the kubelet has not started the pod yet: it is placed on a node, not being deleted, not
 * finished, and every container (init containers included) waits in ContainerCreating or
 * PodInitializing, or has no status yet.
 */
export function waitingToStart(pod: Pod): boolean {
  const placed = !!pod.spec?.nodeName || pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'True');
  if (!placed || pod.metadata.deletionTimestamp) return false;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
  return containers(pod).every((v) => !v.status.state?.running && !v.status.state?.terminated && NOT_CREATED.has(v.status.state?.waiting?.reason ?? 'ContainerCreating'));
}

/** Milliseconds since the pod was placed on its node (PodScheduled, else startTime, else creation). */
export function msSincePlaced(pod: Pod, now: number): number | undefined {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'True');
  return msSince(scheduled?.lastTransitionTime ?? pod.status?.startTime ?? pod.metadata.creationTimestamp, now);
}

/** Events that stop a placed pod from starting, in the order the kubelet meets them. */
export const POD_START_FAILURES: readonly string[] = ['FailedAttachVolume', 'FailedMount', 'FailedCreatePodSandBox'];

/**
 * Whether a pod-start failure event (FailedAttachVolume, FailedMount, FailedCreatePodSandBox) is
 * history. The kubelet attaches and mounts volumes, then creates the sandbox, then pulls and starts
 * containers: a later event about one of the pod's containers means volumes and sandbox are in
 * place, a later sandbox failure means the volumes were mounted, and a later SuccessfulAttachVolume
 * for the same volume means its attach went through.
 */
export function startFailurePassed(index: SnapshotIndex, pod: Pod, event: KubeEvent): boolean {
  if (!event.reason || !POD_START_FAILURES.includes(event.reason)) return false;
  const at = eventTime(event);
  const volume = event.message?.match(/for volume "([^"]+)"/)?.[1];
  return index.podEvents(pod).some((later) => {
    if (later === event || eventTime(later) <= at) return false;
    if (/^spec\.(initContainers|containers|ephemeralContainers)\{/.test(later.involvedObject.fieldPath ?? '')) return true;
    if (event.reason === 'FailedCreatePodSandBox') return false;
    if (later.reason === 'FailedCreatePodSandBox') return true;
    return event.reason === 'FailedAttachVolume' && later.reason === 'SuccessfulAttachVolume' && !!volume && later.message?.includes(`"${volume}"`) === true;
  });
}
