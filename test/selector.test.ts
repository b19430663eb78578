import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UsageError } from '../src/model/errors.js';
import type { Report } from '../src/model/report.js';
import type { NamespacePart, Snapshot } from '../src/model/snapshot.js';
import type { NodeUse } from '../src/snapshot/select.js';
import { selectedOf, selectionCut } from '../src/snapshot/select.js';
import { matchesSelector, parseSelector } from '../src/snapshot/selector.js';
import { startApiServer } from './support/api-server.js';
import type { ApiServer } from './support/api-server.js';
import { ROOT, fixturePath, loadFixture } from './support/fixtures.js';
import type { RunResult } from './support/run.js';
import { report, runProgram } from './support/run.js';

/**
 * `kdiag namespace -l SELECTOR`: the label selector parser and matcher, the cut of a namespace to
 * the selected pods, and the built CLI replaying a file and reading the loopback API server (which
 * must receive the selector as labelSelector on the pods list).
 */

describe('parseSelector', () => {
  it.each([
    ['app=web', 'app=web'],
    ['app==web', 'app=web'],
    [' app = web ', 'app=web'],
    ['app!=web', 'app!=web'],
    ['app=', 'app='],
    ['tier in (web, api)', 'tier in (api,web)'],
    ['tier in (web,api,web)', 'tier in (api,web)'],
    ['tier notin (batch)', 'tier notin (batch)'],
    ['tier', 'tier'],
    ['!tier', '!tier'],
    ['! tier', '!tier'],
    ['app.kubernetes.io/name=cart,tier notin (x,y),!canary', 'app.kubernetes.io/name=cart,tier notin (x,y),!canary'],
    ['environment in (production, qa),tier!=frontend', 'environment in (production,qa),tier!=frontend'],
  ])('%s reads as %s', (input, canonical) => {
    expect(parseSelector(input).text).toBe(canonical);
  });

  it.each([
    ['', /give a label selector/],
    ['   ', /give a label selector/],
    ['app=web=x', /expected ',' between requirements/],
    ['app in web', /expected '\(' after in/],
    ['app in ()', /list of "app" is empty/],
    ['app in (a b)', /expected ',' or '\)'/],
    ['app in (a', /expected ',' or '\)'/],
    ['=web', /expected a label key, found '='/],
    ['app=web,', /missing after the last ','/],
    ['app=web,,tier', /expected a label key, found ','/],
    ['!', /expected a label key after '!'/],
    ['app>1', /node selectors/],
    ['app foo', /expected =, ==, !=, in or notin after "app"/],
    ['-app=web', /not a valid label key/],
    ['Example.com/app=web', /not a valid label key: the prefix/],
    [`${'a'.repeat(64)}=x`, /not a valid label key/],
    ['app=-web', /not a valid label value/],
    [`app=${'v'.repeat(64)}`, /not a valid label value/],
  ])('refuses %j', (input, message) => {
    let error: unknown;
    try {
      parseSelector(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/^-l "/);
    expect((error as UsageError).message).toMatch(message);
    expect((error as UsageError).message).not.toContain('\n');
  });
});

describe('matchesSelector', () => {
  const web = { app: 'web', tier: 'frontend' };
  const api = { app: 'api' };
  const none = undefined;
  it.each([
    ['app=web', [true, false, false]],
    ['app!=web', [false, true, true]],
    ['tier in (frontend,backend)', [true, false, false]],
    ['tier notin (frontend)', [false, true, true]],
    ['tier', [true, false, false]],
    ['!tier', [false, true, true]],
    ['app,!tier', [false, true, false]],
    ['app=web,tier=backend', [false, false, false]],
    ['app=', [false, false, false]],
  ] as const)('%s', (input, expected) => {
    const selector = parseSelector(input);
    expect([web, api, none].map((labels) => matchesSelector(selector, labels))).toEqual(expected);
  });

  it('an empty value matches a label that is the empty string', () => {
    expect(matchesSelector(parseSelector('app='), { app: '' })).toBe(true);
    expect(matchesSelector(parseSelector('app in (x,)'), { app: '' })).toBe(true);
  });

  it('does not read inherited properties as labels', () => {
    expect(matchesSelector(parseSelector('constructor'), {})).toBe(false);
    expect(matchesSelector(parseSelector('!toString'), {})).toBe(true);
  });
});

describe('selectedOf', () => {
  const part = (snapshot: Snapshot): NamespacePart => ({ pods: snapshot.pods, events: snapshot.events, owners: snapshot.owners, logs: snapshot.logs });
  const use = (): NodeUse => ({ kept: new Set(), dropped: new Set() });

  it('keeps the selected pods with their owners, events and logs, and nothing of the others; notes their nodes', () => {
    const snapshot = loadFixture('demo-namespace.json');
    const selector = parseSelector('app in (cart,checkout)');
    const used = use();
    const cut = selectedOf(part(snapshot), (labels) => matchesSelector(selector, labels), used);
    expect(cut.pods.map((p) => p.metadata.name).sort()).toEqual([
      'cart-6br8cpcwpc-v9tpm',
      'cart-6br8cpcwpc-xd6r6',
      'cart-6br8cpcwpc-z6l75',
      'checkout-pxm8xhfkz9-625vl',
      'checkout-pxm8xhfkz9-m2rvj',
    ]);
    expect(cut.owners.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/cart',
      'Deployment/checkout',
      'ReplicaSet/cart-6br8cpcwpc',
      'ReplicaSet/checkout-pxm8xhfkz9',
    ]);
    const names = new Set(cut.pods.map((p) => p.metadata.name));
    const nodes = new Set(cut.pods.map((p) => p.spec.nodeName).filter((n): n is string => !!n));
    expect([...used.kept].sort()).toEqual([...nodes].sort());
    // The node diagnoses then see only those nodes; the node events stay until that is known.
    const { nodeOut } = selectionCut(() => true);
    expect(snapshot.nodes.filter((n) => !nodeOut(used, n.metadata.name)).map((n) => n.metadata.name).sort()).toEqual([...nodes].sort());
    expect(snapshot.nodes.length).toBeGreaterThan(nodes.size);
    expect(cut.logs.every((l) => names.has(l.pod))).toBe(true);
    expect(cut.logs.length).toBeGreaterThan(0);
    for (const event of cut.events) {
      const o = event.involvedObject;
      if (o.kind === 'Pod') expect(names.has(o.name)).toBe(true);
      else if (o.kind !== 'Node') expect(['cart', 'checkout', 'cart-6br8cpcwpc', 'checkout-pxm8xhfkz9']).toContain(o.name);
    }
    expect(cut.events.filter((e) => e.involvedObject.kind === 'Node')).toEqual(snapshot.events.filter((e) => e.involvedObject.kind === 'Node'));
    expect(cut.events.some((e) => e.involvedObject.kind === 'Pod')).toBe(true);
  });

  it('keeps a workload whose pod template matches though it has no pod (it may be failing to create them)', () => {
    const snapshot = loadFixture('demo-namespace.json');
    const podless = { ...snapshot, pods: snapshot.pods.filter((p) => p.metadata.labels?.app !== 'cart') };
    const selector = parseSelector('app=cart');
    const cut = selectedOf(part(podless), (labels) => matchesSelector(selector, labels), use());
    expect(cut.pods).toEqual([]);
    expect(cut.owners.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Deployment/cart', 'ReplicaSet/cart-6br8cpcwpc']);
    expect(cut.events.filter((e) => e.involvedObject.kind !== 'Node').every((e) => ['cart', 'cart-6br8cpcwpc'].includes(e.involvedObject.name ?? ''))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Against the loopback API server

const BIN = path.join(ROOT, 'bin', 'kdiag.js');

describe('kdiag namespace -l against the API server', () => {
  let server: ApiServer;
  let home: string;

  beforeAll(async () => {
    if (!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    server = await startApiServer({ fixture: 'test/fixtures/live-world.json' });
    home = mkdtempSync(path.join(tmpdir(), 'kdiag-selector-home-'));
    mkdirSync(path.join(home, '.kube'));
    writeFileSync(path.join(home, '.kube', 'config'), readFileSync(server.kubeconfigPath));
  });
  afterAll(async () => {
    await server?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const kdiag = (...args: string[]): Promise<RunResult> => runProgram(process.execPath, [BIN, ...args], { PATH: process.env.PATH, HOME: home, NO_COLOR: '1' });
  const podsOf = (r: Report) => [...new Set(r.diagnoses.flatMap((d) => d.affected.filter((a) => a.kind === 'Pod').map((a) => `${a.namespace}/${a.name}`)))].sort();
  const since = (start: number) => server.requests.slice(start);

  it('sends the selector as labelSelector on the pods list, and reports only the matching pods', async () => {
    const all = report(await kdiag('namespace', 'prod', '-o', 'json'));
    expect(podsOf(all).some((pod) => !pod.startsWith('prod/web-'))).toBe(true);

    const start = server.requests.length;
    const result = await kdiag('namespace', 'prod', '-l', 'app=web', '-o', 'json');
    const r = report(result);
    const requests = since(start);
    const podLists = requests.filter((q) => q.path === '/api/v1/namespaces/prod/pods');
    expect(podLists.length).toBeGreaterThan(0);
    expect(podLists.every((q) => q.query.labelSelector === 'app=web')).toBe(true);
    // The other reads are as without a selector.
    expect(requests.find((q) => q.path === '/api/v1/namespaces/prod/events')?.query.labelSelector).toBeUndefined();
    expect(requests.map((q) => q.path)).toEqual(expect.arrayContaining(['/apis/apps/v1/namespaces/prod/deployments', '/apis/apps/v1/namespaces/prod/replicasets']));
    expect(requests.every((q) => q.method === 'GET')).toBe(true);

    expect(r.summary.pods).toBe(2);
    expect(r.diagnoses.length).toBeGreaterThan(0);
    expect(podsOf(r).every((pod) => pod.startsWith('prod/web-7d9f8c6b5-'))).toBe(true);
    // Diagnoses of other workloads are gone, the web ones are as in the whole sweep.
    const webOnly = (sweep: Report) => sweep.diagnoses.filter((d) => d.owner?.name === 'web').map((d) => `${d.rule} ${d.severity}`);
    expect(r.diagnoses.map((d) => `${d.rule} ${d.severity}`)).toEqual(webOnly(all));
    expect(r.diagnoses.every((d) => d.owner?.name === 'web')).toBe(true);
  });

  it('sends set-based selectors in their canonical form', async () => {
    const start = server.requests.length;
    const r = report(await kdiag('namespace', 'prod', '--selector', 'app in (web, api),!canary', '-o', 'json'));
    const podList = since(start).find((q) => q.path === '/api/v1/namespaces/prod/pods');
    expect(podList?.query.labelSelector).toBe('app in (api,web),!canary');
    expect(r.summary.pods).toBe(3);
    expect(podsOf(r).every((pod) => /^prod\/(web|api)-/.test(pod))).toBe(true);
  });

  it('with -A, the cluster-wide pods list carries it, and the sweep goes namespace by namespace', async () => {
    const start = server.requests.length;
    const run = await kdiag('namespace', '-A', '-l', 'app=web', '-o', 'json', '--debug');
    expect(run.stderr).toMatch(/^kdiag: read .*, namespace by namespace; read and diagnosed in \d+ ms/m);
    const r = JSON.parse(run.stdout) as Report;
    expect(since(start).find((q) => q.path === '/api/v1/pods')?.query.labelSelector).toBe('app=web');
    expect(r.summary.pods).toBe(3);
    expect(podsOf(r).every((pod) => /^(prod|staging)\/web-/.test(pod))).toBe(true);
  });

  it('a selector no pod matches is an empty report, not a missing namespace', async () => {
    const result = await kdiag('namespace', 'prod', '-l', 'app=nothing', '-o', 'json');
    expect(result.code).toBe(0);
    expect(report(result)).toMatchObject({ summary: { pods: 0 }, diagnoses: [] });
  });

  it('an invalid selector is exit 2 before any request', async () => {
    const start = server.requests.length;
    const bad = await kdiag('namespace', 'prod', '-l', 'app in (a');
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toBe('kdiag: -l "app in (a": expected \',\' or \')\' in the in list, found the end\n');
    expect(since(start)).toEqual([]);
  });

  it('a config file leaves namespaces out of a live -A sweep', async () => {
    const config = path.join(home, 'no-staging.yaml');
    writeFileSync(config, 'exclude:\n  namespaces: [staging]\n');
    const r = report(await kdiag('namespace', '-A', '-l', 'app=web', '--config', config, '-o', 'json'));
    expect(r.summary.pods).toBe(2);
    expect(podsOf(r).every((pod) => pod.startsWith('prod/'))).toBe(true);
  });

  it('a config file and -o junit keep a live -A sweep namespace by namespace', async () => {
    const config = path.join(home, 'no-staging-junit.yaml');
    writeFileSync(config, 'exclude:\n  namespaces: [staging]\n');
    const testcases = (xml: string) => [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"/g)].map((m) => `${m[1]} ${m[2]}`);
    const all = await kdiag('namespace', '-A', '-o', 'junit');
    const cut = await kdiag('namespace', '-A', '--config', config, '-o', 'junit', '--debug');
    expect(cut.stderr).toMatch(/^kdiag: read .*, namespace by namespace; read and diagnosed in \d+ ms/m);
    expect(testcases(all.stdout).some((t) => t.startsWith('staging '))).toBe(true);
    expect(testcases(cut.stdout)).toEqual(testcases(all.stdout).filter((t) => !t.startsWith('staging ')));
    expect(cut.stdout).toMatch(/<property name="kdiag.pods" value="5"\/>/);
  });
});

