import { describe, expect, it, jest } from '@jest/globals';
import type { GlobalArgs } from '../src/cli/args.js';

/**
 * `kdiag namespace prod`, `kdiag pod web -n prod -o json` and the like start reading without
 * loading yargs (src/cli/fast.ts). The command must get exactly what yargs would have given it:
 * each plain form below goes both ways and the two are compared, field by field; anything else
 * is left to yargs.
 */

const received: GlobalArgs[] = [];
jest.unstable_mockModule('../src/cli/commands/diagnose.js', () => ({
  runDiagnose: async (args: GlobalArgs) => {
    received.push(args);
    return 0;
  },
}));
const { main } = await import('../src/cli/index.js');
const { plainDiagnose } = await import('../src/cli/fast.js');

/** Every field of GlobalArgs: what a command may read. */
const FIELDS: (keyof GlobalArgs)[] = [
  'mode', 'name', 'ns', 'allNamespaces', 'namespace', 'context', 'kubeconfig', 'snapshot', 'output', 'color', 'debug', 'failOn',
  'requestTimeout', 'logs', 'tail', 'verbose', 'config', 'disable', 'selector', 'watch', 'timeout', 'outputFile', 'force',
];

function fields(args: GlobalArgs): Record<string, unknown> {
  return Object.fromEntries(FIELDS.map((key) => [key, args[key]]));
}

/** What the command got for these words through the fast path, and through yargs. */
async function bothWays(argv: string[]): Promise<{ fast: GlobalArgs; parsed: GlobalArgs }> {
  received.length = 0;
  expect(await main(argv)).toBe(0);
  expect(await main(argv, 'kdiag', { withoutParser: false })).toBe(0);
  expect(received).toHaveLength(2);
  return { fast: received[0]!, parsed: received[1]! };
}

const PLAIN: string[][] = [
  ['namespace'],
  ['namespace', 'prod'],
  ['ns', 'prod'],
  ['ns', '-n', 'prod'],
  ['namespace', '--namespace=prod'],
  ['namespace', '-A'],
  ['namespace', '--all-namespaces', '-o', 'json', '--fail-on', 'warning'],
  ['ns', 'prod', '-o', 'json', '--fail-on', 'never'],
  ['namespace', 'prod', '--output=markdown', '--fail-on=info', '--verbose'],
  ['ns', 'prod', '-o', 'junit', '--debug'],
  ['namespace', 'prod', '--kubeconfig', '/tmp/kube/config.yaml', '--context', 'kind-kind'],
  ['namespace', '--context=arn:aws:eks:eu-west-1:123456789012:cluster/prod', 'prod'],
  ['namespace', '--kubeconfig=./kubeconfig', 'kube-system'],
  ['namespace', '0123'],
  ['pod', 'web-7d9f8c6b5-abcde'],
  ['pod', 'web', '-n', 'prod'],
  ['pod', '-n', 'prod', 'web', '-o', 'json', '--fail-on', 'warning', '--verbose', '--debug'],
  ['pod', 'worker.v2', '--namespace', 'batch', '--context', 'gke_project_europe-west1_prod', '--kubeconfig', '~/.kube/other'],
];

describe('plain diagnose commands without yargs', () => {
  it.each(PLAIN.map((argv) => [argv.join(' '), argv]))('%s: the same arguments as through yargs', async (_, argv) => {
    expect(plainDiagnose(argv as string[])).toBeDefined();
    const { fast, parsed } = await bothWays(argv as string[]);
    expect(fields(fast)).toEqual(fields(parsed));
  });

  it('leaves every other form to yargs', () => {
    const others: string[][] = [
      [],
      ['namespace', 'a', 'b'],
      ['pod'],
      ['pod', 'web', '-A'],
      ['namespace', '-n', 'a', '-n', 'b'],
      ['namespace', '-o', 'yaml'],
      ['namespace', '-o'],
      ['namespace', '--fail-on', 'error'],
      ['namespace', '--snapshot', 'file.json'],
      ['namespace', '--no-logs'],
      ['namespace', '--tail', '5'],
      ['namespace', '-l', 'app=web'],
      ['namespace', '--watch'],
      ['namespace', '--debug=true'],
      ['namespace', '--help'],
      ['namespace', '--version'],
      ['namespace', '-An'],
      ['namespace', '-n', '-A'],
      ['namespace', '--'],
      ['namespace', 'prod', '--unknown'],
      ['namespaces', 'prod'],
      ['snapshot', 'prod', '-f', 'x.json'],
      ['namespace', 'pr od'],
      ['namespace', '$(rm)'],
    ];
    for (const argv of others) expect([argv, plainDiagnose(argv)]).toEqual([argv, undefined]);
  });
});
