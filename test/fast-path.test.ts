import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { englishLocale, helpFile } from '../src/cli/fast.js';
import { main } from '../src/cli/index.js';
import { renderHelp } from '../src/cli/write-help.js';
import { ROOT } from './support/fixtures.js';
import { runKdiagOffline, runProgram } from './support/run.js';

/**
 * `kdiag --help` and `kdiag explain TOPIC` are answered without loading yargs (src/cli/fast.ts).
 * What they print must be exactly what the yargs path prints, and anything but their plain forms
 * must still go through yargs.
 */

afterEach(() => {
  jest.restoreAllMocks();
});

/** main() in this process, with what it wrote on stdout and stderr. */
async function inProcess(argv: string[], withoutParser: boolean): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write);
  jest.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write);
  jest.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    stdout += `${parts.map(String).join(' ')}\n`;
  });
  try {
    const code = await main(argv, 'kdiag', { withoutParser });
    return { code, stdout, stderr };
  } finally {
    jest.restoreAllMocks();
  }
}

describe('explain without the parser', () => {
  const cases = [
    ['explain', '137'],
    ['explain', '0'],
    ['explain', '143', '-o', 'json'],
    ['explain', 'oom-killed', '--output=json'],
    ['explain', 'CrashLoopBackOff', '--output', 'text'],
    ['explain', 'sigterm'],
    ['explain', 'nope'],
    ['explain', '999'],
  ];
  it.each(cases)('kdiag %s %s ... prints what the yargs path prints', async (...argv) => {
    const fast = await inProcess(argv, true);
    const parsed = await inProcess(argv, false);
    expect(fast).toEqual(parsed);
    expect(fast.stdout.length + fast.stderr.length).toBeGreaterThan(0);
  });

  it('leaves every other form to yargs, which validates it', async () => {
    expect((await runKdiagOffline(['explain', '137', '-o', 'yaml'])).stderr).toMatch(/Invalid values|Choices/);
    expect((await runKdiagOffline(['explain', '137', '--bogus'])).stderr).toMatch(/Unknown argument/);
    expect((await runKdiagOffline(['explain', '137', '--debug'])).code).toBe(0);
    expect((await runKdiagOffline(['explain'])).code).toBe(2);
  });
});

describe('--help without the parser', () => {
  it('the built help files are what yargs renders now, at each width, for kdiag and the kubectl plugin', async () => {
    for (const [script, file] of [
      ['kdiag', 'kdiag'],
      ['kubectl kdiag', 'kubectl-kdiag'],
    ] as const) {
      for (const [width, columns] of [
        [100, undefined],
        [110, 110],
        [110, 200],
      ] as const) {
        const built = readFileSync(path.join(ROOT, 'dist', 'help', `${file}-${width}.txt`), 'utf8');
        expect(built).toBe(await renderHelp(columns, script));
      }
    }
    expect(helpFile(100).pathname.endsWith('/help/kdiag-100.txt')).toBe(true);
    expect(helpFile(110, 'kubectl kdiag').pathname.endsWith('/help/kubectl-kdiag-110.txt')).toBe(true);
  });

  it('kdiag --help and -h print the built help, byte for byte what yargs prints', async () => {
    const yargsHelp = await renderHelp(undefined);
    for (const flag of ['--help', '-h']) {
      const run = await runKdiagOffline([flag]);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(yargsHelp);
    }
  });

  it('kubectl kdiag --help prints the plugin\'s built help; another language gets yargs\' own rendering', async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const plugin = await runProgram(process.execPath, [path.join(ROOT, 'bin', 'kubectl-kdiag.js'), '--help'], env);
    expect(plugin.code).toBe(0);
    expect(plugin.stdout).toContain('Usage: kubectl kdiag <command> [options]');
    expect(plugin.stdout).toBe(await renderHelp(undefined, 'kubectl kdiag'));
    const german = await runProgram(process.execPath, [path.join(ROOT, 'bin', 'kdiag.js'), '--help'], { ...env, LANG: 'de_DE.UTF-8' });
    expect(german.code).toBe(0);
    expect(german.stdout).toContain('Optionen:');
  });

  it('in every locale it calls English, the built help is what yargs prints there', async () => {
    const bin = path.join(ROOT, 'bin', 'kdiag.js');
    for (const LC_ALL of ['C', 'POSIX', 'C.UTF-8', 'en_GB.UTF-8', 'en_US']) {
      const env = { PATH: process.env.PATH, HOME: process.env.HOME, LC_ALL };
      expect(englishLocale(env)).toBe(true);
      // `--help --debug` is not a plain form: yargs renders it.
      const [fast, parsed] = await Promise.all([runProgram(process.execPath, [bin, '--help'], env), runProgram(process.execPath, [bin, '--help', '--debug'], env)]);
      expect(fast.stdout).toBe(parsed.stdout);
    }
  });

  it('knows which locales yargs writes in English', () => {
    expect(englishLocale({})).toBe(true);
    expect(englishLocale({ LANG: 'en_GB.UTF-8' })).toBe(true);
    expect(englishLocale({ LC_ALL: 'C' })).toBe(true);
    expect(englishLocale({ LANG: 'C.UTF-8' })).toBe(true);
    expect(englishLocale({ LANG: 'de_DE.UTF-8' })).toBe(false);
    expect(englishLocale({ LC_ALL: 'fr_FR', LANG: 'en_US' })).toBe(false);
  });
});
