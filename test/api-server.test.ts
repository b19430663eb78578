import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { humanDuration, startApiServer } from './support/api-server.js';
import type { ApiServer } from './support/api-server.js';
import { ROOT } from './support/fixtures.js';
import { direct, onPath, runProgram } from './support/run.js';

/**
 * The test API server must be faithful, or the end-to-end tests prove nothing: kubectl itself reads
 * it here, and the protocol details kdiag relies on (Status objects, 401, pagination, faults) are
 * checked with direct requests.
 */

const FIXTURE = 'test/fixtures/live-world.json';
const world = JSON.parse(readFileSync(path.join(ROOT, FIXTURE), 'utf8')) as { items: { kind: string; metadata: { name: string; namespace?: string } }[] };

let server: ApiServer;
let home: string;

beforeAll(async () => {
  server = await startApiServer({ fixture: FIXTURE });
  home = mkdtempSync(path.join(tmpdir(), 'kdiag-kubectl-home-'));
});

afterEach(() => server.setFaults());

afterAll(async () => {
  await server?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

const hasKubectl = onPath('kubectl');
if (!hasKubectl) console.warn('kubectl is not installed: skipping the tests that read the test API server with kubectl');
const describeKubectl = hasKubectl ? describe : describe.skip;

function kubectl(...args: string[]) {
  // A private HOME: kubectl's discovery cache and config never touch the user's.
  return runProgram('kubectl', ['--kubeconfig', server.kubeconfigPath, ...args], { PATH: process.env.PATH, HOME: home });
}

/** The rows of kubectl's table output, split into cells (2+ spaces apart), header first. */
function rows(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
}

function column(table: string[][], name: string): string[] {
  const i = table[0]!.indexOf(name);
  expect(i).toBeGreaterThanOrEqual(0);
  return table.slice(1).map((row) => row[i]!);
}

describeKubectl('kubectl reading the test API server', () => {
  it('kubectl get pods prints the printer columns with kubectl-style STATUS, READY and RESTARTS', async () => {
    const result = await kubectl('get', 'pods', '-n', 'prod');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const table = rows(result.stdout);
    expect(table[0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    const byName = Object.fromEntries(table.slice(1).map((row) => [row[0], row]));
    expect(Object.keys(byName)).toEqual(['api-5c8d7b9f4-x2k9p', 'migrate-8xk2d', 'web-7d9f8c6b5-abcde', 'web-7d9f8c6b5-fghij', 'worker']);
    expect(byName['web-7d9f8c6b5-abcde']!.slice(1, 3)).toEqual(['0/1', 'CrashLoopBackOff']);
    expect(byName['web-7d9f8c6b5-abcde']![3]).toMatch(/^7 \(\S+ ago\)$/);
    expect(byName['api-5c8d7b9f4-x2k9p']!.slice(1, 3)).toEqual(['0/1', 'CrashLoopBackOff']);
    expect(byName['web-7d9f8c6b5-fghij']!.slice(1, 4)).toEqual(['1/1', 'Running', '0']);
    expect(byName['migrate-8xk2d']!.slice(1, 3)).toEqual(['0/1', 'Completed']);
    expect(byName.worker!.slice(1, 3)).toEqual(['0/1', 'Pending']);
  });

  it('kubectl get pods -A -o wide lists every namespace with the wide columns', async () => {
    const result = await kubectl('get', 'pods', '-A', '-o', 'wide');
    expect(result.code).toBe(0);
    const table = rows(result.stdout);
    expect(table[0]).toEqual(['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    expect(column(table, 'NAMESPACE')).toEqual(['prod', 'prod', 'prod', 'prod', 'prod', 'staging']);
    expect(column(table, 'NODE')).toEqual(['node-a', 'node-b', 'node-a', 'node-b', '<none>', 'node-b']);
  });

  it('kubectl get pod -o json returns the fixture object unchanged', async () => {
    const result = await kubectl('get', 'pod', 'web-7d9f8c6b5-abcde', '-n', 'prod', '-o', 'json');
    expect(result.code).toBe(0);
    const expected = world.items.find((item) => item.kind === 'Pod' && item.metadata.name === 'web-7d9f8c6b5-abcde');
    expect(JSON.parse(result.stdout)).toEqual(expected);
  });

  it('label and field selectors filter on the server', async () => {
    const byLabel = await kubectl('get', 'pods', '-n', 'prod', '-l', 'app=web', '-o', 'name');
    expect(byLabel.stdout.trim().split('\n')).toEqual(['pod/web-7d9f8c6b5-abcde', 'pod/web-7d9f8c6b5-fghij']);
    const byNode = await kubectl('get', 'pods', '-A', '--field-selector', 'spec.nodeName=node-a', '-o', 'name');
    expect(byNode.stdout.trim().split('\n')).toEqual(['pod/api-5c8d7b9f4-x2k9p', 'pod/web-7d9f8c6b5-abcde']);
    const setBased = await kubectl('get', 'pods', '-A', '-l', 'app in (api,worker)', '-o', 'name');
    expect(setBased.stdout.trim().split('\n')).toEqual(['pod/api-5c8d7b9f4-x2k9p', 'pod/worker']);
    const bad = await kubectl('get', 'pods', '-n', 'prod', '--field-selector', 'spec.bogus=1');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('field label not supported: spec.bogus');
  });

  it('kubectl pages through a list with --chunk-size, following continue tokens', async () => {
    const before = server.requests.length;
    const result = await kubectl('get', 'pods', '-A', '--chunk-size', '2', '-o', 'name');
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(6);
    const pages = server.requests.slice(before).filter((r) => r.path === '/api/v1/pods');
    expect(pages).toHaveLength(3);
    expect(pages.map((r) => r.query.limit)).toEqual(['2', '2', '2']);
    expect(pages.slice(1).every((r) => typeof r.query.continue === 'string')).toBe(true);
  });

  it('kubectl describe pod shows the last termination and the events found by field selector', async () => {
    const before = server.requests.length;
    const result = await kubectl('describe', 'pod', 'web-7d9f8c6b5-abcde', '-n', 'prod');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Controlled By:\s+ReplicaSet\/web-7d9f8c6b5/);
    expect(result.stdout).toMatch(/State:\s+Waiting\n\s+Reason:\s+CrashLoopBackOff/);
    expect(result.stdout).toMatch(/Last State:\s+Terminated\n\s+Reason:\s+OOMKilled\n\s+Exit Code:\s+137/);
    expect(result.stdout).toMatch(/Restart Count:\s+7/);
    expect(result.stdout).toMatch(/Warning\s+BackOff\s+\S+ \(x31 over \S+\)\s+kubelet\s+Back-off restarting failed container web/);
    const events = server.requests.slice(before).find((r) => r.path === '/api/v1/namespaces/prod/events');
    expect(events?.query.fieldSelector).toMatch(/involvedObject\.name=web-7d9f8c6b5-abcde/);
    expect(events?.query.fieldSelector).toMatch(/involvedObject\.uid=/);
  });

  it('kubectl logs --previous reads the previous container; a container that never restarted has none', async () => {
    const result = await kubectl('logs', '--previous', 'web-7d9f8c6b5-abcde', '-n', 'prod', '--tail', '2');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('2026-11-25T09:21:31.877Z WARN  heap 119Mi of 128Mi\n2026-11-25T09:21:38.950Z WARN  heap 127Mi of 128Mi\n');
    const current = await kubectl('logs', 'web-7d9f8c6b5-fghij', '-n', 'prod');
    expect(current.stdout).toContain('INFO  ready');
    const none = await kubectl('logs', '--previous', 'migrate-8xk2d', '-n', 'prod');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('previous terminated container "migrate" in pod "migrate-8xk2d" not found');
  });

  it('kubectl get events prints the event columns', async () => {
    const result = await kubectl('get', 'events', '-n', 'prod');
    expect(result.code).toBe(0);
    const table = rows(result.stdout);
    expect(table[0]).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(table).toContainEqual([expect.any(String), 'Warning', 'FailedScheduling', 'pod/worker', expect.stringContaining('0/2 nodes are available')]);
    expect(table).toContainEqual([expect.any(String), 'Warning', 'BackOff', 'pod/web-7d9f8c6b5-abcde', expect.stringContaining('Back-off restarting failed container web')]);
    const selected = await kubectl('get', 'events', '-n', 'prod', '--field-selector', 'involvedObject.name=worker', '-o', 'name');
    expect(selected.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('kubectl get deployments, replicasets, jobs and nodes prints their columns', async () => {
    const workloads = await kubectl('get', 'deploy,rs,jobs', '-n', 'prod');
    expect(workloads.code).toBe(0);
    expect(workloads.stdout).toMatch(/deployment\.apps\/web\s+1\/2\s+2\s+1\s/);
    expect(workloads.stdout).toMatch(/replicaset\.apps\/web-7d9f8c6b5\s+2\s+2\s+1\s/);
    expect(workloads.stdout).toMatch(/job\.batch\/migrate\s+Complete\s+1\/1\s+41s\s/);
    const nodes = await kubectl('get', 'nodes');
    expect(rows(nodes.stdout)[0]).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    expect(rows(nodes.stdout)[1]).toEqual(['node-a', 'Ready', '<none>', expect.any(String), 'v1.32.4']);
  });

  it('a missing object is a NotFound Status, which kubectl prints as such', async () => {
    const result = await kubectl('get', 'pod', 'nope', '-n', 'prod');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Error from server (NotFound): pods "nope" not found');
  });

  it('a forbidden read is a Forbidden Status naming the user, verb and scope', async () => {
    server.setFaults({ forbidden: ['nodes'] });
    const result = await kubectl('get', 'nodes');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Error from server (Forbidden): nodes is forbidden: User "system:serviceaccount:prod:kdiag" cannot list resource "nodes" in API group "" at the cluster scope',
    );
  });

  it('client certificates and tokens authenticate; a refused token is a 401', async () => {
    const before = server.requests.length;
    const byCert = await kubectl('--context', 'kdiag-cert', 'get', 'ns', '-o', 'name');
    expect(byCert.stdout.trim().split('\n')).toEqual(['namespace/prod', 'namespace/staging']);
    expect(server.requests.slice(before).every((r) => r.user === 'kdiag-e2e-admin')).toBe(true);
    const revoked = await kubectl('--context', 'kdiag-revoked', 'get', 'pods');
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toContain('You must be logged in to the server');
  });
});

describe('the test API server, spoken to directly', () => {
  it('answers 401 with no body to a request without credentials, or with a certificate the CA did not sign', async () => {
    const none = await direct(server, '/api/v1/namespaces/prod/pods', { auth: 'none' });
    expect(none).toMatchObject({ status: 401, body: '' });
    const rogue = await direct(server, '/api/v1/namespaces/prod/pods', { auth: { cert: server.pki.rogueCert, key: server.pki.rogueKey } });
    expect(rogue.status).toBe(401);
    const signed = await direct(server, '/api/v1/namespaces/prod/pods', { auth: { cert: server.pki.clientCert, key: server.pki.clientKey } });
    expect(signed.status).toBe(200);
    expect(server.requests.at(-1)?.user).toBe('kdiag-e2e-admin');
  });

  it('answers a missing object with a NotFound Status', async () => {
    const answer = await direct(server, '/api/v1/namespaces/prod/pods/x');
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "x" not found',
      reason: 'NotFound',
      details: { name: 'x', kind: 'pods' },
      code: 404,
    });
    const grouped = JSON.parse((await direct(server, '/apis/apps/v1/namespaces/prod/deployments/x')).body) as { message: string; details: unknown };
    expect(grouped).toMatchObject({ message: 'deployments.apps "x" not found', details: { name: 'x', group: 'apps', kind: 'deployments' } });
  });

  it('serves discovery for the core, apps and batch groups', async () => {
    const groups = JSON.parse((await direct(server, '/apis')).body) as { kind: string; groups: { name: string; preferredVersion: { groupVersion: string } }[] };
    expect(groups.kind).toBe('APIGroupList');
    expect(groups.groups.map((g) => g.preferredVersion.groupVersion)).toEqual(['apps/v1', 'batch/v1']);
    const core = JSON.parse((await direct(server, '/api/v1')).body) as { resources: { name: string; namespaced: boolean; kind: string; verbs: string[]; shortNames?: string[] }[] };
    expect(core.resources.map((r) => r.name)).toEqual(['pods', 'pods/log', 'events', 'nodes', 'namespaces']);
    expect(core.resources.find((r) => r.name === 'nodes')).toMatchObject({ namespaced: false, kind: 'Node', shortNames: ['no'] });
    const batch = JSON.parse((await direct(server, '/apis/batch/v1')).body) as { resources: { name: string }[] };
    expect(batch.resources.map((r) => r.name)).toEqual(['jobs', 'cronjobs']);
  });

  it('pages lists with limit and continue, without kind on the items, and refuses an unknown token with 410 Expired', async () => {
    const first = JSON.parse((await direct(server, '/api/v1/namespaces/prod/pods?limit=3')).body) as { kind: string; metadata: { continue?: string; remainingItemCount?: number }; items: Record<string, unknown>[] };
    expect(first.kind).toBe('PodList');
    expect(first.items).toHaveLength(3);
    expect(first.items[0]).not.toHaveProperty('kind');
    expect(first.metadata.remainingItemCount).toBe(2);
    const second = JSON.parse((await direct(server, `/api/v1/namespaces/prod/pods?limit=3&continue=${encodeURIComponent(first.metadata.continue!)}`)).body) as typeof first;
    expect(second.items).toHaveLength(2);
    expect(second.metadata.continue).toBeUndefined();
    const gone = await direct(server, '/api/v1/namespaces/prod/pods?limit=3&continue=bm90LWEtdG9rZW4=');
    expect(gone.status).toBe(410);
    expect(JSON.parse(gone.body)).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
  });

  it('expires continue tokens and caps page sizes on request', async () => {
    server.setFaults({ maxPageSize: 2, expireContinue: 1 });
    const first = JSON.parse((await direct(server, '/api/v1/pods?limit=500')).body) as { metadata: { continue: string }; items: unknown[] };
    expect(first.items).toHaveLength(2);
    const next = `/api/v1/pods?limit=500&continue=${encodeURIComponent(first.metadata.continue)}`;
    expect((await direct(server, next)).status).toBe(410);
    expect((await direct(server, next)).status).toBe(200);
  });

  it('answers pod logs as text, with tailLines, and 400 when there is no previous container', async () => {
    const log = await direct(server, '/api/v1/namespaces/prod/pods/api-5c8d7b9f4-x2k9p/log?container=api&previous=true&tailLines=1');
    expect(log).toMatchObject({ status: 200, body: 'Error: cannot connect to redis at redis.prod.svc:6379\n' });
    expect(log.headers['content-type']).toBe('text/plain');
    const none = await direct(server, '/api/v1/namespaces/prod/pods/web-7d9f8c6b5-fghij/log?container=web&previous=true');
    expect(none.status).toBe(400);
    expect(JSON.parse(none.body)).toMatchObject({ reason: 'BadRequest', message: 'previous terminated container "web" in pod "web-7d9f8c6b5-fghij" not found' });
    expect((await direct(server, '/api/v1/namespaces/prod/pods/web-7d9f8c6b5-fghij/log?container=nope')).status).toBe(400);
  });

  it('answers a Table for pods when asked, with kubectl-style cells', async () => {
    const answer = await direct(server, '/api/v1/namespaces/prod/pods/web-7d9f8c6b5-abcde', { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } });
    const table = JSON.parse(answer.body) as { kind: string; apiVersion: string; columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[]; object: { kind: string } }[] };
    expect(table).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1' });
    expect(table.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(table.rows[0]!.cells.slice(0, 3)).toEqual(['web-7d9f8c6b5-abcde', '0/1', 'CrashLoopBackOff']);
    expect(table.rows[0]!.object.kind).toBe('PartialObjectMetadata');
  });

  it('formats ages like kubectl', () => {
    const s = 1000;
    expect([59 * s, 119 * s, 150 * s, 600 * s, 3 * 3600 * s + 60 * s, 30 * 3600 * s, 50 * 3600 * s, 400 * 86400 * s, 800 * 86400 * s].map(humanDuration)).toEqual([
      '59s',
      '119s',
      '2m30s',
      '10m',
      '3h1m',
      '30h',
      '2d2h',
      '400d',
      '2y70d',
    ]);
  });

  it('injects 403, 429 with Retry-After and 5xx for the first N requests', async () => {
    server.setFaults({ forbidden: [{ resource: 'pods', verb: 'list', namespace: 'prod' }], errors: [{ status: 429, count: 1, retryAfterSeconds: 2, match: { resource: 'nodes' } }, { status: 503, count: 2, match: { resource: 'events' } }] });
    const denied = await direct(server, '/api/v1/namespaces/prod/pods');
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body)).toMatchObject({
      reason: 'Forbidden',
      message: 'pods is forbidden: User "system:serviceaccount:prod:kdiag" cannot list resource "pods" in API group "" in the namespace "prod"',
    });
    expect((await direct(server, '/api/v1/namespaces/prod/pods/worker')).status).toBe(200);
    const limited = await direct(server, '/api/v1/nodes');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('2');
    expect((await direct(server, '/api/v1/nodes')).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await direct(server, '/api/v1/namespaces/prod/events')).status);
    expect(statuses).toEqual([503, 503, 200]);
  });

  it('adds latency, resets connections and stalls on request', async () => {
    server.setFaults({ latencyMs: 150 });
    const started = Date.now();
    expect((await direct(server, '/version')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    server.setFaults({ reset: { count: 1 } });
    await expect(direct(server, '/version')).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(server.requests.at(-1)).toMatchObject({ path: '/version', fault: 'reset', status: 0 });
    expect((await direct(server, '/version')).status).toBe(200);

    server.setFaults({ stall: { resource: 'nodes' } });
    await expect(direct(server, '/api/v1/nodes', { timeoutMs: 300 })).rejects.toThrow('timed out');
    expect(server.requests.at(-1)).toMatchObject({ path: '/api/v1/nodes', fault: 'stall', status: 0 });
    expect((await direct(server, '/version')).status).toBe(200);
  });

  it('logs every request, and refuses anything but GET', async () => {
    const answer = await direct(server, '/api/v1/namespaces/prod/pods/worker', { method: 'DELETE' });
    expect(answer.status).toBe(405);
    expect(server.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/api/v1/namespaces/prod/pods/worker', status: 405, user: 'system:serviceaccount:prod:kdiag' });
    await direct(server, '/api/v1/namespaces/prod/events?fieldSelector=involvedObject.name%3Dworker&limit=5');
    expect(server.requests.at(-1)).toMatchObject({ method: 'GET', path: '/api/v1/namespaces/prod/events', query: { fieldSelector: 'involvedObject.name=worker', limit: '5' }, status: 200 });
  });
});
