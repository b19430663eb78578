import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readsCluster, warmTlsRoots } from '../src/kube/tls-warmup.js';
import { ROOT } from './support/fixtures.js';
import { offlineEnv, runProgram } from './support/run.js';

/**
 * A command that reads the cluster makes node's TLS root store on a helper thread while it starts
 * (src/kube/tls-warmup.ts). Only such commands start the thread, and the thread never keeps the
 * process alive or writes anything.
 */

describe('readsCluster', () => {
  it.each([
    [['namespace', 'prod']],
    [['ns']],
    [['pod', 'web', '-n', 'prod']],
    [['snapshot', 'prod', '-f', 'out.json']],
    [['namespace', '-A', '-o', 'junit']],
  ])('%j reads the cluster', (argv) => {
    expect(readsCluster(argv)).toBe(true);
  });

  it.each([
    [['namespace', '--snapshot', 'run.json']],
    [['pod', 'web', '--snapshot=run.json']],
    [['namespace', '--help']],
    [['pod', '-h']],
    [['explain', '137']],
    [['rules']],
    [['--help']],
    [[]],
  ])('%j does not', (argv) => {
    expect(readsCluster(argv)).toBe(false);
  });
});

describe('warmTlsRoots', () => {
  it('starts no thread when NODE_EXTRA_CA_CERTS is set (node makes the store as it starts then)', () => {
    expect(warmTlsRoots({ NODE_EXTRA_CA_CERTS: '/etc/ssl/extra.pem' })).toBe(false);
  });

  it('lets the process end on its own, says nothing, and leaves TLS working', async () => {
    const module = path.join(ROOT, 'dist', 'src', 'kube', 'tls-warmup.js');
    // Warm twice (the second is a no-op), then make a context that trusts only a given CA, as
    // KubeHttp does: the process must exit by itself with nothing written.
    const script = `
      const { warmTlsRoots } = await import(${JSON.stringify(module)});
      if (!warmTlsRoots({}) || warmTlsRoots({})) console.log('not started once');
      const tls = await import('node:tls');
      tls.createSecureContext({ ca: tls.rootCertificates[0] });
    `;
    const result = await runProgram(process.execPath, ['--input-type=module', '-e', script], offlineEnv(), 20_000);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });
});
