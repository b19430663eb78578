import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ApiServer } from './support/api-server.js';
import { startApiServer } from './support/api-server.js';
import { ROOT } from './support/fixtures.js';
import { direct, expectOneLineError, onPath, runProgram } from './support/run.js';

/**
 * `kdiag pod|namespace --watch` against the loopback API server: the test changes the world while
 * kdiag watches it (a rollout whose new pod cannot pull its image, the OOMKilled pod coming back,
 * the failing pod deleted), with an expired watch and a dropped connection in between, and checks
 * the change lines in order, the exit codes (0 when healthy, 1 at --timeout), and that every
 * request was a GET. Every wait is for an output line, never a fixed sleep.
 */

const BIN = path.join(ROOT, 'bin', 'kdiag.js');
const FIXTURE = 'test/fixtures/live-world.json';
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}/;

type Raw = Record<string, any>;

let server: ApiServer;
let home: string;

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  server = await startApiServer({ fixture: FIXTURE });
  home = mkdtempSync(path.join(tmpdir(), 'kdiag-watch-home-'));
});

afterAll(async () => {
  await server?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** A running kdiag: its output so far, a wait for a line, and its end. */
interface Running {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  stderr: () => string;
  /** Resolves with the index of the first line (from `from` on) matching, or rejects after `ms`. */
  waitFor(pattern: RegExp, from?: number, ms?: number): Promise<number>;
  exit: Promise<number | null>;
}

function start(...args: string[]): Running {
  const child = spawn(process.execPath, [BIN, ...args, '--kubeconfig', server.kubeconfigPath], { env: { PATH: process.env.PATH, HOME: home, NO_COLOR: '1' } });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const check of [...waiters]) check();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      if (partial) lines.push(partial);
      for (const check of [...waiters]) check();
      resolve(code);
    }),
  );
  const waitFor = (pattern: RegExp, from = 0, ms = 8000) =>
    new Promise<number>((resolve, reject) => {
      const check = () => {
        const i = lines.findIndex((line, n) => n >= from && pattern.test(line));
        if (i >= 0) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(i);
        } else if (child.exitCode !== null) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`kdiag exited ${child.exitCode} before printing ${pattern}:\n${lines.join('\n')}\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no line matching ${pattern} within ${ms} ms:\n${lines.join('\n')}\n${stderr}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return { child, lines, stderr: () => stderr, waitFor, exit };
}

/** Wait until a condition holds (checked every 10 ms, for at most 5 s). */
async function until(condition: () => boolean): Promise<void> {
  for (const started = Date.now(); !condition(); ) {
    if (Date.now() - started > 5000) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Lines of the watch's timeline (each starts with a time), without it. */
const timeline = (lines: string[]) => lines.filter((line) => STAMP.test(line)).map((line) => line.replace(STAMP, ''));

const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');

/** A rollout's new ReplicaSet, and its pod that cannot pull its image. */
function rollout(): { replicaSet: Raw; pod: Raw; event: Raw } {
  const replicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: 'web-8f9e0d1c2',
      namespace: 'prod',
      uid: 'rs-web-8f9e0d1c2',
      labels: { app: 'web', 'pod-template-hash': '8f9e0d1c2' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'deploy-web', controller: true }],
      creationTimestamp: iso(30_000),
    },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web', 'pod-template-hash': '8f9e0d1c2' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.example.com/shop/web:1.15.0' }] } } },
    status: { replicas: 1, readyReplicas: 0 },
  };
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-8f9e0d1c2-zq4xv',
      namespace: 'prod',
      uid: 'pod-web-8f9e0d1c2-zq4xv',
      labels: { app: 'web', 'pod-template-hash': '8f9e0d1c2' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-8f9e0d1c2', uid: 'rs-web-8f9e0d1c2', controller: true }],
      creationTimestamp: iso(25_000),
    },
    spec: { nodeName: 'node-a', restartPolicy: 'Always', containers: [{ name: 'web', image: 'registry.example.com/shop/web:1.15.0' }] },
    status: {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: [
        {
          name: 'web',
          image: 'registry.example.com/shop/web:1.15.0',
          imageID: '',
          ready: false,
          started: false,
          restartCount: 0,
          state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.example.com/shop/web:1.15.0"' } },
        },
      ],
    },
  };
  const event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'web-8f9e0d1c2-zq4xv.17f0a1b2c3d4e5f6', namespace: 'prod', uid: 'ev-pull-zq4xv', creationTimestamp: iso(20_000) },
    involvedObject: { kind: 'Pod', namespace: 'prod', name: 'web-8f9e0d1c2-zq4xv', uid: 'pod-web-8f9e0d1c2-zq4xv', fieldPath: 'spec.containers{web}' },
    reason: 'Failed',
    message: 'Failed to pull image "registry.example.com/shop/web:1.15.0": rpc error: code = NotFound desc = failed to pull and unpack image: not found',
    type: 'Warning',
    count: 3,
    firstTimestamp: iso(20_000),
    lastTimestamp: iso(5_000),
    source: { component: 'kubelet', host: 'node-a' },
  };
  return { replicaSet, pod, event };
}

/** The pod's container runs again and is ready; its last termination still says OOMKilled. */
function recovered(pod: Raw): void {
  const status = pod.status.containerStatuses[0];
  status.restartCount = 8;
  status.lastState = { terminated: { ...status.lastState.terminated, startedAt: iso(70_000), finishedAt: iso(60_000) } };
  status.state = { running: { startedAt: iso(50_000) } };
  status.ready = true;
  status.started = true;
  pod.status.conditions = pod.status.conditions.map((c: Raw) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { type: c.type, status: 'True', lastTransitionTime: iso(40_000) } : c));
}

describe('kdiag --watch', () => {
  it('prints what changes during a rollout, in order, and exits 0 once nothing is critical', async () => {
    const before = server.requests.length;
    const run = start('pod', 'web', '-n', 'prod', '--watch', '--timeout', '30s');
    const watching = await run.waitFor(/^\S+ {2}watching pod web in prod: until nothing is at or above critical, for at most 30s \(Ctrl-C to stop\)$/);
    // The first report is printed whole: the OOMKilled pod of deployment/web.
    expect(run.lines.slice(0, watching).join('\n')).toMatch(/CRITICAL {2}Container web was OOMKilled \(memory limit 128Mi\) {2}\[oom-killed\]/);

    // 1. A rollout: a new ReplicaSet whose pod cannot pull its image, and the kubelet's event (one burst).
    const { replicaSet, pod, event } = rollout();
    server.add(replicaSet);
    server.add(pod);
    server.add(event);
    const appeared = await run.waitFor(/ new {7}CRITICAL .*\[image-pull-back-off\]/, watching);
    // Its full text follows the line: evidence (the kubelet's event) and the commands.
    const body = run.lines.slice(appeared + 1).join('\n');
    expect(body).toContain('Failed to pull image "registry.example.com/shop/web:1.15.0"');
    expect(body).toMatch(/\$ kubectl /);

    // The watch expires (410): kdiag lists again and still sees the next change.
    const listsBefore = server.requests.filter((r) => r.path === '/api/v1/namespaces/prod/pods' && !r.query.watch).length;
    server.expireWatches();
    // 2. The OOMKilled pod runs again and is ready: still a warning (it was OOMKilled), no longer critical.
    server.update('Pod', 'prod', 'web-7d9f8c6b5-abcde', recovered);
    const changed = await run.waitFor(/ changed {3}WARNING \(was CRITICAL\) .*\[oom-killed\]/, appeared);
    expect(server.requests.filter((r) => r.path === '/api/v1/namespaces/prod/pods' && !r.query.watch).length).toBeGreaterThan(listsBefore);

    // The connection drops: kdiag watches again (after a backoff) from where it was.
    server.dropWatches();
    // 3. The failing pod is deleted: nothing critical is left.
    server.remove('Pod', 'prod', 'web-8f9e0d1c2-zq4xv');
    await run.waitFor(/ resolved  CRITICAL .*\[image-pull-back-off\]/, changed);
    expect(await run.exit).toBe(0);

    expect(timeline(run.lines)).toEqual([
      expect.stringMatching(/^watching pod web in prod/),
      'new       CRITICAL  Container web cannot pull registry.example.com/shop/web:1.15.0: image not found  [image-pull-back-off]  Deployment/web · pod web-8f9e0d1c2-zq4xv, container web',
      expect.stringMatching(/^changed {3}WARNING \(was CRITICAL\) {2}.*\[oom-killed\] {2}Deployment\/web · pod web-7d9f8c6b5-abcde, container web$/),
      expect.stringMatching(/^resolved {2}CRITICAL {2}.*\[image-pull-back-off\]/),
      'healthy: nothing at or above critical (0 critical · 1 warning · 0 info)',
    ]);
    expect(run.stderr()).toBe('');

    // Read-only: every request a GET; the pods and events were watched from a list's resourceVersion.
    const made = server.requests.slice(before);
    expect(made.every((r) => r.method === 'GET')).toBe(true);
    const watches = made.filter((r) => r.query.watch === 'true');
    expect(new Set(watches.map((r) => r.path))).toEqual(new Set(['/api/v1/namespaces/prod/pods', '/api/v1/namespaces/prod/events']));
    expect(watches.every((r) => /^\d+$/.test(r.query.resourceVersion ?? ''))).toBe(true);
    // The new pod's owners were read when it appeared (the new ReplicaSet, then its Deployment):
    // once, for the burst of three changes, and not again on the list after the watch expired.
    expect(made.filter((r) => r.path === '/apis/apps/v1/namespaces/prod/replicasets/web-8f9e0d1c2')).toHaveLength(1);
    // The OOMKilled pod's previous log: read at the start, and again once it had restarted.
    expect(made.filter((r) => r.path === '/api/v1/namespaces/prod/pods/web-7d9f8c6b5-abcde/log')).toHaveLength(2);
  }, 20_000);

  it('exits 1 at --timeout with what still fails', async () => {
    const before = server.requests.length;
    const started = Date.now();
    const run = start('namespace', 'prod', '--watch', '--timeout', '2s');
    expect(await run.exit).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    const events = timeline(run.lines);
    expect(events[0]).toMatch(/^watching namespace prod: until nothing is at or above critical, for at most 2s/);
    expect(events[events.length - 1]).toMatch(/^timed out after 2s, still at or above critical: 2 critical · \d+ warning · \d+ info$/);
    const end = run.lines.slice(run.lines.findIndex((l) => l.includes('timed out after')) + 1);
    expect(end).toEqual([expect.stringMatching(/^ {4}CRITICAL {2}.*\[exit-code-1\]/), expect.stringMatching(/^ {4}CRITICAL {2}.*\[pod-pending\] {2}pod worker$/)]);
    expect(run.stderr()).toBe('');
    expect(server.requests.slice(before).every((r) => r.method === 'GET')).toBe(true);
  }, 10_000);

  it('writes one JSON object per line with -o json', async () => {
    const before = server.requests.length;
    const run = start('pod', 'api', '-n', 'prod', '--watch', '-o', 'json', '--timeout', '20s');
    await run.waitFor(/^\{"type":"report"/);
    // The connection drops, and the change comes while kdiag is away and the server forgets its
    // history: the watch again from the old resourceVersion is answered 410, and kdiag lists again.
    await until(() => server.watching >= 2);
    server.dropWatches();
    server.update('Pod', 'prod', 'api-5c8d7b9f4-x2k9p', (pod: Raw) => {
      const status = pod.status.containerStatuses[0];
      status.lastState = { terminated: { ...status.lastState.terminated, finishedAt: iso(60_000) } };
      status.state = { running: { startedAt: iso(50_000) } };
      status.ready = true;
    });
    server.expireWatches();
    expect(await run.exit).toBe(0);
    expect(server.requests.slice(before).some((r) => r.path === '/api/v1/namespaces/prod/pods' && r.query.watch === 'true' && r.status === 410)).toBe(true);
    const objects = run.lines.filter(Boolean).map((line) => JSON.parse(line) as Raw);
    expect(objects.map((o) => o.type)).toEqual(['report', 'changed', 'healthy']);
    expect(objects[0]!.report).toMatchObject({ apiVersion: 'kdiag/v1', kind: 'Report', summary: { critical: 1 } });
    expect(objects[1]).toMatchObject({ previousSeverity: 'critical', diagnosis: { rule: 'exit-code-1', severity: 'warning' } });
    expect(objects[2]).toMatchObject({ summary: { critical: 0 } });
    for (const o of objects) expect(o.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }, 10_000);

  it('ends with exit 3 and one line when the pods cannot be watched', async () => {
    server.setFaults({ forbidden: [{ resource: 'pods', verb: 'watch' }] });
    try {
      const run = start('namespace', 'prod', '--watch');
      expect(await run.exit).toBe(3);
      expect(run.stderr()).toMatch(/^kdiag: --watch needs to list and watch pods in namespace prod, and the API server answered 403: .* \(check with: kubectl auth can-i watch pods -n prod\)\n$/);
    } finally {
      server.setFaults();
    }
  }, 10_000);

  it('watches again from the resourceVersion of the last BOOKMARK, not of its list', async () => {
    const run = start('namespace', 'prod', '--watch');
    await run.waitFor(/^\S+ {2}watching namespace prod/);
    await until(() => server.watching === 2);
    const listed = server.resourceVersion;
    // A change elsewhere moves the cluster's resourceVersion; prod's watches hear of it only by a bookmark.
    server.add({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'elsewhere.1', namespace: 'staging' }, involvedObject: { kind: 'Pod', namespace: 'staging', name: 'x' }, reason: 'Scheduled', type: 'Normal' });
    expect(server.resourceVersion).not.toBe(listed);
    const before = server.requests.length;
    server.bookmark();
    // Once the bookmarks are in, the connections drop: kdiag watches again from where the bookmarks said.
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.dropWatches();
    await until(() => server.requests.slice(before).filter((r) => r.query.watch === 'true').length === 2);
    const again = server.requests.slice(before).filter((r) => r.query.watch === 'true');
    expect(again.map((r) => r.query.resourceVersion)).toEqual([server.resourceVersion, server.resourceVersion]);
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(130);
  }, 15_000);

  it('exits 130 on Ctrl-C while watching', async () => {
    const run = start('namespace', 'prod', '--watch');
    await run.waitFor(/^\S+ {2}watching namespace prod/);
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(130);
    expect(run.stderr()).toBe('\nkdiag: interrupted\n');
  }, 10_000);

  it('says what is not found, with exit 2, before watching', async () => {
    const run = start('pod', 'wbe', '-n', 'prod', '--watch');
    expect(await run.exit).toBe(2);
    expect(run.lines.filter(Boolean)).toEqual([]);
    expect(run.stderr()).toMatch(/^kdiag: pod or workload "wbe" not found in namespace prod; did you mean: .*web/);
  }, 10_000);

  it.each([
    [['--watch', '--snapshot', 'fixtures/demo-namespace.json'], /^kdiag: --watch follows a live cluster: it cannot replay --snapshot$/],
    [['--watch', '-o', 'markdown'], /^kdiag: --watch prints changes as text or JSON lines \(-o json\), not -o markdown$/],
    [['--timeout', '1m'], /^kdiag: --timeout bounds --watch: give it with --watch$/],
    [['--watch', '--timeout', 'soon'], /^kdiag: --timeout "soon" is not a duration/],
  ])('refuses %j with exit 2 and one line', async (flags, message) => {
    const result = await runProgram(process.execPath, [BIN, 'namespace', 'prod', ...flags, '--kubeconfig', server.kubeconfigPath], { PATH: process.env.PATH, HOME: home }, 10_000);
    expectOneLineError(result, 2, message);
  });
});

describe('the test API server watches', () => {
  it('answers 410 Expired for a resourceVersion older than its history', async () => {
    const answer = await direct(server, '/api/v1/namespaces/prod/pods?watch=true&resourceVersion=1');
    expect(answer.status).toBe(410);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
  });

  (onPath('kubectl') ? it : it.skip)('serves kubectl get pods -w: rows for what changes', async () => {
    const child = spawn('kubectl', ['--kubeconfig', server.kubeconfigPath, 'get', 'pods', '-n', 'prod', '-w', '--output-watch-events'], { env: { PATH: process.env.PATH, HOME: home } });
    let out = '';
    const seen = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`kubectl did not print ${pattern}:\n${out}`)), 8000);
        const check = () => {
          if (!pattern.test(out)) return;
          clearTimeout(timer);
          child.stdout.off('data', check);
          resolve();
        };
        child.stdout.on('data', check);
        check();
      });
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      await seen(/ADDED\s+worker\s+0\/1\s+Pending/);
      // kubectl watches from its list's resourceVersion: wait until the watch is open.
      await until(() => server.watching > 0);
      server.update('Pod', 'prod', 'worker', (pod: Raw) => {
        pod.status.phase = 'Failed';
        pod.status.reason = 'Evicted';
      });
      await seen(/MODIFIED\s+worker\s+0\/1\s+Evicted/);
      server.remove('Pod', 'prod', 'worker');
      await seen(/DELETED\s+worker\s+/);
    } finally {
      child.kill();
    }
  }, 15_000);
});
