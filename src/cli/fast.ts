import { readFileSync } from 'node:fs';
import { EXIT } from '../model/errors.js';
import type { GlobalArgs } from './args.js';
import { DIAGNOSE_DEFAULTS, DIAGNOSE_OUTPUTS, FAIL_ON } from './args.js';

/**
 * Commands answered without loading the argument parser (yargs and its text layout take about
 * 75 ms, longer than node's own start-up, before a sweep's first request), in their plain forms only:
 *
 * - `kdiag --help` / `-h` (and `kubectl kdiag --help`): the help yargs renders, written at build
 *   time (src/cli/write-help.ts) for the widths the help is laid out at when stdout is not a
 *   terminal (100) or a wide one (110), in English. A narrower terminal or another language goes
 *   to yargs.
 * - `kdiag explain TOPIC [-o text|json]`.
 * - `kdiag namespace|ns [NS]` and `kdiag pod NAME` with the flags a pipeline or an on-call engineer
 *   gives them (see plainDiagnose): the same arguments yargs would give the command.
 *
 * Anything else (another flag, a typo, a repeated flag) goes through yargs, which validates it.
 * Returns the exit code, or undefined when yargs must answer.
 */

/** Column width of the help: the terminal's up to 110, or 100 when stdout is not a terminal. */
export function helpWidth(): number {
  return Math.min(110, process.stdout.columns || 100);
}

/** The widths written at build time. */
export const HELP_WIDTHS = [100, 110] as const;

/** The commands the help is written for: kdiag, and kdiag as a kubectl plugin. */
export const HELP_SCRIPTS = ['kdiag', 'kubectl kdiag'] as const;

/** Where the help rendered for a command and width is kept (dist/help/, next to dist/src/). */
export function helpFile(width: number, scriptName: string = 'kdiag'): URL {
  return new URL(`../../help/${scriptName.replace(/ /g, '-')}-${width}.txt`, import.meta.url);
}

/** Whether yargs would write English: the locale it guesses from the environment, as it guesses it. */
export function englishLocale(env: NodeJS.ProcessEnv): boolean {
  const locale = (env.LC_ALL || env.LC_MESSAGES || env.LANG || env.LANGUAGE || 'en_US').replace(/[.:].*/, '');
  return /^(en([_-].*)?|C|POSIX)$/.test(locale);
}

const TOPIC = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const OUTPUTS = new Set(['text', 'json']);

/** `explain TOPIC`, `explain TOPIC -o json`, `explain TOPIC --output json|--output=json`; undefined for anything else. */
function plainExplain(argv: string[]): { topic: string; output: 'text' | 'json' } | undefined {
  if (argv[0] !== 'explain' || argv.length < 2 || argv.length > 4 || !TOPIC.test(argv[1]!)) return undefined;
  const rest = argv.slice(2);
  let output = 'text';
  if (rest.length === 1) {
    const m = /^--output=(.*)$/.exec(rest[0]!);
    if (!m) return undefined;
    output = m[1]!;
  } else if (rest.length === 2) {
    if (rest[0] !== '-o' && rest[0] !== '--output') return undefined;
    output = rest[1]!;
  }
  return OUTPUTS.has(output) ? { topic: argv[1]!, output: output as 'text' | 'json' } : undefined;
}

/** Flags plainDiagnose reads, by every spelling, with the values each may take (undefined: any). */
const PLAIN_FLAGS: Record<string, { key: 'namespace' | 'context' | 'kubeconfig' | 'output' | 'failOn'; values?: readonly string[] } | { key: 'allNamespaces' | 'debug' | 'verbose'; flag: true }> = {
  '-n': { key: 'namespace' },
  '--namespace': { key: 'namespace' },
  '--context': { key: 'context' },
  '--kubeconfig': { key: 'kubeconfig' },
  '-o': { key: 'output', values: DIAGNOSE_OUTPUTS },
  '--output': { key: 'output', values: DIAGNOSE_OUTPUTS },
  '--fail-on': { key: 'failOn', values: FAIL_ON },
  '-A': { key: 'allNamespaces', flag: true },
  '--all-namespaces': { key: 'allNamespaces', flag: true },
  '--debug': { key: 'debug', flag: true },
  '--verbose': { key: 'verbose', flag: true },
};

/** A value a flag may take here: a plain word or path (no leading "-", nothing yargs would read otherwise). */
const PLAIN_VALUE = /^[A-Za-z0-9_./~:@+][A-Za-z0-9_./~:@+=,-]*$/;

/**
 * The arguments of `namespace|ns [NS]` or `pod NAME` with only -n, --context, --kubeconfig, -o,
 * --fail-on, -A (namespace), --debug and --verbose, each at most once (`--flag value` or
 * `--flag=value`): the GlobalArgs yargs gives the command for the same words (a test holds the
 * two to each other). Undefined for anything else.
 */
export function plainDiagnose(argv: string[]): GlobalArgs | undefined {
  const command = argv[0];
  const mode = command === 'pod' ? 'pod' : command === 'namespace' || command === 'ns' ? 'namespace' : undefined;
  if (!mode) return undefined;
  const args: GlobalArgs = { mode, output: DIAGNOSE_OUTPUTS[0], ...DIAGNOSE_DEFAULTS };
  if (mode === 'namespace') args.allNamespaces = false;
  const seen = new Set<string>();
  let positional: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('-')) {
      if (positional !== undefined || !PLAIN_VALUE.test(word)) return undefined;
      positional = word;
      continue;
    }
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const name = eq > 0 ? word.slice(0, eq) : word;
    const spec = PLAIN_FLAGS[name];
    if (!spec || seen.has(spec.key) || (spec.key === 'allNamespaces' && mode !== 'namespace')) return undefined;
    seen.add(spec.key);
    if ('flag' in spec) {
      if (eq > 0) return undefined;
      args[spec.key] = true;
      continue;
    }
    const value = eq > 0 ? word.slice(eq + 1) : argv[++i];
    if (value === undefined || !PLAIN_VALUE.test(value) || (spec.values && !spec.values.includes(value))) return undefined;
    (args as unknown as Record<string, string>)[spec.key] = value;
  }
  if (mode === 'pod') {
    if (positional === undefined) return undefined;
    args.name = positional;
  } else if (positional !== undefined) args.ns = positional;
  return args;
}

export async function answerWithoutParser(argv: string[], scriptName: string): Promise<number | undefined> {
  if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) {
    const width = helpWidth();
    if (!HELP_SCRIPTS.includes(scriptName as (typeof HELP_SCRIPTS)[number]) || !HELP_WIDTHS.includes(width as (typeof HELP_WIDTHS)[number]) || !englishLocale(process.env)) return undefined;
    let text: string;
    try {
      text = readFileSync(helpFile(width, scriptName), 'utf8');
    } catch {
      return undefined; // not built (running from the sources): yargs renders it
    }
    process.stdout.write(text);
    return EXIT.OK;
  }
  const diagnose = plainDiagnose(argv);
  if (diagnose) {
    const { runDiagnose } = await import('./commands/diagnose.js');
    return runDiagnose(diagnose);
  }
  const explain = plainExplain(argv);
  if (!explain) return undefined;
  const { runExplain } = await import('./commands/explain.js');
  return runExplain(explain.topic, explain.output);
}
