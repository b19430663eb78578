import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UsageError } from '../src/model/errors.js';
import { writeFileAtomic } from '../src/snapshot/file.js';
import type { ApiServer } from './support/api-server.js';
import { startApiServer } from './support/api-server.js';
import { ROOT } from './support/fixtures.js';
import { runProgram } from './support/run.js';

const BIN = path.join(ROOT, 'bin', 'kdiag.js');
let server: ApiServer;
let dir: string;

beforeAll(async () => {
  server = await startApiServer({ fixture: path.join(ROOT, 'test/fixtures/live-world.json') });
  dir = mkdtempSync(path.join(tmpdir(), 'kdiag-snapshot-write-'));
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function kdiag(...args: string[]) {
  return runProgram(process.execPath, [BIN, ...args], { PATH: process.env.PATH, HOME: dir, NO_COLOR: '1', KUBECONFIG: server.kubeconfigPath });
}

/** Temporary files writeFileAtomic may have left in a folder. */
function leftovers(folder: string): string[] {
  return readdirSync(folder).filter((name) => name.endsWith('.tmp'));
}

describe('writeFileAtomic', () => {
  it('keeps an existing file unless forced, and replaces it whole when forced', () => {
    const file = path.join(dir, 'a.json');
    writeFileSync(file, 'old');
    expect(() => writeFileAtomic(file, 'new', false)).toThrow(UsageError);
    expect(readFileSync(file, 'utf8')).toBe('old');
    writeFileAtomic(file, 'new', true);
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(leftovers(dir)).toEqual([]);
  });

  it('leaves no temporary file behind when the final rename fails', () => {
    // rename(2) cannot replace a non-empty directory: the temporary file is written, then removed.
    const blocker = path.join(dir, 'blocker');
    mkdirSync(blocker, { recursive: true });
    writeFileSync(path.join(blocker, 'entry'), '');
    expect(() => writeFileAtomic(blocker, 'content', true)).toThrow(/^cannot write/);
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('kdiag snapshot --output-file', () => {
  it('refuses to overwrite an existing file without --force, and overwrites with it', async () => {
    const file = path.join(dir, 'prod.json');
    const first = await kdiag('snapshot', 'prod', '--output-file', file);
    expect(first.code).toBe(0);
    const recorded = JSON.parse(readFileSync(file, 'utf8')) as { kind: string; kdiag: { scope: { namespace: string } } };
    expect(recorded.kind).toBe('List');
    expect(recorded.kdiag.scope.namespace).toBe('prod');

    writeFileSync(file, 'keep me');
    const second = await kdiag('snapshot', 'prod', '--output-file', file);
    expect(second.code).toBe(2);
    expect(second.stderr).toBe(`kdiag: ${file} already exists (use --force to overwrite it)\n`);
    expect(readFileSync(file, 'utf8')).toBe('keep me');

    const forced = await kdiag('snapshot', 'prod', '--output-file', file, '--force');
    expect(forced.code).toBe(0);
    expect(readFileSync(file, 'utf8')).not.toBe('keep me');
    expect(leftovers(dir)).toEqual([]);
  });

  it('leaves no file at all when the run fails before writing', async () => {
    const file = path.join(dir, 'unreachable.json');
    const kubeconfig = server.writeKubeconfig({ server: 'https://127.0.0.1:1', name: 'unreachable' });
    const run = await runProgram(process.execPath, [BIN, 'snapshot', 'prod', '--output-file', file, '--kubeconfig', kubeconfig], { PATH: process.env.PATH, HOME: dir, NO_COLOR: '1' });
    expect(run.code).toBe(3);
    expect(readdirSync(dir)).not.toContain('unreachable.json');
    expect(leftovers(dir)).toEqual([]);
  });
});
