import { describe, expect, it, jest } from '@jest/globals';

/**
 * yargs renders the whole help text once a command's handler has started, to keep it should the
 * command fail (30-40 ms before kdiag's first request). kdiag never shows help for a failure and
 * turns that off: after a command, yargs holds no rendered help.
 */

type Usage = { hasCachedHelpMessage(): boolean };
type Parser = { getInternalMethods(): { getUsageInstance(): Usage } };

const made: Parser[] = [];
const real = (await import('yargs')).default;
jest.unstable_mockModule('yargs', () => ({
  default: (...args: Parameters<typeof real>) => {
    const parser = real(...args);
    made.push(parser as unknown as Parser);
    return parser;
  },
}));
const { main } = await import('../src/cli/index.js');

describe('a command through the parser', () => {
  it('runs without yargs rendering its help text', async () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['rules', '-o', 'json'])).toBe(0);
    } finally {
      write.mockRestore();
    }
    expect(made).toHaveLength(1);
    expect(made[0]!.getInternalMethods().getUsageInstance().hasCachedHelpMessage()).toBe(false);
  });
});
