import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { rules } from '../rules/index.js';
import type { EngineOptions } from '../src/engine/index.js';
import { diagnose, Engine } from '../src/engine/index.js';
import { loadKubeConfig } from '../src/kube/config.js';
import type { FetchOptions } from '../src/kube/fetch.js';
import { DEFAULT_FETCH, fetchNamespace, sweepAllNamespaces } from '../src/kube/fetch.js';
import { KubeHttp } from '../src/kube/http.js';
import type { Report } from '../src/model/report.js';
import type { RosterPod } from '../src/model/roster.js';
import { Roster } from '../src/model/roster.js';
import { SnapshotIndex } from '../src/model/snapshot-index.js';
import type { LeaveOut } from '../src/snapshot/select.js';
import { matchesSelector, parseSelector } from '../src/snapshot/selector.js';
import type { Pod } from '../src/model/k8s.js';
import type { NamespacePart } from '../src/model/snapshot.js';
import { startApiServer } from './support/api-server.js';
import type { ApiServer } from './support/api-server.js';
import { ROOT } from './support/fixtures.js';

/**
 * `namespace -A` namespace by namespace (sweepAllNamespaces + the engine fed a namespace at a time)
 * against the loopback API server: the same report as reading the whole cluster and diagnosing it,
 * with any page size, an expired continue token or a refused list; each namespace handed over
 * once, in order, and only after every list has moved past it.
 */

type Raw = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } };

/** Several fixtures in one cluster: NotReady nodes with pods of several namespaces, a CNI plugin pod in kube-system, quota refusals, evictions. */
const FILES = ['node-not-ready-unknown', 'node-not-ready-cni', 'demo-namespace', 'forbidden-quota-failedcreate', 'node-pressure-memory', 'failed-create-pod-sandbox-calico-unauthorized-and-runtime', 'evicted-memory-deployment-replaced', 'node-unschedulable-cordoned'];

function world(): Record<string, unknown> {
  const seen = new Set<string>();
  const items: Raw[] = [];
  for (const file of FILES) {
    const list = JSON.parse(readFileSync(path.join(ROOT, 'fixtures', `${file}.json`), 'utf8')) as { items: Raw[] };
    for (const item of list.items) {
      const key = `${item.kind}/${item.metadata.namespace ?? ''}/${item.metadata.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      items.push(item);
    }
  }
  // A NotReady node no pod runs on: a sweep of every namespace reads every node, and reports it.
  const notReady = items.find((item) => item.kind === 'Node' && JSON.stringify(item).includes('"NodeStatusUnknown"'))!;
  items.push({ ...notReady, metadata: { ...notReady.metadata, name: 'node-without-pods' } });
  return { apiVersion: 'v1', kind: 'List', metadata: {}, items };
}

let server: ApiServer;
let http: KubeHttp;

beforeAll(async () => {
  server = await startApiServer({ fixture: world() });
  http = new KubeHttp(loadKubeConfig({ kubeconfig: server.kubeconfigPath }).kc, { timeoutMs: 10_000 });
});
afterEach(() => server.setFaults());
afterAll(async () => {
  http?.close();
  await server?.close();
});

async function swept(options: FetchOptions = DEFAULT_FETCH, engineOptions: EngineOptions = {}, labelSelector?: string): Promise<{ report: Report; parts: NamespacePart[] }> {
  let engine: Engine | undefined;
  const parts: NamespacePart[] = [];
  await sweepAllNamespaces(
    http,
    'test',
    options,
    (base) => {
      engine = new Engine(base, rules, engineOptions);
      return (part) => {
        parts.push(part);
        engine!.add(part);
      };
    },
    labelSelector,
  );
  return { report: engine!.finish(), parts };
}

async function whole(options: FetchOptions = DEFAULT_FETCH): Promise<Report> {
  return diagnose(await fetchNamespace(http, null, 'test', options), rules);
}

/** A report without its capture time (each read has its own). */
const same = (report: Report) => ({ ...report, capturedAt: undefined });

describe('a sweep of every namespace, namespace by namespace', () => {
  it('gives the report of the whole cluster read at once', async () => {
    const [{ report, parts }, expected] = [await swept(), await whole()];
    expect(expected.summary.pods).toBeGreaterThan(40);
    expect(expected.diagnoses.some((d) => d.rule === 'node-not-ready' && new Set(d.affected.map((a) => a.namespace)).size > 1)).toBe(true);
    expect(same(report)).toEqual(same(expected));
    expect(report.diagnoses.find((d) => d.rule === 'node-not-ready' && d.object.name === 'node-without-pods')?.title).toMatch(/\(0 pods on it\)$/);
    // One part per namespace, in name order, each handed over once.
    const names = parts.map((part) => part.pods[0]?.metadata.namespace ?? part.events[0]?.metadata.namespace ?? part.owners[0]?.metadata.namespace);
    expect(names).toEqual([...new Set(names)].sort());
    expect(parts.length).toBeGreaterThan(3);
  });

  it('gives the same report with pages of three objects (lists run ahead and wait) and an expired continue token', async () => {
    const small = { ...DEFAULT_FETCH, pageSize: 3 };
    const expected = await whole(small);
    server.setFaults({ expireContinue: 2 });
    const { report } = await swept(small);
    expect(server.requests.filter((r) => r.status === 410).length).toBe(2);
    expect(same(report)).toEqual(same(expected));
  });

  it('goes on without a list it may not read, and says so', async () => {
    server.setFaults({ forbidden: ['events'] });
    const { report } = await swept();
    const expected = await whole();
    expect(report.accessErrors.map((e) => `${e.resource} ${e.verb} ${e.status}`)).toEqual(['events list 403']);
    expect(report.diagnoses.some((d) => d.rule === 'forbidden')).toBe(true);
    expect(report.diagnoses.some((d) => d.rule === 'oom-killed')).toBe(true);
    expect(same(report)).toEqual(same(expected));
  });

  it.each([['nodes'], ['pods/log'], ['replicasets']])('goes on without %s, as the whole-cluster read does', async (resource) => {
    server.setFaults({ forbidden: [resource] });
    const { report } = await swept();
    const expected = await whole();
    expect(report.accessErrors.map((e) => `${e.resource} ${e.status}`)).toContain(`${resource} 403`);
    expect(report.diagnoses.some((d) => d.rule === 'forbidden')).toBe(true);
    expect(report.summary.pods).toBe(expected.summary.pods);
    expect(same(report)).toEqual(same(expected));
  });

  it('sends only GETs of the declared reads', async () => {
    const start = server.requests.length;
    await swept();
    const requests = server.requests.slice(start);
    expect(requests.every((r) => r.method === 'GET')).toBe(true);
    expect([...new Set(requests.map((r) => r.path.replace(/\/namespaces\/[^/]+\/pods\/[^/]+\/log$/, '/pods/*/log')))].sort()).toEqual(
      expect.arrayContaining(['/api/v1/events', '/api/v1/nodes', '/api/v1/pods', '/apis/apps/v1/replicasets', '/apis/batch/v1/jobs']),
    );
  });
});

describe('a sweep of every namespace with exclusions (the config file)', () => {
  /** kube-system, the only namespace with pods on one NotReady node; and the pods of one workload. */
  const leaveOut: LeaveOut = { namespace: (ns) => ns === 'kube-system', pod: (pod) => (pod.metadata.name ?? '').startsWith('cart-') };
  const CNI_ONLY = 'ip-10-0-3-77.eu-west-1.compute.internal';
  const listed = (pods: RosterPod[]) => pods.map((p) => `${p.namespace}/${p.name} ${p.owner ? `${p.owner.kind}/${p.owner.name}` : '-'}`).sort();
  const notReady = (report: Report) => report.diagnoses.filter((d) => d.rule === 'node-not-ready').map((d) => d.object.name);

  it('cuts each namespace as it comes: the report and roster of the whole cluster read at once and cut alike', async () => {
    const roster = new Roster();
    const { report } = await swept(DEFAULT_FETCH, { leaveOut, roster });
    const snapshot = await fetchNamespace(http, null, 'test', DEFAULT_FETCH);
    const wholeRoster = new Roster();
    const expected = diagnose(snapshot, rules, { leaveOut, roster: wholeRoster });
    expect(same(report)).toEqual(same(expected));
    expect(listed(roster.pods)).toEqual(listed(wholeRoster.pods));

    const kept = snapshot.pods.filter((pod) => pod.metadata.namespace !== 'kube-system' && !pod.metadata.name?.startsWith('cart-'));
    expect(report.summary.pods).toBe(kept.length);
    const keptRoster = new Roster();
    keptRoster.add(kept, snapshot.owners, new SnapshotIndex(snapshot));
    expect(listed(roster.pods)).toEqual(listed(keptRoster.pods));
    const named = report.diagnoses.flatMap((d) => [d.object, ...d.affected]);
    expect(named.some((ref) => ref.namespace === 'kube-system' || ref.name.startsWith('cart-'))).toBe(false);
  });

  it('leaves out a node only left-out pods ran on, and keeps one no pod runs on', async () => {
    const all = (await swept()).report;
    const { report } = await swept(DEFAULT_FETCH, { leaveOut });
    expect(notReady(all)).toEqual(expect.arrayContaining([CNI_ONLY, 'node-without-pods']));
    expect(notReady(report)).toContain('node-without-pods');
    expect(notReady(report)).not.toContain(CNI_ONLY);
    // A node that also runs kept pods stays, with only those pods affected.
    const shared = report.diagnoses.find((d) => d.rule === 'node-not-ready' && d.affected.length > 0)!;
    expect(shared.affected.every((a) => a.namespace !== 'kube-system')).toBe(true);
    expect(all.diagnoses.find((d) => d.rule === 'node-not-ready' && d.object.name === shared.object.name)!.affected.some((a) => a.namespace === 'kube-system')).toBe(true);
  });
});

describe('a sweep of every namespace with a label selector', () => {
  const selector = parseSelector('k8s-app in (kube-proxy,calico-node)');
  const select = (labels: Readonly<Record<string, string>> | undefined) => matchesSelector(selector, labels);
  const notReady = (report: Report) => report.diagnoses.filter((d) => d.rule === 'node-not-ready').map((d) => d.object.name).sort();

  it.each([
    ['alone', {}],
    ['with exclusions', { leaveOut: { pod: (pod: Pod) => (pod.metadata.name ?? '').startsWith('calico-') } }],
  ])('%s: the pods list carries it, each namespace is cut as it comes, and the report is the whole read\'s', async (_, extra: EngineOptions) => {
    const start = server.requests.length;
    const roster = new Roster();
    const { report } = await swept(DEFAULT_FETCH, { select, roster, ...extra }, selector.text);
    expect(server.requests.slice(start).find((r) => r.path === '/api/v1/pods')?.query.labelSelector).toBe(selector.text);
    const snapshot = await fetchNamespace(http, null, 'test', DEFAULT_FETCH, selector.text);
    const wholeRoster = new Roster();
    expect(same(report)).toEqual(same(diagnose(snapshot, rules, { select, roster: wholeRoster, ...extra })));
    expect(roster.pods.map((p) => p.name).sort()).toEqual(wholeRoster.pods.map((p) => p.name).sort());
    expect(roster.pods.every((p) => p.namespace === 'kube-system')).toBe(true);
    // Only the nodes the selected (and kept) pods run on are diagnosed: not the one without pods.
    const hosts = snapshot.pods.filter((pod) => !extra.leaveOut?.pod?.(pod)).map((pod) => pod.spec.nodeName);
    expect(notReady(report).length).toBeGreaterThan(0);
    expect(notReady(report).every((node) => hosts.includes(node))).toBe(true);
    expect(notReady(report)).not.toContain('node-without-pods');
  });
});

describe('a server that lists out of namespace order', () => {
  it('still diagnoses every object: what comes after its namespace was handed over is diagnosed apart, at the end', async () => {
    const pod = (namespace: string, name: string) => ({
      metadata: { name, namespace, uid: `${namespace}-${name}` },
      spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'app:1' }] },
      status: { phase: 'Running', containerStatuses: [{ name: 'app', ready: false, restartCount: 9, image: 'app:1', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }] },
    });
    const pages: Record<string, { items: unknown[]; continue?: string }[]> = {
      '/api/v1/pods': [{ items: [pod('a', 'p1'), pod('c', 'p2')], continue: '1' }, { items: [pod('a', 'p3')] }],
    };
    const fake = {
      server: 'https://fake:6443',
      async getJson(pathname: string, query: Record<string, unknown> = {}) {
        const list = pages[pathname] ?? [{ items: [] }];
        const page = list[Number(query.continue ?? 0)]!;
        return { metadata: { resourceVersion: '1', continue: page.continue }, items: page.items };
      },
      async getText() {
        return '';
      },
      close() {},
    } as unknown as KubeHttp;
    let engine: Engine | undefined;
    const counts = await sweepAllNamespaces(fake, 'test', { ...DEFAULT_FETCH, logs: false }, (base) => {
      engine = new Engine(base, rules);
      return (part) => engine!.add(part);
    });
    expect(counts.pods).toBe(3);
    expect(counts.late).toBe(1);
    const report = engine!.finish();
    expect(report.summary.pods).toBe(3);
    expect(report.diagnoses.filter((d) => d.rule === 'oom-killed').flatMap((d) => d.affected.map((a) => `${a.namespace}/${a.name}`)).sort()).toEqual(['a/p1', 'a/p3', 'c/p2']);
  });
});
