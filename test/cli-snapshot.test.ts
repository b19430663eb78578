import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { rules } from '../rules/index.js';
import type { Report } from '../src/model/report.js';
import { ROOT, fixturePath } from './support/fixtures.js';
import { offlineEnv, runKdiagOffline } from './support/run.js';

/*
 * The built binary (bin/kdiag.js over dist/; `npm test` builds first) run on recorded snapshots and
 * plain kubectl output: exit codes, what goes to stdout and stderr, and the offline commands.
 */

const BIN = path.join(ROOT, 'bin', 'kdiag.js');
const DEMO = fixturePath('demo-namespace.json');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function json(run: Run): Report {
  return JSON.parse(run.stdout) as Report;
}

const temp = mkdtempSync(path.join(tmpdir(), 'kdiag-cli-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const RANK = { critical: 3, warning: 2, info: 1 } as const;

describe('kdiag namespace --snapshot (the demo)', () => {
  it('prints the ranked report and exits 1 on critical diagnoses', async () => {
    const run = await runKdiagOffline(['namespace', '--snapshot', DEMO]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expect(run.stdout).not.toMatch(/\u001b\[/); // NO_COLOR, and not a TTY
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('kdiag · namespace shop · 15 pods · read 2026-11-20T10:00:00Z');
    expect(lines[1]).toMatch(/^\d+ critical · \d+ warning · \d+ info$/);
    expect(run.stdout).toMatch(/^ 1\. CRITICAL {2}\S/m);
    // Numbered 1, 2, 3, ... and every CRITICAL before every WARNING before every INFO.
    const headings = lines.filter((line) => /^ ?\d+\. (CRITICAL|WARNING|INFO)/.test(line));
    expect(headings.length).toBeGreaterThanOrEqual(4);
    headings.forEach((line, i) => expect(line.trimStart().startsWith(`${i + 1}. `)).toBe(true));
    const severities = headings.map((line) => (line.includes('CRITICAL') ? 3 : line.includes('WARNING') ? 2 : 1));
    expect(severities).toEqual([...severities].sort((a, b) => b - a));
    expect(run.stdout).toContain('[oom-killed]');
    expect(run.stdout).toContain('$ kubectl logs -n shop ');
  });

  it('prints the kdiag/v1 report with -o json, most urgent first', async () => {
    const run = await runKdiagOffline(['namespace', '--snapshot', DEMO, '-o', 'json']);
    expect(run.code).toBe(1);
    const report = json(run);
    expect(report.apiVersion).toBe('kdiag/v1');
    expect(report.scope).toEqual({ kind: 'Namespace', namespace: 'shop', name: null });
    expect(report.summary.pods).toBe(15);
    expect(report.diagnoses[0]!.severity).toBe('critical');
    const ranks = report.diagnoses.map((d) => RANK[d.severity]);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
    expect(report.summary.critical + report.summary.warning + report.summary.info).toBe(report.diagnoses.length);
    // The healthy deployment and the finished CronJob run are not diagnosed.
    const owners = report.diagnoses.map((d) => d.owner?.name);
    expect(owners).not.toContain('frontend');
    expect(owners).not.toContain('nightly-report');
  });

  it('exits 0 with --fail-on never, and still prints the report', async () => {
    const run = await runKdiagOffline(['namespace', '--snapshot', DEMO, '--fail-on', 'never']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('CRITICAL');
  });

  it('takes the namespace as a positional and its alias ns', async () => {
    const run = await runKdiagOffline(['ns', 'shop', '--snapshot', DEMO, '-o', 'json']);
    expect(run.code).toBe(1);
    expect(json(run).scope.namespace).toBe('shop');
  });
});

describe('kdiag pod --snapshot', () => {
  it('groups the three OOMKilled replicas of deployment cart into one diagnosis', async () => {
    const run = await runKdiagOffline(['pod', 'cart', '--snapshot', DEMO, '-o', 'json']);
    expect(run.code).toBe(1);
    const report = json(run);
    expect(report.scope).toEqual({ kind: 'Pod', namespace: 'shop', name: 'cart' });
    expect(report.diagnoses).toHaveLength(1);
    const [oom] = report.diagnoses;
    expect(oom).toMatchObject({ rule: 'oom-killed', severity: 'critical', exitCode: 137, signal: 'SIGKILL', owner: { kind: 'Deployment', name: 'cart' } });
    expect(oom!.affected).toHaveLength(3);
    expect(new Set(oom!.affected.map((ref) => ref.name)).size).toBe(3);
    expect(oom!.context.join('\n')).toContain('CrashLoopBackOff');
  });

  it('exits 2 with "not found" for a name the snapshot does not hold', async () => {
    const run = await runKdiagOffline(['pod', 'nosuch', '--snapshot', DEMO]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^kdiag: pod or workload "nosuch" not found in namespace shop/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('suggests near names for a misspelt one', async () => {
    const run = await runKdiagOffline(['pod', 'chekout', '--snapshot', DEMO]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('not found');
    expect(run.stderr).toContain('did you mean: checkout');
  });
});

describe('unreadable snapshots', () => {
  const cases: [string, string, RegExp][] = [
    ['broken.json', '{"apiVersion": "v1", "kind": "List", "items": [', /is not valid JSON/],
    ['broken.yaml', 'items:\n  - kind: Pod\n   metadata: [unclosed\n', /is neither JSON nor YAML/],
    ['words.txt', 'this is not a cluster\n', /holds no Kubernetes object/],
    ['empty.json', '\n', /is empty/],
  ];
  it.each(cases)('%s: exits 2 with one line on stderr and no stack trace', async (name, content, message) => {
    const file = path.join(temp, name);
    writeFileSync(file, content);
    const run = await runKdiagOffline(['namespace', '--snapshot', file]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^kdiag: snapshot /);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a missing file: exits 2', async () => {
    const run = await runKdiagOffline(['namespace', '--snapshot', path.join(temp, 'nope.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`kdiag: cannot read snapshot ${path.join(temp, 'nope.json')}: no such file\n`);
  });
});

describe('plain kubectl output', () => {
  const pods = fixturePath('kubectl-get-pods-crashloop.json');
  const checkList = (run: Run) => {
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    const report = json(run);
    expect(report.scope).toEqual({ kind: 'Namespace', namespace: 'payments', name: null });
    expect(report.summary.pods).toBe(2);
    expect(report.diagnoses).toHaveLength(1);
    // No ReplicaSet in the input: the Deployment is inferred from pod-template-hash.
    expect(report.diagnoses[0]).toMatchObject({ rule: 'exit-code-1', exitCode: 1, owner: { kind: 'Deployment', name: 'payments-api' } });
    expect(report.diagnoses[0]!.context.join('\n')).toContain('CrashLoopBackOff');
  };

  it('is not a kdiag snapshot: a List of Pods with no kdiag block', () => {
    const list = JSON.parse(readFileSync(pods, 'utf8')) as Record<string, unknown>;
    expect(list.kind).toBe('List');
    expect(list.kdiag).toBeUndefined();
  });

  it('kubectl get pods -o json via --snapshot FILE', async () => {
    checkList(await runKdiagOffline(['namespace', '--snapshot', pods, '-o', 'json']));
  });

  it('kubectl get pods -o json via stdin (--snapshot -)', async () => {
    checkList(await runKdiagOffline(['namespace', '--snapshot', '-', '-o', 'json'], readFileSync(pods, 'utf8')));
  });

  it('kubectl get pod -o yaml via --snapshot FILE and via stdin', async () => {
    const yamlFile = fixturePath('kubectl-get-pod-oomkilled.yaml');
    for (const run of [
      await runKdiagOffline(['pod', 'image-resizer', '--snapshot', yamlFile, '-o', 'json']),
      await runKdiagOffline(['pod', 'image-resizer-5c6d7f8b9-h7j2k', '--snapshot', '-', '-o', 'json'], readFileSync(yamlFile, 'utf8')),
    ]) {
      expect(run.code).toBe(1);
      const report = json(run);
      expect(report.scope.namespace).toBe('media');
      expect(report.diagnoses).toHaveLength(1);
      expect(report.diagnoses[0]).toMatchObject({ rule: 'oom-killed', cause: 'memory-limit', exitCode: 137, object: { name: 'image-resizer-5c6d7f8b9-h7j2k', container: 'resizer' } });
    }
  });
});

describe('kdiag explain (offline)', () => {
  it('137: SIGKILL, and how to tell an OOM kill from a probe kill', async () => {
    const run = await runKdiagOffline(['explain', '137']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Exit code 137: SIGKILL \(signal 9\)/);
    expect(run.stdout).toContain('OOMKilled');
    expect(run.stdout).toContain('liveness probe');
  });

  it('128: could not start, and never "success"', async () => {
    const run = await runKdiagOffline(['explain', '128']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Exit code 128: could not start/);
    expect(run.stdout).toContain('StartError');
    expect(run.stdout.replace(/not (a )?success(ful)?/gi, '')).not.toMatch(/success/i);
  });

  it('143: SIGTERM', async () => {
    const run = await runKdiagOffline(['explain', '143']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Exit code 143: SIGTERM \(signal 15\)/);
  });

  it('200: application-defined, not a signal', async () => {
    const run = await runKdiagOffline(['explain', '200']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Exit code 200: application-defined\n/);
    expect(run.stdout).toContain('no signal above 64');
    expect(run.stdout).not.toMatch(/\bSIG[A-Z]+/);
    const info = JSON.parse((await runKdiagOffline(['explain', '200', '-o', 'json'])).stdout) as Record<string, unknown>;
    expect(info).toMatchObject({ kind: 'ExitCode', code: 200, name: 'application-defined' });
    expect(info.signal).toBeUndefined();
  });

  it('300: out of range, exit 2', async () => {
    const run = await runKdiagOffline(['explain', '300']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^kdiag: exit code 300 is out of range/);
  });

  it('CrashLoopBackOff: a reason, and the rule that diagnoses it', async () => {
    const run = await runKdiagOffline(['explain', 'CrashLoopBackOff']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^CrashLoopBackOff: state\.waiting\.reason/);
    expect(run.stdout).toContain('crash-loop-back-off');
  });

  it('oom-killed: a rule id, with how it is detected and fixed', async () => {
    const run = await runKdiagOffline(['explain', 'oom-killed']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^oom-killed \(critical\): /);
    expect(run.stdout).toContain('How kdiag detects it:');
    expect(run.stdout).toContain('What to do:');
  });
});

describe('kdiag rules and --help', () => {
  it('rules lists every rule id', async () => {
    const run = await runKdiagOffline(['rules']);
    expect(run.code).toBe(0);
    const listed = run.stdout.split('\n').filter((line) => /^[a-z0-9-]+ {2}/.test(line)).map((line) => line.split(/\s+/)[0]);
    expect(listed).toEqual(rules.map((rule) => rule.id));
    expect(run.stdout).toContain(`${rules.length} rules.`);
  });

  it('--help shows the commands and the exit codes', async () => {
    const run = await runKdiagOffline(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['pod <name>', 'namespace [ns]', 'snapshot [ns]', 'explain <topic>', 'rules']) expect(run.stdout).toContain(command);
    expect(run.stdout).toContain('Exit codes:');
    for (const code of ['0 ', '1 ', '2 ', '3 ', '4 ', '130 ']) expect(run.stdout).toMatch(new RegExp(`^ {2}${code}`, 'm'));
  });
});

describe('bad flags', () => {
  it.each([
    [['namespace', '-o', 'yaml', '--snapshot', DEMO], /Invalid values: Argument: output, Given: "yaml"/],
    [['namespace', '--fail-on', 'bogus', '--snapshot', DEMO], /Argument: fail-on, Given: "bogus"/],
    [['namespace', '--bogus', '--snapshot', DEMO], /Unknown argument: bogus/],
    [[], /name a command/],
  ])('kdiag %j exits 2 with one line and runs nothing', async (args, message) => {
    const run = await runKdiagOffline(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe(''); // the command did not run
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/^kdiag: .*\(see kdiag --help\)\n$/);
  });
});

describe('a reader that goes away', () => {
  it('keeps the exit code and prints no EPIPE error when stdout closes early (kdiag rules | true)', () => {
    const run = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" rules | true; echo "exit=\${PIPESTATUS[0]}" >&2`], { cwd: ROOT, env: offlineEnv(), encoding: 'utf8' });
    expect(run.stderr).not.toMatch(/EPIPE|    at /);
    expect(run.stderr.trim()).toBe('exit=0');
  });
});

describe('untrusted names in error messages', () => {
  it('neutralises control sequences in the near names it suggests', async () => {
    const file = path.join(temp, 'hostile-names.json');
    const hostile = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-\u001b]0;owned\u0007\u001b[2J', namespace: 'default' }, spec: { containers: [] }, status: {} }] };
    writeFileSync(file, JSON.stringify(hostile));
    const run = await runKdiagOffline(['pod', 'web', '--snapshot', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/did you mean: web-\^\[\]0;owned\^G\^\[\[2J\?/);
    expect(run.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });
});
