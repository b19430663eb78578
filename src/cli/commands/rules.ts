import { rules } from '../../../rules/index.js';
import { EXIT } from '../../model/errors.js';
import { renderRulesMarkdown } from './rules-doc.js';

/** `kdiag rules`: the catalog, from the same objects the engine runs (`-o markdown` is docs/rules.md). */
export function runRules(output: 'text' | 'json' | 'markdown'): number {
  if (output === 'json') {
    const catalog = rules.map(({ id, title, severity, description, detection, supersedes, remediation }) => ({ id, title, severity, description, detection, supersedes: supersedes ?? [], remediation }));
    process.stdout.write(`${JSON.stringify(catalog, null, 2)}\n`);
    return EXIT.OK;
  }
  if (output === 'markdown') {
    process.stdout.write(renderRulesMarkdown(rules));
    return EXIT.OK;
  }
  const width = Math.max(...rules.map((rule) => rule.id.length));
  for (const rule of rules) process.stdout.write(`${rule.id.padEnd(width)}  ${rule.severity.padEnd(8)}  ${rule.title}\n`);
  process.stdout.write(`\n${rules.length} rules. kdiag explain RULE-ID shows how one is detected and fixed.\n`);
  return EXIT.OK;
}
