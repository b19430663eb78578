import { describe, expect, it } from '@jest/globals';
import { rules } from '../rules/index.js';
import { diagnose } from '../src/engine/index.js';
import { loadFixture } from './support/fixtures.js';

describe('a healthy namespace', () => {
  it('yields no warning or critical diagnosis from any registered rule', () => {
    // Running ready pods of a Deployment, a StatefulSet and a DaemonSet, finished CronJob runs, a Job
    // whose native sidecar exited 143 after the main container completed, an init container that
    // exited 0, and a Ready node: none of it is a problem.
    const snapshot = loadFixture('healthy-namespace.json');
    const errors: string[] = [];
    const report = diagnose(snapshot, rules, { onRuleError: (id, error) => errors.push(`${id}: ${String(error)}`) });
    expect(errors).toEqual([]);
    expect(report.diagnoses.filter((d) => d.severity !== 'info').map((d) => `${d.severity} ${d.rule}: ${d.title}`)).toEqual([]);
    expect(report.summary.pods).toBe(7);
  });
});
