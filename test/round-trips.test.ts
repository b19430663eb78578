import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer } from './support/api-server.js';
import type { ApiServer, LoggedRequest } from './support/api-server.js';
import { ROOT } from './support/fixtures.js';
import { runProgram } from './support/run.js';

/**
 * How many API round trips `kdiag pod` makes one after the other. With every answer delayed, the
 * requests arrive in waves: each wave is what could be sent once the previous answers were in.
 * One pod of a Deployment needs three: the pod; then its events, node, ReplicaSet (and the
 * ReplicaSet's events) and previous log, all at once; then the Deployment and its events.
 * Not a timing assertion: the latency only makes the waves visible. A namespace sweep reads the
 * pods' nodes and log tails once the pods are in, without waiting for the (often longer) events.
 */

const BIN = path.join(ROOT, 'bin', 'kdiag.js');
const LATENCY_MS = 150;

let server: ApiServer;
let home: string;

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  server = await startApiServer({ fixture: 'test/fixtures/live-world.json' });
  home = mkdtempSync(path.join(tmpdir(), 'kdiag-round-trips-'));
  mkdirSync(path.join(home, '.kube'));
  writeFileSync(path.join(home, '.kube', 'config'), readFileSync(server.kubeconfigPath));
});

afterAll(async () => {
  await server?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** Requests grouped into waves: a new wave starts when a request comes well after the previous one. */
function waves(requests: LoggedRequest[]): string[][] {
  const sorted = [...requests].sort((a, b) => a.at - b.at);
  const out: string[][] = [];
  let last = -Infinity;
  for (const r of sorted) {
    if (r.at - last > LATENCY_MS / 2) out.push([]);
    out[out.length - 1]!.push(`${r.path}${r.query.fieldSelector ? `?${r.query.fieldSelector}` : ''}`);
    last = r.at;
  }
  return out;
}

describe('kdiag pod round trips', () => {
  it('reads a Deployment pod in three round trips in a row, owner events with their owners', async () => {
    server.setFaults({ latencyMs: LATENCY_MS });
    const start = server.requests.length;
    const result = await runProgram(process.execPath, [BIN, 'pod', 'web-7d9f8c6b5-abcde', '-n', 'prod', '-o', 'json'], { PATH: process.env.PATH, HOME: home, NO_COLOR: '1' });
    expect(result.code).toBe(1);
    const w = waves(server.requests.slice(start));
    expect(w).toHaveLength(3);
    expect(w[0]).toEqual(['/api/v1/namespaces/prod/pods/web-7d9f8c6b5-abcde']);
    expect(w[1]).toEqual(
      expect.arrayContaining([
        '/api/v1/namespaces/prod/events?involvedObject.name=web-7d9f8c6b5-abcde',
        '/api/v1/nodes/node-a',
        '/apis/apps/v1/namespaces/prod/replicasets/web-7d9f8c6b5',
        '/api/v1/namespaces/prod/events?involvedObject.name=web-7d9f8c6b5',
        '/api/v1/namespaces/prod/pods/web-7d9f8c6b5-abcde/log',
      ]),
    );
    expect(w[2]!.sort()).toEqual(['/api/v1/namespaces/prod/events?involvedObject.name=web', '/apis/apps/v1/namespaces/prod/deployments/web']);
    expect(JSON.parse(result.stdout).diagnoses[0]).toMatchObject({ rule: 'oom-killed', owner: { kind: 'Deployment', name: 'web' } });
  });
});

describe('kdiag namespace round trips', () => {
  it("reads the pods' nodes and log tails as soon as the pods are in, not after the events", async () => {
    const EVENTS_MS = 1500;
    server.setFaults({ delays: [{ ms: EVENTS_MS, match: { resource: 'events', verb: 'list' } }] });
    const start = server.requests.length;
    const result = await runProgram(process.execPath, [BIN, 'namespace', 'prod', '-o', 'json'], { PATH: process.env.PATH, HOME: home, NO_COLOR: '1' });
    server.setFaults({});
    expect(result.code).toBe(1);
    const requests = server.requests.slice(start);
    const events = requests.find((r) => r.path === '/api/v1/namespaces/prod/events');
    const nodes = requests.filter((r) => r.path.startsWith('/api/v1/nodes'));
    const logs = requests.filter((r) => r.path.endsWith('/log'));
    expect(events).toBeDefined();
    expect(nodes.length).toBeGreaterThan(0);
    expect(logs.length).toBeGreaterThan(0);
    // Sent while the events list was still on its way (its answer takes EVENTS_MS).
    for (const r of [...nodes, ...logs]) expect(r.at - events!.at).toBeLessThan(EVENTS_MS / 2);
  });
});
