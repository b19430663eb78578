import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { rules } from '../rules/index.js';
import { renderRulesMarkdown } from '../src/cli/commands/rules-doc.js';
import type { Rule } from '../src/model/finding.js';
import { ROOT } from './support/fixtures.js';

describe('docs/rules.md', () => {
  it('is what the rule metadata renders (run `npm run docs` after changing a rule)', () => {
    const file = path.join(ROOT, 'docs', 'rules.md');
    const onDisk = readFileSync(file, 'utf8');
    const rendered = renderRulesMarkdown(rules);
    if (onDisk !== rendered) {
      const a = onDisk.split('\n');
      const b = rendered.split('\n');
      const line = a.findIndex((text, i) => text !== b[i]);
      const at = line === -1 ? Math.min(a.length, b.length) : line;
      throw new Error(`docs/rules.md is out of date with the rules (first difference at line ${at + 1}): run \`npm run docs\` and commit the result.\n  file:     ${a[at] ?? '(end)'}\n  expected: ${b[at] ?? '(end)'}`);
    }
  });

  it('lists every rule in the table and gives each a section', () => {
    const markdown = renderRulesMarkdown(rules);
    for (const rule of rules) {
      expect(markdown).toContain(`| [\`${rule.id}\`](#${rule.id}) | ${rule.severity} |`);
      expect(markdown).toContain(`\n## ${rule.id}\n`);
    }
  });
});

describe('renderRulesMarkdown', () => {
  const rule = (over: Partial<Rule>): Rule => ({
    id: 'demo-rule',
    title: 'A title | with a pipe',
    severity: 'warning',
    description: 'Text with <angle> brackets, *stars*, _underscores_ and `ticks`.',
    detection: 'Reads\nseveral lines.',
    remediation: [{ description: 'Run it', command: 'kubectl get pods -o jsonpath=\'{.items[*].metadata.name}\' | grep ```x```' }],
    match: () => [],
    ...over,
  });

  it('escapes what Markdown would read in prose and table cells, and fences commands safely', () => {
    const markdown = renderRulesMarkdown([rule({})]);
    expect(markdown).toContain('| [`demo-rule`](#demo-rule) | warning | A title \\| with a pipe |');
    expect(markdown).toContain('Text with &lt;angle&gt; brackets, \\*stars\\*, \\_underscores\\_ and \\`ticks\\`.');
    expect(markdown).toContain('**How it is detected.** Reads several lines.');
    expect(markdown).toContain("   ````sh\n   kubectl get pods -o jsonpath='{.items[*].metadata.name}' | grep ```x```\n   ````");
  });

  it('says which rules a rule explains and which explain it', () => {
    const cause = rule({ id: 'the-cause', supersedes: ['the-symptom'] });
    const symptom = rule({ id: 'the-symptom' });
    const markdown = renderRulesMarkdown([cause, symptom]);
    expect(markdown).toContain('**What it explains.** Findings of [`the-symptom`](#the-symptom) on the same object');
    expect(markdown).toContain('**Explained by.** [`the-cause`](#the-cause)');
    expect(markdown.endsWith('\n')).toBe(true);
    expect(markdown.endsWith('\n\n')).toBe(false);
  });
});
