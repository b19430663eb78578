import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HELP_SCRIPTS, HELP_WIDTHS, helpFile } from './fast.js';
import { main } from './index.js';

/**
 * Build step (npm run build): render `kdiag --help` (and `kubectl kdiag --help`) through yargs at
 * each width of HELP_WIDTHS, in English, into dist/help/, so that `kdiag --help` is answered without loading yargs (./fast.ts).
 * test/fast-path.test.ts checks the built files against what yargs prints.
 */

/** What `kdiag --help` prints through yargs, laid out for this width (undefined: stdout is not a terminal). */
export async function renderHelp(columns: number | undefined, scriptName = 'kdiag'): Promise<string> {
  const stdout = Object.getOwnPropertyDescriptor(process.stdout, 'columns');
  const log = console.log;
  const lines: string[] = [];
  Object.defineProperty(process.stdout, 'columns', { value: columns, configurable: true, writable: true });
  console.log = (...parts: unknown[]) => void lines.push(parts.map(String).join(' '));
  try {
    const code = await main(['--help'], scriptName, { withoutParser: false });
    if (code !== 0) throw new Error(`kdiag --help exited ${code}`);
  } finally {
    console.log = log;
    if (stdout) Object.defineProperty(process.stdout, 'columns', stdout);
    else delete (process.stdout as { columns?: number }).columns;
  }
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // English, whatever the build machine's locale (the fast path answers only English locales).
  for (const key of ['LC_ALL', 'LC_MESSAGES', 'LANG', 'LANGUAGE']) delete process.env[key];
  for (const scriptName of HELP_SCRIPTS) {
    for (const width of HELP_WIDTHS) {
      const file = helpFile(width, scriptName);
      mkdirSync(new URL('.', file), { recursive: true });
      writeFileSync(file, await renderHelp(width === 100 ? undefined : width, scriptName));
    }
  }
}
