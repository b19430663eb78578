import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ROOT } from './support/fixtures.js';

/**
 * The CLI loads client-node's KubeConfig without the generated API client, and with the libraries
 * of rarer kubeconfigs (OIDC, Azure/GCP auth providers, proxies, fetch options) loaded on first use
 * (src/kube/client.ts). Run in a plain node process over dist/, as the CLI runs it (jest has its own
 * module loader): if a client-node update changes its sources so that the trimmed load falls back
 * to the whole package, this says so rather than letting start-up quietly grow by 0.3 s; and each
 * deferred library is used here once, through client-node's own code paths, to show it still loads.
 */

const run = promisify(execFile);

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist', 'src', 'kube', 'client.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
});

const SCRIPT = `
const { loadKubeConfigClass, kubeConfigOrigin } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'kube', 'client.js'))});
const { writeFileSync, mkdtempSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const KubeConfig = await loadKubeConfigClass();
const origin = kubeConfigOrigin();
const config = (cluster, user) => JSON.stringify({
  apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
  clusters: [{ name: 'k', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': Buffer.from('ca-pem').toString('base64'), ...cluster } }],
  users: [{ name: 'u', user }],
  contexts: [{ name: 'c', context: { cluster: 'k', user: 'u', namespace: 'ns1' } }],
});
const kc = new KubeConfig();
kc.loadFromString(config({}, { token: 'secret-token' }));
const opts = { headers: {} };
await kc.applyToHTTPSOptions(opts);
let apiClient = 'built';
try { kc.makeApiClient(class { constructor(config) { if (!config) throw new Error('no configuration'); } }); } catch (error) { apiClient = String(error); }

// node-fetch (applyToFetchOptions), hpagent and socks-proxy-agent (proxy-url).
const fetchOptions = await kc.applyToFetchOptions({});
const agent = async (proxy) => {
  const k = new KubeConfig();
  k.loadFromString(config({ 'proxy-url': proxy }, { token: 't' }));
  const o = { headers: {} };
  await k.applyToHTTPSOptions(o);
  return o.agent;
};
const { HttpsProxyAgent } = await import('hpagent');
const { SocksProxyAgent } = await import('socks-proxy-agent');
const httpProxy = await agent('http://127.0.0.1:3128');
const socksProxy = await agent('socks5://127.0.0.1:1080');

// jsonpath-plus: a GCP auth provider whose token comes from a command.
const dir = mkdtempSync(tmpdir() + '/kdiag-gcp-');
writeFileSync(dir + '/token.mjs', 'console.log(JSON.stringify({ credential: { access_token: "gcp-token", token_expiry: "2099-01-01T00:00:00Z" } }))');
const gcp = new KubeConfig();
gcp.loadFromString(config({}, { 'auth-provider': { name: 'gcp', config: { 'cmd-path': process.execPath, 'cmd-args': dir + '/token.mjs', 'token-key': '{.credential.access_token}', 'expiry-key': '{.credential.token_expiry}' } } }));
const gcpOpts = { headers: {} };
await gcp.applyToHTTPSOptions(gcpOpts);

// openid-client: an expired OIDC token is refreshed through the issuer's discovery, which fails here (no issuer).
const oidc = new KubeConfig();
const expired = ['{"alg":"none"}', '{"exp":1}', ''].map((p) => Buffer.from(p).toString('base64url')).join('.');
oidc.loadFromString(config({}, { 'auth-provider': { name: 'oidc', config: { 'id-token': expired, 'refresh-token': 'r', 'client-id': 'kdiag', 'idp-issuer-url': 'https://127.0.0.1:1' } } }));
let oidcError = 'none';
try { await oidc.applyToHTTPSOptions({ headers: {} }); } catch (error) { oidcError = String(error && error.message || error); }

console.log(JSON.stringify({
  origin, authorization: opts.headers.Authorization, ca: String(opts.ca), namespace: kc.getContextObject('c').namespace, apiClient,
  fetchHeader: fetchOptions.headers.get('authorization'),
  httpProxy: httpProxy instanceof HttpsProxyAgent, socksProxy: socksProxy instanceof SocksProxyAgent,
  gcp: gcpOpts.headers.Authorization,
  oidcError,
}));
`;

describe('loadKubeConfigClass', () => {
  it("loads client-node's KubeConfig without the generated client, and it works", async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', SCRIPT], { cwd: ROOT });
    const result = JSON.parse(stdout) as Record<string, unknown>;
    const { oidcError, ...rest } = result;
    expect(rest).toEqual({
      origin: 'without-generated-client',
      authorization: 'Bearer secret-token',
      ca: 'ca-pem',
      namespace: 'ns1',
      apiClient: 'built',
      fetchHeader: 'Bearer secret-token',
      httpProxy: true,
      socksProxy: true,
      gcp: 'Bearer gcp-token',
    });
    // openid-client was reached (it could not fetch the issuer's discovery document), not missing.
    expect(oidcError).not.toBe('none');
    expect(oidcError).not.toMatch(/is not a function|is not a constructor|Cannot read prop|Cannot find/);
  });
});
