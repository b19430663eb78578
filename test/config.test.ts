import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadKubeConfig } from '../src/kube/config.js';
import { UsageError } from '../src/model/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'kdiag-config-'));

function kubeconfig(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, body);
  return file;
}

const primary = kubeconfig(
  'a.yaml',
  `apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: c1
  cluster: { server: https://127.0.0.1:6443, insecure-skip-tls-verify: true }
users:
- name: u1
  user: { token: secret-token-value }
contexts:
- name: prod
  context: { cluster: c1, user: u1, namespace: shop }
- name: dev
  context: { cluster: c1, user: u1 }
`,
);

const secondary = kubeconfig(
  'b.yaml',
  `apiVersion: v1
kind: Config
current-context: staging
clusters:
- name: c2
  cluster: { server: https://127.0.0.2:6443, insecure-skip-tls-verify: true }
users:
- name: u2
  user: { token: other }
contexts:
- name: staging
  context: { cluster: c2, user: u2, namespace: stage }
- name: prod
  context: { cluster: c2, user: u2, namespace: ignored }
`,
);

function usageMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('loadKubeConfig', () => {
  it('takes the namespace from the current context', () => {
    const loaded = loadKubeConfig({ kubeconfig: primary });
    expect(loaded.context).toBe('prod');
    expect(loaded.namespace).toBe('shop');
    expect(loaded.server).toBe('https://127.0.0.1:6443');
  });

  it('falls back to the default namespace when the context names none', () => {
    expect(loadKubeConfig({ kubeconfig: primary, context: 'dev' }).namespace).toBe('default');
  });

  it('merges KUBECONFIG files the way kubectl does: the first definition and current-context win', () => {
    const loaded = loadKubeConfig({}, { KUBECONFIG: `${primary}${path.delimiter}${secondary}`, HOME: dir });
    expect(loaded.context).toBe('prod');
    expect(loaded.namespace).toBe('shop');
    expect(loadKubeConfig({ context: 'staging' }, { KUBECONFIG: `${primary}${path.delimiter}${secondary}`, HOME: dir }).namespace).toBe('stage');
  });

  it('names an unknown context and the known ones in one line', () => {
    const message = usageMessage(() => loadKubeConfig({ kubeconfig: primary, context: 'nope' }));
    expect(message).toBe('context "nope" not found in the kubeconfig (known: prod, dev)');
  });

  it('says a missing kubeconfig file does not exist', () => {
    expect(usageMessage(() => loadKubeConfig({ kubeconfig: path.join(dir, 'missing.yaml') }))).toMatch(/no such file/);
  });

  it('rejects a malformed kubeconfig without echoing its content', () => {
    const broken = kubeconfig('broken.yaml', 'clusters: [\n  token: secret-in-broken-file');
    const message = usageMessage(() => loadKubeConfig({ kubeconfig: broken }));
    expect(message).toMatch(/is not a valid kubeconfig/);
    expect(message).not.toContain('secret-in-broken-file');
    expect(message.split('\n')).toHaveLength(1);
  });

  it('explains when there is no kubeconfig at all and no in-cluster account', () => {
    expect(usageMessage(() => loadKubeConfig({}, { HOME: dir }))).toMatch(/no kubeconfig/);
  });

  it('never puts the token in an error message', () => {
    const message = usageMessage(() => loadKubeConfig({ kubeconfig: primary, context: 'x' }));
    expect(message).not.toContain('secret-token-value');
  });
});
