import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Report } from '../src/model/report.js';
import { startApiServer } from './support/api-server.js';
import type { ApiServer } from './support/api-server.js';
import { ROOT } from './support/fixtures.js';
import type { RunResult } from './support/run.js';
import { expectOneLineError, report, runProgram } from './support/run.js';

/**
 * `kdiag namespace -A` (--all-namespaces): the built CLI against the loopback API server reads the
 * cluster-wide lists (one list per resource, not one per namespace), diagnoses every namespace's
 * pods in one report, and replays a recorded file across all its namespaces.
 */

const BIN = path.join(ROOT, 'bin', 'kdiag.js');
const FIXTURE = 'test/fixtures/live-world.json';

let server: ApiServer;
let home: string;

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
  server = await startApiServer({ fixture: FIXTURE });
  home = mkdtempSync(path.join(tmpdir(), 'kdiag-all-ns-home-'));
  mkdirSync(path.join(home, '.kube'));
  writeFileSync(path.join(home, '.kube', 'config'), readFileSync(server.kubeconfigPath));
});

afterEach(() => server.setFaults());

afterAll(async () => {
  await server?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

function kdiag(...args: string[]): Promise<RunResult> {
  return runProgram(process.execPath, [BIN, ...args], { PATH: process.env.PATH, HOME: home, NO_COLOR: '1' });
}

const namespacesOf = (r: Report) => [...new Set(r.diagnoses.flatMap((d) => d.affected.map((a) => a.namespace)))].sort();

describe('kdiag namespace -A', () => {
  it('reads every namespace through the cluster-wide lists and reports them together', async () => {
    const start = server.requests.length;
    const result = await kdiag('namespace', '-A', '-o', 'json');
    expect(result.code).toBe(1);
    const r = report(result);
    expect(r.scope).toEqual({ kind: 'Cluster', namespace: null, name: null });
    // prod holds 5 pods, staging 1.
    expect(r.summary.pods).toBe(6);
    expect(r.diagnoses.map((d) => d.rule)).toEqual(expect.arrayContaining(['oom-killed', 'exit-code-1']));
    expect(namespacesOf(r)).toContain('prod');
    expect(r.accessErrors).toEqual([]);

    const requests = server.requests.slice(start);
    expect(requests.every((q) => q.method === 'GET')).toBe(true);
    const paths = requests.map((q) => q.path);
    expect(paths).toEqual(
      expect.arrayContaining(['/api/v1/pods', '/api/v1/events', '/apis/apps/v1/replicasets', '/apis/apps/v1/deployments', '/apis/apps/v1/statefulsets', '/apis/apps/v1/daemonsets', '/apis/batch/v1/jobs', '/apis/batch/v1/cronjobs']),
    );
    // No per-namespace list: one list per resource covers the cluster.
    expect(paths.filter((p) => /^\/api(s\/[a-z]+)?\/v1\/namespaces\/[^/]+\/(pods|events|replicasets|deployments|statefulsets|daemonsets|jobs|cronjobs)$/.test(p))).toEqual([]);
    // Lists are paged like the namespaced ones.
    expect(requests.find((q) => q.path === '/api/v1/pods')?.query.limit).toBe('500');
  });

  it('goes namespace by namespace (--debug says so), also with a label selector, which every pod matching changes nothing', async () => {
    const streamed = await kdiag('namespace', '-A', '-o', 'json', '--debug');
    expect(streamed.stderr).toMatch(/^kdiag: read 6 pods, \d+ events, \d+ nodes, \d+ owners, \d+ log tails, namespace by namespace; read and diagnosed in \d+ ms/m);
    // Every node of this cluster runs pods: a selector every pod matches keeps them all.
    const selected = await kdiag('namespace', '-A', '-o', 'json', '--debug', '-l', 'app notin (no-such-app)');
    expect(selected.stderr).toMatch(/^kdiag: read 6 pods, \d+ events, \d+ nodes, \d+ owners, \d+ log tails, namespace by namespace; read and diagnosed in \d+ ms/m);
    const strip = (r: RunResult) => ({ ...(JSON.parse(r.stdout) as Report), capturedAt: undefined });
    expect(streamed.code).toBe(1);
    expect(strip(selected)).toEqual(strip(streamed));
  });

  it('--all-namespaces is the long form, and the text report says which scope it covers', async () => {
    const result = await kdiag('namespace', '--all-namespaces');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('all namespaces');
    expect(result.stdout).toContain('6 pods');
  });

  it('a refused cluster-wide list becomes a forbidden diagnosis and the sweep goes on', async () => {
    server.setFaults({ forbidden: [{ resource: 'events', verb: 'list' }] });
    const result = await kdiag('namespace', '-A', '-o', 'json');
    expect(result.code).toBe(1);
    const r = report(result);
    expect(r.summary.pods).toBe(6);
    expect(r.accessErrors).toEqual([expect.objectContaining({ resource: 'events', verb: 'list', namespace: null, status: 403 })]);
    expect(r.diagnoses.map((d) => d.rule)).toContain('forbidden');
  });

  it('a pods list the API server keeps failing ends the sweep: exit 3, one line, no report', async () => {
    server.setFaults({ errors: [{ status: 503, count: 1_000, match: { resource: 'pods', verb: 'list' } }] });
    const result = await kdiag('namespace', '-A', '-o', 'json');
    expectOneLineError(result, 3, /answered 503 ServiceUnavailable to list pods, even after retries/);
  });

  it('-A with a namespace is a usage error (exit 2, one line)', async () => {
    for (const args of [['namespace', 'prod', '-A'], ['ns', '-A', '-n', 'prod']]) {
      const result = await kdiag(...args);
      expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
      expect(result.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^kdiag: -A\/--all-namespaces sweeps every namespace/)]);
    }
  });

  it('replays a recorded file across all its namespaces with --snapshot and -A', async () => {
    const [all, one] = await Promise.all([
      kdiag('namespace', '--snapshot', path.join(ROOT, FIXTURE), '-A', '-o', 'json', '--fail-on', 'never'),
      kdiag('namespace', 'staging', '--snapshot', path.join(ROOT, FIXTURE), '-o', 'json', '--fail-on', 'never'),
    ]);
    expect(all.code).toBe(0);
    const r = report(all);
    expect(r.scope).toEqual({ kind: 'Cluster', namespace: null, name: null });
    expect(r.summary.pods).toBe(6);
    expect(report(one).summary.pods).toBe(1);
  });
});
