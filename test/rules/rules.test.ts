import { describe, expect, it } from '@jest/globals';
import { ruleById } from '../../rules/index.js';
import type { Finding } from '../../src/model/finding.js';
import { loadFixture, ruleContext } from '../support/fixtures.js';
import type { ExpectedFinding, RuleCase } from './case.js';
import { allCases } from './cases/index.js';

function refString(ref: Finding['object']): string {
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

/** The comparable shape of a finding: only the properties the expectation names. */
function shape(finding: Finding, expected: ExpectedFinding): ExpectedFinding {
  const actual: ExpectedFinding = { object: refString(finding.object) };
  if (finding.object.container !== undefined || expected.container !== undefined) actual.container = finding.object.container;
  if (expected.severity !== undefined) actual.severity = finding.severity;
  if (expected.cause !== undefined) actual.cause = finding.cause;
  if (expected.exitCode !== undefined) actual.exitCode = finding.exitCode;
  if (expected.signal !== undefined) actual.signal = finding.signal;
  if (expected.affected !== undefined) actual.affected = (finding.affected ?? []).map(refString).sort();
  return actual;
}

const PLACEHOLDER = /\b(NAMESPACE|POD|CONTAINER|NODE)\b/;

describe.each(allCases.map((c: RuleCase) => [c.rule, c.name, c] as const))('%s', (_rule, _name, c) => {
  it(c.name, () => {
    const rule = ruleById(c.rule);
    expect(rule).toBeDefined();
    const findings = rule!.match(ruleContext(loadFixture(c.fixture)));
    const sorted = [...findings].sort((a, b) => `${refString(a.object)}/${a.object.container}`.localeCompare(`${refString(b.object)}/${b.object.container}`));
    const expected = [...c.expect].sort((a, b) => `${a.object}/${a.container}`.localeCompare(`${b.object}/${b.container}`));
    const normalise = (e: ExpectedFinding): ExpectedFinding => (e.affected ? { ...e, affected: [...e.affected].sort() } : e);
    expect(sorted.map((f, i) => shape(f, expected[i] ?? { object: '' }))).toEqual(expected.map(normalise));
    for (const finding of findings) {
      expect(finding.title).not.toBe('');
      expect(finding.explanation).not.toBe('');
      expect(finding.evidence.length).toBeGreaterThan(0);
      expect(finding.confidence).toBeGreaterThan(0);
      expect(finding.confidence).toBeLessThanOrEqual(1);
      const commands = finding.remediation.map((step) => step.command).filter((cmd): cmd is string => !!cmd);
      expect(commands.length).toBeGreaterThan(0);
      // Commands in findings are filled in with real names, never the generic placeholders.
      for (const command of commands) expect(command).not.toMatch(PLACEHOLDER);
    }
  });
});
