import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Report } from '../src/model/report.js';
import { globMatcher } from '../src/model/settings.js';
import type { NamespacePart } from '../src/model/snapshot.js';
import type { NodeUse } from '../src/snapshot/select.js';
import { nodeLeftOut, withoutLeftOut } from '../src/snapshot/select.js';
import { ROOT, fixturePath, loadFixture, readmeConfigExample } from './support/fixtures.js';
import type { RunResult } from './support/run.js';
import { report, runProgram } from './support/run.js';

/*
 * The built binary with a config file (--config, or the default one under $XDG_CONFIG_HOME or
 * ~/.config) and --disable, on the recorded demo namespace: exit codes follow the settings, and
 * every refusal is one line on stderr with exit 2. Also -l on a replayed file, and what a sweep
 * leaves out of a namespace (withoutLeftOut).
 */

const BIN = path.join(ROOT, 'bin', 'kdiag.js');
const DEMO = fixturePath('demo-namespace.json');
const WORLD = path.join(ROOT, 'test', 'fixtures', 'live-world.json');

const temp = mkdtempSync(path.join(tmpdir(), 'kdiag-cli-config-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
/** A HOME without any config file: the tests never read the user's own. */
const EMPTY_HOME = path.join(temp, 'empty-home');
mkdirSync(EMPTY_HOME);

/** The built kdiag in ROOT, with no kubeconfig: its code, stdout and stderr (not the time, which the exact checks below leave out). */
async function kdiag(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Pick<RunResult, 'code' | 'stdout' | 'stderr'>> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: EMPTY_HOME, NO_COLOR: '1', KUBECONFIG: path.join(temp, 'no-such-kubeconfig'), ...extraEnv };
  const { code, stdout, stderr } = await runProgram(process.execPath, [BIN, ...args], env, undefined, ROOT);
  return { code, stdout, stderr };
}

function write(name: string, text: string): string {
  const at = path.join(temp, name);
  mkdirSync(path.dirname(at), { recursive: true });
  writeFileSync(at, text);
  return at;
}

const rulesOf = (r: Report) => r.diagnoses.map((d) => d.rule);
const criticalRules = (r: Report) => [...new Set(r.diagnoses.filter((d) => d.severity === 'critical').map((d) => d.rule))].sort();

/** Every rule with a critical diagnosis on the demo, and those that surface once their causes are disabled. */
const DEMO_CRITICAL = [
  'crash-loop-back-off',
  'exit-code-128',
  'exit-code-137',
  'image-pull-back-off',
  'liveness-probe-failed',
  'node-not-ready',
  'oom-killed',
  'pod-pending',
  'readiness-probe-failed',
];

describe('--disable', () => {
  it('a disabled rule is not in the report; what it folded is', async () => {
    const r = report(await kdiag(['namespace', '--snapshot', DEMO, '-o', 'json', '--disable', 'oom-killed']));
    expect(rulesOf(r)).not.toContain('oom-killed');
    expect(rulesOf(r)).toContain('crash-loop-back-off');
  });

  it('disabling every critical rule makes the exit 0, comma-separated and repeated alike', async () => {
    const before = await kdiag(['namespace', '--snapshot', DEMO, '-o', 'json']);
    expect(before.code).toBe(1);
    const half = Math.ceil(DEMO_CRITICAL.length / 2);
    const run = await kdiag(['namespace', '--snapshot', DEMO, '-o', 'json', '--disable', DEMO_CRITICAL.slice(0, half).join(','), '--disable', DEMO_CRITICAL.slice(half).join(',')]);
    expect(run.code).toBe(0);
    const r = report(run);
    expect(criticalRules(r)).toEqual([]);
    expect(r.summary).toMatchObject({ critical: 0, warning: 1 });
    // --fail-on still applies to what is left.
    expect((await kdiag(['namespace', '--snapshot', DEMO, '--fail-on', 'warning', '--disable', DEMO_CRITICAL.join(',')])).code).toBe(1);
  });

  it('with one rule short, the exit stays 1', async () => {
    const run = await kdiag(['namespace', '--snapshot', DEMO, '-o', 'json', `--disable=${DEMO_CRITICAL.filter((id) => id !== 'pod-pending').join(',')}`]);
    expect(run.code).toBe(1);
    expect(criticalRules(report(run))).toEqual(['pod-pending']);
  });

  it('works on kdiag pod too', async () => {
    const before = await kdiag(['pod', 'cart', '--snapshot', DEMO, '-o', 'json']);
    expect(before.code).toBe(1);
    expect(rulesOf(report(before))).toEqual(['oom-killed']);
    const after = await kdiag(['pod', 'cart', '--snapshot', DEMO, '-o', 'json', '--disable', 'oom-killed,crash-loop-back-off']);
    expect(after.code).toBe(0);
    expect(report(after).diagnoses).toEqual([]);
  });

  it('an unknown rule id is exit 2, one line with the near ids', async () => {
    const run = await kdiag(['namespace', '--snapshot', DEMO, '--disable', 'oom-killed,exit-code-13']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('kdiag: --disable: unknown rule "exit-code-13"; did you mean exit-code-134, exit-code-137, exit-code-139? (kdiag rules lists them)\n');
  });
});

describe('--config', () => {
  it('the example file README.md documents: its pod exclusion leaves a canary pod out of the sweep', async () => {
    // The demo with its exit-1 pod (and the events about it) renamed to a canary-* name.
    const from = 'worker-nkn4ln7kgw-fn5r5';
    const to = 'canary-worker-nkn4ln7kgw-fn5r5';
    const demo = write('canary-demo.json', readFileSync(DEMO, 'utf8').split(`"${from}"`).join(`"${to}"`));
    const config = write('example.yaml', readmeConfigExample());
    const without = report(await kdiag(['namespace', '--snapshot', demo, '-o', 'json']));
    expect(without.diagnoses.find((d) => d.rule === 'exit-code-1')?.object.name).toBe(to);
    expect(without.summary.pods).toBe(15);
    const run = await kdiag(['namespace', '--snapshot', demo, '--config', config, '-o', 'json']);
    expect(run.code).toBe(1);
    const withExample = report(run);
    expect(rulesOf(withExample)).not.toContain('exit-code-1');
    expect(withExample.summary.pods).toBe(14);
  });

  it('severity overrides change the exit code', async () => {
    const severity = Object.fromEntries(DEMO_CRITICAL.map((id) => [id, 'warning']));
    const config = write('lowered.json', JSON.stringify({ severity }));
    const run = await kdiag(['namespace', '--snapshot', DEMO, '--config', config, '-o', 'json']);
    expect(run.code).toBe(0);
    const r = report(run);
    expect(r.summary.critical).toBe(0);
    expect(r.diagnoses.map((d) => d.rule)).toContain('oom-killed');
    // And raise: the warning exit-code-1 made critical fails even with every other rule disabled.
    const raised = write('raised.yaml', `severity: { exit-code-1: critical }\ndisable: [${DEMO_CRITICAL.join(', ')}]\n`);
    const gate = await kdiag(['namespace', '--snapshot', DEMO, '--config', raised, '-o', 'json']);
    expect(gate.code).toBe(1);
    expect(criticalRules(report(gate))).toEqual(['exit-code-1']);
  });

  it('--disable adds to the file\'s list', async () => {
    const config = write('half.yaml', `disable: [${DEMO_CRITICAL.slice(0, 4).join(', ')}]\n`);
    expect((await kdiag(['namespace', '--snapshot', DEMO, '--config', config])).code).toBe(1);
    expect((await kdiag(['namespace', '--snapshot', DEMO, '--config', config, '--disable', DEMO_CRITICAL.slice(4).join(',')])).code).toBe(0);
  });

  it('thresholds.restartCount: frequent-restarts fires from the configured count', async () => {
    const fixture = fixturePath('frequent-restarts-quiet-old-and-few-restarts.json');
    const cartApi = (r: Report) => r.diagnoses.find((d) => d.object.name === 'cart-api-7c9d6f8b5-v3k7p');
    // cart-api restarted 3 times: under the default of 5, its exit-code-1 diagnosis stands alone.
    const before = report(await kdiag(['namespace', '--snapshot', fixture, '-o', 'json', '--fail-on', 'never']));
    expect(rulesOf(before)).not.toContain('frequent-restarts');
    expect(cartApi(before)?.context).toEqual([]);
    const config = write('restarts.yaml', 'thresholds:\n  restartCount: 3\n');
    const after = report(await kdiag(['namespace', '--snapshot', fixture, '--config', config, '-o', 'json', '--fail-on', 'never']));
    expect(cartApi(after)?.context).toEqual([expect.stringMatching(/^Container cart-api restarts often: 3 restarts/)]);
    // On its own once the exit-code rule that folds it is disabled.
    const run = await kdiag(['namespace', '--snapshot', fixture, '--config', config, '--disable', 'exit-code-1', '-o', 'json', '--fail-on', 'warning']);
    expect(run.code).toBe(1);
    expect(cartApi(report(run))?.rule).toBe('frequent-restarts');
  });

  it('exclude.pods leaves pods out of a namespace sweep, but not out of kdiag pod NAME', async () => {
    const config = write('no-cart.yaml', 'exclude:\n  pods: ["cart-*", "checkout-*"]\n');
    const r = report(await kdiag(['namespace', '--snapshot', DEMO, '--config', config, '-o', 'json']));
    expect(r.summary.pods).toBe(10);
    expect(rulesOf(r)).not.toContain('oom-killed');
    expect(rulesOf(r)).not.toContain('exit-code-137');
    expect(r.diagnoses.flatMap((d) => d.affected.map((a) => a.name)).filter((name) => /^(cart|checkout)-/.test(name))).toEqual([]);
    const pod = report(await kdiag(['pod', 'cart', '--snapshot', DEMO, '--config', config, '-o', 'json']));
    expect(rulesOf(pod)).toEqual(['oom-killed']);
  });

  it('exclude.namespaces applies to sweeps that span namespaces (-A), not to a namespace asked for', async () => {
    const config = write('no-staging.yaml', 'exclude:\n  namespaces: [staging]\n');
    const all = report(await kdiag(['namespace', '-A', '--snapshot', WORLD, '-o', 'json']));
    const without = report(await kdiag(['namespace', '-A', '--snapshot', WORLD, '--config', config, '-o', 'json']));
    expect(without.summary.pods).toBe(all.summary.pods - 1);
    expect(without.diagnoses.flatMap((d) => d.affected.map((a) => a.namespace))).not.toContain('staging');
    const asked = report(await kdiag(['namespace', 'staging', '--snapshot', WORLD, '--config', config, '-o', 'json']));
    expect(asked.summary.pods).toBe(1);
  });

  it('the default file: $XDG_CONFIG_HOME/kdiag/config.yaml, else ~/.config/kdiag/config.yaml', async () => {
    const disable = `disable: [${DEMO_CRITICAL.join(', ')}]\n`;
    const xdg = path.join(temp, 'xdg');
    write('xdg/kdiag/config.yaml', disable);
    expect((await kdiag(['namespace', '--snapshot', DEMO], { XDG_CONFIG_HOME: xdg })).code).toBe(0);
    const home = path.join(temp, 'home');
    write('home/.config/kdiag/config.yaml', disable);
    expect((await kdiag(['namespace', '--snapshot', DEMO], { HOME: home })).code).toBe(0);
    // --config names another file instead.
    const other = write('other.yaml', 'disable: []\n');
    expect((await kdiag(['namespace', '--snapshot', DEMO, '--config', other], { HOME: home })).code).toBe(1);
    // --debug says which file it read.
    const debug = await kdiag(['namespace', '--snapshot', DEMO, '--debug', '-o', 'json'], { HOME: home });
    expect(debug.stderr).toContain(`kdiag: settings from ${path.join(home, '.config', 'kdiag', 'config.yaml')}\n`);
    expect(debug.stderr).toMatch(/^kdiag: replayed 15 pods, 54 events, 3 nodes, 18 owners, 6 log tails; replayed in \d+ ms, diagnosed in \d+ ms, wrote the report in \d+ ms/m);
  });

  it('no default file is fine; a missing --config file is exit 2', async () => {
    expect((await kdiag(['namespace', '--snapshot', DEMO, '-o', 'json'], { XDG_CONFIG_HOME: path.join(temp, 'nothing-here') })).code).toBe(1);
    const missing = path.join(temp, 'missing.yaml');
    const run = await kdiag(['namespace', '--snapshot', DEMO, '--config', missing]);
    expect(run).toEqual({ code: 2, stdout: '', stderr: `kdiag: config file ${missing} not found\n` });
  });

  it.each([
    ['an unknown key', 'disabled: [oom-killed]\n', 'disabled: unknown key; did you mean disable? (known: disable, severity, thresholds, exclude)'],
    ['an unknown rule id', 'disable: [oom-kiled]\n', 'disable[0]: unknown rule "oom-kiled"; did you mean oom-killed? (kdiag rules lists them)'],
    ['a bad severity', 'severity: { oom-killed: fatal }\n', 'severity.oom-killed: must be critical, warning or info, not the text "fatal"'],
    ['a wrong type', 'thresholds: { restartCount: [10] }\n', 'thresholds.restartCount: must be a whole number from 1 to 1000000, not a list'],
    ['a pod glob that is not a list', 'exclude: { pods: canary-* }\n', 'exclude.pods: must be a list, not the text "canary-*"'],
  ])('%s is exit 2, one line naming the key', async (_, text, message) => {
    const config = write(`bad-${text.length}.yaml`, text);
    const run = await kdiag(['namespace', '--snapshot', DEMO, '--config', config]);
    expect(run).toEqual({ code: 2, stdout: '', stderr: `kdiag: config ${config}: ${message}\n` });
  });

  it('a broken default file is refused too', async () => {
    const home = path.join(temp, 'broken-home');
    const at = write('broken-home/.config/kdiag/config.yaml', 'disable: [\n');
    const run = await kdiag(['namespace', '--snapshot', DEMO], { HOME: home });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^kdiag: config ${at.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid YAML or JSON: .+\\n$`));
  });

  it('text from the file is shown neutralised', async () => {
    const config = write('hostile.yaml', 'disable: ["oom\\u001b[2Jkilled"]\n');
    const run = await kdiag(['namespace', '--snapshot', DEMO, '--config', config]);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('\u001b');
    expect(run.stderr).toContain('unknown rule "oom\\u001b[2Jkilled"');
  });
});

describe('-l on a replayed file', () => {
  it('keeps only the matching pods', async () => {
    const run = await kdiag(['namespace', '--snapshot', DEMO, '-o', 'json', '-l', 'app in (cart, checkout)']);
    expect(run.code).toBe(1);
    const r = report(run);
    expect(r.summary.pods).toBe(5);
    expect(rulesOf(r).sort()).toEqual(['exit-code-137', 'oom-killed', 'readiness-probe-failed']);
    expect(r.diagnoses.flatMap((d) => d.affected.map((a) => a.name)).every((name) => /^(cart|checkout)-/.test(name))).toBe(true);
  });

  it('a selector nothing matches is an empty report, exit 0', async () => {
    const run = await kdiag(['namespace', '--snapshot', DEMO, '-o', 'json', '--selector', 'app=nothing-has-this']);
    expect(run.code).toBe(0);
    expect(report(run)).toMatchObject({ summary: { pods: 0, critical: 0 }, diagnoses: [] });
  });

  it('-l with -A, and with exclusions', async () => {
    const r = report(await kdiag(['namespace', '-A', '--snapshot', WORLD, '-o', 'json', '-l', 'app=web']));
    expect(r.summary.pods).toBe(3);
    const config = write('no-staging-2.yaml', 'exclude: { namespaces: [staging] }\n');
    expect(report(await kdiag(['namespace', '-A', '--snapshot', WORLD, '-o', 'json', '-l', 'app=web', '--config', config])).summary.pods).toBe(2);
  });

  it('an invalid selector is exit 2, one line', async () => {
    const run = await kdiag(['namespace', '--snapshot', DEMO, '-l', 'app in cart']);
    expect(run).toEqual({ code: 2, stdout: '', stderr: 'kdiag: -l "app in cart": expected \'(\' after in, found "cart"\n' });
  });

  it('is not an option of kdiag pod', async () => {
    const run = await kdiag(['pod', 'cart', '--snapshot', DEMO, '-l', 'app=cart']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^kdiag: Unknown argument: l/);
  });
});

describe('withoutLeftOut', () => {
  const demo = loadFixture('demo-namespace.json');
  const part = (): NamespacePart => ({ pods: demo.pods, events: demo.events, owners: demo.owners, logs: demo.logs });
  const use = (): NodeUse => ({ kept: new Set(), dropped: new Set() });

  it('leaves nothing out when nothing matches, and notes the nodes of the kept pods', () => {
    const nodes = use();
    const whole = part();
    expect(withoutLeftOut(whole, { pod: () => false, namespace: () => false }, nodes)).toBe(whole);
    expect([...nodes.kept].sort()).toEqual([...new Set(demo.pods.map((p) => p.spec.nodeName).filter(Boolean))].sort());
    expect(nodes.dropped.size).toBe(0);
  });

  it('takes a left-out pod with its events and logs, and its workload when every pod of it is left out', () => {
    const out = globMatcher(['cart-*']);
    const nodes = use();
    const cut = withoutLeftOut(part(), { pod: (pod) => out(pod.metadata.name ?? '') }, nodes);
    expect(cut.pods).toHaveLength(12);
    expect(cut.pods.some((p) => p.metadata.name?.startsWith('cart-'))).toBe(false);
    expect(cut.logs.some((l) => l.pod.startsWith('cart-'))).toBe(false);
    expect(cut.events.some((e) => e.involvedObject.name?.startsWith('cart'))).toBe(false);
    expect(cut.owners.map((o) => o.metadata.name)).not.toContain('cart');
    expect(cut.owners.map((o) => o.metadata.name)).not.toContain('cart-6br8cpcwpc');
    expect(cut.owners.map((o) => o.metadata.name)).toContain('checkout');
    // A node goes only when nothing but left-out pods ran on it.
    const keptOn = new Set(cut.pods.map((p) => p.spec.nodeName));
    const cartOn = new Set(demo.pods.filter((p) => out(p.metadata.name ?? '')).map((p) => p.spec.nodeName));
    for (const node of demo.nodes) {
      const name = node.metadata.name;
      expect(nodeLeftOut(nodes, name)).toBe(cartOn.has(name) && !keptOn.has(name));
    }
  });

  it('keeps a workload that still has a pod left', () => {
    const cut = withoutLeftOut(part(), { pod: (pod) => pod.metadata.name === 'search-2pt9gr4ljf-4p2b9' }, use());
    expect(cut.owners.map((o) => o.metadata.name)).toContain('search');
    expect(cut.owners.map((o) => o.metadata.name)).not.toContain('search-2pt9gr4ljf');
    expect(cut.owners.map((o) => o.metadata.name)).toContain('search-ckz7pzq5rx');
  });

  it('a left-out namespace goes whole but for its node events (whether a node goes is known at the end)', () => {
    const nodes = use();
    const cut = withoutLeftOut(part(), { namespace: (ns) => ns === 'shop' }, nodes);
    expect(cut).toMatchObject({ pods: [], owners: [], logs: [] });
    expect(cut.events.length).toBeGreaterThan(0);
    expect(cut.events.every((e) => e.involvedObject.kind === 'Node')).toBe(true);
    expect(nodes.kept.size).toBe(0);
    expect(demo.nodes.every((node) => nodeLeftOut(nodes, node.metadata.name) === nodes.dropped.has(node.metadata.name ?? ''))).toBe(true);
  });
});

