import { describe, expect, it } from '@jest/globals';
import { rules } from '../rules/index.js';
import frequentRestarts from '../rules/frequent-restarts.js';
import { diagnose, partition } from '../src/engine/index.js';
import type { Rule } from '../src/model/finding.js';
import { DEFAULT_THRESHOLDS, resolveSettings, thresholdsOf } from '../src/model/settings.js';
import { loadFixture, ruleContext } from './support/fixtures.js';

/**
 * The engine with the user's settings: a disabled rule does not run, a severity override is the
 * last word on a rule's diagnoses (after folding), and thresholds reach the rules through their
 * context. Without settings, everything is as before.
 */

const demo = loadFixture('demo-namespace.json');
const summarize = (settings?: Parameters<typeof diagnose>[2]) =>
  diagnose(demo, rules, settings).diagnoses.map((d) => `${d.rule} ${d.severity} ${d.affected.map((a) => a.name).join(',')}`);

describe('disable', () => {
  it('no settings and empty settings give the same report', () => {
    expect(diagnose(demo, rules, { settings: {} })).toEqual(diagnose(demo, rules));
    expect(diagnose(demo, rules, { settings: resolveSettings() })).toEqual(diagnose(demo, rules));
  });

  it('a disabled rule does not run: its diagnosis goes, and the symptom it folded is reported on its own', () => {
    const before = diagnose(demo, rules);
    expect(before.diagnoses.map((d) => d.rule)).toContain('oom-killed');
    expect(before.diagnoses.map((d) => d.rule)).not.toContain('crash-loop-back-off');

    const after = diagnose(demo, rules, { settings: { disable: ['oom-killed'] } });
    expect(after.diagnoses.map((d) => d.rule)).not.toContain('oom-killed');
    const crashLoop = after.diagnoses.find((d) => d.rule === 'crash-loop-back-off');
    expect(crashLoop?.affected.map((a) => a.name).sort()).toEqual(['cart-6br8cpcwpc-v9tpm', 'cart-6br8cpcwpc-xd6r6', 'cart-6br8cpcwpc-z6l75']);
    // Nothing else changes.
    expect(summarize({ settings: { disable: ['oom-killed'] } }).filter((line) => !line.startsWith('crash-loop-back-off'))).toEqual(
      summarize().filter((line) => !line.startsWith('oom-killed')),
    );
  });

  it('a disabled rule is never called', () => {
    const calls: string[] = [];
    const spy: Rule = { ...frequentRestarts, id: 'spy', match: () => (calls.push('spy'), []) };
    diagnose(demo, [spy], { settings: { disable: ['spy'] } });
    expect(calls).toEqual([]);
    diagnose(demo, [spy]);
    // Once per namespace of the snapshot: the engine diagnoses a namespace at a time.
    expect(calls).toEqual(partition(demo).map(() => 'spy'));
    expect(calls.length).toBeGreaterThan(0);
  });

  it('unknown ids are ignored by the engine (the CLI refuses them)', () => {
    expect(diagnose(demo, rules, { settings: { disable: ['no-such-rule'] } })).toEqual(diagnose(demo, rules));
  });
});

describe('severity', () => {
  it('overrides a rule\'s severity, and the summary counts it so', () => {
    const report = diagnose(demo, rules, { settings: { severity: { 'oom-killed': 'info', 'exit-code-1': 'critical' } } });
    expect(report.diagnoses.find((d) => d.rule === 'oom-killed')?.severity).toBe('info');
    expect(report.diagnoses.find((d) => d.rule === 'exit-code-1')?.severity).toBe('critical');
    expect(report.summary).toMatchObject({ critical: 7, warning: 0, info: 1 });
    // Ranked by the new severity: info last.
    expect(report.diagnoses[report.diagnoses.length - 1]?.rule).toBe('oom-killed');
  });

  it('is the last word after folding: a cause is not raised again by the symptom it folded', () => {
    // oom-killed (critical) folds the cart pods' crash loop; lowered to warning, it stays warning.
    const report = diagnose(demo, rules, { settings: { severity: { 'oom-killed': 'warning' } } });
    const oom = report.diagnoses.find((d) => d.rule === 'oom-killed');
    expect(oom?.severity).toBe('warning');
    expect(oom?.context.join(' ')).toMatch(/CrashLoopBackOff/);
  });

  it('a folded symptom lends its overridden severity to the cause', () => {
    // A recovered OOM loop: oom-killed (warning) folds frequent-restarts (warning).
    const fixture = loadFixture('frequent-restarts-recovered-oom.json');
    expect(diagnose(fixture, rules).diagnoses.map((d) => `${d.rule} ${d.severity}`)).toEqual(['oom-killed warning']);
    const raised = diagnose(fixture, rules, { settings: { severity: { 'frequent-restarts': 'critical' } } });
    expect(raised.diagnoses.map((d) => `${d.rule} ${d.severity}`)).toEqual(['oom-killed critical']);
  });

  it('applies to a finding that set its own severity', () => {
    // exit-code-1 on worker is a warning set by the finding; the override wins over it.
    expect(summarize({ settings: { severity: { 'exit-code-1': 'info' } } })).toContain('exit-code-1 info worker-nkn4ln7kgw-fn5r5');
  });
});

describe('thresholds', () => {
  it('rules without settings in their context read the defaults', () => {
    expect(thresholdsOf(ruleContext(demo))).toEqual(DEFAULT_THRESHOLDS);
    expect(DEFAULT_THRESHOLDS.restartCount).toBe(5);
  });

  it('thresholds.restartCount lowers and raises where frequent-restarts fires', () => {
    const fixture = loadFixture('frequent-restarts-quiet-old-and-few-restarts.json');
    const fired = (restartCount?: number) =>
      diagnose(fixture, [frequentRestarts], restartCount === undefined ? {} : { settings: { thresholds: { restartCount } } }).diagnoses.map((d) => d.object.name);
    // cart-api restarted 3 times, the last 10 minutes before the snapshot: under the default of 5.
    expect(fired()).toEqual([]);
    expect(fired(3)).toEqual(['cart-api-7c9d6f8b5-v3k7p']);
    expect(fired(4)).toEqual([]);

    const gateway = loadFixture('frequent-restarts-no-last-state.json');
    const onGateway = (restartCount: number) => diagnose(gateway, [frequentRestarts], { settings: { thresholds: { restartCount } } }).diagnoses.length;
    // 12 restarts: reported at 12, not at 13.
    expect(onGateway(12)).toBe(1);
    expect(onGateway(13)).toBe(0);
  });

  it('the rule reads the threshold from its context, not from anywhere else', () => {
    const fixture = loadFixture('frequent-restarts-no-last-state.json');
    const context = ruleContext(fixture);
    expect(frequentRestarts.match(context)).toHaveLength(1);
    expect(frequentRestarts.match({ ...context, settings: resolveSettings({ thresholds: { restartCount: 100 } }) })).toHaveLength(0);
  });
});
