import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rules } from '../rules/index.js';
import { diagnose } from '../src/engine/index.js';
import { loadKubeConfig } from '../src/kube/config.js';
import { DEFAULT_FETCH, eventsLeftOut, Fetch, fetchNamespace, fetchPod } from '../src/kube/fetch.js';
import { KubeHttp } from '../src/kube/http.js';
import { normalAboutPods, QuietPodEvents, splitItems } from '../src/kube/quiet-events.js';
import type { KubeEvent, Pod } from '../src/model/k8s.js';
import { ClusterError } from '../src/model/errors.js';
import { isQuiet } from '../src/model/snapshot-index.js';
import type { Snapshot } from '../src/model/snapshot.js';
import { projectEvent, projectPod } from '../src/snapshot/project.js';
import type { ApiServer } from './support/api-server.js';
import { startApiServer } from './support/api-server.js';
import { fixturePath, loadFixture, mergeSnapshots, ROOT } from './support/fixtures.js';
import { runProgram } from './support/run.js';

const BIN = path.join(ROOT, 'bin', 'kdiag.js');

/**
 * A diagnosis leaves the Normal events about quiet pods unparsed (src/kube/quiet-events.ts). That
 * is only right if no rule reads them, and if the events it does keep are exactly the others.
 */

type Raw = Record<string, unknown>;

const key = (namespace: string | undefined, name: string | undefined) => `${namespace ?? ''}/${name ?? ''}`;

/** The definition, written out on its own: Normal events about a pod that is quiet and has no Warning event. */
function leftOut(pods: readonly Pod[], events: readonly KubeEvent[]): Set<KubeEvent> {
  const quiet = new Set(pods.filter(isQuiet).map((pod) => key(pod.metadata.namespace, pod.metadata.name)));
  const warned = new Set(events.filter((e) => e.type === 'Warning' && e.involvedObject.kind === 'Pod').map((e) => key(e.involvedObject.namespace ?? e.metadata.namespace, e.involvedObject.name)));
  return new Set(
    events.filter((e) => {
      const pod = key(e.involvedObject.namespace, e.involvedObject.name);
      return e.type === 'Normal' && e.involvedObject.kind === 'Pod' && e.involvedObject.namespace !== undefined && quiet.has(pod) && !warned.has(pod);
    }),
  );
}

function withoutLeftOut(snapshot: Snapshot): Snapshot {
  const left = leftOut(snapshot.pods, snapshot.events);
  return { ...snapshot, events: snapshot.events.filter((e) => !left.has(e)) };
}

const fixtureNames = readdirSync(path.join(ROOT, 'fixtures'))
  .filter((name) => /\.(json|ya?ml)$/.test(name))
  .sort();
const fixtures: [string, Snapshot][] = fixtureNames.map((name) => [name, loadFixture(name)]);
const everything = mergeSnapshots(fixtures.map(([, snapshot]) => snapshot));

/** Reasons of the Normal events a pod's life brings (and some rules read about the pods they diagnose). */
const NORMAL_REASONS = ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started', 'Killing', 'SuccessfulAttachVolume', 'TriggeredScaleUp', 'NotTriggerScaleUp', 'SuccessfulDelete'];

/** The snapshot with a Normal event of each of those reasons about each quiet pod, as the kubelet would name them. */
function withNormalEvents(snapshot: Snapshot): Snapshot {
  const added: KubeEvent[] = snapshot.pods.filter(isQuiet).flatMap((pod) =>
    NORMAL_REASONS.map((reason, n) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${pod.metadata.name}.${(0x18a000000000 + n).toString(16)}`, namespace: pod.metadata.namespace, uid: `added-${pod.metadata.name}-${n}` },
      involvedObject: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid, apiVersion: 'v1', fieldPath: `spec.containers{${pod.spec.containers[0]?.name ?? 'app'}}` },
      reason,
      message: `${reason} (added by the test)`,
      type: 'Normal',
      count: 1,
      firstTimestamp: snapshot.capturedAt,
      lastTimestamp: snapshot.capturedAt,
      source: { component: 'kubelet', host: pod.spec.nodeName },
    })),
  );
  return { ...snapshot, events: [...snapshot.events, ...added] };
}

describe('no rule reads a Normal event about a quiet pod', () => {
  it.each([...fixtures, ['every fixture in one cluster', everything] as [string, Snapshot]])('%s: the diagnosis is the same with none, or many, of them', (_, snapshot) => {
    const report = diagnose(snapshot, rules);
    expect(diagnose(withoutLeftOut(snapshot), rules)).toEqual(report);
    expect(diagnose(withNormalEvents(snapshot), rules)).toEqual(report);
  });

  it('the fixtures have quiet pods, some with Normal events, and Normal events about pods in trouble besides', () => {
    const left = leftOut(everything.pods, everything.events);
    expect(left.size).toBeGreaterThanOrEqual(10);
    expect(everything.pods.filter(isQuiet).length).toBeGreaterThanOrEqual(10);
    expect(everything.events.filter((e) => e.type === 'Normal' && e.involvedObject.kind === 'Pod' && !left.has(e)).length).toBeGreaterThanOrEqual(10);
  });
});

/** An Event with its fields in the order the API server writes them (Go's struct order). */
function apiEvent(pod: string, n: number, options: { type?: string; reason?: string; message?: string; kind?: string; namespace?: string; labels?: Record<string, string> } = {}): Raw {
  const namespace = options.namespace ?? 'prod';
  const metadata: Raw = { name: `${pod}.${(0x18a000000000 + n).toString(16)}`, namespace, uid: `ev-${pod}-${n}`, resourceVersion: String(1000 + n), creationTimestamp: '2026-03-01T10:00:00Z' };
  if (options.labels) metadata.labels = options.labels;
  return {
    metadata,
    involvedObject: { kind: options.kind ?? 'Pod', namespace, name: pod, uid: `uid-${pod}`, apiVersion: 'v1', resourceVersion: '77', fieldPath: 'spec.containers{web}' },
    reason: options.reason ?? 'Pulled',
    message: options.message ?? 'Container image "web:1.4" already present on machine',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: `2026-03-01T10:00:${String(n % 60).padStart(2, '0')}Z`,
    lastTimestamp: `2026-03-01T10:00:${String(n % 60).padStart(2, '0')}Z`,
    count: 1,
    type: options.type ?? 'Normal',
    eventTime: null,
    reportingComponent: 'kubelet',
    reportingInstance: 'node-1',
  };
}

/** A list page as the API server writes it. */
function page(items: Raw[], next?: string): Buffer {
  return Buffer.from(JSON.stringify({ kind: 'EventList', apiVersion: 'v1', metadata: next ? { resourceVersion: '9', continue: next } : { resourceVersion: '9' }, items }));
}

function pod(name: string, quiet: boolean): Pod {
  const raw: Raw = {
    metadata: { name, namespace: 'prod', uid: `uid-${name}` },
    spec: { containers: [{ name: 'web', image: 'web:1.4' }], nodeName: 'node-1' },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'web', ready: true, restartCount: quiet ? 0 : 3, state: { running: { startedAt: '2026-03-01T10:00:00Z' } } }],
    },
  };
  return projectPod(raw)!;
}

describe('splitItems and normalAboutPods read a page as the API server writes it', () => {
  const items = [apiEvent('web-1', 1), apiEvent('web-1', 2, { type: 'Warning', reason: 'BackOff' }), apiEvent('node-1', 3, { kind: 'Node', namespace: '' })];

  it('each item range is one item', () => {
    const bytes = page(items, 'abc');
    const split = splitItems(bytes)!;
    expect(split.head.metadata).toEqual({ resourceVersion: '9', continue: 'abc' });
    expect(split.starts.map((start, i) => JSON.parse(bytes.toString('utf8', start, split.ends[i])) as unknown)).toEqual(items);
    expect(splitItems(page([]))).toMatchObject({ head: { kind: 'EventList', apiVersion: 'v1', metadata: { resourceVersion: '9' }, items: [] }, starts: [], ends: [] });
  });

  it('a page laid out otherwise is not split', () => {
    // Items that carry kind first, items before the list's metadata, something that is not JSON.
    expect(splitItems(Buffer.from(JSON.stringify({ kind: 'EventList', metadata: {}, items: [{ kind: 'Event', ...items[0] }] })))).toBeUndefined();
    expect(splitItems(Buffer.from(JSON.stringify({ kind: 'EventList', items, metadata: {} })))).toBeUndefined();
    expect(splitItems(Buffer.from('{"kind":"EventList","metadata":{},"items":[{"metadata":{'))).toBeUndefined();
    // Something after the items.
    expect(splitItems(Buffer.from(`${JSON.stringify({ kind: 'EventList', metadata: {}, items }).slice(0, -1)},"x":[1]}`))).toBeUndefined();
  });

  it('names the pod of a plain Normal event, and of nothing else', () => {
    const cases = [
      apiEvent('web-1', 1),
      apiEvent('web-1', 2, { type: 'Warning', reason: 'BackOff' }),
      apiEvent('node-1', 3, { kind: 'Node' }),
      // Labels could hold a "type" key of their own: parsed.
      apiEvent('web-2', 4, { labels: { type: 'Normal' } }),
      // A message quoting the JSON of a Normal event is still a Warning.
      apiEvent('web-3', 5, { type: 'Warning', message: 'got {"type":"Normal"} back' }),
      apiEvent('api-0', 6, { namespace: 'shop' }),
    ];
    const split = splitItems(page(cases))!;
    expect(normalAboutPods(split.text, split.starts, split.ends)).toEqual(['prod/web-1', undefined, undefined, undefined, undefined, 'shop/api-0']);
    // An event with no type at all is not a Normal one.
    const typeless = apiEvent('web-4', 7);
    delete typeless.type;
    const alone = splitItems(page([typeless]))!;
    expect(normalAboutPods(alone.text, alone.starts, alone.ends)).toEqual([undefined]);
  });
});

describe('QuietPodEvents', () => {
  /** Read pages and pods in the order given ('p' a pod, 'e' a page), then settle with the final pods. */
  function read(steps: ('p' | 'e')[], pods: Pod[], pages: Buffer[], finalPods: Pod[] = pods): { events: KubeEvent[]; leftOut: number } {
    const quiet = new QuietPodEvents((raw) => projectEvent(raw));
    let p = 0;
    let e = 0;
    for (const step of steps) {
      if (step === 'p') quiet.pod(pods[p++]!);
      else quiet.add(quiet.read(pages[e++]!));
    }
    while (p < pods.length) quiet.pod(pods[p++]!);
    quiet.podsEnded();
    while (e < pages.length) quiet.add(quiet.read(pages[e++]!));
    return { events: quiet.settle(finalPods), leftOut: quiet.leftOut };
  }

  /** Every event of the pages, parsed whole. */
  const all = (pages: Buffer[]) => pages.flatMap((bytes) => (JSON.parse(bytes.toString('utf8')) as { items: Raw[] }).items.map((raw) => projectEvent(raw)!));

  const pods = [pod('api-1', true), pod('web-1', true), pod('web-2', false), pod('web-3', true)];
  const pages = [
    page([apiEvent('api-1', 1), apiEvent('api-1', 2), apiEvent('web-1', 3), apiEvent('web-1', 4)], 'x'),
    // Text beyond ASCII, kept (web-2) and put back (web-3): the page is looked through as latin1, and read as UTF-8.
    page([apiEvent('web-2', 5, { message: 'Pulled "wéb:1.4" — 12 MB ✓' }), apiEvent('web-2', 6), apiEvent('web-3', 7, { message: 'Started container wéb 🚀' }), apiEvent('zed-1', 8)], 'y'),
    page([apiEvent('web-3', 9, { type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 503' }), apiEvent('web-3', 10)]),
  ];

  it.each([
    ['the pods first', ['p', 'p', 'p', 'p', 'e', 'e', 'e']],
    ['the events first', ['e', 'e', 'e', 'p', 'p', 'p', 'p']],
    ['in turns', ['p', 'e', 'p', 'p', 'e', 'p', 'e']],
  ] as [string, ('p' | 'e')[]][])('%s: keeps every event but those, in list order', (_, steps) => {
    const expected = all(pages);
    const left = leftOut(pods, expected);
    const { events, leftOut: count } = read(steps, pods, pages);
    expect(events).toEqual(expected.filter((e) => !left.has(e)));
    // api-1 and web-1 are quiet: their four Normal events; web-3's come back with its Warning (in
    // its place, before it); web-2 restarted; zed-1 is not a listed pod.
    expect(count).toBe(4);
    expect(events.map((e) => e.metadata.uid)).toEqual(['ev-web-2-5', 'ev-web-2-6', 'ev-web-3-7', 'ev-zed-1-8', 'ev-web-3-9', 'ev-web-3-10']);
  });

  it('puts back the events of a pod that is not quiet in the final pods list (read again)', () => {
    const final = [pod('api-1', true), pod('web-1', false), pod('web-2', false), pod('web-3', true)];
    const { events } = read(['p', 'p', 'p', 'p', 'e', 'e', 'e'], pods, pages, final);
    expect(events.map((e) => e.metadata.uid)).toEqual(['ev-web-1-3', 'ev-web-1-4', 'ev-web-2-5', 'ev-web-2-6', 'ev-web-3-7', 'ev-zed-1-8', 'ev-web-3-9', 'ev-web-3-10']);
  });

  it('a pods list out of key order: what it passed says nothing, and nothing kept is lost', () => {
    const shuffled = [pods[3]!, pods[0]!, pods[2]!, pods[1]!];
    const expected = all(pages);
    const left = leftOut(pods, expected);
    for (const steps of [['p', 'e', 'p', 'e', 'p', 'e'], ['p', 'p', 'e', 'e', 'p', 'p', 'e']] as ('p' | 'e')[][]) {
      const { events, leftOut: count } = read(steps, shuffled, pages);
      // Some of the four may be kept (a page shared out before the list showed its disorder), never another event left out.
      const uids = new Set(events.map((e) => e.metadata.uid));
      expect(expected.filter((e) => !left.has(e)).every((e) => uids.has(e.metadata.uid))).toBe(true);
      expect(events).toEqual(expected.filter((e) => uids.has(e.metadata.uid)));
      expect(count).toBe(expected.length - events.length);
    }
    // Once the disorder shows, the pages wait for the list's end, and then leave out all four.
    expect(read(['p', 'p', 'p', 'e', 'e', 'p', 'e'], [pods[1]!, pods[0]!, pods[2]!, pods[3]!], pages).leftOut).toBe(4);
  });

  it('a page cut in the wrong places is read whole, whether the wrong piece is kept or put back', () => {
    const after = (items: Raw[]) => Buffer.from(`${JSON.stringify({ kind: 'EventList', apiVersion: 'v1', metadata: {}, items }).slice(0, -1)},"x":[{"y":1}]}`);
    const warning = apiEvent('web-1', 3, { type: 'Warning', reason: 'Unhealthy' });
    // Read whole, a page keeps every event; a page whose wrong piece is set aside for good is not read whole.
    const cases: [Raw[], 'every event' | 'all but the quiet ones'][] = [
      // The last piece (with what follows the items) is a Warning: kept, and it will not parse.
      [[apiEvent('api-1', 1), warning], 'every event'],
      // The last piece is a Normal event about a quiet pod with a Warning: put back, and it will not parse.
      [[apiEvent('web-1', 1), warning, apiEvent('web-1', 2)], 'every event'],
      // The last piece is set aside for good: never parsed.
      [[apiEvent('web-3', 1), apiEvent('api-1', 2)], 'all but the quiet ones'],
    ];
    for (const [items, kept] of cases) {
      const expected = items.map((raw) => projectEvent(raw)!);
      const left = leftOut(pods, expected);
      const { events, leftOut: count } = read(['p', 'p', 'p', 'p', 'e'], pods, [after(items)]);
      expect(events).toEqual(kept === 'every event' ? expected : expected.filter((e) => !left.has(e)));
      expect(count).toBe(kept === 'every event' ? 0 : left.size);
    }
  });

  it('a page that is not JSON fails the list in one line', () => {
    const broken = Buffer.from('{"kind":"EventList","metadata":{},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"},"oops}]}');
    const quiet = new QuietPodEvents((raw) => projectEvent(raw));
    quiet.add(quiet.read(broken));
    quiet.podsEnded();
    expect(() => quiet.settle([])).toThrow(new ClusterError('the API server answered the events list with something that is not JSON'));
  });

  it('a page not laid out as the API server writes it is read whole', () => {
    const sorted = Buffer.from(JSON.stringify({ kind: 'EventList', apiVersion: 'v1', metadata: {}, items: [apiEvent('api-1', 1), apiEvent('web-1', 2)].map((raw) => Object.fromEntries(Object.entries(raw).sort())) }));
    const { events, leftOut: count } = read(['p', 'p', 'p', 'p', 'e'], pods, [sorted]);
    expect(count).toBe(0);
    expect(events.map((e) => e.metadata.uid)).toEqual(['ev-api-1-1', 'ev-web-1-2']);
  });
});

/** The objects of these fixture Lists (the first of each kind/namespace/name), events with their fields in the API server's order. */
function world(names: string[]): Raw {
  const order = ['metadata', 'involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'series', 'action', 'related', 'reportingComponent', 'reportingInstance'];
  const refOrder = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'];
  const inOrder = (raw: Raw, keys: string[]) => Object.fromEntries([...keys.filter((k) => k in raw).map((k) => [k, raw[k]]), ...Object.entries(raw).filter(([k]) => !keys.includes(k))]);
  const seen = new Set<string>();
  const items = names
    .flatMap((name) => (JSON.parse(readFileSync(fixturePath(name), 'utf8')) as { items: Raw[] }).items)
    .filter((raw) => {
      const meta = raw.metadata as { namespace?: string; name?: string };
      const id = `${String(raw.kind)}/${meta.namespace ?? ''}/${meta.name ?? ''}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  // Each quiet pod's Scheduled, Pulled, Created and Started, as the API server writes them.
  const added = items
    .filter((raw) => raw.kind === 'Pod')
    .map((raw) => projectPod(raw)!)
    .filter(isQuiet)
    .flatMap((quiet) => ['Scheduled', 'Pulled', 'Created', 'Started'].map((reason, n) => ({ kind: 'Event', apiVersion: 'v1', ...apiEvent(quiet.metadata.name!, n, { namespace: quiet.metadata.namespace, reason }) })));
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [...items.map((raw) => (raw.kind === 'Event' && raw.involvedObject ? { kind: 'Event', apiVersion: 'v1', ...inOrder({ ...raw, involvedObject: inOrder(raw.involvedObject as Raw, refOrder) }, order) } : raw)), ...added],
  };
}

describe('a namespace read for a diagnosis, over the loopback API server', () => {
  let server: ApiServer;
  let http: KubeHttp;
  beforeAll(async () => {
    server = await startApiServer({ fixture: world(['demo-namespace.json', 'cluster-rules-quiet-healthy.json', 'container-start-quiet-healthy.json', 'node-not-ready-unknown.json', 'readiness-probe-failed-no-traffic.json']) });
    http = new KubeHttp(loadKubeConfig({ kubeconfig: server.kubeconfigPath }).kc, { timeoutMs: 10_000 });
  });
  afterAll(async () => {
    http.close();
    await server.close();
  });

  it('keeps every event but the Normal ones about quiet pods, and diagnoses the same', async () => {
    // Small pages: the two lists go on side by side, page after page.
    const full = await fetchNamespace(http, null, 'kdiag-token', { ...DEFAULT_FETCH, pageSize: 5 });
    const lean = await fetchNamespace(http, null, 'kdiag-token', { ...DEFAULT_FETCH, pageSize: 5, leaveQuietEvents: true });
    const left = leftOut(full.pods, full.events);
    expect(left.size).toBeGreaterThanOrEqual(20);
    expect(eventsLeftOut(lean)).toBe(left.size);
    expect(eventsLeftOut(full)).toBe(0);
    expect(lean.events).toEqual(full.events.filter((e) => !left.has(e)));
    lean.capturedAt = full.capturedAt;
    expect(diagnose(lean, rules)).toEqual(diagnose(full, rules));
  });

  it('one namespace in pages of 3; a list started again (410) or refused (403)', async () => {
    const full = await fetchNamespace(http, 'shop', 'kdiag-token', { ...DEFAULT_FETCH, pageSize: 3 });
    const left = leftOut(full.pods, full.events);
    expect(full.events.length).toBeGreaterThan(20);
    const lean = await fetchNamespace(http, 'shop', 'kdiag-token', { ...DEFAULT_FETCH, pageSize: 3, leaveQuietEvents: true });
    expect(lean.events).toEqual(full.events.filter((e) => !left.has(e)));
    expect(eventsLeftOut(lean)).toBe(left.size);
    try {
      // The pods read first; then the events list's first continue token is answered 410, and it starts again.
      const fetch = new Fetch(http, { kind: 'Namespace', namespace: 'shop', name: null }, 'kdiag-token', { ...DEFAULT_FETCH, pageSize: 3, leaveQuietEvents: true });
      const quiet = new QuietPodEvents(fetch.projectEvent);
      await fetch.readPods('shop', undefined, quiet);
      server.setFaults({ expireContinue: 1 });
      const before = server.requests.length;
      await fetch.readEventsLeavingQuiet('shop', quiet, Promise.resolve());
      const expired = server.requests.slice(before).filter((r) => r.status === 410);
      expect(expired.map((r) => r.path)).toEqual(['/api/v1/namespaces/shop/events']);
      expect(fetch.snapshot.events).toEqual(full.events.filter((e) => !left.has(e)));
      expect(eventsLeftOut(fetch.snapshot)).toBe(left.size);
      server.setFaults({ forbidden: ['events'] });
      const refused = await fetchNamespace(http, 'shop', 'kdiag-token', { ...DEFAULT_FETCH, pageSize: 3, leaveQuietEvents: true });
      expect(refused.events).toEqual([]);
      expect(refused.accessErrors).toEqual([expect.objectContaining({ resource: 'events', verb: 'list', status: 403 })]);
      expect(refused.pods).toEqual(full.pods);
    } finally {
      server.setFaults({});
    }
  });

  it('`pod` of a workload: the Normal events about its quiet pods left unparsed, and the same diagnosis', async () => {
    const full = await fetchPod(http, 'shop', 'web', 'kdiag-token', { ...DEFAULT_FETCH, pageSize: 3 });
    const lean = await fetchPod(http, 'shop', 'web', 'kdiag-token', { ...DEFAULT_FETCH, pageSize: 3, leaveQuietEvents: true });
    const left = leftOut(full.pods, full.events);
    // The Deployment's three quiet pods: four Normal events each (added), and the fixture's own.
    expect(full.pods.map((pod) => pod.metadata.name)).toHaveLength(3);
    expect(left.size).toBeGreaterThanOrEqual(12);
    expect(lean.events).toEqual(full.events.filter((e) => !left.has(e)));
    expect(eventsLeftOut(lean)).toBe(left.size);
    lean.capturedAt = full.capturedAt;
    expect(diagnose(lean, rules)).toEqual(diagnose(full, rules));
  });

  it('from the command line: a diagnosis says how many it left, a recording keeps them, and both diagnose the same', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'kdiag-quiet-'));
    try {
      const env = { PATH: process.env.PATH, HOME: home, NO_COLOR: '1' };
      const full = await fetchNamespace(http, 'shop', 'kdiag-token');
      const left = leftOut(full.pods, full.events).size;
      expect(left).toBeGreaterThanOrEqual(10);
      const live = await runProgram(process.execPath, [BIN, 'namespace', 'shop', '--kubeconfig', server.kubeconfigPath, '-o', 'json', '--debug'], env);
      expect(live.code).toBe(1);
      expect(live.stderr).toContain(`${full.pods.length} pods, ${full.events.length - left} events (and ${left} Normal events about quiet pods, left unparsed)`);
      const file = path.join(home, 'shop.json');
      const recorded = await runProgram(process.execPath, [BIN, 'snapshot', 'shop', '--kubeconfig', server.kubeconfigPath, '-f', file], env);
      expect(recorded.stderr).toContain(`${full.events.length} events`);
      const replayed = await runProgram(process.execPath, [BIN, 'namespace', '--snapshot', file, '-o', 'json'], env);
      const diagnoses = (run: { stdout: string }) => (JSON.parse(run.stdout) as { diagnoses: unknown[] }).diagnoses;
      expect(diagnoses(live)).toEqual(diagnoses(replayed));
      const web = await fetchPod(http, 'shop', 'web', 'kdiag-token');
      const webLeft = leftOut(web.pods, web.events).size;
      const workload = await runProgram(process.execPath, [BIN, 'pod', 'web', '-n', 'shop', '--kubeconfig', server.kubeconfigPath, '--debug'], env);
      expect(workload.stderr).toContain(`3 pods, ${web.events.length - webLeft} events (and ${webLeft} Normal events about quiet pods, left unparsed)`);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
