import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { nameSlot, VALUE_FLAGS } from '../src/cli/completion.js';
import { startApiServer } from './support/api-server.js';
import type { ApiServer } from './support/api-server.js';
import { ROOT, fixturePath } from './support/fixtures.js';
import type { RunResult } from './support/run.js';
import { closedPort, onPath, runProgram } from './support/run.js';

/**
 * Shell completion, as the shell asks for it: the built bin run with `--get-yargs-completions` and
 * the words typed (the script `kdiag completion` prints does exactly that), against the loopback
 * API server and snapshot files. Commands, flags and choices come from yargs; namespace and pod
 * names from the cluster or the snapshot. Whatever fails, completion prints no error.
 */

const BIN = path.join(ROOT, 'bin', 'kdiag.js');
const PLUGIN_BIN = path.join(ROOT, 'bin', 'kubectl-kdiag.js');
const DEMO = fixturePath('demo-namespace.json');
const PROD_PODS = ['api-5c8d7b9f4-x2k9p', 'migrate-8xk2d', 'web-7d9f8c6b5-abcde', 'web-7d9f8c6b5-fghij', 'worker'];

let server: ApiServer;
let temp: string;

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'completion.js'))) throw new Error('dist/ is missing or stale: run `npm run build` first (npm test does)');
  server = await startApiServer({ fixture: 'test/fixtures/live-world.json' });
  temp = mkdtempSync(path.join(tmpdir(), 'kdiag-completion-'));
});
afterEach(() => server.setFaults());
afterAll(async () => {
  await server?.close();
  if (temp) rmSync(temp, { recursive: true, force: true });
});

/** What the shell runs on TAB: `kdiag --get-yargs-completions kdiag WORD... CURRENT`. */
function complete(words: string[], env: NodeJS.ProcessEnv = {}, bin = BIN): Promise<RunResult> {
  return runProgram(process.execPath, [bin, '--get-yargs-completions', 'kdiag', ...words], { PATH: process.env.PATH, HOME: temp, KUBECONFIG: server.kubeconfigPath, ...env });
}

/** The candidates, after checking that completion said nothing else and exited 0. */
function candidates(result: RunResult): string[] {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return result.stdout.split('\n').filter(Boolean);
}

describe('commands, flags and choices (yargs)', () => {
  it('offers the commands, the completion command included', async () => {
    expect(candidates(await complete(['']))).toEqual(expect.arrayContaining(['pod', 'namespace', 'snapshot', 'explain', 'rules', 'completion']));
  });

  it("offers a command's flags and a flag's choices", async () => {
    expect(candidates(await complete(['pod', 'web', '--']))).toEqual(expect.arrayContaining(['--namespace', '--snapshot', '--context', '--fail-on', '--output']));
    expect(candidates(await complete(['namespace', '--fail-on', '']))).toEqual(['critical', 'warning', 'info', 'never']);
  });
});

describe('names from the cluster', () => {
  it('namespace <TAB> and ns s<TAB>: the namespaces, through one list of them', async () => {
    const before = server.requests.length;
    expect(candidates(await complete(['namespace', '']))).toEqual(['prod', 'staging']);
    expect(candidates(await complete(['ns', 's']))).toEqual(['staging']);
    expect(candidates(await complete(['snapshot', 'p']))).toEqual(['prod']);
    const sent = server.requests.slice(before);
    expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual(Array(3).fill('GET /api/v1/namespaces'));
  });

  it('-n <TAB> and --namespace <TAB>: the namespaces, for any command', async () => {
    expect(candidates(await complete(['pod', '-n', '']))).toEqual(['prod', 'staging']);
    expect(candidates(await complete(['namespace', '--namespace', 'st']))).toEqual(['staging']);
  });

  it("pod <TAB>: the pods of the context's namespace, of -n's, and only those starting with what is typed", async () => {
    expect(candidates(await complete(['pod', '']))).toEqual(PROD_PODS);
    expect(candidates(await complete(['pod', 'web']))).toEqual(['web-7d9f8c6b5-abcde', 'web-7d9f8c6b5-fghij']);
    expect(candidates(await complete(['pod', '-n', 'staging', '']))).toEqual(['web-6b7c9d8f7-q4w5e']);
    expect(candidates(await complete(['--namespace=staging', 'pod', '']))).toEqual(['web-6b7c9d8f7-q4w5e']);
  });

  it('reads only GETs, and only what is needed: one page of names', async () => {
    const before = server.requests.length;
    candidates(await complete(['pod', '-n', 'staging', '']));
    const sent = server.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ method: 'GET', path: '/api/v1/namespaces/staging/pods', status: 200 });
    expect(sent[0]!.query.limit).toBe('500');
    expect(sent[0]!.accept).toContain('as=Table');
  });

  it('--context and --kubeconfig choose the cluster and credentials, as for a diagnosis', async () => {
    const other = server.writeKubeconfig({ currentContext: 'kdiag-revoked', name: 'revoked' });
    // The revoked token is refused (401): no names, so yargs' candidates, and no error.
    expect(candidates(await complete(['pod', ''], { KUBECONFIG: other }))).not.toContain('worker');
    expect(candidates(await complete(['pod', '--context', 'kdiag-cert', ''], { KUBECONFIG: other }))).toEqual(PROD_PODS);
    expect(candidates(await complete(['pod', '--kubeconfig', server.kubeconfigPath, ''], { KUBECONFIG: path.join(temp, 'none') }))).toEqual(PROD_PODS);
  });

  it('namespaces that may not be listed: the context namespace is still offered', async () => {
    server.setFaults({ forbidden: ['namespaces'] });
    expect(candidates(await complete(['namespace', '']))).toEqual(['prod']);
  });

  it('pods that may not be listed, no kubeconfig, an unknown context: no names and no error', async () => {
    server.setFaults({ forbidden: ['pods'] });
    expect(candidates(await complete(['pod', '']))).not.toContain('worker');
    server.setFaults();
    expect(candidates(await complete(['pod', ''], { KUBECONFIG: path.join(temp, 'no-such-kubeconfig') }))).not.toContain('worker');
    expect(candidates(await complete(['pod', '--context', 'nope', '']))).not.toContain('worker');
  });

  it('an unreachable or silent API server: no names and no error, within a few seconds', async () => {
    const port = await closedPort();
    const closed = server.writeKubeconfig({ server: `https://127.0.0.1:${port}`, name: 'closed' });
    expect(candidates(await complete(['pod', ''], { KUBECONFIG: closed }))).not.toContain('worker');
    server.setFaults({ stall: true });
    const stalled = await complete(['pod', '']);
    expect(candidates(stalled)).not.toContain('worker');
    expect(stalled.ms).toBeLessThan(6000);
    // Namespaces: the kubeconfig context's own is still a good answer.
    const namespaces = await complete(['namespace', '']);
    expect(candidates(namespaces)).toEqual(['prod']);
    expect(namespaces.ms).toBeLessThan(6000);
  });
});

describe('names from --snapshot', () => {
  it('pod <TAB> and ns <TAB> read the file, not the cluster', async () => {
    const before = server.requests.length;
    const pods = candidates(await complete(['pod', '--snapshot', DEMO, 'cart']));
    expect(pods).toEqual(['cart-6br8cpcwpc-v9tpm', 'cart-6br8cpcwpc-xd6r6', 'cart-6br8cpcwpc-z6l75']);
    expect(candidates(await complete(['ns', `--snapshot=${DEMO}`, '']))).toEqual(expect.arrayContaining(['shop']));
    expect(candidates(await complete(['pod', '--snapshot', DEMO, '-n', '']))).toEqual(expect.arrayContaining(['shop']));
    expect(server.requests.length).toBe(before);
  });

  it('runs no command: the words typed so far are not a diagnosis to print', async () => {
    const out = candidates(await complete(['namespace', '--snapshot', DEMO, '']));
    expect(out.length).toBeGreaterThan(0);
    expect(out.join('\n')).not.toContain('kdiag ·');
  });

  it('offers only valid names: nothing a terminal would act on', async () => {
    const file = path.join(temp, 'hostile.json');
    const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'x' }, spec: { containers: [{ name: 'c', image: 'i' }] }, status: { phase: 'Running' } });
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pod('good-pod'), pod('evil\u001b]0;pwned\u0007'), pod('a b'), pod('UPPER')] }));
    expect(candidates(await complete(['pod', '--snapshot', file, '']))).toEqual(['good-pod']);
  });

  it('an unreadable snapshot or standard input: no names and no error', async () => {
    expect(candidates(await complete(['pod', '--snapshot', path.join(temp, 'missing.json'), '']))).not.toContain('cart-6br8cpcwpc-v9tpm');
    expect(candidates(await complete(['pod', '--snapshot', '-', '']))).not.toContain('cart-6br8cpcwpc-v9tpm');
  });
});

describe('the completion script', () => {
  it('kdiag completion prints the bash script, or the zsh one under zsh; kubectl-kdiag prints the one for kdiag', async () => {
    const bash = await runProgram(process.execPath, [BIN, 'completion'], { PATH: process.env.PATH, HOME: temp, SHELL: '/bin/bash' });
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain('complete -o bashdefault -o default -F _kdiag_yargs_completions kdiag');
    expect(bash.stdout).toContain('kdiag --get-yargs-completions');
    const zsh = await runProgram(process.execPath, [BIN, 'completion'], { PATH: process.env.PATH, HOME: temp, SHELL: '/usr/bin/zsh' });
    expect(zsh.stdout).toMatch(/^#compdef kdiag$/m);
    const plugin = await runProgram(process.execPath, [PLUGIN_BIN, 'completion'], { PATH: process.env.PATH, HOME: temp, SHELL: '/bin/bash' });
    expect(plugin.stdout).toBe(bash.stdout);
  });

  (onPath('bash') ? it : it.skip)('completes in bash: the printed script, sourced, fills COMPREPLY', async () => {
    // `kdiag` on the PATH as an installed package puts it.
    const binDir = path.join(temp, 'bin');
    mkdirSync(binDir, { recursive: true });
    writeFileSync(path.join(binDir, 'kdiag'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(path.join(binDir, 'kdiag'), 0o755);
    const script = `source <(kdiag completion)
COMP_WORDS=(kdiag ns s); COMP_CWORD=2; _kdiag_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"
COMP_WORDS=(kdiag pod -n staging ''); COMP_CWORD=4; _kdiag_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = await runProgram('bash', ['-c', script], { PATH: `${binDir}:${process.env.PATH}`, HOME: temp, KUBECONFIG: server.kubeconfigPath, SHELL: '/bin/bash' });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout.split('\n').filter(Boolean)).toEqual(['staging', 'web-6b7c9d8f7-q4w5e']);
  });
});

describe('nameSlot (which word is a name)', () => {
  const slot = (...words: string[]) => nameSlot(['kdiag', ...words]);

  it('finds the command and its argument past flags and their values', () => {
    expect(slot('pod', '')).toMatchObject({ kind: 'pods', current: '' });
    expect(slot('--context', 'c1', '-n', 'prod', 'pod', 'we')).toEqual({ kind: 'pods', current: 'we', context: 'c1', namespace: 'prod' });
    expect(slot('ns', '--kubeconfig=/k', '--snapshot', 's.json', '')).toEqual({ kind: 'namespaces', current: '', kubeconfig: '/k', snapshot: 's.json' });
    expect(slot('pod', '-o', 'json', '--tail', '5', '')).toMatchObject({ kind: 'pods' });
    expect(slot('snapshot', '-f', 'out.json', '')).toMatchObject({ kind: 'namespaces' });
  });

  it('is a namespace after -n/--namespace, whatever the command', () => {
    expect(slot('-n', '')).toMatchObject({ kind: 'namespaces' });
    expect(slot('pod', 'web', '--namespace', 'pr')).toMatchObject({ kind: 'namespaces', current: 'pr' });
  });

  it('is no name for a flag, a second argument, another flag value, -A, or other commands', () => {
    expect(slot('pod', '--')).toBeUndefined();
    expect(slot('pod', 'web', '')).toBeUndefined();
    expect(slot('pod', '--context', '')).toBeUndefined();
    expect(slot('namespace', '-A', '')).toBeUndefined();
    expect(slot('explain', '')).toBeUndefined();
    expect(slot('')).toBeUndefined();
    expect(slot('pod', '--', 'web', '')).toBeUndefined();
    expect(nameSlot(['kdiag'])).toBeUndefined();
  });

  it('knows every flag of pod, namespace and snapshot that takes a value (VALUE_FLAGS is in step with the CLI)', async () => {
    const taking = new Set<string>();
    for (const command of ['pod', 'namespace', 'snapshot']) {
      const help = await runProgram(process.execPath, [BIN, command, '--help'], { PATH: process.env.PATH, HOME: temp });
      expect(help.code).toBe(0);
      // Each option's entry runs from its flags to the next option's (descriptions wrap).
      const entries = help.stdout.split(/\n(?= {2}-\w, --| {6}--)/);
      for (const entry of entries) {
        const flags = /^ {2}(?:(-\w), )?(--[\w-]+)|^ {6}(--[\w-]+)/.exec(entry);
        if (!flags || !/\[(string|number|choices:[^\]]*)\]/.test(entry)) continue;
        for (const flag of flags.slice(1)) if (flag) taking.add(flag);
      }
    }
    expect(taking.size).toBeGreaterThan(8);
    expect([...taking].filter((flag) => !VALUE_FLAGS.has(flag))).toEqual([]);
  });
});

