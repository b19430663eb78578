import type { RemediationStep, Rule } from '../../model/finding.js';

/**
 * The rule catalog as Markdown (docs/rules.md): a table of every rule, then each rule's description,
 * detection, what it explains and its remediation. Pure: built from the same Rule objects the engine
 * runs, so the document cannot drift from them (a test compares the file with this output).
 */

/** Prose from rule metadata, safe in Markdown: one line, with the characters Markdown would read escaped. */
function prose(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/[\\`*_]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** A table cell: prose with its pipes escaped. */
function cell(text: string): string {
  return prose(text).replace(/\|/g, '\\|');
}

/** A fenced block long enough not to be closed by backticks inside the command. */
function codeBlock(command: string, indent: string): string {
  const longest = Math.max(0, ...(command.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${indent}${fence}sh`, ...command.split('\n').map((line) => `${indent}${line}`), `${indent}${fence}`].join('\n');
}

function step(s: RemediationStep, n: number): string {
  const lines = [`${n}. ${prose(s.description)}`];
  if (s.command) lines.push('', codeBlock(s.command, '   '));
  return lines.join('\n');
}

const ruleLink = (id: string): string => `[\`${id}\`](#${id})`;

/** The whole catalog, ending in one newline. */
export function renderRulesMarkdown(rules: readonly Rule[]): string {
  const explainedBy = new Map<string, string[]>();
  for (const rule of rules) for (const symptom of rule.supersedes ?? []) explainedBy.set(symptom, [...(explainedBy.get(symptom) ?? []), rule.id]);

  const out: string[] = [
    '# kdiag rules',
    '',
    '<!-- Generated from the rule metadata in rules/ by `npm run docs` (kdiag rules -o markdown). Do not edit: a test fails when this file and the rules differ. -->',
    '',
    `kdiag runs ${rules.length} rules. Each reads the snapshot (pods, nodes, events, workloads, log tails) and reports findings; the engine folds a symptom into the rule that explains it, groups the same problem across a workload's pods, and ranks the diagnoses. Rule ids are stable: a rule is never renamed and a retired id is never reused. \`kdiag explain RULE-ID\` prints one rule; \`kdiag rules -o json\` prints this catalog as JSON.`,
    '',
    'The severity below is the rule\'s default; a finding may be less severe (a crash that has recovered, a node that is still joining) or more.',
    '',
    '| id | severity | title |',
    '|---|---|---|',
    ...rules.map((rule) => `| ${ruleLink(rule.id)} | ${rule.severity} | ${cell(rule.title)} |`),
  ];

  for (const rule of rules) {
    out.push('', `## ${rule.id}`, '', `**${prose(rule.title)}** · severity: ${rule.severity}`, '', prose(rule.description), '', `**How it is detected.** ${prose(rule.detection)}`, '');
    const explains = rule.supersedes ?? [];
    out.push(
      explains.length
        ? `**What it explains.** Findings of ${explains.map(ruleLink).join(', ')} on the same object become context of this diagnosis instead of diagnoses of their own.`
        : '**What it explains.** No other rule\'s findings: it does not fold symptoms.',
    );
    const by = explainedBy.get(rule.id);
    if (by?.length) out.push('', `**Explained by.** ${by.map(ruleLink).join(', ')}: when one of them finds the cause on the same object, this finding is folded into it.`);
    out.push('', '**Remediation.**', '', ...rule.remediation.map((s, i) => step(s, i + 1)).join('\n\n').split('\n'));
  }
  return `${out.join('\n')}\n`;
}
