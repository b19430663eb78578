import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Diagnosis, Report } from '../src/model/report.js';
import { startApiServer } from './support/api-server.js';
import type { ApiServer } from './support/api-server.js';
import { ROOT, fixturePath } from './support/fixtures.js';
import type { RunResult } from './support/run.js';
import { closedPort, expectOneLineError, report, runProgram } from './support/run.js';

/**
 * The built CLI (bin/kdiag.js over dist/; `npm test` builds first) against the loopback API server,
 * through a real kubeconfig file with a CA, a bearer token and a client certificate: what it
 * diagnoses, its exit codes and one-line errors, its behaviour under faults, and what it never
 * does (send anything but GET, print or record credentials and env values).
 */

const BIN = path.join(ROOT, 'bin', 'kdiag.js');
const FIXTURE = 'test/fixtures/live-world.json';
/** The env value planted in prod/web's pods (and its Deployment's last-applied annotation). */
const PLANTED = 'kdiag-e2e-planted-env-9Qx7Lw3Zr5';
const BAD_POD = 'web-7d9f8c6b5-abcde';
const GOOD_POD = 'web-7d9f8c6b5-fghij';

let server: ApiServer;
let home: string;
/** Every output kdiag produced (stdout, stderr, files), for the leak check at the end. */
const outputs: { what: string; text: string }[] = [];
const servers: ApiServer[] = [];

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
  server = await startApiServer({ fixture: FIXTURE });
  servers.push(server);
  // kdiag finds the kubeconfig the default way: KUBECONFIG unset, $HOME/.kube/config.
  home = mkdtempSync(path.join(tmpdir(), 'kdiag-e2e-home-'));
  mkdirSync(path.join(home, '.kube'));
  writeFileSync(path.join(home, '.kube', 'config'), readFileSync(server.kubeconfigPath));
});

afterEach(() => server.setFaults());

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  if (home) rmSync(home, { recursive: true, force: true });
});

/** Run the built CLI with a clean environment: no KUBECONFIG, a private HOME, no colour. */
async function kdiag(...args: string[]): Promise<RunResult> {
  const result = await runProgram(process.execPath, [BIN, ...args], { PATH: process.env.PATH, HOME: home, NO_COLOR: '1' });
  outputs.push({ what: `kdiag ${args.join(' ')}`, text: result.stdout + result.stderr });
  return result;
}

/** What must be the same however the data was read: everything but wall-clock-relative text. */
function essence(diagnoses: Diagnosis[]) {
  return diagnoses.map((d) => ({
    rule: d.rule,
    severity: d.severity,
    object: d.object,
    affected: d.affected,
    owner: d.owner,
    exitCode: d.exitCode,
    cause: d.cause,
    context: d.context,
    logTail: d.logTail,
    remediation: d.remediation,
  }));
}

const rulesOf = (r: Report) => r.diagnoses.map((d) => d.rule);
const since = (start: number) => server.requests.slice(start);

describe('kdiag pod and kdiag namespace against a live API server', () => {
  let baseline: Report;

  it('kdiag pod NAME -o json diagnoses the OOM-killed pod and exits 1', async () => {
    const start = server.requests.length;
    const result = await kdiag('pod', BAD_POD, '-n', 'prod', '-o', 'json');
    expect(result.code).toBe(1);
    const r = report(result);
    expect(r.scope).toEqual({ kind: 'Pod', namespace: 'prod', name: BAD_POD });
    expect(r.summary).toMatchObject({ critical: 1, pods: 1 });
    expect(r.diagnoses[0]).toMatchObject({ rule: 'oom-killed', severity: 'critical', object: { kind: 'Pod', namespace: 'prod', name: BAD_POD, container: 'web' }, owner: { kind: 'Deployment', name: 'web' }, exitCode: 137 });
    expect(r.diagnoses[0]!.context).toEqual([expect.stringContaining('CrashLoopBackOff')]);
    // The previous log was read, and the pod's env value is masked in it.
    expect(r.diagnoses[0]!.logTail).toContain('2026-11-25T09:20:52.311Z DEBUG db config: host=db.prod.svc password=[env value masked]');
    expect(r.accessErrors).toEqual([]);
    const paths = since(start).map((q) => `${q.path}${q.query.previous ? '?previous' : ''}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        `/api/v1/namespaces/prod/pods/${BAD_POD}`,
        '/api/v1/nodes/node-a',
        '/apis/apps/v1/namespaces/prod/replicasets/web-7d9f8c6b5',
        '/apis/apps/v1/namespaces/prod/deployments/web',
        `/api/v1/namespaces/prod/pods/${BAD_POD}/log?previous`,
      ]),
    );
    expect(since(start).find((q) => q.path === '/api/v1/namespaces/prod/events')?.query.fieldSelector).toBe(`involvedObject.name=${BAD_POD}`);
    // One pod asked for: no list of the namespace's pods.
    expect(paths).not.toContain('/api/v1/namespaces/prod/pods');
  });

  it('kdiag namespace NS -o json ranks every diagnosis and exits 1; --fail-on never exits 0', async () => {
    const [result, never] = await Promise.all([kdiag('namespace', 'prod', '-o', 'json'), kdiag('namespace', 'prod', '-o', 'json', '--fail-on', 'never')]);
    expect(result.code).toBe(1);
    baseline = report(result);
    expect(baseline.scope).toEqual({ kind: 'Namespace', namespace: 'prod', name: null });
    expect(baseline.summary.pods).toBe(5);
    expect(rulesOf(baseline).slice(0, 2).sort()).toEqual(['exit-code-1', 'oom-killed']);
    expect(baseline.diagnoses.find((d) => d.rule === 'exit-code-1')).toMatchObject({ severity: 'critical', object: { name: 'api-5c8d7b9f4-x2k9p', container: 'api' }, owner: { kind: 'Deployment', name: 'api' } });
    expect(baseline.diagnoses.find((d) => d.rule === 'exit-code-1')!.logTail).toContain('Error: cannot connect to redis at redis.prod.svc:6379');
    // The completed Job's pod and the healthy web pod are not diagnosed.
    const named = baseline.diagnoses.flatMap((d) => d.affected.map((a) => a.name));
    expect(named).not.toContain('migrate-8xk2d');
    expect(named).not.toContain(GOOD_POD);

    expect(never.code).toBe(0);
    expect(essence(report(never).diagnoses)).toEqual(essence(baseline.diagnoses));
  });

  it('the kubeconfig context\'s namespace is the default, and a healthy namespace exits 0', async () => {
    const [byContext, healthy] = await Promise.all([kdiag('namespace', '-o', 'json'), kdiag('namespace', 'staging')]);
    expect(byContext.code).toBe(1);
    expect(report(byContext).scope.namespace).toBe('prod');
    expect(healthy).toMatchObject({ code: 0, stderr: '' });
    expect(healthy.stdout).toContain('No problems found in 1 pod');
  });

  it('--debug says what was read and how long reading and diagnosing took, on stderr', async () => {
    const result = await kdiag('namespace', 'prod', '-o', 'json', '--debug');
    const report = JSON.parse(result.stdout) as { summary: { pods: number } };
    expect(result.stderr).toMatch(new RegExp(`^kdiag: read ${report.summary.pods} pods, \\d+ events, \\d+ nodes, \\d+ owners, \\d+ log tails; read in \\d+ ms, diagnosed in \\d+ ms, wrote the report in \\d+ ms \\(\\d+ ms since start\\)$`, 'm'));
  });

  it('kdiag pod WORKLOAD resolves a Deployment name to its pods', async () => {
    const result = await kdiag('pod', 'web', '-n', 'prod', '-o', 'json');
    expect(result.code).toBe(1);
    const r = report(result);
    expect(r.scope).toEqual({ kind: 'Pod', namespace: 'prod', name: 'web' });
    expect(r.summary.pods).toBe(2);
    expect(rulesOf(r)).toContain('oom-killed');
    for (const d of r.diagnoses) for (const a of d.affected) expect(a.name).toMatch(/^web-7d9f8c6b5-/);
  });

  it('a pod that does not exist exits 2 with near names suggested', async () => {
    const result = await kdiag('pod', 'web-7d9f8c6b5-abcdf', '-n', 'prod');
    expectOneLineError(result, 2, /"web-7d9f8c6b5-abcdf" not found in namespace prod; did you mean: .*web-7d9f8c6b5-abcde/);
  });

  it('a namespace that does not exist exits 2 with near names, not "no problems"', async () => {
    const result = await kdiag('namespace', 'prd');
    expectOneLineError(result, 2, /namespace "prd" not found; did you mean: prod/);
  });

  it('an unknown --context exits 2 in one line', async () => {
    const result = await kdiag('namespace', '--context', 'nope');
    expectOneLineError(result, 2, /context "nope" not found in the kubeconfig \(known: kdiag-token, kdiag-cert, kdiag-revoked\)/);
  });

  it('a repeated flag means its last value, as in kubectl', async () => {
    const result = await kdiag('namespace', '-n', 'staging', '-n', 'prod', '--request-timeout', '5s', '--request-timeout', '30s', '-o', 'json');
    expect(result.code).toBe(1);
    expect(report(result).scope.namespace).toBe('prod');
  });

  it('a namespace or name that is not a valid path segment exits 2 before any request', async () => {
    const start = server.requests.length;
    const [dots, slash, name] = await Promise.all([kdiag('namespace', '..'), kdiag('pod', 'web', '-n', 'prod/pods'), kdiag('pod', '..', '-n', 'prod')]);
    expectOneLineError(dots, 2, /"\.\." is not a valid namespace name/);
    expectOneLineError(slash, 2, /"prod\/pods" is not a valid namespace name/);
    expectOneLineError(name, 2, /"\.\." is not a valid pod or workload name/);
    expect(since(start)).toEqual([]);
  });

  it('refused credentials (401) exit 3 with "unauthorized"', async () => {
    const result = await kdiag('pod', BAD_POD, '--context', 'kdiag-revoked');
    expectOneLineError(result, 3, /unauthorized \(401\).*context "kdiag-revoked"/);
  });

  it('a client certificate authenticates as well as a token', async () => {
    const start = server.requests.length;
    const result = await kdiag('namespace', 'prod', '--context', 'kdiag-cert', '-o', 'json');
    expect(result.code).toBe(1);
    expect(essence(report(result).diagnoses)).toEqual(essence(baseline.diagnoses));
    expect(new Set(since(start).map((q) => q.user))).toEqual(new Set(['kdiag-e2e-admin']));
  });

  it('a client key that is not a key exits 3 in one line naming the context, before any request', async () => {
    const start = server.requests.length;
    const kubeconfig = server.writeKubeconfig({ currentContext: 'kdiag-cert' });
    writeFileSync(kubeconfig, readFileSync(kubeconfig, 'utf8').replace(server.secrets.clientKeyData, Buffer.from('not a key').toString('base64')));
    const result = await kdiag('namespace', 'prod', '--kubeconfig', kubeconfig);
    expectOneLineError(result, 3, /^kdiag: the TLS material of context "kdiag-cert" cannot be used: /);
    expect(since(start)).toEqual([]);
  });

  it('an unreachable server exits 3 quickly', async () => {
    const kubeconfig = server.writeKubeconfig({ server: `https://127.0.0.1:${await closedPort()}` });
    const result = await kdiag('namespace', 'prod', '--kubeconfig', kubeconfig);
    expectOneLineError(result, 3, /cannot reach the API server at https:\/\/127\.0\.0\.1:\d+: connection refused/);
    expect(result.ms).toBeLessThan(5000);
  });

  it('a server that never answers exits 3 after --request-timeout', async () => {
    server.setFaults({ stall: true });
    const result = await kdiag('pod', BAD_POD, '--request-timeout', '1s');
    expectOneLineError(result, 3, /did not answer within 1s \(--request-timeout\)/);
    expect(result.ms).toBeGreaterThanOrEqual(1000);
    expect(result.ms).toBeLessThan(8000);
  });

  it('403 on nodes: the pod is still diagnosed, accessErrors lists nodes, and the exit code follows the diagnoses', async () => {
    server.setFaults({ forbidden: ['nodes'] });
    const [bad, good] = await Promise.all([kdiag('pod', BAD_POD, '-o', 'json'), kdiag('pod', GOOD_POD, '-o', 'json')]);
    expect(bad.code).toBe(1);
    const r = report(bad);
    expect(rulesOf(r)).toContain('oom-killed');
    expect(r.accessErrors).toEqual([
      {
        resource: 'nodes',
        verb: 'get',
        namespace: null,
        name: 'node-a',
        status: 403,
        message: 'nodes "node-a" is forbidden: User "system:serviceaccount:prod:kdiag" cannot get resource "nodes" in API group "" at the cluster scope',
      },
    ]);
    expect(good.code).toBe(0);
    expect(report(good).accessErrors.map((e) => `${e.status} ${e.verb} ${e.resource}`)).toEqual(['403 get nodes']);
  });

  it('a refusal met by several reads is reported once', async () => {
    server.setFaults({ forbidden: ['events'] });
    const result = await kdiag('pod', BAD_POD, '-o', 'json');
    expect(result.code).toBe(1);
    // The pod's events and its ReplicaSet's and Deployment's: three reads, one refusal.
    expect(report(result).accessErrors.map((e) => `${e.status} ${e.verb} ${e.resource} ${e.namespace}`)).toEqual(['403 list events prod']);
  });

  it('retries 429 (after Retry-After), 5xx and connection resets, and diagnoses as without them', async () => {
    server.setFaults({
      errors: [
        { status: 503, count: 2, match: { resource: 'pods', verb: 'list' } },
        { status: 429, count: 1, retryAfterSeconds: 1, match: { resource: 'events' } },
        { status: 500, count: 1, match: { resource: 'pods/log' } },
      ],
      reset: { count: 1, match: { resource: 'deployments' } },
    });
    const start = server.requests.length;
    const result = await kdiag('namespace', 'prod', '-o', 'json');
    expect(result.code).toBe(1);
    const r = report(result);
    expect(essence(r.diagnoses)).toEqual(essence(baseline.diagnoses));
    expect(r.accessErrors).toEqual([]);
    const statuses = since(start).map((q) => q.status);
    expect(statuses.filter((s) => s === 503)).toHaveLength(2);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    expect(statuses.filter((s) => s === 500)).toHaveLength(1);
    expect(since(start).filter((q) => q.fault === 'reset')).toHaveLength(1);
  });

  it('follows continue tokens through short pages and restarts a list whose token expired', async () => {
    server.setFaults({ maxPageSize: 2, expireContinue: 1 });
    const start = server.requests.length;
    const result = await kdiag('namespace', 'prod', '-o', 'json');
    expect(result.code).toBe(1);
    const r = report(result);
    expect(r.summary.pods).toBe(5);
    expect(essence(r.diagnoses)).toEqual(essence(baseline.diagnoses));
    const podPages = since(start).filter((q) => q.path === '/api/v1/namespaces/prod/pods');
    expect(podPages.some((q) => q.query.continue)).toBe(true);
    expect(since(start).filter((q) => q.status === 410)).toHaveLength(1);
  });
});

describe('KUBECONFIG with several files', () => {
  it('sweeps the namespace of the merged current context, the first file winning as in kubectl', async () => {
    // a.yaml only names a context (and the current one); its cluster and user come from the second file.
    const first = path.join(home, 'a.yaml');
    writeFileSync(
      first,
      ['apiVersion: v1', 'kind: Config', 'current-context: staging-view', 'contexts:', '- name: staging-view', '  context: {cluster: kdiag-test, user: kdiag-token, namespace: staging}', 'clusters: []', 'users: []', ''].join('\n'),
    );
    const result = await runProgram(process.execPath, [BIN, 'namespace', '-o', 'json'], {
      PATH: process.env.PATH,
      HOME: home,
      NO_COLOR: '1',
      KUBECONFIG: `${first}${path.delimiter}${server.kubeconfigPath}`,
    });
    outputs.push({ what: 'kdiag namespace (KUBECONFIG a:b)', text: result.stdout + result.stderr });
    expect(result.stderr).toBe('');
    expect((JSON.parse(result.stdout) as Report).scope).toEqual({ kind: 'Namespace', namespace: 'staging', name: null });
    expect(result.code).toBe(0);
  });
});

describe('kdiag snapshot', () => {
  let file: string;

  it('records a namespace that kdiag namespace --snapshot diagnoses as it does live', async () => {
    file = path.join(home, 'prod-snapshot.json');
    const recorded = await kdiag('snapshot', 'prod', '--output-file', file);
    expect({ code: recorded.code, stdout: recorded.stdout }).toEqual({ code: 0, stdout: '' });
    expect(recorded.stderr).toMatch(/^kdiag: wrote .*prod-snapshot\.json: 5 pods, 2 nodes, \d+ events, 5 owners, 2 log tails\n$/);
    const text = readFileSync(file, 'utf8');
    outputs.push({ what: 'the snapshot file', text });
    const list = JSON.parse(text) as { kind: string; kdiag: { scope: unknown; logs: unknown[] }; items: { kind: string }[] };
    expect(list.kind).toBe('List');
    expect(list.kdiag.scope).toEqual({ kind: 'Namespace', namespace: 'prod', name: null });

    const [live, replayed] = await Promise.all([kdiag('namespace', 'prod', '-o', 'json'), kdiag('namespace', '--snapshot', file, '-o', 'json')]);
    expect([live.code, replayed.code]).toEqual([1, 1]);
    const [a, b] = [report(live), report(replayed)];
    expect(b.scope).toEqual(a.scope);
    expect(b.summary).toEqual(a.summary);
    expect(essence(b.diagnoses)).toEqual(essence(a.diagnoses));
  });

  it('replays kdiag pod from the recording as it runs live', async () => {
    const [live, replayed] = await Promise.all([kdiag('pod', BAD_POD, '-o', 'json'), kdiag('pod', BAD_POD, '--snapshot', file, '-o', 'json')]);
    expect([live.code, replayed.code]).toEqual([1, 1]);
    expect(essence(report(replayed).diagnoses)).toEqual(essence(report(live).diagnoses));
  });
});

describe('a recorded fixture served live', () => {
  it('kdiag namespace over the demo namespace finds what its --snapshot replay finds', async () => {
    const demo = await startApiServer({ fixture: fixturePath('demo-namespace.json'), namespace: 'shop' });
    servers.push(demo);
    const [live, replayed] = await Promise.all([
      kdiag('namespace', 'shop', '--kubeconfig', demo.kubeconfigPath, '-o', 'json'),
      kdiag('namespace', 'shop', '--snapshot', fixturePath('demo-namespace.json'), '-o', 'json'),
    ]);
    expect(live.code).toBe(replayed.code);
    const [a, b] = [report(live), report(replayed)];
    expect(a.summary.pods).toBe(b.summary.pods);
    const key = (d: Diagnosis) => `${d.rule} ${d.severity} ${d.affected.map((x) => `${x.name}/${x.container ?? ''}`).join(',')}`;
    expect(a.diagnoses.map(key)).toEqual(b.diagnoses.map(key));
    expect(a.diagnoses.map((d) => d.logTail)).toEqual(b.diagnoses.map((d) => d.logTail));
  });
});

describe('what kdiag never does', () => {
  it('never prints or records the bearer token, the client key or env values', () => {
    expect(outputs.length).toBeGreaterThan(15);
    const keyBody = server.secrets.clientKeyPem
      .split('\n')
      .filter((line) => line && !line.startsWith('-----'))
      .join('');
    const secrets = [server.secrets.token, server.secrets.revokedToken, server.secrets.clientKeyData, keyBody, keyBody.slice(0, 40), PLANTED];
    for (const { what, text } of outputs) {
      for (const secret of secrets) {
        if (text.includes(secret)) throw new Error(`${what} contains a secret: ${secret.slice(0, 12)}...`);
      }
      expect(text.replace(/\s/g, '')).not.toContain(keyBody.slice(0, 40));
    }
  });

  it('sent only GET requests to the API server', () => {
    const all = servers.flatMap((s) => s.requests);
    expect(all.length).toBeGreaterThan(100);
    expect(all.filter((q) => q.method !== 'GET')).toEqual([]);
  });
});
