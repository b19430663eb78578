import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { loadKubeConfig } from '../src/kube/config.js';
import { DEFAULT_FETCH, Fetch, fetchNamespace, fetchPod } from '../src/kube/fetch.js';
import { KubeHttp } from '../src/kube/http.js';
import { ClusterError, NotFoundError } from '../src/model/errors.js';
import { toSnapshotFile } from '../src/snapshot/file.js';
import { ROOT } from './support/fixtures.js';

/**
 * The fetcher over nock: which GETs it sends (exact paths and queries), how it pages, and what it
 * makes of refusals and missing objects. The KubeHttp is built the way the CLI builds it, from a
 * kubeconfig file, so the bearer token and TLS options are client-node's.
 */

const SERVER = 'https://kube.test:6443';
const TOKEN = 'fetch-test-token-5d1c9e';
const PLANTED = 'kdiag-e2e-planted-env-9Qx7Lw3Zr5';
const BAD_POD = 'web-7d9f8c6b5-abcde';

type Raw = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } };
const world = (JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/live-world.json'), 'utf8')) as { items: Raw[] }).items;

/** Fixture objects of a kind (in a namespace) as a List carries them: in key order, without kind and apiVersion. */
function items(kind: string, namespace?: string): Record<string, unknown>[] {
  return world
    .filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace))
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))
    .map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
}
function object(kind: string, name: string): Raw {
  return world.find((o) => o.kind === kind && o.metadata.name === name)!;
}
function list(kind: string, page: Record<string, unknown>[], metadata: Record<string, unknown> = {}) {
  return { kind: `${kind}List`, apiVersion: 'v1', metadata: { resourceVersion: '48200', ...metadata }, items: page };
}
function forbidden(message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Forbidden', details: { kind: 'nodes' }, code: 403 };
}
const notFound = (name: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `pods "${name}" not found`, reason: 'NotFound', details: { name, kind: 'pods' }, code: 404 });

const WEB_LOG = `starting web 1.14.2 on :8080\ndb config: host=db.prod.svc password=${PLANTED}\nheap 127Mi of 128Mi\n`;

const dir = mkdtempSync(path.join(tmpdir(), 'kdiag-fetch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => nock.cleanAll());

/** A KubeHttp from a kubeconfig file, as the CLI makes one. */
function kubeHttp(): KubeHttp {
  const file = path.join(dir, 'kubeconfig');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
current-context: test
clusters:
- name: kube
  cluster: { server: ${SERVER}, insecure-skip-tls-verify: true }
users:
- name: reader
  user: { token: ${TOKEN} }
contexts:
- name: test
  context: { cluster: kube, user: reader, namespace: prod }
`,
  );
  const loaded = loadKubeConfig({ kubeconfig: file }, {});
  return new KubeHttp(loaded.kc, { timeoutMs: 5000, retries: 2 });
}

/** The API, answering only requests that carry the kubeconfig's token. */
const api = () => nock(SERVER, { reqheaders: { authorization: `Bearer ${TOKEN}` } });

const WORKLOADS: [string, string, string][] = [
  ['apps', 'replicasets', 'ReplicaSet'],
  ['apps', 'deployments', 'Deployment'],
  ['apps', 'statefulsets', 'StatefulSet'],
  ['apps', 'daemonsets', 'DaemonSet'],
  ['batch', 'jobs', 'Job'],
  ['batch', 'cronjobs', 'CronJob'],
];

/** The namespace's events and workload lists, one page each. */
function namespaceLists(scope: nock.Scope, limit: string): void {
  scope.get('/api/v1/namespaces/prod/events').query({ limit }).reply(200, list('Event', items('Event', 'prod')));
  for (const [group, resource, kind] of WORKLOADS) {
    scope.get(`/apis/${group}/v1/namespaces/prod/${resource}`).query({ limit }).reply(200, list(kind, items(kind, 'prod')));
  }
}

function nodesAndLogs(scope: nock.Scope): void {
  scope.get('/api/v1/nodes/node-a').reply(200, object('Node', 'node-a'));
  scope.get('/api/v1/nodes/node-b').reply(200, object('Node', 'node-b'));
  scope.get(`/api/v1/namespaces/prod/pods/${BAD_POD}/log`).query({ container: 'web', previous: 'true', tailLines: '20' }).reply(200, WEB_LOG, { 'Content-Type': 'text/plain' });
  scope.get('/api/v1/namespaces/prod/pods/api-5c8d7b9f4-x2k9p/log').query({ container: 'api', previous: 'true', tailLines: '20' }).reply(200, 'Error: cannot connect to redis\n', { 'Content-Type': 'text/plain' });
}

describe('fetchNamespace', () => {
  it('pages through the pods with limit and continue, then reads nodes, owners and log tails', async () => {
    const pods = items('Pod', 'prod');
    const scope = api();
    scope.get('/api/v1/namespaces/prod/pods').query({ limit: '3' }).reply(200, list('Pod', pods.slice(0, 3), { continue: 'page-2-token', remainingItemCount: 2 }));
    scope.get('/api/v1/namespaces/prod/pods').query({ limit: '3', continue: 'page-2-token' }).reply(200, list('Pod', pods.slice(3)));
    namespaceLists(scope, '3');
    nodesAndLogs(scope);

    const snapshot = await fetchNamespace(kubeHttp(), 'prod', 'test', { ...DEFAULT_FETCH, pageSize: 3 });
    expect(scope.pendingMocks()).toEqual([]);
    expect(snapshot.scope).toEqual({ kind: 'Namespace', namespace: 'prod', name: null });
    expect(snapshot.context).toBe('test');
    expect(snapshot.pods.map((p) => p.metadata.name)).toEqual(['api-5c8d7b9f4-x2k9p', 'migrate-8xk2d', BAD_POD, 'web-7d9f8c6b5-fghij', 'worker']);
    expect(snapshot.nodes.map((n) => n.metadata.name).sort()).toEqual(['node-a', 'node-b']);
    expect(snapshot.owners.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Deployment/api', 'Deployment/web', 'Job/migrate', 'ReplicaSet/api-5c8d7b9f4', 'ReplicaSet/web-7d9f8c6b5']);
    expect(snapshot.events).toHaveLength(items('Event', 'prod').length);
    expect(snapshot.logs.map((l) => `${l.pod}/${l.container} previous=${l.previous}`)).toEqual(['api-5c8d7b9f4-x2k9p/api previous=true', `${BAD_POD}/web previous=true`]);
    expect(snapshot.accessErrors).toEqual([]);
  });

  it('keeps env values out of the snapshot and masks them in log lines', async () => {
    const scope = api();
    scope.get('/api/v1/namespaces/prod/pods').query({ limit: '500' }).reply(200, list('Pod', items('Pod', 'prod')));
    namespaceLists(scope, '500');
    nodesAndLogs(scope);

    const snapshot = await fetchNamespace(kubeHttp(), 'prod', 'test');
    const web = snapshot.logs.find((l) => l.pod === BAD_POD)!;
    expect(web.lines).toEqual(['starting web 1.14.2 on :8080', 'db config: host=db.prod.svc password=[env value masked]', 'heap 127Mi of 128Mi']);
    const file = JSON.stringify(toSnapshotFile(snapshot));
    expect(file).not.toContain(PLANTED);
    expect(file).not.toContain('last-applied-configuration');
    // The env entries are kept by name and reference only.
    const env = snapshot.pods.find((p) => p.metadata.name === BAD_POD)!.spec.containers[0]!.env;
    expect(env).toEqual([{ name: 'DATABASE_PASSWORD' }, { name: 'LOG_LEVEL' }, { name: 'SESSION_KEY', valueFrom: { secretKeyRef: { name: 'web-secrets', key: 'session-key' } } }]);
  });

  it('asks for the next page before projecting the page it has, and lets go of each raw object once projected', async () => {
    const pages: Record<string, { metadata: Record<string, string>; items: { metadata: { name: string } }[] }> = {
      first: { metadata: { continue: 'p2' }, items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }] },
      p2: { metadata: { resourceVersion: '7' }, items: [{ metadata: { name: 'c' } }] },
    };
    const asked: string[] = [];
    const http = {
      server: SERVER,
      getJson: async (_path: string, query: Record<string, unknown>) => {
        const page = String(query.continue ?? 'first');
        asked.push(page);
        return pages[page];
      },
    } as unknown as KubeHttp;
    const fetch = new Fetch(http, { kind: 'Namespace', namespace: 'prod', name: null }, 'test', { ...DEFAULT_FETCH, pageSize: 2 });
    const seen: { name: string; asked: number; rawLeft: number }[] = [];
    const names = await fetch.list('pods', 'prod', (raw) => {
      const name = (raw.metadata as { name: string }).name;
      seen.push({ name, asked: asked.length, rawLeft: pages.first!.items.filter(Boolean).length });
      return name;
    });
    expect(names).toEqual(['a', 'b', 'c']);
    // Page 2 was asked for before page 1's items were projected; each projected item left the page.
    expect(seen).toEqual([
      { name: 'a', asked: 2, rawLeft: 1 },
      { name: 'b', asked: 2, rawLeft: 0 },
      { name: 'c', asked: 2, rawLeft: 0 },
    ]);
    expect(fetch.listVersions.get('pods')).toBe('7');
  });

  it('restarts a list once when its continue token has expired (410)', async () => {
    const pods = items('Pod', 'prod');
    const expired = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'The provided continue parameter is too old', reason: 'Expired', code: 410 };
    const scope = api();
    scope.get('/api/v1/namespaces/prod/pods').query({ limit: '3' }).times(2).reply(200, list('Pod', pods.slice(0, 3), { continue: 'old-token' }));
    scope.get('/api/v1/namespaces/prod/pods').query({ limit: '3', continue: 'old-token' }).reply(410, expired);
    scope.get('/api/v1/namespaces/prod/pods').query({ limit: '3', continue: 'old-token' }).reply(200, list('Pod', pods.slice(3)));
    namespaceLists(scope, '3');
    nodesAndLogs(scope);

    const snapshot = await fetchNamespace(kubeHttp(), 'prod', 'test', { ...DEFAULT_FETCH, pageSize: 3 });
    expect(scope.pendingMocks()).toEqual([]);
    expect(snapshot.pods).toHaveLength(5);
    expect(new Set(snapshot.pods.map((p) => p.metadata.name)).size).toBe(5);
  });

  it('turns a 401 into a ClusterError (exit 3) that ends the read', async () => {
    api().get(/.*/).query(true).times(20).reply(401, '');
    const read = fetchNamespace(kubeHttp(), 'prod', 'test');
    await expect(read).rejects.toBeInstanceOf(ClusterError);
    await expect(read).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/^unauthorized \(401\) by https:\/\/kube\.test:6443: the credentials of context "test" were refused/) });
  });
});

describe('fetchPod', () => {
  it('reads one pod, its events, node, owner chain and log; a 403 on nodes becomes an access error', async () => {
    const nodeMessage = 'nodes "node-a" is forbidden: User "system:serviceaccount:prod:kdiag" cannot get resource "nodes" in API group "" at the cluster scope';
    const scope = api();
    scope.get(`/api/v1/namespaces/prod/pods/${BAD_POD}`).reply(200, object('Pod', BAD_POD));
    scope.get('/api/v1/nodes/node-a').reply(403, forbidden(nodeMessage));
    scope.get('/apis/apps/v1/namespaces/prod/replicasets/web-7d9f8c6b5').reply(200, object('ReplicaSet', 'web-7d9f8c6b5'));
    scope.get('/apis/apps/v1/namespaces/prod/deployments/web').reply(200, object('Deployment', 'web'));
    scope.get(`/api/v1/namespaces/prod/pods/${BAD_POD}/log`).query({ container: 'web', previous: 'true', tailLines: '20' }).reply(200, WEB_LOG);
    for (const name of [BAD_POD, 'web-7d9f8c6b5', 'web']) {
      const events = world.filter((o) => o.kind === 'Event' && (o as { involvedObject?: { name?: string } }).involvedObject?.name === name);
      scope.get('/api/v1/namespaces/prod/events').query({ fieldSelector: `involvedObject.name=${name}`, limit: '500' }).reply(200, list('Event', events));
    }

    const snapshot = await fetchPod(kubeHttp(), 'prod', BAD_POD, 'test');
    expect(scope.pendingMocks()).toEqual([]);
    expect(snapshot.scope).toEqual({ kind: 'Pod', namespace: 'prod', name: BAD_POD });
    expect(snapshot.pods.map((p) => p.metadata.name)).toEqual([BAD_POD]);
    expect(snapshot.nodes).toEqual([]);
    expect(snapshot.owners.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['ReplicaSet/web-7d9f8c6b5', 'Deployment/web']);
    expect(snapshot.events.map((e) => e.reason).sort()).toEqual(['BackOff', 'Pulled', 'SuccessfulCreate']);
    expect(snapshot.accessErrors).toEqual([{ resource: 'nodes', verb: 'get', namespace: null, name: 'node-a', status: 403, message: nodeMessage }]);
    expect(snapshot.logs[0]!.lines[1]).toBe('db config: host=db.prod.svc password=[env value masked]');
  });

  it('records a refusal met by several reads once', async () => {
    const message = 'events is forbidden: User "system:serviceaccount:prod:kdiag" cannot list resource "events" in API group "" in the namespace "prod"';
    const scope = api();
    scope.get(`/api/v1/namespaces/prod/pods/${BAD_POD}`).reply(200, object('Pod', BAD_POD));
    scope.get('/api/v1/nodes/node-a').reply(200, object('Node', 'node-a'));
    scope.get('/apis/apps/v1/namespaces/prod/replicasets/web-7d9f8c6b5').reply(200, object('ReplicaSet', 'web-7d9f8c6b5'));
    scope.get('/apis/apps/v1/namespaces/prod/deployments/web').reply(200, object('Deployment', 'web'));
    scope.get(`/api/v1/namespaces/prod/pods/${BAD_POD}/log`).query(true).reply(200, WEB_LOG);
    scope.get('/api/v1/namespaces/prod/events').query(true).times(3).reply(403, { ...forbidden(message), details: { kind: 'events' } });

    const snapshot = await fetchPod(kubeHttp(), 'prod', BAD_POD, 'test');
    expect(scope.pendingMocks()).toEqual([]);
    expect(snapshot.accessErrors).toEqual([{ resource: 'events', verb: 'list', namespace: 'prod', status: 403, message }]);
  });

  it('falls back to workload resolution when NAME is not a pod', async () => {
    const scope = api();
    scope.get('/api/v1/namespaces/prod/pods/web').reply(404, notFound('web'));
    scope.get('/api/v1/namespaces/prod/pods').query({ limit: '500' }).reply(200, list('Pod', items('Pod', 'prod')));
    namespaceLists(scope, '500');
    nodesAndLogs(scope);
    scope.get('/api/v1/namespaces/prod/pods/api-5c8d7b9f4-x2k9p/log').query(true).reply(200, 'never read\n'); // not web's pod

    const snapshot = await fetchPod(kubeHttp(), 'prod', 'web', 'test');
    expect(snapshot.scope).toEqual({ kind: 'Pod', namespace: 'prod', name: 'web' });
    expect(snapshot.pods.map((p) => p.metadata.name)).toEqual([BAD_POD, 'web-7d9f8c6b5-fghij']);
    expect(snapshot.owners.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Deployment/web', 'ReplicaSet/web-7d9f8c6b5']);
    expect(snapshot.logs.map((l) => l.pod)).toEqual([BAD_POD]);
    // Only the pods of web had their logs read.
    expect(scope.pendingMocks()).toEqual([expect.stringContaining('api-5c8d7b9f4-x2k9p/log')]);
  });

  it('throws NotFoundError (exit 2) with near names when NAME is neither a pod nor a workload', async () => {
    const scope = api();
    scope.get('/api/v1/namespaces/prod/pods/wbe').reply(404, notFound('wbe'));
    scope.get('/api/v1/namespaces/prod/pods').query({ limit: '500' }).reply(200, list('Pod', items('Pod', 'prod')));
    namespaceLists(scope, '500');

    const read = fetchPod(kubeHttp(), 'prod', 'wbe', 'test');
    await expect(read).rejects.toBeInstanceOf(NotFoundError);
    await expect(read).rejects.toMatchObject({ exitCode: 2, suggestions: ['web'], message: 'pod or workload "wbe" not found in namespace prod; did you mean: web?' });
    expect(scope.pendingMocks()).toEqual([]);
  });

  it('retries a 503 and a reset connection before giving up', async () => {
    const scope = api();
    scope.get('/api/v1/namespaces/prod/pods/worker').reply(503, { kind: 'Status', code: 503, reason: 'ServiceUnavailable', message: 'try again' });
    // nock 14 emits only Error instances (a plain object would never end the request).
    scope.get('/api/v1/namespaces/prod/pods/worker').replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    scope.get('/api/v1/namespaces/prod/pods/worker').reply(200, object('Pod', 'worker'));
    scope.get('/api/v1/namespaces/prod/events').query({ fieldSelector: 'involvedObject.name=worker', limit: '500' }).reply(200, list('Event', []));

    const snapshot = await fetchPod(kubeHttp(), 'prod', 'worker', 'test');
    expect(scope.pendingMocks()).toEqual([]);
    expect(snapshot.pods.map((p) => p.status.phase)).toEqual(['Pending']);
  });
});
