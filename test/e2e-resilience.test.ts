import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Diagnosis, Report } from '../src/model/report.js';
import { startApiServer } from './support/api-server.js';
import type { ApiServer, Faults } from './support/api-server.js';
import { execCredential, writeExecKubeconfig, writeExecPlugin } from './support/exec-plugin.js';
import { ROOT } from './support/fixtures.js';
import type { RunResult } from './support/run.js';
import { expectOneLineError, report, runProgram } from './support/run.js';

/**
 * The built CLI against the loopback API server when things go wrong: reads refused one at a time
 * (and namespace-only RBAC, and the pods themselves), 429s and 5xx that last, a resource slower than
 * --request-timeout, credentials from an exec plugin (and a failing one), secrets that must never
 * reach any output, and cluster text written to attack the terminal.
 */

const BIN = path.join(ROOT, 'bin', 'kdiag.js');
const BAD_POD = 'web-7d9f8c6b5-abcde';
const HEALTHY_POD = 'web-6b7c9d8f7-q4w5e';
/** The env value planted in live-world's prod/web pods and its Deployment's last-applied annotation. */
const PLANTED = 'kdiag-e2e-planted-env-9Qx7Lw3Zr5';
/** hostile-world's evil-crash pod: env DB_PASSWORD, echoed in its previous log and its last-applied annotation. */
const DB_SECRET = 'kdiag-resilience-db-password-Vq8Zt2Lx';
/** A 100 kB log line and event message, added to hostile-world when it is served. */
const LONG = `LONG-LINE-START ${'0123456789'.repeat(10_000)} LONG-LINE-END`;

/** Characters that must never reach a terminal from cluster text: C0 but \n, DEL, C1, bidi controls. */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

let server: ApiServer;
let hostile: ApiServer;
let home: string;
let work: string;
/** Every output kdiag produced (stdout, stderr, files), for the leak check at the end. */
const outputs: { what: string; text: string }[] = [];
/** Servers of the tests with faults: one each, its faults set from the start. */
const own: ApiServer[] = [];

/** A live-world server of one's own (kubeconfig context namespace prod), closed in afterAll. */
async function liveWorld(faults?: Faults): Promise<ApiServer> {
  const s = await startApiServer({ fixture: 'test/fixtures/live-world.json', faults });
  own.push(s);
  return s;
}

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
  const fixture = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'hostile-world.json'), 'utf8')) as {
    items: { kind: string; reason?: string; message?: string }[];
    kdiag: { logs: { lines: string[] }[] };
  };
  // The long line is made here rather than stored: a log line of the crashed container, and the end of a Failed event.
  fixture.kdiag.logs[0]!.lines.splice(3, 0, LONG);
  const failed = fixture.items.find((item) => item.kind === 'Event' && item.reason === 'Failed')!;
  failed.message = `${failed.message} ${LONG}`;
  [server, hostile] = await Promise.all([
    startApiServer({ fixture: 'test/fixtures/live-world.json' }),
    startApiServer({ fixture, namespace: 'hostile' }),
  ]);
  home = mkdtempSync(path.join(tmpdir(), 'kdiag-resilience-home-'));
  mkdirSync(path.join(home, '.kube'));
  writeFileSync(path.join(home, '.kube', 'config'), readFileSync(server.kubeconfigPath));
  work = mkdtempSync(path.join(tmpdir(), 'kdiag-resilience-work-'));
});

afterAll(async () => {
  await Promise.all([server, hostile, ...own].map((s) => s?.close()));
  for (const dir of [home, work]) if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Run the built CLI: no KUBECONFIG, a private HOME (whose kubeconfig is live-world's), no colour; `node` first on the PATH. */
async function kdiag(...args: string[]): Promise<RunResult> {
  const PATH = [path.dirname(process.execPath), process.env.PATH].filter(Boolean).join(path.delimiter);
  const result = await runProgram(process.execPath, [BIN, ...args], { PATH, HOME: home, NO_COLOR: '1' });
  outputs.push({ what: `kdiag ${args.join(' ')}`, text: result.stdout + result.stderr });
  return result;
}

/** kdiag against a server of one's own. */
const on = (s: ApiServer, ...args: string[]) => kdiag(...args, '--kubeconfig', s.kubeconfigPath);

const rulesOf = (r: Report) => r.diagnoses.map((d) => d.rule);
const commandsOf = (d: Diagnosis) => d.remediation.map((step) => step.command);
const forbiddenOf = (r: Report) => r.diagnoses.filter((d) => d.rule === 'forbidden');
const mark = (s: ApiServer) => s.requests.length;

/** Every string in a parsed JSON value. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...stringsOf(v)]);
  return [];
}

/** The one forbidden diagnosis about `verb resource`, with what it says and the can-i command it carries. */
function expectForbidden(r: Report, verb: string, resource: string, canI: string, severity: 'warning' | 'critical' = 'warning'): void {
  const found = forbiddenOf(r).filter((d) => d.title.startsWith(`kdiag may not ${verb} ${resource} (`));
  expect(found).toHaveLength(1);
  expect(found[0]).toMatchObject({ severity, cause: 'rbac', object: { kind: 'Access', name: resource } });
  expect(found[0]!.title).toMatch(/403 Forbidden$/);
  expect(commandsOf(found[0]!)).toContain(canI);
}

// Tests with faults have a live-world server each, its faults set from the start: the ones that mostly
// wait (retries, timeouts) run concurrently; the ones that mostly compute (a kdiag run is ~0.8 s of
// CPU) one after the other.
describe('partial access: each read forbidden in turn (403), the pod is still diagnosed', () => {
  /** bad / healthy: the verb, the resource and the can-i command of the forbidden diagnosis; text: also check the text report. */
  const cases: { what: string; faults: Faults; bad: [string, string, string]; healthy?: [string, string, string]; text?: boolean }[] = [
    {
      what: 'events',
      faults: { forbidden: ['events'] },
      bad: ['list', 'events', 'kubectl auth can-i list events -n prod'],
      healthy: ['list', 'events', 'kubectl auth can-i list events -n staging'],
      text: true,
    },
    {
      what: 'pods/log',
      faults: { forbidden: ['pods/log'] },
      bad: ['get', 'pods/log', 'kubectl auth can-i get pods/log -n prod'],
      // The healthy pod has no crashed container: kdiag reads no log of it, so nothing is refused.
    },
    {
      what: 'replicasets (the pod\'s owner)',
      faults: { forbidden: ['replicasets'] },
      bad: ['get', 'replicasets', 'kubectl auth can-i get replicasets.apps -n prod'],
      healthy: ['get', 'replicasets', 'kubectl auth can-i get replicasets.apps -n staging'],
    },
    {
      what: 'deployments (the owner\'s owner)',
      faults: { forbidden: ['deployments'] },
      bad: ['get', 'deployments', 'kubectl auth can-i get deployments.apps -n prod'],
      healthy: ['get', 'deployments', 'kubectl auth can-i get deployments.apps -n staging'],
    },
  ];

  it.each(cases)('403 on $what', async ({ faults, bad, healthy, text }) => {
    const s = await liveWorld(faults);
    const [badJson, good, badText] = await Promise.all([
      on(s, 'pod', BAD_POD, '-n', 'prod', '-o', 'json', '--fail-on', 'critical'),
      on(s, 'pod', HEALTHY_POD, '-n', 'staging', '-o', 'json'),
      text ? on(s, 'pod', BAD_POD, '-n', 'prod') : undefined,
    ]);
    // The refusal really happened.
    expect(s.requests.some((q) => q.status === 403)).toBe(true);

    // The critical pod: still its main diagnosis, plus what could not be read; exit 1.
    expect(badJson.code).toBe(1);
    const r = report(badJson);
    expect(r.diagnoses[0]).toMatchObject({ rule: 'oom-killed', severity: 'critical', object: { name: BAD_POD, container: 'web' }, exitCode: 137 });
    expect(forbiddenOf(r)).toHaveLength(1);
    expectForbidden(r, ...bad);
    expect(r.accessErrors.map((e) => `${e.status} ${e.verb} ${e.resource}`)).toEqual([`403 ${bad[0]} ${bad[1]}`]);

    // The same in text, with the command to type.
    if (badText) {
      expect(badText.code).toBe(1);
      expect(badText.stderr).toBe('');
      expect(badText.stdout).toContain('[oom-killed]');
      expect(badText.stdout).toContain(`kdiag may not ${bad[0]} ${bad[1]} (namespace prod): 403 Forbidden  [forbidden]`);
      expect(badText.stdout).toContain(`$ ${bad[2]}`);
    }

    // The healthy pod in the healthy namespace: at most a forbidden warning, exit 0 with --fail-on critical.
    expect(good.code).toBe(0);
    const g = report(good);
    expect(g.summary.critical).toBe(0);
    if (healthy) {
      expect(rulesOf(g)).toEqual(['forbidden']);
      expectForbidden(g, ...healthy);
    } else {
      expect(g.diagnoses).toEqual([]);
    }
  });

  it('403 on every workload list: the namespace sweep and the workload lookup still diagnose, each refusal with its can-i', async () => {
    const workloads = ['replicasets', 'deployments', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs'];
    const s = await liveWorld({ forbidden: workloads });
    const [sweep, byWorkload] = await Promise.all([on(s, 'namespace', 'prod', '-o', 'json'), on(s, 'pod', 'web', '-n', 'prod', '-o', 'json')]);
    for (const result of [sweep, byWorkload]) {
      expect(result.code).toBe(1);
      const r = report(result);
      expect(rulesOf(r)).toContain('oom-killed');
      // The owner is still named, from the pod's own metadata (pod-template-hash).
      expect(r.diagnoses.find((d) => d.rule === 'oom-killed')!.owner).toEqual({ kind: 'Deployment', name: 'web' });
      for (const resource of workloads) {
        const group = ['jobs', 'cronjobs'].includes(resource) ? 'batch' : 'apps';
        expectForbidden(r, 'list', resource, `kubectl auth can-i list ${resource}.${group} -n prod`);
      }
    }
    expect(rulesOf(report(sweep))).toEqual(expect.arrayContaining(['oom-killed', 'exit-code-1', 'pod-pending']));
  });

  it('namespace-only RBAC (nodes and namespaces forbidden): kdiag namespace and kdiag pod still work', async () => {
    const s = await liveWorld({ forbidden: ['nodes', 'namespaces'] });
    const [sweep, pod, healthy] = await Promise.all([
      on(s, 'namespace', 'prod', '-o', 'json'),
      on(s, 'pod', BAD_POD, '-n', 'prod', '-o', 'json'),
      on(s, 'namespace', 'staging', '-o', 'json'),
    ]);
    const nodeReads = s.requests.filter((q) => q.path.startsWith('/api/v1/nodes'));
    expect(nodeReads.length).toBeGreaterThan(0);
    expect(nodeReads.every((q) => q.status === 403)).toBe(true);
    expect(sweep.code).toBe(1);
    const r = report(sweep);
    expect(r.summary.pods).toBe(5);
    expect(rulesOf(r)).toEqual(expect.arrayContaining(['oom-killed', 'exit-code-1', 'pod-pending', 'forbidden']));
    expectForbidden(r, 'get', 'nodes', 'kubectl auth can-i get nodes');
    expect(pod.code).toBe(1);
    expect(rulesOf(report(pod))).toEqual(expect.arrayContaining(['oom-killed', 'forbidden']));
    expect(healthy.code).toBe(0);
    expect(rulesOf(report(healthy))).toEqual(['forbidden']);
  });

  it('the pods themselves forbidden (list and get): a critical forbidden report with the can-i command, exit 1, no crash', async () => {
    const s = await liveWorld({ forbidden: ['pods'] });
    const [pod, sweep, text] = await Promise.all([on(s, 'pod', BAD_POD, '-n', 'prod', '-o', 'json'), on(s, 'namespace', 'prod', '-o', 'json'), on(s, 'namespace', 'prod')]);
    for (const [result, verb] of [[pod, 'get'], [sweep, 'list']] as const) {
      expect(result.code).toBe(1);
      const r = report(result);
      expect(r.summary).toMatchObject({ critical: 1, pods: 0 });
      expect(rulesOf(r)).toEqual(['forbidden']);
      expectForbidden(r, verb, 'pods', `kubectl auth can-i ${verb} pods -n prod`, 'critical');
      expect(r.diagnoses[0]!.explanation).toContain('could not read the pods themselves');
    }
    expect(text.code).toBe(1);
    expect(text.stderr).toBe('');
    expect(text.stdout).toContain('CRITICAL  kdiag may not list pods (namespace prod): 403 Forbidden');
    expect(text.stdout).toContain('$ kubectl auth can-i list pods -n prod');
    expect(text.stdout).not.toContain('No problems found');
  });
});

describe('retries: 429 honours Retry-After, 5xx are bounded', () => {
  it.concurrent('a 429 with Retry-After: 1 is retried no sooner than 1 s later, and the run is as without it', async () => {
    const s = await liveWorld({ errors: [{ status: 429, count: 1, retryAfterSeconds: 1, match: { resource: 'events' } }] });
    const result = await on(s, 'pod', BAD_POD, '-n', 'prod', '-o', 'json');
    expect(result.code).toBe(1);
    const r = report(result);
    expect(rulesOf(r)).toContain('oom-killed');
    expect(rulesOf(r)).not.toContain('forbidden');
    expect(r.accessErrors).toEqual([]);
    const seen = s.requests;
    const refused = seen.filter((q) => q.status === 429);
    expect(refused).toHaveLength(1);
    const retry = seen.find((q) => q !== refused[0] && q.path === refused[0]!.path && q.query.fieldSelector === refused[0]!.query.fieldSelector);
    expect(retry?.status).toBe(200);
    expect(retry!.at - refused[0]!.at).toBeGreaterThanOrEqual(1000);
  });

  it.concurrent('events always 503: a bounded number of attempts, then an access error; the pods are still diagnosed', async () => {
    const s = await liveWorld({ errors: [{ status: 503, count: 1_000, match: { resource: 'events' } }] });
    const result = await on(s, 'namespace', 'prod', '-o', 'json');
    expect(result.code).toBe(1);
    const r = report(result);
    expect(rulesOf(r)).toEqual(expect.arrayContaining(['oom-killed', 'exit-code-1', 'pod-pending', 'forbidden']));
    expect(forbiddenOf(r)).toEqual([expect.objectContaining({ severity: 'warning', cause: 'read-failed', title: 'kdiag could not list events (namespace prod): HTTP 503' })]);
    const attempts = s.requests.filter((q) => q.path === '/api/v1/namespaces/prod/events');
    expect(attempts.every((q) => q.status === 503)).toBe(true);
    expect(attempts.length).toBeGreaterThan(1);
    expect(attempts.length).toBeLessThanOrEqual(4);
  });

  it.concurrent('the pods read always 503: exit 3 in one line naming the answer, after a bounded number of attempts', async () => {
    const s = await liveWorld({ errors: [{ status: 503, count: 1_000, match: { resource: 'pods' } }] });
    const [pod, sweep] = await Promise.all([on(s, 'pod', BAD_POD, '-n', 'prod'), on(s, 'namespace', 'prod', '-o', 'json')]);
    expectOneLineError(pod, 3, new RegExp(`the API server at https://127\\.0\\.0\\.1:${s.port} answered 503 ServiceUnavailable to get pods "${BAD_POD}" in namespace prod, even after retries`));
    expectOneLineError(sweep, 3, /answered 503 ServiceUnavailable to list pods in namespace prod, even after retries: the server is currently unable to handle the request$/);
    const seen = s.requests;
    const podGets = seen.filter((q) => q.path === `/api/v1/namespaces/prod/pods/${BAD_POD}`);
    const podLists = seen.filter((q) => q.path === '/api/v1/namespaces/prod/pods');
    for (const attempts of [podGets, podLists]) {
      expect(attempts.length).toBeGreaterThan(1);
      expect(attempts.length).toBeLessThanOrEqual(4);
      expect(attempts.every((q) => q.status === 503)).toBe(true);
    }
    expect(Math.max(pod.ms, sweep.ms)).toBeLessThan(10_000);
  });
});

describe('--request-timeout bounds every call', () => {
  it.concurrent('events answered after 10 s with --request-timeout 1s: exit 3 within the timeout and some slack', async () => {
    const s = await liveWorld({ delays: [{ ms: 10_000, match: { resource: 'events' } }] });
    const [pod, sweep] = await Promise.all([
      on(s, 'pod', BAD_POD, '-n', 'prod', '--request-timeout', '1s'),
      on(s, 'namespace', 'prod', '-o', 'json', '--request-timeout', '1s'),
    ]);
    for (const result of [pod, sweep]) {
      expectOneLineError(result, 3, /did not answer within 1s \(--request-timeout\)/);
      expect(result.ms).toBeGreaterThanOrEqual(1000);
      expect(result.ms).toBeLessThan(6000);
    }
    // Only events were slow: the pod itself was read.
    expect(s.requests.find((q) => q.path === `/api/v1/namespaces/prod/pods/${BAD_POD}`)?.status).toBe(200);
  });
});

describe('a kubeconfig with an exec credential plugin', () => {
  let kubeconfig: string;

  beforeAll(() => {
    const plugin = writeExecPlugin(work, 'plugin-ok', { stdout: execCredential(server.secrets.token) });
    kubeconfig = writeExecKubeconfig(server, path.join(work, 'kubeconfig-exec'), plugin);
  });

  it('authenticates kdiag pod and kdiag namespace with the token the plugin prints', async () => {
    const start = mark(server);
    const [pod, sweep] = await Promise.all([
      kdiag('pod', BAD_POD, '--kubeconfig', kubeconfig, '-o', 'json'),
      kdiag('namespace', '--kubeconfig', kubeconfig, '-o', 'json', '--debug'),
    ]);
    expect(pod.code).toBe(1);
    expect(report(pod).diagnoses[0]).toMatchObject({ rule: 'oom-killed', object: { namespace: 'prod', name: BAD_POD } });
    expect(sweep.code).toBe(1);
    expect(sweep.stderr).toMatch(/^kdiag: GET \/api\/v1\/namespaces\/prod\/pods\?limit=500 -> 200/m);
    expect(rulesOf(JSON.parse(sweep.stdout) as Report)).toEqual(expect.arrayContaining(['oom-killed', 'exit-code-1']));
    const seen = server.requests.slice(start);
    expect(seen.length).toBeGreaterThan(10);
    expect(new Set(seen.map((q) => q.user))).toEqual(new Set([`system:serviceaccount:prod:kdiag`]));
  });

  it('a plugin that fails: exit 3, one line naming the plugin and what it said, and no request sent', async () => {
    const cases = [
      { name: 'plugin-expired', behaviour: { stderr: 'error: the SSO session has expired; run `corp-login`\nstack of the plugin\n', exitCode: 2 }, says: /failed: error: the SSO session has expired; run `corp-login`$/ },
      { name: 'plugin-silent', behaviour: { exitCode: 1 }, says: /failed: it exited without a credential and wrote nothing on stderr$/ },
      // Not JSON, and starting with text the error must not quote: what a plugin prints is where its token is.
      { name: 'plugin-garbage', behaviour: { stdout: `PLUGINOUT-${server.secrets.token}` }, says: /printed something that is not an ExecCredential \(not JSON\)$/ },
    ];
    const start = mark(server);
    const results = await Promise.all(
      cases.map(({ name, behaviour }) => kdiag('pod', BAD_POD, '--kubeconfig', writeExecKubeconfig(server, path.join(work, `kubeconfig-${name}`), writeExecPlugin(work, name, behaviour)))),
    );
    results.forEach((result, i) => {
      expectOneLineError(result, 3, /^kdiag: the exec credential plugin "node" of context "kdiag-exec" /);
      expect(result.stderr.trimEnd()).toMatch(cases[i]!.says);
      expect(result.stderr).not.toContain('PLUGINOUT');
    });
    expect(server.requests.slice(start)).toEqual([]);
  });
});

describe('secrets never leak', () => {
  it('pod, namespace and snapshot with --debug, text and JSON, for the token, client-certificate and exec contexts', async () => {
    const exec = writeExecKubeconfig(hostile, path.join(work, 'kubeconfig-hostile-exec'), writeExecPlugin(work, 'plugin-hostile', { stdout: execCredential(hostile.secrets.token) }));
    const token = ['--kubeconfig', hostile.kubeconfigPath, '--context', 'kdiag-token'];
    const cert = ['--kubeconfig', hostile.kubeconfigPath, '--context', 'kdiag-cert'];
    const viaExec = ['--kubeconfig', exec];
    const snapshot = (name: string, where: string[]) => {
      const file = path.join(work, `hostile-${name}.json`);
      return kdiag('snapshot', 'hostile', ...where, '--debug', '--output-file', file).then((result) => ({ result, file }));
    };
    // Each context with each command, text and JSON spread across them (a run costs a Node start).
    const runs = [
      kdiag('pod', 'evil-crash', ...token, '--debug'),
      kdiag('namespace', 'hostile', ...token, '--debug', '-o', 'json'),
      snapshot('token', token),
      kdiag('pod', 'evil-crash', ...cert, '--debug', '-o', 'json'),
      kdiag('namespace', 'hostile', ...cert, '--debug'),
      snapshot('cert', cert),
      kdiag('pod', 'evil-crash', ...viaExec, '--debug', '-o', 'json'),
      snapshot('exec', viaExec),
    ];
    const results = await Promise.all(runs);
    for (const item of results) {
      const result = 'file' in item ? item.result : item;
      expect(result.code).toBe('file' in item ? 0 : 1);
      // --debug: the requests are on stderr.
      expect(result.stderr).toMatch(/^kdiag: GET \/api\/v1\/namespaces\/hostile\/pods/m);
      // The log line that echoes the value was read, and masked, in the report and in the file.
      const text = 'file' in item ? readFileSync(item.file, 'utf8') : result.stdout;
      expect(text).toContain('DB_PASSWORD=[env value masked]');
      if ('file' in item) outputs.push({ what: `the snapshot file ${path.basename(item.file)}`, text });
    }
    expect(new Set(hostile.requests.map((q) => q.user))).toEqual(new Set(['system:serviceaccount:hostile:kdiag', 'kdiag-e2e-admin']));
  });
});

describe('hostile cluster text, served live', () => {
  const expectSafe = (text: string) => {
    const found = UNSAFE.exec(text);
    if (found) throw new Error(`unsafe character U+${found[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${found.index}: ${JSON.stringify(text.slice(Math.max(0, found.index - 40), found.index + 20))}`);
  };
  /** What the fixture carries, as it must show once neutralised: visible, inert. */
  const SHOWN = ['^[[31;1mRED^[[0m^[[2J^[[H^[[1A', '^[]0;kdiag-pwned-title^G', '^[]8;;https://evil.example/^[\\click-me', 'all good\\rFAKE-OVERWRITE', 'shown^H^H^H^H^Hhidden', 'invoice\\u202efdp.exe', '\\u009b31mC1-CSI'];

  it.concurrent('text: no escape, C1, bidi, carriage return or backspace reaches the terminal; the 100 kB line is cut with a marker', async () => {
    const [sweep, pod] = await Promise.all([
      kdiag('namespace', 'hostile', '--kubeconfig', hostile.kubeconfigPath),
      kdiag('pod', 'evil-crash', '--kubeconfig', hostile.kubeconfigPath, '-n', 'hostile'),
    ]);
    for (const result of [sweep, pod]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('');
      expectSafe(result.stdout);
      expect(result.stdout).toContain('LONG-LINE-START');
      expect(result.stdout).not.toContain('LONG-LINE-END');
      expect(result.stdout).toMatch(/… \[\d+ more characters cut\]/);
      expect(result.stdout.length).toBeLessThan(30_000);
    }
    // Every hostile field was printed (so the checks above saw it), escaped.
    for (const tag of ['TERMINATION-MESSAGE', 'LOG-LINE', 'PULL-WAITING-MESSAGE', 'PULL-EVENT-MESSAGE', 'PULL-BACKOFF-MESSAGE', 'LABEL-VALUE']) {
      expect(sweep.stdout).toContain(`${tag} ^[[31;1mRED`);
      expect(sweep.stdout).toContain(`end-of-${tag}`);
    }
    for (const shown of SHOWN) expect(sweep.stdout).toContain(shown);
  });

  it.concurrent('-o json parses, and no string in it carries those characters', async () => {
    const sweep = await kdiag('namespace', 'hostile', '--kubeconfig', hostile.kubeconfigPath, '-o', 'json');
    expect(sweep.code).toBe(1);
    // Raw: JSON.stringify leaves C1 and bidi characters as they are; none may be there.
    expectSafe(sweep.stdout);
    const r = report(sweep);
    for (const s of stringsOf(r)) expectSafe(s);
    const crash = r.diagnoses.find((d) => d.rule === 'exit-code-1')!;
    const long = crash.logTail!.find((line) => line.startsWith('LONG-LINE-START'))!;
    expect(long).toMatch(/… \[\d+ more characters cut\]$/);
    expect(long.length).toBeLessThan(1100);
    for (const shown of SHOWN) expect(JSON.stringify(r)).toContain(JSON.stringify(shown).slice(1, -1));
  });
});

describe('what kdiag never does', () => {
  it('never prints or records the bearer token, the client key, the exec plugin\'s token or env values', () => {
    expect(outputs.length).toBeGreaterThan(30);
    const keyBody = server.secrets.clientKeyPem
      .split('\n')
      .filter((line) => line && !line.startsWith('-----'))
      .join('');
    // One PKI per test file: every server has the same client key, and a token of its own (which the exec plugins print).
    const all = [server, hostile, ...own];
    const secrets = [...all.map((s) => s.secrets.token), server.secrets.clientKeyData, keyBody, keyBody.slice(0, 40), keyBody.slice(-40), PLANTED, DB_SECRET];
    for (const { what, text } of outputs) {
      const squeezed = text.replace(/\s/g, '');
      for (const secret of secrets) {
        if (text.includes(secret) || squeezed.includes(secret)) throw new Error(`${what} contains a secret: ${secret.slice(0, 12)}...`);
      }
    }
  });

  it('sent only GET requests to the API servers', () => {
    const all = [server, hostile, ...own].flatMap((s) => s.requests);
    expect(all.length).toBeGreaterThan(100);
    expect(all.filter((q) => q.method !== 'GET')).toEqual([]);
  });
});
