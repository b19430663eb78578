import { afterAll, describe, expect, it } from '@jest/globals';
import { loadKubeConfig } from '../src/kube/config.js';
import { KubeHttp } from '../src/kube/http.js';
import { withoutManagedFields } from '../src/kube/managed-fields.js';
import { startApiServer } from './support/api-server.js';
import type { ApiServer } from './support/api-server.js';
import { loadFixture } from './support/fixtures.js';

/**
 * metadata.managedFields cut from an answer's bytes before they are decoded and parsed: the parse
 * of the cut text equals the parse of the whole text with every managedFields key deleted,
 * whatever the strings in them hold (also multi-byte UTF-8); a text laid out otherwise than the API
 * server writes it is left alone.
 */

/** The function on a text's UTF-8 bytes, back as text. */
const cutText = (text: string) => withoutManagedFields(Buffer.from(text, 'utf8')).toString('utf8');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The value with every managedFields list deleted, at any depth (the API's managedFields are lists). */
function deleted(value: Json): Json {
  if (Array.isArray(value)) return value.map(deleted);
  if (value && typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) if (k !== 'managedFields' || !Array.isArray(v)) out[k] = deleted(v);
    return out;
  }
  return value;
}

/** What the API server records for a pod (client-side apply, the scheduler, the kubelet's status). */
function managedFields(manager = 'kubectl-client-side-apply'): Json {
  return [
    {
      manager,
      operation: 'Update',
      apiVersion: 'v1',
      time: '2026-11-20T08:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} }, 'f:labels': { '.': {}, 'f:app': {} } },
        'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:ports': { 'k:{"containerPort":8080,"protocol":"TCP"}': { '.': {} } } } } },
      },
    },
    {
      manager: 'kubelet',
      operation: 'Update',
      apiVersion: 'v1',
      time: '2026-11-20T08:00:05Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:status': { 'f:conditions': { 'k:{"type":"Ready"}': { '.': {}, 'f:status': {} } }, 'f:containerStatuses': {} } },
      subresource: 'status',
    },
  ];
}

/** A pod list as the API server writes it (compact JSON, managedFields last in metadata). */
function podList(fields: (i: number) => Json): { [key: string]: Json } {
  const demo = loadFixture('demo-namespace.json');
  const items = demo.pods.map((pod, i) => {
    const { metadata, ...rest } = JSON.parse(JSON.stringify(pod)) as { metadata: { [key: string]: Json } };
    return { ...rest, metadata: { ...metadata, managedFields: fields(i) } } as Json;
  });
  return { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items };
}

function expectCut(text: string): string {
  const cut = cutText(text);
  expect(JSON.parse(cut)).toEqual(deleted(JSON.parse(text) as Json));
  return cut;
}

describe('withoutManagedFields', () => {
  it('cuts every pod\'s managedFields from a list as the API server writes it, and nothing else', () => {
    const text = JSON.stringify(podList(() => managedFields()));
    const cut = expectCut(text);
    expect(text).toContain('"managedFields":[');
    expect(cut).not.toContain('managedFields');
    expect(cut.length).toBeLessThan(text.length * 0.8);
  });

  it('follows strings that look like JSON: brackets, quotes, backslashes, the key itself', () => {
    const hostile = ['x]},"spec":{"containers":[]}}', 'a\\"]}', '\\', '\\\\', '"managedFields":[', '[[[{{{', '}]', 'é\u2028', 'ü"]}😀', '\u005d\u0022'];
    const text = JSON.stringify(podList((i) => managedFields(hostile[i % hostile.length])));
    expect(expectCut(text)).not.toContain('"managedFields":[{');
    // The key's text inside a string value stays where it is.
    const annotated = JSON.stringify({ metadata: { annotations: { note: '"managedFields":[1]' }, managedFields: [] } });
    expect(expectCut(annotated)).toContain('managedFields');
  });

  it('keeps the bytes valid with the key twice in one object (no API server writes that)', () => {
    for (const text of ['{"managedFields":[],"managedFields":[]}', '{"managedFields":[1],"managedFields":[2],"b":1}', '{"a":1,"managedFields":[1],"managedFields":[2]}', '{"managedFields":[1],"b":1,"managedFields":[2]}']) {
      // JSON.parse keeps the last of a repeated key; the cut text parses to the same minus what it cut.
      const cut = JSON.parse(cutText(text)) as Record<string, unknown>;
      expect({ ...cut, managedFields: undefined }).toEqual({ ...(JSON.parse(text) as Record<string, unknown>), managedFields: undefined });
    }
  });

  it('cuts it as the first, the only or an empty key, at any depth', () => {
    for (const value of [
      { metadata: { managedFields: [{ a: 1 }], name: 'p' } },
      { metadata: { managedFields: [] } },
      { items: [{ metadata: { name: 'a', managedFields: [{ b: [1, [2]] }] } }, { spec: { template: { metadata: { managedFields: [{}] } } } }] },
    ]) {
      expect(expectCut(JSON.stringify(value))).not.toContain('managedFields');
    }
  });

  it('leaves alone a text laid out otherwise, a text without them and what follows an unfinished one', () => {
    const pretty = JSON.stringify(podList(() => managedFields()), null, 2);
    expect(cutText(pretty)).toBe(pretty);
    const plain = Buffer.from(JSON.stringify({ kind: 'EventList', items: [] }));
    expect(withoutManagedFields(plain)).toBe(plain);
    const spaced = '{"metadata":{ "managedFields":[{"a":1}] ,"name":"p"}}';
    expect(cutText(spaced)).toBe(spaced);
    const whole = JSON.stringify(podList(() => managedFields()));
    const second = whole.indexOf('"managedFields":[', whole.indexOf('"managedFields":[') + 1);
    const truncated = whole.slice(0, second + 100);
    expect(cutText(truncated)).toBe(cutText(whole.slice(0, second)) + whole.slice(second, second + 100));
  });

  it('agrees with parse-then-delete on random documents', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
    const text = () => Array.from({ length: Math.floor(random() * 6) }, () => pick(['a', '"', '\\', ']', '}', '[', '{', ',', ':', 'managedFields', '\n', 'ü'])).join('');
    const value = (depth: number): Json => {
      const r = random();
      if (depth > 3 || r < 0.3) return pick<Json>([text(), 1, true, null]);
      if (r < 0.5) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      const out: { [key: string]: Json } = {};
      for (let i = Math.floor(random() * 4); i > 0; i--) {
        if (random() < 0.3) out.managedFields = [value(depth + 1)];
        else out[text()] = value(depth + 1);
      }
      return out;
    };
    for (let i = 0; i < 500; i++) expectCut(JSON.stringify(value(0)));
  });
});

describe('KubeHttp.getJson against the loopback API server', () => {
  let server: ApiServer | undefined;
  afterAll(async () => server?.close());

  it('parses list answers without their managedFields (getText keeps the answer as sent)', async () => {
    server = await startApiServer({ fixture: podList(() => managedFields()) });
    const http = new KubeHttp(loadKubeConfig({ kubeconfig: server.kubeconfigPath }).kc, { timeoutMs: 10_000 });
    try {
      const sent = await http.getText('/api/v1/namespaces/shop/pods', {}, 'application/json');
      expect(sent).toContain('"managedFields":[');
      const list = (await http.getJson('/api/v1/namespaces/shop/pods')) as { items: { metadata: Record<string, unknown> }[] };
      expect(list.items.length).toBe(loadFixture('demo-namespace.json').pods.length);
      expect(list.items.some((pod) => 'managedFields' in pod.metadata)).toBe(false);
      expect(list).toEqual(deleted(JSON.parse(sent) as Json));
    } finally {
      http.close();
    }
  });
});

describe('KubeHttp.getJson and text beyond ASCII', () => {
  it('reads a list answer with text beyond ASCII as sent', async () => {
    const note = 'Liveness probe failed: état «dégradé» – 日本 🚀';
    const list = podList(() => managedFields());
    ((list.items as { [key: string]: Json }[])[0]!.metadata as { [key: string]: Json }).annotations = { note };
    const served = await startApiServer({ fixture: list });
    const http = new KubeHttp(loadKubeConfig({ kubeconfig: served.kubeconfigPath }).kc, { timeoutMs: 10_000 });
    try {
      const got = (await http.getJson('/api/v1/namespaces/shop/pods')) as { items: { metadata: { annotations?: Record<string, string> } }[] };
      expect(got.items[0]!.metadata.annotations?.note).toBe(note);
    } finally {
      http.close();
      await served.close();
    }
  });
});
