import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ROOT } from './support/fixtures.js';

/**
 * The CLI loads client-node's KubeConfig without the generated API client (src/kube/client.ts).
 * Run in a plain node process over dist/, as the CLI runs it (jest has its own module loader): if a
 * client-node update changes config.js so that the trimmed load falls back to the whole package,
 * this says so rather than letting start-up quietly grow by 0.3 s.
 */

const run = promisify(execFile);

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist', 'src', 'kube', 'client.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
});

const SCRIPT = `
const { loadKubeConfigClass, kubeConfigOrigin } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'kube', 'client.js'))});
const KubeConfig = await loadKubeConfigClass();
const kc = new KubeConfig();
kc.loadFromString(JSON.stringify({
  apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
  clusters: [{ name: 'k', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': Buffer.from('ca-pem').toString('base64') } }],
  users: [{ name: 'u', user: { token: 'secret-token' } }],
  contexts: [{ name: 'c', context: { cluster: 'k', user: 'u', namespace: 'ns1' } }],
}));
const opts = { headers: {} };
await kc.applyToHTTPSOptions(opts);
let apiClient = 'built';
try { kc.makeApiClient(class { constructor(config) { if (!config) throw new Error('no configuration'); } }); } catch (error) { apiClient = String(error); }
console.log(JSON.stringify({ origin: kubeConfigOrigin(), authorization: opts.headers.Authorization, ca: String(opts.ca), namespace: kc.getContextObject('c').namespace, apiClient }));
`;

describe('loadKubeConfigClass', () => {
  it("loads client-node's KubeConfig without the generated client, and it works", async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', SCRIPT], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual({ origin: 'without-generated-client', authorization: 'Bearer secret-token', ca: 'ca-pem', namespace: 'ns1', apiClient: 'built' });
  });
});
