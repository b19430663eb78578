import { readFileSync } from 'node:fs';
import { EXIT } from '../model/errors.js';

/**
 * The two commands people run to learn, answered without loading the argument parser (yargs and
 * its text layout cost several times node's own start-up), in their plain forms only:
 *
 * - `kdiag --help` / `-h` (and `kubectl kdiag --help`): the help yargs renders, written at build
 *   time (src/cli/write-help.ts) for the widths the help is laid out at when stdout is not a
 *   terminal (100) or a wide one (110), in English. A narrower terminal or another language goes
 *   to yargs.
 * - `kdiag explain TOPIC [-o text|json]`.
 *
 * Anything else (another flag, a typo, --debug) goes through yargs, which validates it.
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
  const explain = plainExplain(argv);
  if (!explain) return undefined;
  const { runExplain } = await import('./commands/explain.js');
  return runExplain(explain.topic, explain.output);
}
