import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { rules } from '../../rules/index.js';
import { SEVERITIES } from '../../src/model/finding.js';
import { ROOT } from '../support/fixtures.js';
import { allCases } from './cases/index.js';

const ruleFiles = readdirSync(path.join(ROOT, 'rules'))
  .filter((file) => file.endsWith('.ts') && file !== 'index.ts')
  .map((file) => file.replace(/\.ts$/, ''))
  .sort();

describe('the rule registry', () => {
  it('lists every file in rules/, and nothing else', () => {
    expect(rules.map((rule) => rule.id).sort()).toEqual(ruleFiles);
  });

  it('is sorted by id and every id is unique kebab-case', () => {
    const ids = rules.map((rule) => rule.id);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it.each(rules.map((rule) => [rule.id, rule] as const))('%s has its metadata, a remediation, a firing and a quiet case', (id, rule) => {
    expect(rule.title.length).toBeGreaterThan(10);
    expect(rule.description.length).toBeGreaterThan(40);
    expect(rule.detection.length).toBeGreaterThan(20);
    expect(SEVERITIES).toContain(rule.severity);
    expect(rule.remediation.length).toBeGreaterThan(0);
    for (const step of rule.remediation) expect(step.description.length).toBeGreaterThan(5);
    for (const other of rule.supersedes ?? []) expect(rules.map((r) => r.id)).toContain(other);
    const cases = allCases.filter((c) => c.rule === id);
    expect(cases.some((c) => c.expect.length > 0)).toBe(true);
    expect(cases.some((c) => c.expect.length === 0)).toBe(true);
  });

  it('names quiet fixtures as quiet', () => {
    for (const c of allCases.filter((x) => x.expect.length === 0)) {
      const firesElsewhere = allCases.some((other) => other.fixture === c.fixture && other.expect.length > 0);
      if (!firesElsewhere) expect(c.fixture).toMatch(/quiet|healthy/);
    }
  });
});
