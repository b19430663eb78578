import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generatePki } from '../test/support/pki.js';
import type { Raw, SyntheticCluster } from './cluster.js';

/**
 * The benchmark's loopback API server: HTTPS with a throw-away CA and a bearer token, serving a
 * SyntheticCluster with the read API kdiag, the floor script and kubectl use (discovery, get, list
 * with limit/continue, events by involvedObject.name, pod logs). Each page is made from the
 * generator on first request and kept serialised, so later runs measure the client, not the
 * server; one copy of the cluster's JSON at most.
 */

export interface BenchServer {
  url: string;
  kubeconfigPath: string;
  token: string;
  caPath: string;
  /** Serve this cluster (drops the previous one's pages). */
  serve(cluster: SyntheticCluster): void;
  /** Delay every answer by this many milliseconds. */
  latencyMs: number;
  /** Requests since the last reset: path and query, when they arrived and when they were answered. */
  log: { path: string; arrived: number; answered: number }[];
  resetLog(): void;
  close(): Promise<void>;
}

interface Resource {
  group: string;
  name: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
}
const RESOURCES: Resource[] = [
  { group: '', name: 'pods', kind: 'Pod', namespaced: true, shortNames: ['po'] },
  { group: '', name: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  { group: '', name: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'] },
  { group: '', name: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'] },
  { group: 'apps', name: 'replicasets', kind: 'ReplicaSet', namespaced: true, shortNames: ['rs'] },
  { group: 'apps', name: 'deployments', kind: 'Deployment', namespaced: true, shortNames: ['deploy'] },
  { group: 'apps', name: 'statefulsets', kind: 'StatefulSet', namespaced: true, shortNames: ['sts'] },
  { group: 'apps', name: 'daemonsets', kind: 'DaemonSet', namespaced: true, shortNames: ['ds'] },
  { group: 'batch', name: 'jobs', kind: 'Job', namespaced: true },
  { group: 'batch', name: 'cronjobs', kind: 'CronJob', namespaced: true, shortNames: ['cj'] },
];
const VERBS = ['get', 'list', 'watch'];

/** A list the server can page through: how many items, and item i. */
interface Collection {
  count: number;
  item(i: number): Raw;
}

function status(code: number, reason: string, message: string): Raw {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export async function startBenchServer(): Promise<BenchServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kdiag-bench-'));
  const keys = await generatePki(dir);
  const token = `bench-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  let cluster: SyntheticCluster | undefined;
  let pages = new Map<string, Buffer>();
  let byName: Map<string, number> | undefined;
  const workloadCache = new Map<string, Raw[]>();
  const sockets = new Set<Socket>();

  const api: BenchServer = {
    url: '',
    kubeconfigPath: path.join(dir, 'kubeconfig'),
    token,
    caPath: path.join(dir, 'ca.crt'),
    latencyMs: 0,
    log: [],
    serve(next) {
      cluster = next;
      pages = new Map();
      byName = undefined;
      byNameOrder.clear();
      workloadCache.clear();
    },
    resetLog() {
      api.log = [];
    },
    async close() {
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await done;
      rmSync(dir, { recursive: true, force: true });
    },
  };

  const namespaceIndex = (ns: string): number => cluster!.spec.namespaces.indexOf(ns);

  /**
   * A namespace's pods by name, as the API server lists them (in etcd key order: namespace, then
   * name); their events, named `<pod>.<hex>`, in their pods' order (as the API server would list
   * them here: no pod name of this cluster is another's followed by '-', which sorts before '.').
   */
  const byNameOrder = new Map<number, number[]>();
  const podOrder = (n: number): number[] => {
    let order = byNameOrder.get(n);
    if (!order) {
      const c = cluster!;
      const names = Array.from({ length: c.spec.podsPerNamespace }, (_, i) => c.podName(c.place(n, i)));
      order = names.map((_, i) => i).sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
      byNameOrder.set(n, order);
    }
    return order;
  };
  /** Pods and events of one namespace (or of all, with ns undefined), in namespace-major order. */
  const podCollection = (ns: string | undefined): Collection => {
    const c = cluster!;
    const per = c.spec.podsPerNamespace;
    if (ns === undefined) return { count: c.totalPods, item: (i) => c.pod(Math.floor(i / per), podOrder(Math.floor(i / per))[i % per]!) };
    const n = namespaceIndex(ns);
    return { count: n < 0 ? 0 : per, item: (i) => c.pod(n, podOrder(n)[i]!) };
  };
  const eventCollection = (ns: string | undefined): Collection => {
    const c = cluster!;
    const per = c.spec.podsPerNamespace;
    const k = c.spec.eventsPerPod;
    if (ns === undefined) return { count: c.totalPods * k, item: (i) => c.event(Math.floor(Math.floor(i / k) / per), podOrder(Math.floor(Math.floor(i / k) / per))[Math.floor(i / k) % per]!, i % k) };
    const n = namespaceIndex(ns);
    return { count: n < 0 ? 0 : per * k, item: (i) => c.event(n, podOrder(n)[Math.floor(i / k)]!, i % k) };
  };
  const workloads = (kind: string, ns: string | undefined): Raw[] => {
    const key = `${kind}/${ns ?? ''}`;
    let list = workloadCache.get(key);
    if (!list) {
      const c = cluster!;
      const indexes = ns === undefined ? c.spec.namespaces.map((_, i) => i) : [namespaceIndex(ns)].filter((i) => i >= 0);
      list = indexes.flatMap((i) => c.workloads(i, kind));
      workloadCache.set(key, list);
    }
    return list;
  };
  const collection = (resource: Resource, ns: string | undefined): Collection => {
    const c = cluster!;
    switch (resource.name) {
      case 'pods':
        return podCollection(ns);
      case 'events':
        return eventCollection(ns);
      case 'nodes':
        return { count: c.spec.nodes, item: (i) => c.node(i) };
      case 'namespaces':
        return { count: c.spec.namespaces.length, item: (i) => namespaceObject(c.spec.namespaces[i]!) };
      case 'daemonsets':
        return { count: 0, item: () => ({}) };
      default: {
        const list = workloads(resource.kind, ns);
        return { count: list.length, item: (i) => list[i]! };
      }
    }
  };
  const namespaceObject = (name: string): Raw => ({ metadata: { name, uid: `ns-${name}`, resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z', labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });

  /** Where a pod is, by namespace/name (built on first use: only single-pod reads need it). */
  const podIndex = (ns: string, name: string): number | undefined => {
    const c = cluster!;
    if (!byName) {
      byName = new Map();
      for (let i = 0; i < c.totalPods; i++) {
        const p = c.placeGlobal(i);
        byName.set(`${p.namespace}/${c.podName(p)}`, i);
      }
    }
    return byName.get(`${ns}/${name}`);
  };

  const listPage = (resource: Resource, ns: string | undefined, query: URLSearchParams): Buffer => {
    const limitParam = Number(query.get('limit') ?? 0);
    const cont = query.get('continue') ?? '';
    const key = `${resource.name}|${ns ?? ''}|${limitParam}|${cont}`;
    const cached = pages.get(key);
    if (cached) return cached;
    const all = collection(resource, ns);
    const start = cont ? Number(JSON.parse(Buffer.from(cont, 'base64').toString('utf8')).start) : 0;
    const limit = limitParam > 0 ? limitParam : all.count;
    const end = Math.min(all.count, start + limit);
    const metadata: Raw = { resourceVersion: '123456' };
    if (end < all.count) {
      metadata.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 123456, start: end })).toString('base64');
      metadata.remainingItemCount = all.count - end;
    }
    // Serialised piecewise: the page's objects never exist all at once.
    const version = resource.group ? `${resource.group}/v1` : 'v1';
    const parts: string[] = [`{"kind":"${resource.kind}List","apiVersion":"${version}","metadata":${JSON.stringify(metadata)},"items":[`];
    for (let i = start; i < end; i++) parts.push((i > start ? ',' : '') + JSON.stringify(all.item(i)));
    parts.push(']}');
    const body = Buffer.from(parts.join(''));
    pages.set(key, body);
    return body;
  };

  const route = (url: URL): [number, Buffer | string | Raw, string?] => {
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const c = cluster;
    if (!c) return [503, status(503, 'ServiceUnavailable', 'no cluster')];
    if (url.pathname === '/version') return [200, { major: '1', minor: '32', gitVersion: 'v1.32.4', platform: 'linux/amd64' }];
    if (url.pathname === '/api') return [200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: api.url.replace('https://', '') }] }];
    const groupVersion = (g: string) => ({ name: g, versions: [{ groupVersion: `${g}/v1`, version: 'v1' }], preferredVersion: { groupVersion: `${g}/v1`, version: 'v1' } });
    if (url.pathname === '/apis') return [200, { kind: 'APIGroupList', apiVersion: 'v1', groups: ['apps', 'batch'].map(groupVersion) }];
    let group: string;
    let rest: string[];
    if (segments[0] === 'api' && segments[1] === 'v1') {
      group = '';
      rest = segments.slice(2);
    } else if (segments[0] === 'apis' && (segments[1] === 'apps' || segments[1] === 'batch')) {
      group = segments[1];
      if (segments.length === 2) return [200, { kind: 'APIGroup', apiVersion: 'v1', ...groupVersion(group) }];
      rest = segments.slice(3);
    } else return [404, status(404, 'NotFound', 'the server could not find the requested resource')];
    if (rest.length === 0) {
      return [
        200,
        {
          kind: 'APIResourceList',
          apiVersion: 'v1',
          groupVersion: group ? `${group}/v1` : 'v1',
          resources: RESOURCES.filter((r) => r.group === group).map((r) => ({ name: r.name, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: VERBS, ...(r.shortNames ? { shortNames: r.shortNames } : {}) })),
        },
      ];
    }
    let ns: string | undefined;
    let resourceName: string;
    let name: string | undefined;
    let sub: string | undefined;
    if (group === '' && rest[0] === 'namespaces' && rest.length <= 2) {
      [resourceName, name] = ['namespaces', rest[1]];
    } else if (rest[0] === 'namespaces') {
      [ns, resourceName, name, sub] = [rest[1], rest[2]!, rest[3], rest[4]];
    } else {
      [resourceName, name] = [rest[0]!, rest[1]];
    }
    const resource = RESOURCES.find((r) => r.group === group && r.name === resourceName);
    if (!resource) return [404, status(404, 'NotFound', 'the server could not find the requested resource')];
    const notFound = (): [number, Raw] => [404, status(404, 'NotFound', `${resource.name} "${name}" not found`)];

    if (name === undefined) {
      const field = url.searchParams.get('fieldSelector');
      if (field) {
        // Only what single-pod reads use: events about one object.
        const match = /(?:^|,)involvedObject\.name=([^,]+)/.exec(field);
        if (resource.name !== 'events' || !match || ns === undefined) return [400, status(400, 'BadRequest', `unsupported field selector ${field}`)];
        const at = podIndex(ns, match[1]!);
        const items = at === undefined ? [] : Array.from({ length: c.spec.eventsPerPod }, (_, k) => c.event(Math.floor(at / c.spec.podsPerNamespace), at % c.spec.podsPerNamespace, k));
        return [200, { kind: 'EventList', apiVersion: 'v1', metadata: { resourceVersion: '123456' }, items }];
      }
      return [200, listPage(resource, ns, url.searchParams)];
    }
    if (resource.name === 'namespaces') return c.spec.namespaces.includes(name) ? [200, { kind: 'Namespace', apiVersion: 'v1', ...namespaceObject(name) }] : notFound();
    if (resource.name === 'nodes') {
      const k = Number(/^node-(\d+)$/.exec(name)?.[1] ?? NaN);
      return Number.isInteger(k) && k < c.spec.nodes ? [200, { kind: 'Node', apiVersion: 'v1', ...c.node(k) }] : notFound();
    }
    if (resource.name === 'pods') {
      const at = ns === undefined ? undefined : podIndex(ns, name);
      if (at === undefined) return notFound();
      const place = c.placeGlobal(at);
      if (sub === 'log') return [200, c.log(place, Number(url.searchParams.get('tailLines') ?? 20)), 'text/plain'];
      return [200, { kind: 'Pod', apiVersion: 'v1', ...c.pod(Math.floor(at / c.spec.podsPerNamespace), at % c.spec.podsPerNamespace) }];
    }
    const found = ns === undefined ? undefined : workloads(resource.kind, ns).find((o) => (o.metadata as Raw).name === name);
    return found ? [200, { kind: resource.kind, apiVersion: group ? `${group}/v1` : 'v1', ...found }] : notFound();
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const entry = { path: req.url ?? '/', arrived: performance.timeOrigin + performance.now(), answered: 0 };
    api.log.push(entry);
    const send = (code: number, body: Buffer | string | Raw, type = 'application/json') => {
      const data = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const write = () => {
        if (res.destroyed) return;
        res.writeHead(code, { 'Content-Type': type, 'Content-Length': data.length });
        res.end(data, () => {
          entry.answered = performance.timeOrigin + performance.now();
        });
      };
      if (api.latencyMs > 0) setTimeout(write, api.latencyMs);
      else write();
    };
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
    if (req.method !== 'GET') return send(405, status(405, 'MethodNotAllowed', 'read-only'));
    try {
      const [code, body, type] = route(new URL(req.url ?? '/', 'https://127.0.0.1'));
      send(code, body, type);
    } catch (error) {
      send(500, status(500, 'InternalError', String(error)));
    }
  };

  const server = https.createServer({ key: keys.serverKey, cert: keys.serverCert }, handle);
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  api.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeFileSync(api.caPath, keys.caCert);
  const kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    'current-context: bench',
    'clusters:',
    `- name: bench`,
    `  cluster: {server: "${api.url}", certificate-authority-data: ${Buffer.from(keys.caCert).toString('base64')}}`,
    'users:',
    `- name: bench`,
    `  user: {token: ${token}}`,
    'contexts:',
    `- name: bench`,
    `  context: {cluster: bench, user: bench, namespace: default}`,
    '',
  ].join('\n');
  writeFileSync(api.kubeconfigPath, kubeconfig, { mode: 0o600 });
  return api;
}
