import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { rules } from '../rules/index.js';
import { diagnose } from '../src/engine/index.js';
import type { Severity } from '../src/model/finding.js';
import { Roster } from '../src/model/roster.js';
import type { Snapshot } from '../src/model/snapshot.js';
import { escapeXml, renderJunit } from '../src/report/junit.js';
import { narrow } from '../src/snapshot/select.js';
import { fixturePath, loadFixture } from './support/fixtures.js';
import { expectOneLineError, runKdiagOffline } from './support/run.js';
import { HOSTILE_MESSAGE, HOSTILE_NAME, hostileSnapshot, hostileSnapshotText } from './support/hostile.js';

/*
 * `-o junit`: JUnit XML for CI dashboards. A small XML 1.0 reader below checks that every document
 * is well-formed (no dependency reads XML here) and gives back the tree to count testcases in.
 */

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own character data, entities decoded. */
  text: string;
}

// Characters XML 1.0 allows (https://www.w3.org/TR/xml/#charsets).
const XML_CHAR = /^[\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;
const NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]*/;

/** Decode character data or an attribute value; throws on a bare `&`, an unknown entity or a `<`. */
function decode(raw: string, where: string): string {
  if (raw.includes('<')) throw new Error(`raw < in ${where}`);
  return raw.replace(/&([^;]*);?/g, (all, ref: string) => {
    if (!all.endsWith(';')) throw new Error(`bare & in ${where}`);
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (ref in named) return named[ref]!;
    const code = /^#x([0-9a-fA-F]+)$/.exec(ref) ? parseInt(ref.slice(2), 16) : /^#([0-9]+)$/.test(ref) ? Number(ref.slice(1)) : NaN;
    const ch = Number.isFinite(code) ? String.fromCodePoint(code) : undefined;
    if (ch === undefined || !XML_CHAR.test(ch)) throw new Error(`bad reference &${ref}; in ${where}`);
    return ch;
  });
}

/**
 * Parse a document: an optional XML declaration, one root element, elements with unique quoted
 * attributes, character data with valid references and no `]]>`, tags that nest. Throws on anything
 * else (comments, DOCTYPE, CDATA and processing instructions are not needed here and are refused).
 */
function parseXml(xml: string): XmlElement {
  if (!XML_CHAR.test(xml)) throw new Error('a character XML 1.0 does not allow');
  let at = 0;
  const decl = /^<\?xml version="1\.0" encoding="UTF-8"\?>/.exec(xml);
  if (decl) at = decl[0].length;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (at < xml.length) {
    const lt = xml.indexOf('<', at);
    const text = xml.slice(at, lt === -1 ? xml.length : lt);
    if (text.includes(']]>')) throw new Error(']]> in character data');
    if (stack.length) stack[stack.length - 1]!.text += decode(text, 'text');
    else if (text.trim()) throw new Error(`text outside the root: ${text.slice(0, 40)}`);
    if (lt === -1) break;
    const gt = xml.indexOf('>', lt);
    if (gt === -1) throw new Error('unclosed tag');
    const tag = xml.slice(lt + 1, gt);
    at = gt + 1;
    if (tag.startsWith('/')) {
      const open = stack.pop();
      if (!open || open.name !== tag.slice(1).trim()) throw new Error(`</${tag.slice(1)}> closes ${open?.name ?? 'nothing'}`);
      continue;
    }
    if (!NAME.test(tag)) throw new Error(`not an element: <${tag.slice(0, 20)}`);
    if (root && stack.length === 0) throw new Error('a second root element');
    const name = NAME.exec(tag)![0];
    const selfClosing = tag.endsWith('/');
    let rest = tag.slice(name.length, selfClosing ? -1 : undefined);
    const attributes: Record<string, string> = {};
    while (rest.trim()) {
      const attr = /^\s+([A-Za-z_:][A-Za-z0-9_:.-]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(rest);
      if (!attr) throw new Error(`bad attribute in <${name}: ${rest.slice(0, 40)}`);
      if (attr[1]! in attributes) throw new Error(`attribute ${attr[1]} twice`);
      attributes[attr[1]!] = decode(attr[3] ?? attr[4]!, `attribute ${attr[1]}`);
      rest = rest.slice(attr[0].length);
    }
    const element: XmlElement = { name, attributes, children: [], text: '' };
    if (stack.length) stack[stack.length - 1]!.children.push(element);
    else root = element;
    if (!selfClosing) stack.push(element);
  }
  if (stack.length) throw new Error(`<${stack[stack.length - 1]!.name}> is not closed`);
  if (!root) throw new Error('no root element');
  return root;
}

const all = (element: XmlElement, name: string): XmlElement[] => [
  ...element.children.filter((child) => child.name === name),
  ...element.children.flatMap((child) => all(child, name)),
];

/** The JUnit report as kdiag makes it: the engine fills the roster while it diagnoses. */
function renderOf(snapshot: Snapshot, failOn: Severity | 'never'): string {
  const roster = new Roster();
  return renderJunit(diagnose(snapshot, rules, { roster }), roster, { failOn });
}

function junit(snapshot: Snapshot, failOn: Severity | 'never' = 'critical'): { xml: string; suite: XmlElement; cases: XmlElement[] } {
  const xml = renderOf(snapshot, failOn);
  const root = parseXml(xml);
  expect(root.name).toBe('testsuites');
  const suites = all(root, 'testsuite');
  expect(suites).toHaveLength(1);
  const suite = suites[0]!;
  const cases = suite.children.filter((child) => child.name === 'testcase');
  // The counts say what the testcases hold, at both levels.
  const failing = cases.filter((testcase) => testcase.children.some((child) => child.name === 'failure')).length;
  for (const counted of [root, suite]) {
    expect(counted.attributes.tests).toBe(String(cases.length));
    expect(counted.attributes.failures).toBe(String(failing));
    expect(counted.attributes.errors).toBe('0');
  }
  return { xml, suite, cases };
}

/** Each testcase as `classname name: failure types | system-out rules`. */
function outline(cases: XmlElement[]): string[] {
  return cases.map((testcase) => {
    const failures = testcase.children.filter((child) => child.name === 'failure').map((failure) => failure.attributes.type);
    const out = testcase.children.find((child) => child.name === 'system-out');
    const below = out ? [...out.text.matchAll(/^(?:CRITICAL|WARNING|INFO) ([a-z0-9-]+):/gm)].map((m) => m[1]) : [];
    return `${testcase.attributes.classname} ${testcase.attributes.name}: ${failures.join(',')}${below.length ? ` | ${below.join(',')}` : ''}`;
  });
}

describe('renderJunit on the demo namespace', () => {
  it('has one testcase per workload, a failure per critical diagnosis, the warning as output', () => {
    const { suite, cases } = junit(loadFixture('demo-namespace.json'));
    expect(suite.attributes.name).toBe('kdiag namespace shop');
    expect(suite.attributes).toMatchObject({ tests: '9', failures: '6' });
    expect(outline(cases)).toEqual([
      'shop CronJob/nightly-report: ',
      'shop Deployment/cart: oom-killed',
      'shop Deployment/checkout: exit-code-137,readiness-probe-failed',
      'shop Deployment/frontend: ',
      'shop Deployment/legacy-api: node-not-ready',
      'shop Deployment/recommender: pod-pending',
      'shop Deployment/search: image-pull-back-off',
      'shop Deployment/worker:  | exit-code-1',
      'shop StatefulSet/orders-db: exit-code-128',
    ]);
    // Healthy workloads are passing testcases with nothing in them.
    expect(cases.find((testcase) => testcase.attributes.name === 'Deployment/frontend')!.children).toEqual([]);
    const properties = Object.fromEntries(all(suite, 'property').map((p) => [p.attributes.name, p.attributes.value]));
    expect(properties).toMatchObject({ 'kdiag.capturedAt': '2026-11-20T10:00:00Z', 'kdiag.failOn': 'critical', 'kdiag.pods': '15', 'kdiag.critical': '7' });
  });

  it('puts the title in the message and the whole diagnosis in the failure', () => {
    const { cases } = junit(loadFixture('demo-namespace.json'));
    const failure = cases.find((testcase) => testcase.attributes.name === 'Deployment/cart')!.children[0]!;
    expect(failure.attributes).toEqual({ type: 'oom-killed', message: 'Container cart was OOMKilled (memory limit 256Mi)' });
    const lines = failure.text.split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'CRITICAL oom-killed: Container cart was OOMKilled (memory limit 256Mi)',
      'Affected: Deployment/cart · 3 pods: cart-6br8cpcwpc-v9tpm, cart-6br8cpcwpc-xd6r6, cart-6br8cpcwpc-z6l75 · container cart',
      'exit 137 (SIGKILL) · cause: memory-limit · confidence 98%',
      'Also explains: Container cart is in CrashLoopBackOff (17 restarts)',
    ]);
    expect(failure.text).toContain('\nEvidence:\n  - lastState.terminated.reason=OOMKilled\n');
    expect(failure.text).toContain('\nLast log lines (cart-6br8cpcwpc-v9tpm/cart):\n  | 2026-11-20T09:56:13.137Z');
    expect(failure.text).toContain('\n  3. Read the log of the crashed container (the previous instance)\n     $ kubectl logs -n shop cart-6br8cpcwpc-v9tpm -c cart --previous');
  });

  it('moves the line with --fail-on: warning fails the worker, never fails nothing', () => {
    const warning = junit(loadFixture('demo-namespace.json'), 'warning');
    expect(warning.suite.attributes).toMatchObject({ tests: '9', failures: '7' });
    expect(outline(warning.cases)).toContain('shop Deployment/worker: exit-code-1');
    const never = junit(loadFixture('demo-namespace.json'), 'never');
    expect(never.suite.attributes).toMatchObject({ tests: '9', failures: '0' });
    expect(outline(never.cases)).toContain('shop Deployment/checkout:  | exit-code-137,readiness-probe-failed');
    expect(all(never.suite, 'failure')).toEqual([]);
  });

  it('is the same document every time (snapshot)', () => {
    const { xml } = junit(loadFixture('demo-namespace.json'));
    expect(junit(loadFixture('demo-namespace.json')).xml).toBe(xml);
    expect(xml).toMatchSnapshot();
  });
});

describe('renderJunit: which testcase a diagnosis belongs to', () => {
  it('a healthy namespace: every workload passes', () => {
    const { cases } = junit(loadFixture('healthy-namespace.json'), 'info');
    expect(cases.length).toBeGreaterThan(0);
    expect(all({ name: '', attributes: {}, children: cases, text: '' }, 'failure')).toEqual([]);
  });

  it('a pod scope (kdiag pod cart): the one workload', () => {
    const snapshot = loadFixture('demo-namespace.json');
    const cart = snapshot.pods.filter((pod) => pod.metadata.name!.startsWith('cart-'));
    const { suite, cases } = junit(narrow(snapshot, cart, { kind: 'Pod', namespace: 'shop', name: 'cart' }));
    expect(suite.attributes.name).toBe('kdiag pod cart in namespace shop');
    expect(outline(cases)).toEqual(['shop Deployment/cart: oom-killed']);
  });

  it('a ReplicaSet that cannot create pods counts against its Deployment', () => {
    expect(outline(junit(loadFixture('failed-create-quota.json'), 'warning').cases)).toEqual(['prod Deployment/api: failed-create', 'prod StatefulSet/db: failed-create']);
  });

  it('a node diagnosis counts against the workloads of the pods on it', () => {
    expect(outline(junit(loadFixture('stuck-terminating-node-lost.json')).cases)).toEqual(['shop Deployment/api: node-not-ready', 'shop StatefulSet/redis: node-not-ready']);
  });

  it('a refused read is a testcase of its own, cluster-scoped ones under (cluster)', () => {
    expect(outline(junit(loadFixture('forbidden-nodes-and-events.json'), 'warning').cases)).toEqual([
      '(cluster) Access/nodes: forbidden',
      'prod Access/events: forbidden',
      'prod Deployment/web: ',
    ]);
  });

  it('every namespace of a sweep (-A): classname is the namespace', () => {
    const snapshot = loadFixture('demo-namespace.json');
    const other = loadFixture('failed-create-quota.json');
    const cluster: Snapshot = {
      ...snapshot,
      scope: { kind: 'Cluster', namespace: null, name: null },
      pods: [...snapshot.pods, ...other.pods],
      events: [...snapshot.events, ...other.events],
      owners: [...snapshot.owners, ...other.owners],
    };
    const { suite, cases } = junit(cluster, 'warning');
    expect(suite.attributes.name).toBe('kdiag all namespaces');
    expect(new Set(cases.map((testcase) => testcase.attributes.classname))).toEqual(new Set(['shop', 'prod']));
  });
});

describe('JUnit escaping of cluster text', () => {
  it('escapes markup characters and drops characters XML 1.0 forbids', () => {
    expect(escapeXml(`<a href="x">'&'</a> ]]>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt; ]]&gt;');
    expect(escapeXml('a\u0000b\u0008c\u000bd\ufffee\uffff\ud800f\udc00g')).toBe('abcdefg');
    expect(escapeXml('tab\tnew\nline \u{1f600} \u00e9')).toBe('tab\tnew\nline \u{1f600} \u00e9');
  });

  it('keeps a hostile snapshot well-formed, with its text intact', () => {
    const snapshot = hostileSnapshot();
    const { xml, cases } = junit(snapshot);
    expect(xml).not.toContain('\u001b');
    expect(xml).not.toContain(']]>');
    expect(xml).not.toMatch(/<script/);
    expect(xml).not.toMatch(/[\ufffe\ud800]/);
    expect(cases).toHaveLength(1);
    const [testcase] = cases;
    expect(testcase!.attributes).toEqual({ classname: 'shop', name: `Deployment/${HOSTILE_NAME}`, time: '0' });
    const failure = testcase!.children[0]!;
    expect(failure.attributes.message).toBe(`Container ${HOSTILE_NAME} exited with code 1 (application error)`);
    // The termination message reads back as the engine neutralised it, less what XML cannot hold.
    const quoted = HOSTILE_MESSAGE.replace('\u001b', '^[').replace(/[\ufffe\ud800]/g, '');
    expect(failure.text).toContain(`lastState.terminated.message: ${quoted}`);
    expect(failure.text).toContain('\n  | </details>\n  | <script>alert(2)</script>\n  | ]]>\n');
  });

  it('neutralises and escapes names that come straight from the snapshot', () => {
    const snapshot = loadFixture('healthy-namespace.json');
    const pod = structuredClone(snapshot.pods.find((p) => !p.metadata.ownerReferences?.length) ?? snapshot.pods[0]!);
    pod.metadata = { ...pod.metadata, name: 'bare<"&\u001b[1m\ufffe>', uid: 'hostile-uid', ownerReferences: [] };
    const { cases } = junit({ ...snapshot, pods: [...snapshot.pods, pod] });
    expect(cases.map((testcase) => testcase.attributes.name)).toContain('Pod/bare<"&^[[1m>');
  });
});

describe('kdiag -o junit (the built bin)', () => {
  const DEMO = fixturePath('demo-namespace.json');
  const temp = mkdtempSync(path.join(tmpdir(), 'kdiag-junit-'));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  const kdiag = (args: string[]) => runKdiagOffline(args);


  it('prints the JUnit report of a namespace and exits 1 on critical diagnoses', async () => {
    const run = await kdiag(['namespace', '--snapshot', DEMO, '-o', 'junit']);
    expect(run).toMatchObject({ code: 1, stderr: '' });
    const snapshot = loadFixture('demo-namespace.json');
    expect(run.stdout).toBe(renderOf(snapshot, 'critical'));
    expect(parseXml(run.stdout).attributes).toMatchObject({ tests: '9', failures: '6' });
  });

  it('follows --fail-on in the exit code and in the failures alike', async () => {
    const never = await kdiag(['ns', '--snapshot', DEMO, '-o', 'junit', '--fail-on', 'never']);
    expect(never.code).toBe(0);
    expect(parseXml(never.stdout).attributes).toMatchObject({ tests: '9', failures: '0' });
    const warning = await kdiag(['ns', '--snapshot', DEMO, '--output=junit', '--fail-on', 'warning']);
    expect(warning.code).toBe(1);
    expect(parseXml(warning.stdout).attributes).toMatchObject({ tests: '9', failures: '7' });
    const healthy = await kdiag(['ns', '--snapshot', fixturePath('healthy-namespace.json'), '-o', 'junit', '--fail-on', 'info']);
    expect(healthy.code).toBe(0);
    expect(parseXml(healthy.stdout).attributes.failures).toBe('0');
  });

  it('prints one pod scope (kdiag pod)', async () => {
    const run = await kdiag(['pod', 'cart', '--snapshot', DEMO, '-o', 'junit']);
    expect(run.code).toBe(1);
    expect(all(parseXml(run.stdout), 'testcase').map((testcase) => testcase.attributes.name)).toEqual(['Deployment/cart']);
  });

  it('stays well-formed on a hostile snapshot read from a file', async () => {
    const file = path.join(temp, 'hostile.json');
    writeFileSync(file, hostileSnapshotText());
    const run = await kdiag(['ns', '--snapshot', file, '-o', 'junit']);
    expect(run.code).toBe(1);
    expect(all(parseXml(run.stdout), 'failure')).toHaveLength(1);
  });

  it('an unreadable snapshot: nothing on stdout, one line on stderr, exit 2', async () => {
    const file = path.join(temp, 'broken.json');
    writeFileSync(file, '{"kind": "List", "items": [');
    const run = await kdiag(['ns', '--snapshot', file, '-o', 'junit']);
    expectOneLineError(run, 2, /^kdiag: /);
  });
});

describe('the XML check itself', () => {
  it('refuses what is not well-formed', () => {
    expect(() => parseXml('<a><b></a></b>')).toThrow();
    expect(() => parseXml('<a>x & y</a>')).toThrow();
    expect(() => parseXml('<a>x ]]> y</a>')).toThrow();
    expect(() => parseXml('<a t="1" t="2"/>')).toThrow();
    expect(() => parseXml('<a t=1/>')).toThrow();
    expect(() => parseXml('<a>\u001b</a>')).toThrow();
    expect(() => parseXml('<a/><b/>')).toThrow();
    expect(() => parseXml('<a>&bogus;</a>')).toThrow();
    expect(parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<a k="&lt;&#65;&#x42;"><b/>t&amp;</a>\n')).toEqual({
      name: 'a',
      attributes: { k: '<AB' },
      children: [{ name: 'b', attributes: {}, children: [], text: '' }],
      text: 't&',
    });
  });
});
