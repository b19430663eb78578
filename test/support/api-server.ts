import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import yaml from 'js-yaml';
import { ROOT } from './fixtures.js';
import type { Pki } from './pki.js';
import { generatePki } from './pki.js';


/**
 * A loopback Kubernetes API server for tests: HTTPS on 127.0.0.1 with a throw-away CA, bearer-token
 * and client-certificate authentication, and the read API that kdiag and kubectl use (discovery,
 * get and list with limit/continue, label and field selectors, pod logs, server-side Tables), over
 * a "world" of raw objects loaded from a fixture List. Faults (403s, latency, 429/5xx, stalls,
 * resets, expired continue tokens) are set per test, and every request is logged.
 *
 * Lists can be watched (`?watch=true&resourceVersion=RV`, a chunked stream of JSON lines, as
 * Tables for kubectl): a test changes the world with update / add / remove, each change takes the
 * next resourceVersion and is sent to the open watches. A watch from a resourceVersion older than
 * the history kept is answered 410 Expired; expireWatches() forgets the history and ends the open
 * watches with an ERROR event (410), dropWatches() cuts their connections.
 *
 *   let server: ApiServer;
 *   beforeAll(async () => { server = await startApiServer({ fixture: 'test/fixtures/live-world.json' }); });
 *   afterEach(() => server.setFaults());            // no faults, counters reset
 *   afterAll(() => server.close());
 *   // kubectl --kubeconfig ${server.kubeconfigPath} get pods -n prod
 *   server.setFaults({ forbidden: ['nodes'], errors: [{ status: 503, count: 2 }], maxPageSize: 2 });
 *   expect(server.requests.every((r) => r.method === 'GET')).toBe(true);
 *
 * The fixture is a List (`kubectl get -o json`, or a kdiag snapshot): its items are served as given
 * (list items without kind/apiVersion, as the API sends them), and `kdiag.logs` entries are the pod
 * logs (`previous: true` for the previous container). The PKI is made once per test file.
 */

type Raw = Record<string, unknown>;

/** Which requests a fault applies to; every given field must match. */
export interface RequestMatch {
  /** Resource, with its subresource when there is one: "pods", "nodes", "pods/log", "deployments". */
  resource?: string;
  verb?: 'get' | 'list' | 'watch';
  namespace?: string;
  name?: string;
  /** The request path (without the query), or a pattern it must match. */
  path?: string | RegExp;
}

/** An error answer for the first `count` matching requests. */
export interface ErrorFault {
  status: 429 | 500 | 502 | 503 | 504;
  count: number;
  /** Retry-After header (seconds); 429 answers get 1 when this is not given. */
  retryAfterSeconds?: number;
  match?: RequestMatch;
}

/** What goes wrong, set per test with setFaults (which also resets the fault counters). */
export interface Faults {
  /** 403 Forbidden for these reads: a resource ("nodes", "pods/log") or a finer match. */
  forbidden?: (string | RequestMatch)[];
  /** Delay every answer by this many milliseconds. */
  latencyMs?: number;
  /** Delay the answers to matching requests by this many milliseconds (after latencyMs). */
  delays?: { ms: number; match?: RequestMatch }[];
  /** 429 / 5xx answers for the first N matching requests. */
  errors?: ErrorFault[];
  /** Never answer matching requests (true = all); the connection stays open until the client gives up. */
  stall?: boolean | RequestMatch;
  /** Destroy the connection without an answer for the first `count` matching requests. */
  reset?: { count: number; match?: RequestMatch };
  /** Answer the next N requests that carry a continue token with 410 Expired. */
  expireContinue?: number;
  /** Refuse every credential with 401 (a revoked token, an expired certificate). */
  unauthorized?: boolean;
  /** Return at most this many items per page whatever `limit` asks (servers may return fewer). */
  maxPageSize?: number;
}

/** A change of the world, as a watch sends it. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One request the server saw. */
export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The status answered; 0 while unanswered, for stalls and for resets. */
  status: number;
  /** The authenticated user, if any. */
  user?: string;
  accept?: string;
  fault?: 'stall' | 'reset';
  /** When the request arrived, in epoch milliseconds (monotonic: performance.timeOrigin + performance.now()). */
  at: number;
}

export interface ApiServerOptions {
  /** A List (kubectl get -o json, or a kdiag snapshot) as a path (absolute, or relative to the repository root) or parsed. */
  fixture: string | Raw;
  faults?: Faults;
  /** The namespace of the kubeconfig's contexts (default: prod). */
  namespace?: string;
  /** The server's clock, for AGE columns (default: the real one). */
  now?: () => number;
}

/** What a test gets back from startApiServer. */
export interface ApiServer {
  /** https://127.0.0.1:PORT */
  url: string;
  port: number;
  /** A kubeconfig file with contexts kdiag-token (current), kdiag-cert and kdiag-revoked. */
  kubeconfigPath: string;
  /** Every request, in arrival order. */
  requests: LoggedRequest[];
  /** Replace the faults (undefined = none) and reset their counters. */
  setFaults(faults?: Faults): void;
  /** Write a variant of the kubeconfig (another server URL, another current context) and return its path. */
  writeKubeconfig(variant: { server?: string; currentContext?: string; name?: string }): string;
  /** Secrets the tests check never leak into output or files. */
  secrets: { token: string; revokedToken: string; clientKeyPem: string; clientKeyData: string };
  /** The CA and a certificate signed by it, and one that is not, for direct requests. */
  pki: Pki;
  /** The world's current resourceVersion. */
  readonly resourceVersion: string;
  /**
   * Change a stored object (kind as in the fixture: "Pod", "Event"): `mutate` gets a copy and
   * changes it or returns a replacement. Open watches get MODIFIED. Returns the stored object.
   */
  update(kind: string, namespace: string | undefined, name: string, mutate: (object: Raw) => Raw | void): Raw;
  /** Add an object (with kind and metadata.name); open watches get ADDED. */
  add(object: Raw): Raw;
  /** Delete an object; open watches get DELETED. */
  remove(kind: string, namespace: string | undefined, name: string): void;
  /** Forget the history: open watches get an ERROR event (410 Expired) and end; older resourceVersions are 410. */
  expireWatches(): void;
  /** Cut the connection of every open watch, without an answer's end. */
  dropWatches(): void;
  /** Send a BOOKMARK with the current resourceVersion to the open watches that allow them. */
  bookmark(): void;
  /** How many watches are open now. */
  readonly watching: number;
  close(): Promise<void>;
}


// ---------------------------------------------------------------------------------------------
// Certificates

/** The PKI is generated once per test file (module) and shared by every server it starts. */
let pkiPromise: Promise<Pki> | undefined;
function pki(): Promise<Pki> {
  pkiPromise ??= (async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kdiag-pki-'));
    try {
      return await generatePki(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  return pkiPromise;
}

// ---------------------------------------------------------------------------------------------
// Resources and the world

interface ResourceInfo {
  group: string;
  version: string;
  /** Plural name, with the subresource for subresources ("pods/log"). */
  name: string;
  singularName: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const RESOURCES: ResourceInfo[] = [
  { group: '', version: 'v1', name: 'pods', singularName: 'pod', kind: 'Pod', namespaced: true, verbs: ALL_VERBS, shortNames: ['po'], categories: ['all'] },
  { group: '', version: 'v1', name: 'pods/log', singularName: '', kind: 'Pod', namespaced: true, verbs: ['get'] },
  { group: '', version: 'v1', name: 'events', singularName: 'event', kind: 'Event', namespaced: true, verbs: ALL_VERBS, shortNames: ['ev'] },
  { group: '', version: 'v1', name: 'nodes', singularName: 'node', kind: 'Node', namespaced: false, verbs: ALL_VERBS, shortNames: ['no'] },
  { group: '', version: 'v1', name: 'namespaces', singularName: 'namespace', kind: 'Namespace', namespaced: false, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['ns'] },
  { group: 'apps', version: 'v1', name: 'replicasets', singularName: 'replicaset', kind: 'ReplicaSet', namespaced: true, verbs: ALL_VERBS, shortNames: ['rs'], categories: ['all'] },
  { group: 'apps', version: 'v1', name: 'deployments', singularName: 'deployment', kind: 'Deployment', namespaced: true, verbs: ALL_VERBS, shortNames: ['deploy'], categories: ['all'] },
  { group: 'apps', version: 'v1', name: 'statefulsets', singularName: 'statefulset', kind: 'StatefulSet', namespaced: true, verbs: ALL_VERBS, shortNames: ['sts'], categories: ['all'] },
  { group: 'apps', version: 'v1', name: 'daemonsets', singularName: 'daemonset', kind: 'DaemonSet', namespaced: true, verbs: ALL_VERBS, shortNames: ['ds'], categories: ['all'] },
  { group: 'batch', version: 'v1', name: 'jobs', singularName: 'job', kind: 'Job', namespaced: true, verbs: ALL_VERBS, categories: ['all'] },
  { group: 'batch', version: 'v1', name: 'cronjobs', singularName: 'cronjob', kind: 'CronJob', namespaced: true, verbs: ALL_VERBS, shortNames: ['cj'], categories: ['all'] },
];
const GROUPS = ['apps', 'batch'];

const isObj = (x: unknown): x is Raw => typeof x === 'object' && x !== null && !Array.isArray(x);
const obj = (x: unknown): Raw => (isObj(x) ? x : {});
const str = (x: unknown): string => (typeof x === 'string' ? x : '');
const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
const metaOf = (o: Raw): Raw => obj(o.metadata);
const nameOf = (o: Raw): string => str(metaOf(o).name);
const namespaceOf = (o: Raw): string => str(metaOf(o).namespace);

/** A log the fixture holds for one container (kdiag snapshot `kdiag.logs` entries). */
interface FixtureLog {
  namespace: string;
  pod: string;
  container: string;
  previous: boolean;
  lines: string[];
}

/** The objects the server serves, by resource, in etcd key order (namespace/name). */
class World {
  private readonly byResource = new Map<string, Raw[]>();
  readonly logs: FixtureLog[] = [];
  private revision: number;
  /** Watches may start from this resourceVersion or a later one; older ones are 410 Expired. */
  oldestWatchable: number;
  /** Every change since oldestWatchable, in order. */
  history: { rv: number; resource: string; type: WatchEventType; object: Raw }[] = [];

  constructor(list: Raw) {
    const items = Array.isArray(list.items) ? list.items.filter(isObj) : [];
    let maxRv = 1;
    for (const item of items) {
      const info = RESOURCES.find((r) => r.kind === item.kind && !r.name.includes('/'));
      if (!info) continue;
      const apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
      const stored = { ...item, apiVersion, kind: info.kind };
      this.add(info.name, stored);
      maxRv = Math.max(maxRv, Number(metaOf(item).resourceVersion) || 0);
    }
    // Every namespace an object lives in exists, as on a real cluster.
    const namespaces = new Set(this.all('namespaces').map(nameOf));
    for (const info of RESOURCES.filter((r) => r.namespaced && !r.name.includes('/'))) {
      for (const item of this.all(info.name)) {
        const ns = namespaceOf(item);
        if (ns && !namespaces.has(ns)) {
          namespaces.add(ns);
          this.add('namespaces', {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: ns, uid: `ns-${ns}`, resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z', labels: { 'kubernetes.io/metadata.name': ns } },
            spec: { finalizers: ['kubernetes'] },
            status: { phase: 'Active' },
          });
        }
      }
    }
    for (const list of this.byResource.values()) list.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    const kdiag = obj(list.kdiag);
    if (Array.isArray(kdiag.logs)) {
      for (const log of kdiag.logs.filter(isObj)) {
        if (typeof log.namespace === 'string' && typeof log.pod === 'string' && typeof log.container === 'string' && Array.isArray(log.lines)) {
          this.logs.push({ namespace: log.namespace, pod: log.pod, container: log.container, previous: log.previous === true, lines: log.lines.map(String) });
        }
      }
    }
    this.revision = maxRv + 1;
    this.oldestWatchable = this.revision;
  }

  get resourceVersion(): string {
    return String(this.revision);
  }

  /** Record a change under the next resourceVersion (set on the object) and return it. */
  change(resource: string, type: WatchEventType, object: Raw): { rv: number; resource: string; type: WatchEventType; object: Raw } {
    this.revision++;
    const stored = { ...object, metadata: { ...metaOf(object), resourceVersion: String(this.revision) } };
    const list = this.all(resource).filter((o) => keyOf(o) !== keyOf(stored));
    if (type !== 'DELETED') list.push(stored);
    list.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    this.byResource.set(resource, list);
    const entry = { rv: this.revision, resource, type, object: stored };
    this.history.push(entry);
    return entry;
  }

  /** Forget the history: watches must start again from a list. */
  compact(): void {
    this.history = [];
    this.oldestWatchable = this.revision;
  }

  private add(resource: string, item: Raw): void {
    const list = this.byResource.get(resource) ?? [];
    list.push(item);
    this.byResource.set(resource, list);
  }

  all(resource: string): Raw[] {
    return this.byResource.get(resource) ?? [];
  }

  find(resource: string, namespace: string | undefined, name: string): Raw | undefined {
    return this.all(resource).find((o) => nameOf(o) === name && (namespace === undefined || namespaceOf(o) === namespace));
  }
}

function keyOf(o: Raw): string {
  return `${namespaceOf(o)}/${nameOf(o)}`;
}

// ---------------------------------------------------------------------------------------------
// Status objects

function status(code: number, reason: string, message: string, details?: Raw): Raw {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** "pods", or "deployments.apps" for a grouped resource, as the API server names them in messages. */
function qualified(info: ResourceInfo): string {
  const base = info.name.split('/')[0]!;
  return info.group ? `${base}.${info.group}` : base;
}

function notFound(info: ResourceInfo, name: string): Raw {
  const details: Raw = { name, kind: info.name.split('/')[0]! };
  if (info.group) details.group = info.group;
  return status(404, 'NotFound', `${qualified(info)} "${name}" not found`, details);
}

const NO_SUCH_RESOURCE = status(404, 'NotFound', 'the server could not find the requested resource', {});

function forbidden(info: ResourceInfo, request: RequestInfo, user: string): Raw {
  const what = request.name ? `${qualified(info)} "${request.name}"` : qualified(info);
  const where = request.namespace ? `in the namespace "${request.namespace}"` : 'at the cluster scope';
  const details: Raw = { kind: info.name.split('/')[0]! };
  if (request.name) details.name = request.name;
  if (info.group) details.group = info.group;
  return status(403, 'Forbidden', `${what} is forbidden: User "${user}" cannot ${request.verb} resource "${info.name}" in API group "${info.group}" ${where}`, details);
}

// ---------------------------------------------------------------------------------------------
// Requests

interface RequestInfo {
  path: string;
  query: URLSearchParams;
  /** Set for resource requests. */
  resource?: ResourceInfo;
  verb: 'get' | 'list' | 'watch';
  namespace?: string;
  name?: string;
  /** What to answer for non-resource paths (discovery, /version), or a 404. */
  special?: 'version' | 'api' | 'apis' | 'group' | 'resources' | 'unknown';
  groupVersion?: string;
  group?: string;
}

function parseRequest(url: URL): RequestInfo {
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const info: RequestInfo = { path: url.pathname, query: url.searchParams, verb: 'get' };
  const unknown = (): RequestInfo => ({ ...info, special: 'unknown' });
  if (segments.length === 1 && segments[0] === 'version') return { ...info, special: 'version' };
  if (segments.length === 1 && segments[0] === 'api') return { ...info, special: 'api' };
  if (segments.length === 1 && segments[0] === 'apis') return { ...info, special: 'apis' };
  let group: string;
  let rest: string[];
  if (segments[0] === 'api' && segments[1] === 'v1') {
    group = '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 2 && GROUPS.includes(segments[1]!)) {
    group = segments[1]!;
    if (segments.length === 2) return { ...info, special: 'group', group };
    if (segments[2] !== 'v1') return unknown();
    rest = segments.slice(3);
  } else return unknown();
  if (rest.length === 0) return { ...info, special: 'resources', groupVersion: group ? `${group}/v1` : 'v1', group };

  let namespace: string | undefined;
  let resource: string;
  let name: string | undefined;
  let sub: string | undefined;
  if (group === '' && rest[0] === 'namespaces' && rest.length <= 2) {
    resource = 'namespaces';
    name = rest[1];
  } else if (rest[0] === 'namespaces') {
    namespace = rest[1];
    [resource, name, sub] = [rest[2]!, rest[3], rest[4]];
    if (rest.length > 5) return unknown();
  } else {
    [resource, name, sub] = [rest[0]!, rest[1], rest[2]];
    if (rest.length > 3) return unknown();
  }
  const full = sub ? `${resource}/${sub}` : resource;
  const found = RESOURCES.find((r) => r.group === group && r.name === full);
  if (!found) return unknown();
  if (found.namespaced === false && namespace !== undefined) return unknown();
  if (found.namespaced && namespace === undefined && name !== undefined) return unknown();
  const watch = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
  return { ...info, resource: found, namespace, name, verb: name !== undefined ? 'get' : watch ? 'watch' : 'list' };
}

function matches(match: RequestMatch | undefined, request: RequestInfo): boolean {
  if (!match) return true;
  if (match.resource !== undefined && request.resource?.name !== match.resource) return false;
  if (match.verb !== undefined && (!request.resource || request.verb !== match.verb)) return false;
  if (match.namespace !== undefined && request.namespace !== match.namespace) return false;
  if (match.name !== undefined && request.name !== match.name) return false;
  if (match.path !== undefined && !(typeof match.path === 'string' ? request.path === match.path : match.path.test(request.path))) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Selectors

class BadRequest extends Error {}

/** A continue token that is unknown or expired: 410 Gone. */
class GoneError extends Error {}

const EXPIRED = status(
  410,
  'Expired',
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
);

/** Split on commas outside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) terms.push(current.trim());
  return terms;
}

/** A label selector (a=b, a==b, a!=b, a, !a, a in (x,y), a notin (x,y)) as a predicate on labels. */
function labelSelector(text: string): (labels: Record<string, string>) => boolean {
  const tests = splitTerms(text).map((term): ((labels: Record<string, string>) => boolean) => {
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const [, key, op, list] = m;
      const values = list!.split(',').map((v) => v.trim());
      return op === 'in' ? (l) => key! in l && values.includes(l[key!]!) : (l) => !(key! in l) || !values.includes(l[key!]!);
    }
    if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(term))) {
      const [, key, op, value] = m;
      return op === '!=' ? (l) => l[key!] !== value : (l) => l[key!] === value;
    }
    if ((m = /^(!?)([\w./-]+)$/.exec(term))) {
      const [, not, key] = m;
      return not ? (l) => !(key! in l) : (l) => key! in l;
    }
    throw new BadRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
  });
  return (labels) => tests.every((test) => test(labels));
}

/** Fields each kind can be selected by, as paths into the object. */
const FIELDS: Record<string, string[]> = {
  Pod: ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  Event: ['metadata.name', 'metadata.namespace', 'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  Node: ['metadata.name', 'spec.unschedulable'],
  Namespace: ['metadata.name', 'status.phase'],
  Job: ['metadata.name', 'metadata.namespace', 'status.successful'],
};

function fieldValue(o: Raw, field: string): string {
  if (field === 'source') return str(obj(o.source).component) || str(o.reportingController);
  if (field === 'status.successful') return String(num(obj(o.status).succeeded));
  let value: unknown = o;
  for (const part of field.split('.')) value = obj(value)[part];
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  return str(value);
}

/** A field selector (a=b, a==b, a!=b, comma-joined) as a predicate; unsupported fields are a 400. */
function fieldSelector(text: string, kind: string): (o: Raw) => boolean {
  const supported = FIELDS[kind] ?? ['metadata.name', 'metadata.namespace'];
  const tests = splitTerms(text).map((term): ((o: Raw) => boolean) => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw new BadRequest(`invalid field selector: '${term}': invalid selector: '${text}'; can't understand '${term}'`);
    const [, field, op, value] = m;
    if (!supported.includes(field!)) throw new BadRequest(`field label not supported: ${field}`);
    const want = value!.replace(/\\(.)/g, '$1');
    return op === '!=' ? (o) => fieldValue(o, field!) !== want : (o) => fieldValue(o, field!) === want;
  });
  return (o) => tests.every((test) => test(o));
}

// ---------------------------------------------------------------------------------------------
// Tables, computed the way kubectl's printers compute them

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}
const col = (name: string, priority = 0, type = 'string', format = ''): Column => ({ name, type, format, description: `${name} column`, priority });
const NAME_COLUMN: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 };

interface Printer {
  columns: Column[];
  cells: (o: Raw, since: (t: unknown) => string, now: number) => unknown[];
}

function containerColumns(o: Raw): [string, string] {
  const spec = obj(obj(obj(o.spec).template).spec);
  const containers = Array.isArray(spec.containers) ? spec.containers.filter(isObj) : [];
  return [containers.map((c) => str(c.name)).join(','), containers.map((c) => str(c.image)).join(',')];
}

function selectorText(o: Raw): string {
  const labels = obj(obj(obj(o.spec).selector).matchLabels);
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length ? parts.join(',') : '<none>';
}

/** printPod from kubernetes/pkg/printers/internalversion/printers.go. */
function podCells(o: Raw, since: (t: unknown) => string): unknown[] {
  const spec = obj(o.spec);
  const st = obj(o.status);
  const specContainers = Array.isArray(spec.containers) ? spec.containers.filter(isObj) : [];
  const specInit = Array.isArray(spec.initContainers) ? spec.initContainers.filter(isObj) : [];
  const initStatuses = Array.isArray(st.initContainerStatuses) ? st.initContainerStatuses.filter(isObj) : [];
  const statuses = Array.isArray(st.containerStatuses) ? st.containerStatuses.filter(isObj) : [];
  const conditions = Array.isArray(st.conditions) ? st.conditions.filter(isObj) : [];
  const restartable = (name: string) => specInit.some((c) => c.name === name && c.restartPolicy === 'Always');
  let total = specContainers.length + specInit.filter((c) => c.restartPolicy === 'Always').length;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart = 0;
  let lastSidecarRestart = 0;
  let reason = str(st.reason) || str(st.phase);
  if (conditions.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';
  const finished = (s: Raw) => Date.parse(str(obj(obj(s.lastState).terminated).finishedAt)) || 0;

  let initializing = false;
  for (const [i, c] of initStatuses.entries()) {
    restarts += num(c.restartCount);
    lastRestart = Math.max(lastRestart, finished(c));
    if (restartable(str(c.name))) {
      sidecarRestarts += num(c.restartCount);
      lastSidecarRestart = Math.max(lastSidecarRestart, finished(c));
    }
    const terminated = obj(obj(c.state).terminated);
    const waiting = obj(obj(c.state).waiting);
    if (isObj(obj(c.state).terminated) && num(terminated.exitCode) === 0) continue;
    if (restartable(str(c.name)) && c.started === true) {
      if (c.ready === true) ready++;
      continue;
    }
    if (isObj(obj(c.state).terminated)) {
      reason = str(terminated.reason) ? `Init:${str(terminated.reason)}` : num(terminated.signal) ? `Init:Signal:${num(terminated.signal)}` : `Init:ExitCode:${num(terminated.exitCode)}`;
    } else if (str(waiting.reason) && waiting.reason !== 'PodInitializing') {
      reason = `Init:${str(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${specInit.length}`;
    }
    initializing = true;
    break;
  }
  const initialized = conditions.some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i]!;
      restarts += num(c.restartCount);
      lastRestart = Math.max(lastRestart, finished(c));
      const state = obj(c.state);
      const waiting = obj(state.waiting);
      const terminated = obj(state.terminated);
      if (isObj(state.waiting) && str(waiting.reason)) reason = str(waiting.reason);
      else if (isObj(state.terminated) && str(terminated.reason)) reason = str(terminated.reason);
      else if (isObj(state.terminated)) reason = num(terminated.signal) ? `Signal:${num(terminated.signal)}` : `ExitCode:${num(terminated.exitCode)}`;
      else if (c.ready === true && isObj(state.running)) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  }
  const meta = metaOf(o);
  if (meta.deletionTimestamp && st.reason === 'NodeLost') reason = 'Unknown';
  else if (meta.deletionTimestamp && !['Succeeded', 'Failed'].includes(str(st.phase))) reason = 'Terminating';
  total = Math.max(total, 0);
  const restartText = restarts !== 0 && lastRestart ? `${restarts} (${since(new Date(lastRestart).toISOString())} ago)` : String(restarts);
  const gates = Array.isArray(spec.readinessGates) ? spec.readinessGates.filter(isObj) : [];
  const gateText = gates.length ? `${gates.filter((g) => conditions.some((c) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}` : '<none>';
  return [nameOf(o), `${ready}/${total}`, reason, restartText, since(meta.creationTimestamp), str(st.podIP) || '<none>', str(spec.nodeName) || '<none>', str(st.nominatedNodeName) || '<none>', gateText];
}

function nodeStatus(o: Raw): string {
  const conditions = Array.isArray(obj(o.status).conditions) ? (obj(o.status).conditions as unknown[]).filter(isObj) : [];
  const readyCondition = conditions.find((c) => c.type === 'Ready');
  const parts = [readyCondition ? (readyCondition.status === 'True' ? 'Ready' : readyCondition.status === 'False' ? 'NotReady' : 'Unknown') : 'Unknown'];
  if (obj(o.spec).unschedulable === true) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(o: Raw): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(obj(metaOf(o).labels))) {
    if (k.startsWith('node-role.kubernetes.io/') && k.length > 'node-role.kubernetes.io/'.length) roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && typeof v === 'string' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

function address(o: Raw, type: string): string {
  const list = Array.isArray(obj(o.status).addresses) ? (obj(o.status).addresses as unknown[]).filter(isObj) : [];
  return str(list.find((a) => a.type === type)?.address) || '<none>';
}

function jobStatus(o: Raw): string {
  const conditions = Array.isArray(obj(o.status).conditions) ? (obj(o.status).conditions as unknown[]).filter(isObj) : [];
  const has = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
  if (has('Failed')) return 'Failed';
  if (has('Complete')) return 'Complete';
  if (metaOf(o).deletionTimestamp) return 'Terminating';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('Suspended')) return 'Suspended';
  return 'Running';
}

const PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [NAME_COLUMN, col('Ready'), col('Status'), col('Restarts'), col('Age'), col('IP', 1), col('Node', 1), col('Nominated Node', 1), col('Readiness Gates', 1)],
    cells: (o, since) => podCells(o, since),
  },
  Event: {
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Subobject', 1), col('Source', 1), col('Message'), col('First Seen', 1), col('Count', 1), { ...col('Name', 1), format: 'name' }],
    cells: (o, since) => {
      const involved = obj(o.involvedObject);
      const first = since(o.firstTimestamp || o.eventTime);
      const series = obj(o.series);
      const last = isObj(o.series) ? since(series.lastObservedTime) : o.lastTimestamp ? since(o.lastTimestamp) : first;
      const count = isObj(o.series) ? num(series.count) : num(o.count) || 1;
      const kind = str(involved.kind).toLowerCase();
      const target = str(involved.name) ? `${kind}/${str(involved.name)}` : kind;
      const source = obj(o.source);
      const sourceText = str(source.component) ? [str(source.component), str(source.host)].filter(Boolean).join(', ') : [str(o.reportingController), str(o.reportingInstance)].filter(Boolean).join(', ');
      return [last, str(o.type), str(o.reason), target, str(involved.fieldPath), sourceText, str(o.message).trim(), first, count, nameOf(o)];
    },
  },
  Node: {
    columns: [NAME_COLUMN, col('Status'), col('Roles'), col('Age'), col('Version'), col('Internal-IP', 1), col('External-IP', 1), col('OS-Image', 1), col('Kernel-Version', 1), col('Container-Runtime', 1)],
    cells: (o, since) => {
      const info = obj(obj(o.status).nodeInfo);
      return [nameOf(o), nodeStatus(o), nodeRoles(o), since(metaOf(o).creationTimestamp), str(info.kubeletVersion), address(o, 'InternalIP'), address(o, 'ExternalIP'), str(info.osImage) || '<unknown>', str(info.kernelVersion) || '<unknown>', str(info.containerRuntimeVersion) || '<unknown>'];
    },
  },
  Namespace: {
    columns: [NAME_COLUMN, col('Status'), col('Age')],
    cells: (o, since) => [nameOf(o), str(obj(o.status).phase), since(metaOf(o).creationTimestamp)],
  },
  Deployment: {
    columns: [NAME_COLUMN, col('Ready'), col('Up-to-date', 0, 'integer'), col('Available', 0, 'integer'), col('Age'), col('Containers', 1), col('Images', 1), col('Selector', 1)],
    cells: (o, since) => {
      const st = obj(o.status);
      return [nameOf(o), `${num(st.readyReplicas)}/${num(obj(o.spec).replicas)}`, num(st.updatedReplicas), num(st.availableReplicas), since(metaOf(o).creationTimestamp), ...containerColumns(o), selectorText(o)];
    },
  },
  ReplicaSet: {
    columns: [NAME_COLUMN, col('Desired', 0, 'integer'), col('Current', 0, 'integer'), col('Ready', 0, 'integer'), col('Age'), col('Containers', 1), col('Images', 1), col('Selector', 1)],
    cells: (o, since) => {
      const st = obj(o.status);
      return [nameOf(o), num(obj(o.spec).replicas), num(st.replicas), num(st.readyReplicas), since(metaOf(o).creationTimestamp), ...containerColumns(o), selectorText(o)];
    },
  },
  StatefulSet: {
    columns: [NAME_COLUMN, col('Ready'), col('Age'), col('Containers', 1), col('Images', 1)],
    cells: (o, since) => [nameOf(o), `${num(obj(o.status).readyReplicas)}/${num(obj(o.spec).replicas)}`, since(metaOf(o).creationTimestamp), ...containerColumns(o)],
  },
  DaemonSet: {
    columns: [NAME_COLUMN, col('Desired', 0, 'integer'), col('Current', 0, 'integer'), col('Ready', 0, 'integer'), col('Up-to-date', 0, 'integer'), col('Available', 0, 'integer'), col('Node Selector'), col('Age'), col('Containers', 1), col('Images', 1), col('Selector', 1)],
    cells: (o, since) => {
      const st = obj(o.status);
      const selector = Object.entries(obj(obj(obj(obj(o.spec).template).spec).nodeSelector)).map(([k, v]) => `${k}=${String(v)}`).join(',') || '<none>';
      return [nameOf(o), num(st.desiredNumberScheduled), num(st.currentNumberScheduled), num(st.numberReady), num(st.updatedNumberScheduled), num(st.numberAvailable), selector, since(metaOf(o).creationTimestamp), ...containerColumns(o), selectorText(o)];
    },
  },
  Job: {
    columns: [NAME_COLUMN, col('Status'), col('Completions'), col('Duration'), col('Age'), col('Containers', 1), col('Images', 1), col('Selector', 1)],
    cells: (o, since, now) => {
      const st = obj(o.status);
      const spec = obj(o.spec);
      const completions = spec.completions === undefined ? `${num(st.succeeded)}/1 of ${num(spec.parallelism)}` : `${num(st.succeeded)}/${num(spec.completions)}`;
      const start = Date.parse(str(st.startTime));
      const end = Date.parse(str(st.completionTime)) || now;
      return [nameOf(o), jobStatus(o), completions, start ? humanDuration(end - start) : '', since(metaOf(o).creationTimestamp), ...containerColumns(o), selectorText(o)];
    },
  },
  CronJob: {
    columns: [NAME_COLUMN, col('Schedule'), col('Timezone'), col('Suspend', 0, 'boolean'), col('Active', 0, 'integer'), col('Last Schedule'), col('Age'), col('Containers', 1), col('Images', 1), col('Selector', 1)],
    cells: (o, since) => {
      const spec = obj(o.spec);
      const st = obj(o.status);
      const jobSpec = obj(obj(spec.jobTemplate).spec);
      const containers = Array.isArray(obj(obj(jobSpec.template).spec).containers) ? (obj(obj(jobSpec.template).spec).containers as unknown[]).filter(isObj) : [];
      return [nameOf(o), str(spec.schedule), str(spec.timeZone) || '<none>', spec.suspend === true, Array.isArray(st.active) ? st.active.length : 0, st.lastScheduleTime ? since(st.lastScheduleTime) : '<none>', since(metaOf(o).creationTimestamp), containers.map((c) => str(c.name)).join(','), containers.map((c) => str(c.image)).join(','), '<none>'];
    },
  },
};

function wantsTable(accept: string | undefined): string | undefined {
  for (const part of (accept ?? '').split(',')) {
    const params = part.split(';').map((p) => p.trim());
    if (params.includes('as=Table') && params.includes('g=meta.k8s.io')) return params.find((p) => p.startsWith('v='))?.slice(2) ?? 'v1';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The server

/** Start the server; close() it in afterAll. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const list: Raw = typeof options.fixture === 'string' ? (JSON.parse(readFileSync(path.resolve(ROOT, options.fixture), 'utf8')) as Raw) : options.fixture;
  const world = new World(list);
  const now = options.now ?? Date.now;
  const keys = await pki();
  const dir = mkdtempSync(path.join(tmpdir(), 'kdiag-apiserver-'));
  const token = `kdiag-test-token-${randomBytes(12).toString('hex')}`;
  const revokedToken = `kdiag-revoked-token-${randomBytes(12).toString('hex')}`;
  const namespace = options.namespace ?? 'prod';
  const serviceAccount = `system:serviceaccount:${namespace}:kdiag`;

  let faults: Faults = options.faults ?? {};
  let counters = new Map<object, number>();
  let expireLeft = faults.expireContinue ?? 0;
  const issuedTokens = new Set<string>();
  const requests: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  /** Count a fault's use; true while it still applies. */
  const take = (fault: object, count: number): boolean => {
    const used = counters.get(fault) ?? 0;
    if (used >= count) return false;
    counters.set(fault, used + 1);
    return true;
  };

  const authenticate = (req: IncomingMessage): string | undefined => {
    if (faults.unauthorized) return undefined;
    const socket = req.socket as TLSSocket;
    if (socket.authorized) {
      const cert = socket.getPeerCertificate();
      const cn = cert?.subject?.CN;
      if (cn) return Array.isArray(cn) ? cn[0] : cn;
    }
    const header = req.headers.authorization ?? '';
    if (header === `Bearer ${token}`) return serviceAccount;
    return undefined;
  };

  const send = (res: ServerResponse, entry: LoggedRequest, code: number, body: unknown, headers: Record<string, string> = {}): void => {
    entry.status = code;
    if (res.destroyed) return;
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const type = typeof body === 'string' ? 'text/plain' : 'application/json';
    res.writeHead(code, { 'Content-Type': type, 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const entry: LoggedRequest = { method: req.method ?? '?', path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0, at: performance.timeOrigin + performance.now() };
    if (req.headers.accept) entry.accept = req.headers.accept;
    requests.push(entry);
    const request = parseRequest(url);

    if (faults.stall && (faults.stall === true || matches(faults.stall, request))) {
      entry.fault = 'stall';
      return; // never answered; close() destroys the socket
    }
    if (faults.reset && matches(faults.reset.match, request) && take(faults.reset, faults.reset.count)) {
      entry.fault = 'reset';
      req.socket.destroy();
      return;
    }
    const user = authenticate(req);
    if (!user) return send(res, entry, 401, undefined);
    entry.user = user;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, entry, 405, status(405, 'MethodNotAllowed', `the test API server is read-only: ${req.method} is not allowed`));
    }
    if (faults.latencyMs) await sleep(faults.latencyMs);
    for (const delay of faults.delays ?? []) if (matches(delay.match, request)) await sleep(delay.ms);
    if (closed) return;
    for (const fault of faults.errors ?? []) {
      if (matches(fault.match, request) && take(fault, fault.count)) {
        const retryAfter = fault.retryAfterSeconds ?? (fault.status === 429 ? 1 : undefined);
        const reason = fault.status === 429 ? 'TooManyRequests' : fault.status === 503 ? 'ServiceUnavailable' : fault.status === 504 ? 'Timeout' : 'InternalError';
        const message = fault.status === 429 ? 'Too many requests, please try again later.' : fault.status === 503 ? 'the server is currently unable to handle the request' : 'Internal error occurred: injected by the test';
        const details = retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {};
        return send(res, entry, fault.status, status(fault.status, reason, message, details), retryAfter !== undefined ? { 'Retry-After': String(retryAfter) } : {});
      }
    }
    if (request.resource && request.verb === 'watch' && request.resource.verbs.includes('watch') && !faultForbids(request)) {
      try {
        startWatch(request, res, entry, req.headers.accept);
      } catch (error) {
        if (error instanceof BadRequest) send(res, entry, 400, status(400, 'BadRequest', error.message));
        else throw error;
      }
      return;
    }
    try {
      const [code, body] = route(request, user, req.headers.accept);
      send(res, entry, code, body);
    } catch (error) {
      if (error instanceof GoneError) send(res, entry, 410, EXPIRED);
      else if (error instanceof BadRequest) send(res, entry, 400, status(400, 'BadRequest', error.message));
      else send(res, entry, 500, status(500, 'InternalError', `test API server bug: ${(error as Error).message}`));
    }
  };

  /** What a list request (namespace, label and field selectors) keeps, as a predicate. */
  const selection = (info: ResourceInfo, request: RequestInfo): ((o: Raw) => boolean) => {
    const labels = request.query.get('labelSelector');
    const labelTest = labels ? labelSelector(labels) : () => true;
    const fields = request.query.get('fieldSelector');
    const fieldTest = fields ? fieldSelector(fields, info.kind) : () => true;
    return (o) => (request.namespace === undefined || namespaceOf(o) === request.namespace) && labelTest(obj(metaOf(o).labels) as Record<string, string>) && fieldTest(o);
  };

  interface Watcher {
    info: ResourceInfo;
    request: RequestInfo;
    res: ServerResponse;
    keeps: (o: Raw) => boolean;
    table: string | undefined;
    bookmarks: boolean;
    timer?: NodeJS.Timeout;
  }
  const watchers = new Set<Watcher>();

  const emit = (w: Watcher, type: string, object: Raw): void => {
    if (w.res.destroyed || w.res.writableEnded) return;
    const sent = w.table && type !== 'ERROR' && type !== 'BOOKMARK' ? toTable([object], w.info, w.request, w.table, { resourceVersion: str(metaOf(object).resourceVersion) }) : object;
    w.res.write(`${JSON.stringify({ type, object: sent })}\n`);
  };

  const endWatch = (w: Watcher): void => {
    watchers.delete(w);
    if (w.timer) clearTimeout(w.timer);
    if (!w.res.destroyed && !w.res.writableEnded) w.res.end();
  };

  /** A watch: 410 for a resourceVersion older than the history; else 200, chunked, one JSON event per line. */
  const startWatch = (request: RequestInfo, res: ServerResponse, entry: LoggedRequest, accept: string | undefined): void => {
    const info = request.resource!;
    const keeps = selection(info, request);
    const from = request.query.get('resourceVersion') ?? '';
    const since = from === '' || from === '0' ? undefined : Number(from);
    if (since !== undefined && (!Number.isInteger(since) || since < world.oldestWatchable)) {
      return send(res, entry, 410, status(410, 'Expired', `too old resource version: ${from} (${world.oldestWatchable})`));
    }
    entry.status = 200;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    // The answer starts now, as the API server's does, not with the first event.
    res.flushHeaders();
    const w: Watcher = { info, request, res, keeps, table: wantsTable(accept), bookmarks: ['true', '1'].includes(request.query.get('allowWatchBookmarks') ?? '') };
    watchers.add(w);
    res.on('close', () => endWatch(w));
    // No resourceVersion: the current state first, as ADDED events (as the API server does).
    if (since === undefined) for (const o of world.all(info.name)) if (keeps(o)) emit(w, 'ADDED', o);
    if (since !== undefined) for (const h of world.history) if (h.rv > since && h.resource === info.name && keeps(h.object)) emit(w, h.type, h.object);
    const seconds = Number(request.query.get('timeoutSeconds') ?? NaN);
    if (Number.isFinite(seconds) && seconds > 0) w.timer = setTimeout(() => endWatch(w), seconds * 1000);
  };

  /** Apply a change to the world and send it to the watches that see it. */
  const publish = (resource: string, type: WatchEventType, object: Raw): Raw => {
    const entry = world.change(resource, type, object);
    for (const w of watchers) if (w.info.name === resource && w.keeps(entry.object)) emit(w, type, entry.object);
    return entry.object;
  };

  const resourceOfKind = (kind: string): ResourceInfo => {
    const info = RESOURCES.find((r) => r.kind === kind && !r.name.includes('/'));
    if (!info) throw new Error(`the test API server does not serve kind ${kind}`);
    return info;
  };

  const route = (request: RequestInfo, user: string, accept: string | undefined): [number, unknown] => {
    switch (request.special) {
      case 'version':
        return [200, { major: '1', minor: '32', gitVersion: 'v1.32.4', gitCommit: '59526cd4867447956156ae3a602fcbac10a2c335', gitTreeState: 'clean', buildDate: '2025-04-22T16:02:27Z', goVersion: 'go1.23.6', compiler: 'gc', platform: 'linux/amd64' }];
      case 'api':
        return [200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }] }];
      case 'apis':
        return [200, { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map(apiGroup) }];
      case 'group':
        return [200, { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(request.group!) }];
      case 'resources':
        return [200, resourceList(request.group ?? '', request.groupVersion!)];
      case 'unknown':
        return [404, NO_SUCH_RESOURCE];
    }
    const info = request.resource!;
    if (faultForbids(request)) return [403, forbidden(info, request, user)];
    if (request.verb === 'watch') return [405, status(405, 'MethodNotAllowed', `${info.name} cannot be watched`)];
    if (info.name === 'pods/log') return podLog(request);
    const table = wantsTable(accept);
    if (request.verb === 'get') {
      const found = world.find(info.name, request.namespace, request.name!);
      if (!found) return [404, notFound(info, request.name!)];
      return [200, table ? toTable([found], info, request, table, {}) : found];
    }
    return [200, listObjects(info, request, table)];
  };

  const faultForbids = (request: RequestInfo): boolean =>
    (faults.forbidden ?? []).some((rule) => (typeof rule === 'string' ? request.resource?.name === rule : matches(rule, request)));

  const listObjects = (info: ResourceInfo, request: RequestInfo, table: string | undefined): unknown => {
    const { query } = request;
    let items = world.all(info.name).filter((o) => request.namespace === undefined || namespaceOf(o) === request.namespace);
    const labels = query.get('labelSelector');
    if (labels) {
      const test = labelSelector(labels);
      items = items.filter((o) => test(obj(metaOf(o).labels) as Record<string, string>));
    }
    const fields = query.get('fieldSelector');
    if (fields) items = items.filter(fieldSelector(fields, info.kind));

    let start = 0;
    const continueToken = query.get('continue');
    if (continueToken) {
      if (expireLeft > 0 || !issuedTokens.has(continueToken)) {
        if (expireLeft > 0) expireLeft--;
        throw new GoneError();
      }
      const decoded = JSON.parse(Buffer.from(continueToken, 'base64').toString('utf8')) as { start: string };
      const after = decoded.start.replace(/\u0000$/, '');
      start = items.findIndex((o) => keyOf(o) >= after);
      if (start < 0) start = items.length;
    }
    const requested = Number(query.get('limit') ?? 0);
    let limit = Number.isFinite(requested) && requested > 0 ? Math.floor(requested) : Infinity;
    if (faults.maxPageSize) limit = Math.min(limit, faults.maxPageSize);
    const page = items.slice(start, start + limit);
    const metadata: Raw = { resourceVersion: world.resourceVersion };
    const next = items[start + page.length];
    if (next) {
      const tokenText = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(world.resourceVersion), start: `${keyOf(next)}\u0000` })).toString('base64');
      issuedTokens.add(tokenText);
      metadata.continue = tokenText;
      if (!labels && !fields) metadata.remainingItemCount = items.length - start - page.length;
    }
    if (table) return toTable(page, info, request, table, metadata);
    const apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
    // A list's items carry no kind / apiVersion on the wire; kubectl adds them back for -o json.
    return { kind: `${info.kind}List`, apiVersion, metadata, items: page.map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest) };
  };

  const toTable = (items: Raw[], info: ResourceInfo, request: RequestInfo, version: string, metadata: Raw): Raw => {
    const printer = PRINTERS[info.kind] ?? { columns: [NAME_COLUMN, col('Age')], cells: (o: Raw, since: (t: unknown) => string) => [nameOf(o), since(metaOf(o).creationTimestamp)] };
    const at = now();
    const since = (t: unknown): string => {
      const ms = Date.parse(str(t));
      return Number.isFinite(ms) ? humanDuration(at - ms) : '<unknown>';
    };
    const include = request.query.get('includeObject') ?? 'Metadata';
    return {
      kind: 'Table',
      apiVersion: `meta.k8s.io/${version}`,
      metadata: { resourceVersion: world.resourceVersion, ...metadata },
      columnDefinitions: printer.columns,
      rows: items.map((o) => {
        const row: Raw = { cells: printer.cells(o, since, at) };
        if (include === 'Object') row.object = o;
        else if (include !== 'None') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: metaOf(o) };
        return row;
      }),
    };
  };

  const podLog = (request: RequestInfo): [number, unknown] => {
    const pods = RESOURCES.find((r) => r.name === 'pods')!;
    const pod = world.find('pods', request.namespace, request.name!);
    if (!pod) return [404, notFound(pods, request.name!)];
    const podName = nameOf(pod);
    const spec = obj(pod.spec);
    const names = (list: unknown) => (Array.isArray(list) ? list.filter(isObj).map((c) => str(c.name)) : []);
    const containers = names(spec.containers);
    const inits = names(spec.initContainers);
    let container = request.query.get('container') ?? '';
    if (!container) {
      if (containers.length !== 1) {
        return [400, status(400, 'BadRequest', `a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]${inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : ''}`)];
      }
      container = containers[0]!;
    }
    if (!containers.includes(container) && !inits.includes(container)) return [400, status(400, 'BadRequest', `container ${container} is not valid for pod ${podName}`)];
    const st = obj(pod.status);
    const allStatuses = [st.containerStatuses, st.initContainerStatuses].flatMap((l) => (Array.isArray(l) ? l.filter(isObj) : []));
    const cs = allStatuses.find((c) => c.name === container);
    const previous = ['true', '1'].includes(request.query.get('previous') ?? '');
    if (previous) {
      if (!cs || !isObj(obj(cs.lastState).terminated)) return [400, status(400, 'BadRequest', `previous terminated container "${container}" in pod "${podName}" not found`)];
    } else if (!cs || (!str(cs.containerID) && isObj(obj(cs.state).waiting))) {
      const why = str(obj(obj(cs?.state).waiting).reason) || 'ContainerCreating';
      return [400, status(400, 'BadRequest', `container "${container}" in pod "${podName}" is waiting to start: ${why}`)];
    }
    const ns = namespaceOf(pod);
    const log =
      world.logs.find((l) => l.namespace === ns && l.pod === podName && l.container === container && l.previous === previous) ??
      // A container waiting in a crash loop still serves its last instance's log.
      (!previous && isObj(obj(cs.state).waiting) ? world.logs.find((l) => l.namespace === ns && l.pod === podName && l.container === container && l.previous) : undefined);
    let lines = log?.lines ?? [];
    const tail = Number(request.query.get('tailLines') ?? NaN);
    if (Number.isInteger(tail) && tail >= 0) lines = tail === 0 ? [] : lines.slice(-tail);
    let text = lines.map((l) => `${l}\n`).join('');
    const limitBytes = Number(request.query.get('limitBytes') ?? NaN);
    if (Number.isInteger(limitBytes) && limitBytes > 0) text = Buffer.from(text).subarray(0, limitBytes).toString('utf8');
    return [200, text];
  };

  const resourceList = (group: string, groupVersion: string): Raw => ({
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: RESOURCES.filter((r) => r.group === group).map((r) => ({
      name: r.name,
      singularName: r.singularName,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    })),
  });

  const server = https.createServer({ key: keys.serverKey, cert: keys.serverCert, ca: keys.caCert, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(status(500, 'InternalError', String(error))));
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => undefined);
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;

  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const clientKeyData = b64(keys.clientKey);
  const kubeconfigText = (server: string, currentContext: string) =>
    yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      preferences: {},
      'current-context': currentContext,
      clusters: [{ name: 'kdiag-test', cluster: { server, 'certificate-authority-data': b64(keys.caCert) } }],
      users: [
        { name: 'kdiag-token', user: { token } },
        { name: 'kdiag-cert', user: { 'client-certificate-data': b64(keys.clientCert), 'client-key-data': clientKeyData } },
        { name: 'kdiag-revoked', user: { token: revokedToken } },
      ],
      contexts: ['kdiag-token', 'kdiag-cert', 'kdiag-revoked'].map((name) => ({ name, context: { cluster: 'kdiag-test', user: name, namespace } })),
    });
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfigText(url, 'kdiag-token'), { mode: 0o600 });
  let variants = 0;

  return {
    url,
    port,
    kubeconfigPath,
    requests,
    pki: keys,
    secrets: { token, revokedToken, clientKeyPem: keys.clientKey, clientKeyData },
    setFaults(next?: Faults) {
      faults = next ?? {};
      counters = new Map();
      expireLeft = faults.expireContinue ?? 0;
    },
    get resourceVersion() {
      return world.resourceVersion;
    },
    get watching() {
      return watchers.size;
    },
    update(kind, namespace, name, mutate) {
      const info = resourceOfKind(kind);
      const found = world.find(info.name, namespace, name);
      if (!found) throw new Error(`no ${kind} ${namespace ?? ''}/${name} in the test world`);
      const copy = structuredClone(found);
      const next = mutate(copy) ?? copy;
      return publish(info.name, 'MODIFIED', next);
    },
    add(object) {
      const info = resourceOfKind(str(object.kind));
      const apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
      if (world.find(info.name, namespaceOf(object) || undefined, nameOf(object))) throw new Error(`${str(object.kind)} ${keyOf(object)} is already in the test world`);
      return publish(info.name, 'ADDED', { ...structuredClone(object), apiVersion, kind: info.kind });
    },
    remove(kind, namespace, name) {
      const info = resourceOfKind(kind);
      const found = world.find(info.name, namespace, name);
      if (!found) throw new Error(`no ${kind} ${namespace ?? ''}/${name} in the test world`);
      publish(info.name, 'DELETED', found);
    },
    expireWatches() {
      const expired = world.oldestWatchable;
      world.compact();
      for (const w of [...watchers]) {
        emit(w, 'ERROR', status(410, 'Expired', `too old resource version: ${expired} (${world.oldestWatchable})`));
        endWatch(w);
      }
    },
    dropWatches() {
      for (const w of [...watchers]) {
        watchers.delete(w);
        if (w.timer) clearTimeout(w.timer);
        w.res.socket?.destroy();
      }
    },
    bookmark() {
      for (const w of watchers) {
        if (w.bookmarks) emit(w, 'BOOKMARK', { kind: w.info.kind, apiVersion: w.info.group ? `${w.info.group}/${w.info.version}` : w.info.version, metadata: { resourceVersion: world.resourceVersion } });
      }
    },
    writeKubeconfig(variant) {
      const file = path.join(dir, variant.name ?? `kubeconfig-${++variants}`);
      writeFileSync(file, kubeconfigText(variant.server ?? url, variant.currentContext ?? 'kdiag-token'), { mode: 0o600 });
      return file;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const w of [...watchers]) endWatch(w);
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await done;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function apiGroup(name: string): Raw {
  const groupVersion = { groupVersion: `${name}/v1`, version: 'v1' };
  return { name, versions: [groupVersion], preferredVersion: groupVersion };
}
