import type {
  Condition,
  Container,
  ContainerState,
  ContainerStatus,
  EnvVar,
  KubeEvent,
  Node,
  ObjectMeta,
  OwnerKind,
  OwnerReference,
  Pod,
  PodSpec,
  Probe,
  Workload,
} from '../model/k8s.js';
import { OWNER_KINDS } from '../model/k8s.js';

/**
 * Projection of raw API objects (live JSON, a recorded snapshot, `kubectl get -o json|yaml`) onto
 * the fields kdiag reads. It is the one gate every object passes: fields of the wrong type are
 * dropped rather than trusted, env values and last-applied annotations (which can hold secrets) are
 * never kept, and managedFields and other bulk are left behind, so memory grows with what rules need.
 */

type Raw = Record<string, unknown>;

const isObj = (x: unknown): x is Raw => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
const bool = (x: unknown): boolean | undefined => (typeof x === 'boolean' ? x : undefined);
const numOrStr = (x: unknown): number | string | undefined => num(x) ?? str(x);

function arr<T>(x: unknown, project: (item: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(x)) return undefined;
  const out: T[] = [];
  for (const item of x) {
    const projected = project(item);
    if (projected !== undefined) out.push(projected);
  }
  return out;
}

function strings(x: unknown): string[] | undefined {
  return arr(x, str);
}

function stringMap(x: unknown): Record<string, string> | undefined {
  if (!isObj(x)) return undefined;
  const out: Record<string, string> = {};
  // for-in over a parsed JSON object: its own keys, in order, without an array per entry.
  for (const k in x) {
    const v = x[k];
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number') out[k] = String(v);
  }
  return out;
}

/**
 * The same object without its undefined keys, so projections serialise compactly. A copy rather
 * than `delete`: deleting keys turns an object into a slow dictionary, and the copies share hidden
 * classes, which keeps thousands of projected pods small and fast to read.
 */
function compact<T extends object>(o: T): T {
  const out = {} as T;
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** Annotations that may embed whole manifests (with env values) are not kept. */
const DROPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

function ownerRef(x: unknown): OwnerReference | undefined {
  if (!isObj(x) || !str(x.kind) || !str(x.name)) return undefined;
  const apiVersion = str(x.apiVersion), uid = str(x.uid), controller = bool(x.controller);
  // Built key by key in one order (as compact would leave it), each only when set: the hot
  // projections skip making an object with undefined keys and copying it.
  const out = (apiVersion !== undefined ? { apiVersion, kind: x.kind as string, name: x.name as string } : { kind: x.kind as string, name: x.name as string }) as OwnerReference;
  if (uid !== undefined) out.uid = uid;
  if (controller !== undefined) out.controller = controller;
  return out;
}

function meta(x: unknown, pool?: Shared): ObjectMeta {
  if (!isObj(x)) return {};
  let annotations = stringMap(x.annotations);
  if (annotations) {
    for (const k of Object.keys(annotations)) if (DROPPED_ANNOTATIONS.has(k)) delete annotations[k];
    if (Object.keys(annotations).length === 0) annotations = undefined;
  }
  const out: ObjectMeta = {};
  let v: unknown;
  if ((v = str(x.name)) !== undefined) out.name = v as string;
  if ((v = str(x.namespace)) !== undefined) out.namespace = v as string;
  if ((v = str(x.uid)) !== undefined) out.uid = v as string;
  if ((v = shared(pool, 'l', stringMap(x.labels))) !== undefined) out.labels = v as Record<string, string>;
  if ((v = shared(pool, 'a', annotations)) !== undefined) out.annotations = v as Record<string, string>;
  if ((v = shared(pool, 'o', arr(x.ownerReferences, ownerRef))) !== undefined) out.ownerReferences = v as OwnerReference[];
  if ((v = str(x.creationTimestamp)) !== undefined) out.creationTimestamp = v as string;
  if ((v = str(x.deletionTimestamp)) !== undefined) out.deletionTimestamp = v as string;
  if ((v = num(x.deletionGracePeriodSeconds)) !== undefined) out.deletionGracePeriodSeconds = v as number;
  if ((v = strings(x.finalizers)) !== undefined) out.finalizers = v as string[];
  if ((v = str(x.resourceVersion)) !== undefined) out.resourceVersion = v as string;
  return out;
}

function probe(x: unknown): Probe | undefined {
  if (!isObj(x)) return undefined;
  const httpGet = isObj(x.httpGet) ? compact({ path: str(x.httpGet.path), port: numOrStr(x.httpGet.port), scheme: str(x.httpGet.scheme) }) : undefined;
  const tcpSocket = isObj(x.tcpSocket) ? compact({ port: numOrStr(x.tcpSocket.port) }) : undefined;
  const exec = isObj(x.exec) ? compact({ command: strings(x.exec.command) }) : undefined;
  const grpc = isObj(x.grpc) ? compact({ port: num(x.grpc.port), service: str(x.grpc.service) }) : undefined;
  return compact({
    httpGet,
    tcpSocket,
    exec,
    grpc,
    initialDelaySeconds: num(x.initialDelaySeconds),
    timeoutSeconds: num(x.timeoutSeconds),
    periodSeconds: num(x.periodSeconds),
    successThreshold: num(x.successThreshold),
    failureThreshold: num(x.failureThreshold),
    terminationGracePeriodSeconds: num(x.terminationGracePeriodSeconds),
  });
}

function keyRef(x: unknown): { name?: string; key?: string; optional?: boolean } | undefined {
  return isObj(x) ? compact({ name: str(x.name), key: str(x.key), optional: bool(x.optional) }) : undefined;
}

/** An env entry without its value: only the name and the reference it is read from. */
function envVar(x: unknown): EnvVar | undefined {
  if (!isObj(x) || !str(x.name)) return undefined;
  const from = isObj(x.valueFrom) ? x.valueFrom : undefined;
  const valueFrom = from
    ? compact({
        secretKeyRef: keyRef(from.secretKeyRef),
        configMapKeyRef: keyRef(from.configMapKeyRef),
        fieldRef: isObj(from.fieldRef) ? compact({ fieldPath: str(from.fieldRef.fieldPath) }) : undefined,
        resourceFieldRef: isObj(from.resourceFieldRef) ? compact({ resource: str(from.resourceFieldRef.resource), containerName: str(from.resourceFieldRef.containerName) }) : undefined,
      })
    : undefined;
  return valueFrom ? { name: x.name as string, valueFrom } : { name: x.name as string };
}

function container(x: unknown): Container | undefined {
  if (!isObj(x) || !str(x.name)) return undefined;
  const out: Container = { name: x.name as string };
  let v: unknown;
  if ((v = str(x.image)) !== undefined) out.image = v as string;
  if ((v = strings(x.command)) !== undefined) out.command = v as string[];
  if ((v = strings(x.args)) !== undefined) out.args = v as string[];
  if ((v = arr(x.env, envVar)) !== undefined) out.env = v as EnvVar[];
  if (
    (v = arr(x.envFrom, (e) =>
      isObj(e)
        ? compact({
            secretRef: isObj(e.secretRef) ? compact({ name: str(e.secretRef.name) }) : undefined,
            configMapRef: isObj(e.configMapRef) ? compact({ name: str(e.configMapRef.name) }) : undefined,
          })
        : undefined,
    )) !== undefined
  ) {
    out.envFrom = v as Container['envFrom'];
  }
  if (isObj(x.resources)) out.resources = compact({ limits: stringMap(x.resources.limits), requests: stringMap(x.resources.requests) });
  if ((v = probe(x.livenessProbe)) !== undefined) out.livenessProbe = v as Probe;
  if ((v = probe(x.readinessProbe)) !== undefined) out.readinessProbe = v as Probe;
  if ((v = probe(x.startupProbe)) !== undefined) out.startupProbe = v as Probe;
  if ((v = str(x.imagePullPolicy)) !== undefined) out.imagePullPolicy = v as string;
  if ((v = str(x.restartPolicy)) !== undefined) out.restartPolicy = v as string;
  return out;
}

/**
 * Identical parts of many objects held once. The replicas of a workload have the same containers
 * (image, command, env names, probes, resources), labels, annotations and owner, most pods the same
 * tolerations, and a node's events the same source; a projection given a Shared keeps one copy of
 * each distinct part, found by its JSON. Projections are read, never written, so sharing is safe;
 * it halves what 50k projected pods take.
 */
export type Shared = Map<string, unknown>;

function shared<T>(pool: Shared | undefined, kind: string, value: T | undefined): T | undefined {
  if (!pool || value === undefined) return value;
  // Lists come sorted by name, so a workload's pods (and a node's events) arrive one after another:
  // most parts equal the last one of their kind, which a comparison finds without making a key.
  const lastKey = `\u0000${kind}`;
  const last = pool.get(lastKey);
  if (last !== undefined && sameJson(last, value)) return last as T;
  const key = kind + JSON.stringify(value);
  let known = pool.get(key) as T | undefined;
  if (known === undefined) {
    pool.set(key, value);
    known = value;
  }
  pool.set(lastKey, known);
  return known;
}

/** Deep equality of JSON-shaped values (projections: plain objects, arrays, strings, numbers, booleans). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    // Same keys in the same order: the projection builds every part of a kind the same way.
    if (k !== kb[i] || !sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

function podSpec(x: unknown, pool?: Shared): PodSpec {
  if (!isObj(x)) return { containers: [] };
  return compact({
    containers: shared(pool, 'c', arr(x.containers, container)) ?? [],
    initContainers: shared(pool, 'i', arr(x.initContainers, container)),
    restartPolicy: str(x.restartPolicy),
    nodeName: str(x.nodeName),
    nodeSelector: stringMap(x.nodeSelector),
    serviceAccountName: str(x.serviceAccountName),
    imagePullSecrets: arr(x.imagePullSecrets, (s) => (isObj(s) ? compact({ name: str(s.name) }) : undefined)),
    volumes: arr(x.volumes, (v) =>
      isObj(v) && str(v.name)
        ? compact({
            name: str(v.name)!,
            secret: isObj(v.secret) ? compact({ secretName: str(v.secret.secretName), optional: bool(v.secret.optional) }) : undefined,
            configMap: isObj(v.configMap) ? compact({ name: str(v.configMap.name), optional: bool(v.configMap.optional) }) : undefined,
            persistentVolumeClaim: isObj(v.persistentVolumeClaim) ? compact({ claimName: str(v.persistentVolumeClaim.claimName) }) : undefined,
          })
        : undefined,
    ),
    tolerations: shared(pool, 't', arr(x.tolerations, (t) =>
      isObj(t) ? compact({ key: str(t.key), operator: str(t.operator), value: str(t.value), effect: str(t.effect) }) : undefined,
    )),
    affinity: isObj(x.affinity) ? x.affinity : undefined,
    priorityClassName: str(x.priorityClassName),
    terminationGracePeriodSeconds: num(x.terminationGracePeriodSeconds),
    activeDeadlineSeconds: num(x.activeDeadlineSeconds),
    schedulingGates: arr(x.schedulingGates, (g) => (isObj(g) && str(g.name) ? { name: str(g.name)! } : undefined)),
  });
}

function state(x: unknown): ContainerState | undefined {
  if (!isObj(x)) return undefined;
  const w = x.waiting, r = x.running, t = x.terminated;
  return compact({
    waiting: isObj(w) ? compact({ reason: str(w.reason), message: str(w.message) }) : undefined,
    running: isObj(r) ? compact({ startedAt: str(r.startedAt) }) : undefined,
    terminated:
      isObj(t) && num(t.exitCode) !== undefined
        ? compact({
            exitCode: num(t.exitCode)!,
            signal: num(t.signal),
            reason: str(t.reason),
            message: str(t.message),
            startedAt: str(t.startedAt),
            finishedAt: str(t.finishedAt),
            containerID: str(t.containerID),
          })
        : undefined,
  });
}

function containerStatus(x: unknown): ContainerStatus | undefined {
  if (!isObj(x) || !str(x.name)) return undefined;
  const out: ContainerStatus = { name: x.name as string };
  let v: unknown;
  if ((v = bool(x.ready)) !== undefined) out.ready = v as boolean;
  if ((v = bool(x.started)) !== undefined) out.started = v as boolean;
  if ((v = num(x.restartCount)) !== undefined) out.restartCount = v as number;
  if ((v = str(x.image)) !== undefined) out.image = v as string;
  if ((v = str(x.imageID)) !== undefined) out.imageID = v as string;
  if ((v = state(x.state)) !== undefined) out.state = v as ContainerState;
  if ((v = state(x.lastState)) !== undefined) out.lastState = v as ContainerState;
  return out;
}

function condition(x: unknown): Condition | undefined {
  if (!isObj(x) || !str(x.type)) return undefined;
  const out: Condition = { type: x.type as string, status: str(x.status) ?? 'Unknown' };
  let v: unknown;
  if ((v = str(x.reason)) !== undefined) out.reason = v as string;
  if ((v = str(x.message)) !== undefined) out.message = v as string;
  if ((v = str(x.lastTransitionTime)) !== undefined) out.lastTransitionTime = v as string;
  if ((v = str(x.lastHeartbeatTime)) !== undefined) out.lastHeartbeatTime = v as string;
  return out;
}

/** A Pod, or undefined when the object has no name. With `pool`, identical parts are shared (see Shared). */
export function projectPod(x: Raw, pool?: Shared): Pod | undefined {
  const metadata = meta(x.metadata, pool);
  if (!metadata.name) return undefined;
  const s = isObj(x.status) ? x.status : {};
  const status: Pod['status'] = {};
  let v: unknown;
  if ((v = str(s.phase)) !== undefined) status.phase = v as string;
  if ((v = str(s.reason)) !== undefined) status.reason = v as string;
  if ((v = str(s.message)) !== undefined) status.message = v as string;
  if ((v = str(s.hostIP)) !== undefined) status.hostIP = v as string;
  if ((v = str(s.podIP)) !== undefined) status.podIP = v as string;
  if ((v = str(s.startTime)) !== undefined) status.startTime = v as string;
  if ((v = str(s.nominatedNodeName)) !== undefined) status.nominatedNodeName = v as string;
  if ((v = str(s.qosClass)) !== undefined) status.qosClass = v as string;
  if ((v = arr(s.conditions, condition)) !== undefined) status.conditions = v as Condition[];
  if ((v = arr(s.containerStatuses, containerStatus)) !== undefined) status.containerStatuses = v as ContainerStatus[];
  if ((v = arr(s.initContainerStatuses, containerStatus)) !== undefined) status.initContainerStatuses = v as ContainerStatus[];
  if ((v = arr(s.ephemeralContainerStatuses, containerStatus)) !== undefined) status.ephemeralContainerStatuses = v as ContainerStatus[];
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: podSpec(x.spec, pool), status };
}

/** A Node, or undefined when the object has no name. */
export function projectNode(x: Raw): Node | undefined {
  const metadata = meta(x.metadata);
  if (!metadata.name) return undefined;
  const spec = isObj(x.spec) ? x.spec : {};
  const s = isObj(x.status) ? x.status : {};
  const info = isObj(s.nodeInfo) ? s.nodeInfo : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata,
    spec: compact({
      unschedulable: bool(spec.unschedulable),
      taints: arr(spec.taints, (t) =>
        isObj(t) && str(t.key) && str(t.effect) ? compact({ key: str(t.key)!, value: str(t.value), effect: str(t.effect)!, timeAdded: str(t.timeAdded) }) : undefined,
      ),
      podCIDR: str(spec.podCIDR),
      providerID: str(spec.providerID),
    }),
    status: compact({
      conditions: arr(s.conditions, condition),
      capacity: stringMap(s.capacity),
      allocatable: stringMap(s.allocatable),
      nodeInfo: info
        ? compact({
            architecture: str(info.architecture),
            operatingSystem: str(info.operatingSystem),
            kubeletVersion: str(info.kubeletVersion),
            containerRuntimeVersion: str(info.containerRuntimeVersion),
            osImage: str(info.osImage),
            kernelVersion: str(info.kernelVersion),
          })
        : undefined,
    }),
  };
}

/**
 * An Event. core/v1 events are kept in their shape; events.k8s.io/v1 events (regarding, note,
 * deprecatedCount) are converted to it, so rules read one shape.
 */
export function projectEvent(x: Raw, pool?: Shared): KubeEvent | undefined {
  const metadata = meta(x.metadata);
  const newStyle = isObj(x.regarding);
  const involvedRaw = newStyle ? (x.regarding as Raw) : isObj(x.involvedObject) ? x.involvedObject : undefined;
  if (!involvedRaw) return undefined;
  const source = shared(pool, 's', isObj(x.source) ? compact({ component: str(x.source.component), host: str(x.source.host) }) : undefined);
  const series = isObj(x.series) ? compact({ count: num(x.series.count), lastObservedTime: str(x.series.lastObservedTime) }) : undefined;
  const involvedObject: KubeEvent['involvedObject'] = {};
  let v: unknown;
  if ((v = str(involvedRaw.kind)) !== undefined) involvedObject.kind = v as string;
  if ((v = str(involvedRaw.namespace)) !== undefined) involvedObject.namespace = v as string;
  if ((v = str(involvedRaw.name)) !== undefined) involvedObject.name = v as string;
  if ((v = str(involvedRaw.uid)) !== undefined) involvedObject.uid = v as string;
  if ((v = str(involvedRaw.fieldPath)) !== undefined) involvedObject.fieldPath = v as string;
  if ((v = str(involvedRaw.apiVersion)) !== undefined) involvedObject.apiVersion = v as string;
  const out: KubeEvent = { apiVersion: 'v1', kind: 'Event', metadata, involvedObject };
  if ((v = str(x.reason)) !== undefined) out.reason = v as string;
  if ((v = str(newStyle ? x.note : x.message)) !== undefined) out.message = v as string;
  if ((v = str(x.type)) !== undefined) out.type = v as string;
  if ((v = num(newStyle ? x.deprecatedCount : x.count)) !== undefined) out.count = v as number;
  if ((v = str(newStyle ? x.deprecatedFirstTimestamp : x.firstTimestamp)) !== undefined) out.firstTimestamp = v as string;
  if ((v = str(newStyle ? x.deprecatedLastTimestamp : x.lastTimestamp)) !== undefined) out.lastTimestamp = v as string;
  if ((v = str(x.eventTime)) !== undefined) out.eventTime = v as string;
  if ((v = newStyle ? compact({ component: str(x.reportingController), host: str(x.reportingInstance) }) : source) !== undefined) out.source = v as KubeEvent['source'];
  if ((v = str(x.reportingComponent)) !== undefined) out.reportingComponent = v as string;
  if (series !== undefined) out.series = series;
  return out;
}

/** A workload (ReplicaSet, Deployment, StatefulSet, DaemonSet, Job, CronJob). */
export function projectWorkload(x: Raw): Workload | undefined {
  const kind = str(x.kind);
  if (!kind || !(OWNER_KINDS as readonly string[]).includes(kind)) return undefined;
  const metadata = meta(x.metadata);
  if (!metadata.name) return undefined;
  const spec = isObj(x.spec) ? x.spec : {};
  const s = isObj(x.status) ? x.status : {};
  // A CronJob nests its pod template one level deeper, under jobTemplate.spec.
  const templateHolder = kind === 'CronJob' && isObj(spec.jobTemplate) && isObj(spec.jobTemplate.spec) ? spec.jobTemplate.spec : spec;
  const template = isObj(templateHolder.template) ? templateHolder.template : undefined;
  const selector = isObj(spec.selector) ? compact({ matchLabels: stringMap(spec.selector.matchLabels), matchExpressions: Array.isArray(spec.selector.matchExpressions) ? spec.selector.matchExpressions : undefined }) : undefined;
  return {
    apiVersion: str(x.apiVersion),
    kind: kind as OwnerKind,
    metadata,
    spec: compact({
      replicas: num(spec.replicas),
      selector,
      backoffLimit: num(spec.backoffLimit),
      activeDeadlineSeconds: num(spec.activeDeadlineSeconds),
      completions: num(spec.completions),
      parallelism: num(spec.parallelism),
      schedule: str(spec.schedule),
      suspend: bool(spec.suspend),
      template: template ? compact({ metadata: meta(template.metadata), spec: podSpec(template.spec) }) : undefined,
    }),
    status: compact({
      replicas: num(s.replicas),
      readyReplicas: num(s.readyReplicas),
      availableReplicas: num(s.availableReplicas),
      updatedReplicas: num(s.updatedReplicas),
      unavailableReplicas: num(s.unavailableReplicas),
      currentNumberScheduled: num(s.currentNumberScheduled),
      desiredNumberScheduled: num(s.desiredNumberScheduled),
      numberReady: num(s.numberReady),
      numberUnavailable: num(s.numberUnavailable),
      active: num(s.active),
      succeeded: num(s.succeeded),
      failed: num(s.failed),
      conditions: arr(s.conditions, condition),
    }),
  };
}

/** Where a raw object belongs in a Snapshot, by its kind. */
export type Projected =
  | { kind: 'Pod'; object: Pod }
  | { kind: 'Node'; object: Node }
  | { kind: 'Event'; object: KubeEvent }
  | { kind: 'Workload'; object: Workload };

/** Project any raw object by its `kind`; undefined for kinds kdiag does not read. With `pool`, identical parts are shared (see Shared). */
export function projectObject(x: unknown, defaultKind?: string, pool?: Shared): Projected | undefined {
  if (!isObj(x)) return undefined;
  const kind = str(x.kind) ?? defaultKind;
  const withKind = kind && !x.kind ? { ...x, kind } : x;
  switch (kind) {
    case 'Pod': {
      const object = projectPod(withKind, pool);
      return object && { kind: 'Pod', object };
    }
    case 'Node': {
      const object = projectNode(withKind);
      return object && { kind: 'Node', object };
    }
    case 'Event': {
      const object = projectEvent(withKind, pool);
      return object && { kind: 'Event', object };
    }
    default: {
      const object = projectWorkload(withKind);
      return object && { kind: 'Workload', object };
    }
  }
}
