import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadKubeConfig } from '../src/kube/config.js';
import { fetchNamespace } from '../src/kube/fetch.js';
import { KubeHttp } from '../src/kube/http.js';
import type { ApiServer } from './support/api-server.js';
import { startApiServer } from './support/api-server.js';
import { ROOT } from './support/fixtures.js';

let server: ApiServer;
let root: string;
const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };

beforeAll(async () => {
  server = await startApiServer({ fixture: path.join(ROOT, 'test/fixtures/live-world.json') });
  // A pod's service account as the kubelet mounts it: token, CA and namespace files.
  root = mkdtempSync(path.join(tmpdir(), 'kdiag-incluster-'));
  const dir = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'token'), server.secrets.token);
  writeFileSync(path.join(dir, 'ca.crt'), server.pki.caCert);
  writeFileSync(path.join(dir, 'namespace'), 'prod');
  // client-node reads the service address from the process environment, as in a pod.
  process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1';
  process.env.KUBERNETES_SERVICE_PORT = String(server.port);
});

afterAll(async () => {
  for (const [key, value] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await server.close();
});

describe('in-cluster configuration', () => {
  it('uses the pod\'s service account when there is no kubeconfig, with its namespace', async () => {
    const env = { HOME: root, KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(server.port) };
    const loaded = loadKubeConfig({}, env, root);
    expect(loaded.namespace).toBe('prod');
    expect(loaded.server).toBe(`https://127.0.0.1:${server.port}`);

    const http = new KubeHttp(loaded.kc, { timeoutMs: 5000 });
    try {
      const snapshot = await fetchNamespace(http, loaded.namespace, loaded.context);
      expect(snapshot.accessErrors).toEqual([]);
      expect(snapshot.pods.length).toBeGreaterThan(0);
      expect(snapshot.pods.every((pod) => pod.metadata.namespace === 'prod')).toBe(true);
    } finally {
      http.close();
    }
    // The server saw the service account's token (TLS verified against its CA).
    expect(server.requests.length).toBeGreaterThan(0);
    expect(server.requests.every((r) => r.status !== 401)).toBe(true);
  });

  it('is not used when a kubeconfig exists', () => {
    const env = { HOME: root, KUBECONFIG: server.kubeconfigPath, KUBERNETES_SERVICE_HOST: '127.0.0.1' };
    expect(loadKubeConfig({}, env, root).context).toBe('kdiag-token');
  });
});
