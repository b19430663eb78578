import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadKubeConfig } from '../src/kube/config.js';
import { DEFAULT_FETCH, Fetch } from '../src/kube/fetch.js';
import { KubeHttp, listContinue } from '../src/kube/http.js';
import { ClusterError } from '../src/model/errors.js';
import { generatePki } from './support/pki.js';

/**
 * A list's next page is asked for as soon as the first bytes of the current one carry its
 * continue token (the API server writes a list's metadata before its items), not once the page is
 * whole and parsed. Checked on the head parser, on the pager with a scripted client (including a
 * head that lies), and over a real socket against a server that holds a page's items back until
 * the next page has been asked for.
 */

describe('listContinue', () => {
  const head = (metadata: string) => `{"kind":"PodList","apiVersion":"v1","metadata":${metadata},"items":[{"metadata":{"name":"a"`;

  it('reads the token from the metadata written before the items', () => {
    expect(listContinue(head('{"resourceVersion":"48200","continue":"eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ==","remainingItemCount":19500}'))).toBe('eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ==');
    // Spaces and newlines as a pretty-printing proxy would leave them.
    expect(listContinue('{\n  "kind": "EventList",\n  "apiVersion": "v1",\n  "metadata": {\n    "continue": "t2"\n  },\n  "items": [')).toBe('t2');
  });

  it('says "" on a last page, whose metadata names no token', () => {
    expect(listContinue(head('{"resourceVersion":"48200"}'))).toBe('');
    expect(listContinue(head('{"resourceVersion":"48200","continue":""}'))).toBe('');
    expect(listContinue('{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}')).toBe('');
  });

  it('does not tell before the items key has arrived, or from anything but a flat metadata object first', () => {
    expect(listContinue('{"kind":"PodList","apiVersion":"v1","metadata":{"continue":"t2"')).toBeNull();
    expect(listContinue('{"kind":"PodList","apiVersion":"v1","metadata":{"continue":"t2"},')).toBeNull();
    // Items first (not how the API server writes): the metadata is not known yet.
    expect(listContinue('{"items":[],"metadata":{"continue":"t2"}}')).toBeNull();
    // Another key before the metadata, or a nested object in it: not guessed at.
    expect(listContinue('{"kind":"PodList","other":{"continue":"x"},"metadata":{"continue":"t2"},"items":[')).toBeNull();
    expect(listContinue('{"kind":"PodList","metadata":{"labels":{"a":"b"},"continue":"t2"},"items":[')).toBeNull();
    expect(listContinue('{"kind":"PodList","metadata":{"continue":t2},"items":[')).toBeNull();
    expect(listContinue('')).toBeNull();
  });
});

type Page = { metadata: Record<string, string>; items: { metadata: { name: string } }[] };

/**
 * A client whose answers are scripted: each GET tells its head's token (`head`, default: the page's
 * own) at once, and answers only when `release` is called for it.
 */
function scriptedHttp(pages: Record<string, Page>, head: Record<string, string> = {}, lateHeads: string[] = []) {
  const asked: string[] = [];
  const pending = new Map<string, () => void>();
  const http = {
    server: 'https://kube.test',
    getJson: (_path: string, query: Record<string, unknown>, onContinue?: (token: string) => void) => {
      const name = String(query.continue ?? 'first');
      asked.push(name);
      const page = pages[name];
      const told = head[name] ?? page?.metadata.continue;
      const tell = () => told && onContinue?.(told);
      // A head arrives at once, or (lateHeads) just before the rest of its page.
      if (!lateHeads.includes(name)) queueMicrotask(tell);
      return new Promise((resolve, reject) =>
        pending.set(name, () => {
          if (lateHeads.includes(name)) tell();
          if (page) resolve(page);
          else reject(new ClusterError(`no page ${name}`));
        }),
      );
    },
  } as unknown as KubeHttp;
  const release = (name: string) => pending.get(name)?.();
  return { http, asked, release };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Fetch.pages asks for the next page from the current one\'s first bytes', () => {
  // Made anew for each test: the pager lets go of each raw item of a page once projected.
  const pageSet = (): Record<string, Page> => ({
    first: { metadata: { continue: 'p2' }, items: [{ metadata: { name: 'a' } }] },
    p2: { metadata: { continue: 'p3' }, items: [{ metadata: { name: 'b' } }] },
    p3: { metadata: { resourceVersion: '9' }, items: [{ metadata: { name: 'c' } }] },
  });
  const fetchWith = (http: KubeHttp) => new Fetch(http, { kind: 'Namespace', namespace: 'prod', name: null }, 'test', { ...DEFAULT_FETCH, pageSize: 1 });
  const name = (raw: Record<string, unknown>) => (raw.metadata as { name: string }).name;

  it('has page 2 asked for while page 1 has not arrived whole, and runs one page ahead at most', async () => {
    const { http, asked, release } = scriptedHttp(pageSet());
    const listed = fetchWith(http).list('pods', 'prod', name);
    await settle();
    // Page 1's head named p2: asked for, though page 1 is not in. p2's head (naming p3) has
    // arrived too, but p3 waits until page 1 has been read: what is unread stays one page.
    expect(asked).toEqual(['first', 'p2']);
    release('first');
    await settle();
    expect(asked).toEqual(['first', 'p2', 'p3']);
    release('p2');
    release('p3');
    await expect(listed).resolves.toEqual(['a', 'b', 'c']);
    expect(asked).toEqual(['first', 'p2', 'p3']);
  });

  it('does not follow a head that named another token than its page: the page\'s own is asked for', async () => {
    // The head of page 1 says "stray"; its page says p2. "stray" would lead on to "stray2".
    const all: Record<string, Page> = { ...pageSet(), stray: { metadata: { continue: 'stray2' }, items: [{ metadata: { name: 'x' } }] }, stray2: { metadata: {}, items: [{ metadata: { name: 'y' } }] } };
    const { http, asked, release } = scriptedHttp(all, { first: 'stray' }, ['stray']);
    const listed = fetchWith(http).list('pods', 'prod', name);
    await settle();
    expect(asked).toEqual(['first', 'stray']);
    release('first');
    await settle();
    // The stray page's head arrives after page 1 proved it wrong: nothing more is asked from it.
    release('stray');
    await settle();
    release('p2');
    await settle();
    release('p3');
    await expect(listed).resolves.toEqual(['a', 'b', 'c']);
    expect(asked).toEqual(['first', 'stray', 'p2', 'p3']);
  });

  it('asks for no more once the list has failed', async () => {
    // Page 1's head names p2, then page 1 fails; p2's head (naming p3) arrives after that.
    const { p2, p3 } = pageSet();
    const { http, asked, release } = scriptedHttp({ p2: p2!, p3: p3! }, { first: 'p2' }, ['p2']);
    const listed = fetchWith(http).list('pods', 'prod', name);
    await settle();
    expect(asked).toEqual(['first', 'p2']);
    release('first'); // fails
    await expect(listed).rejects.toThrow('no page first');
    release('p2');
    await settle();
    expect(asked).toEqual(['first', 'p2']);
  });

  it('asks for nothing early for a consumer that holds lists back (the -A sweep): each page once the one before is read', async () => {
    const { http, asked, release } = scriptedHttp(pageSet());
    let wake!: () => void;
    let holding = true;
    const got: string[] = [];
    const listed = fetchWith(http).pages('pods', 'prod', name, {}, {
      page: (items) => got.push(...items),
      restart: () => undefined,
      hold: () => (holding ? new Promise<void>((resolve) => (wake = resolve)) : undefined),
    });
    await settle();
    expect(asked).toEqual(['first']);
    release('first');
    await settle();
    expect(got).toEqual(['a']);
    expect(asked).toEqual(['first']);
    holding = false;
    wake();
    await settle();
    expect(asked).toEqual(['first', 'p2']);
    release('p2');
    await settle();
    expect(asked).toEqual(['first', 'p2', 'p3']);
    release('p3');
    await listed;
    expect(got).toEqual(['a', 'b', 'c']);
  });
});

describe('KubeHttp over a real socket', () => {
  let dir: string;
  let server: https.Server;
  let kubeconfig: string;
  const token = 'early-continue-token-31f9';
  const arrived: string[] = [];
  /** Page 1's items are written only once page 2 has been asked for. */
  let page2Asked: () => void;
  const page2 = new Promise<void>((resolve) => (page2Asked = resolve));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kdiag-early-'));
    const pki = await generatePki(dir);
    server = https.createServer({ cert: pki.serverCert, key: pki.serverKey }, (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const cont = url.searchParams.get('continue');
      arrived.push(cont ?? 'first');
      if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (cont === 'p2') {
        page2Asked();
        res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '5' }, items: [{ metadata: { name: 'b' } }] }));
        return;
      }
      res.write('{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"5","continue":"p2"},"items":[');
      // Without an early ask this page never ends: the test would time out.
      void page2.then(() => res.end('{"metadata":{"name":"a"}}]}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
current-context: loop
clusters:
- name: loop
  cluster: { server: "https://127.0.0.1:${port}", certificate-authority-data: ${Buffer.from(pki.caCert).toString('base64')} }
users:
- name: reader
  user: { token: ${token} }
contexts:
- name: loop
  context: { cluster: loop, user: reader, namespace: prod }
`,
    );
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks for page 2 while page 1 is still arriving', async () => {
    const { kc } = loadKubeConfig({ kubeconfig });
    const http = new KubeHttp(kc, { timeoutMs: 10_000 });
    try {
      const fetch = new Fetch(http, { kind: 'Namespace', namespace: 'prod', name: null }, 'loop', { ...DEFAULT_FETCH, pageSize: 1 });
      await expect(fetch.list('pods', 'prod', (raw) => (raw.metadata as { name: string }).name)).resolves.toEqual(['a', 'b']);
      expect(arrived).toEqual(['first', 'p2']);
    } finally {
      http.close();
    }
  });
});
