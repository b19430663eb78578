import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { rules } from '../rules/index.js';
import { diagnose } from '../src/engine/index.js';
import type { Report } from '../src/model/report.js';
import { escapeHtml, escapeMarkdown, fenced, renderMarkdown } from '../src/report/markdown.js';
import { narrow } from '../src/snapshot/select.js';
import { fixturePath, loadFixture } from './support/fixtures.js';
import { expectOneLineError, runKdiagOffline } from './support/run.js';
import { HOSTILE_LOG, HOSTILE_NAME, hostileSnapshot, hostileSnapshotText } from './support/hostile.js';

/*
 * `-o markdown`: the report for pull-request comments and $GITHUB_STEP_SUMMARY, on the demo
 * namespace, and on cluster text written to break it (a table pipe, HTML, backtick fences).
 */

const demo = (): Report => diagnose(loadFixture('demo-namespace.json'), rules);

/** The cells of a GFM table row: split on the pipes no backslash escapes. */
function cells(row: string): string[] {
  const parts: string[] = [];
  let cell = '';
  for (let i = 0; i < row.length; i++) {
    const ch = row[i]!;
    if (ch === '\\' && i + 1 < row.length) {
      cell += ch + row[i + 1]!;
      i++;
    } else if (ch === '|') {
      parts.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  parts.push(cell.trim());
  return parts.slice(1, -1);
}

/**
 * The fenced code blocks of a Markdown document, read as CommonMark reads them: an opening fence
 * of N backticks is closed only by a line of at least N backticks (indented up to three spaces).
 */
function fences(markdown: string): { info: string; lines: string[] }[] {
  const blocks: { info: string; lines: string[] }[] = [];
  let open: { length: number; info: string; lines: string[] } | undefined;
  for (const line of markdown.split('\n')) {
    if (!open) {
      const start = /^ {0,3}(`{3,})([^`]*)$/.exec(line);
      if (start) open = { length: start[1]!.length, info: start[2]!.trim(), lines: [] };
      continue;
    }
    const end = /^ {0,3}(`+)\s*$/.exec(line);
    if (end && end[1]!.length >= open.length) {
      blocks.push({ info: open.info, lines: open.lines });
      open = undefined;
    } else open.lines.push(line);
  }
  expect(open).toBeUndefined(); // every fence is closed
  return blocks;
}

/** The document with its fenced blocks removed: what Markdown (and HTML) is read from. */
function outsideFences(markdown: string): string {
  return markdown.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1\n/gm, '');
}

describe('renderMarkdown on the demo namespace', () => {
  const report = demo();
  const markdown = renderMarkdown(report);

  it('starts with the scope, the counts and the ranked table', () => {
    const head = markdown.slice(0, markdown.indexOf('\n\n<details>'));
    expect(head).toBe(
      [
        '## kdiag: namespace shop',
        '',
        '**7 critical** · **1 warning** · 0 info · 15 pods examined · read 2026-11-20T10:00:00Z',
        '',
        '| # | Severity | Rule | Diagnosis | Affected |',
        '|---:|---|---|---|---|',
        '| 1 | **CRITICAL** | `oom-killed` | Container cart was OOMKilled (memory limit 256Mi) | Deployment/cart · 3 pods: cart-6br8cpcwpc-v9tpm, cart-6br8cpcwpc-xd6r6, cart-6br8cpcwpc-z6l75 · container cart |',
        '| 2 | **CRITICAL** | `exit-code-137` | Container checkout is killed by its liveness probe (exit 137) | Deployment/checkout · 2 pods: checkout-pxm8xhfkz9-625vl, checkout-pxm8xhfkz9-m2rvj · container checkout |',
        '| 3 | **CRITICAL** | `image-pull-back-off` | Container search cannot pull registry.example.com/shop/search:v2.4.1: image not found | Deployment/search · pod search-2pt9gr4ljf-4p2b9, container search |',
        '| 4 | **CRITICAL** | `node-not-ready` | Node k8s-worker-3 is NotReady for 4m: kubelet stopped reporting 4m ago (1 pod on it) | Node k8s-worker-3 · 1 pod: legacy-api-hpcdb77jqw-97txt |',
        '| 5 | **CRITICAL** | `exit-code-128` | Container postgres could not start (exit 128, StartError) | StatefulSet/orders-db · pod orders-db-0, container postgres |',
        '| 6 | **CRITICAL** | `pod-pending` | Pod recommender-b4ncfns252-zhhfx is Pending: no node has enough free memory | Deployment/recommender · pod recommender-b4ncfns252-zhhfx |',
        '| 7 | **CRITICAL** | `readiness-probe-failed` | Container checkout is not ready: readiness probe fails (HTTP 503 from /readyz) | Deployment/checkout · pod checkout-pxm8xhfkz9-625vl, container checkout |',
        '| 8 | **WARNING** | `exit-code-1` | Container worker exited with code 1 (application error) | Deployment/worker · pod worker-nkn4ln7kgw-fn5r5, container worker |',
      ].join('\n'),
    );
  });

  it('gives each diagnosis a collapsible block: evidence, explanation, log tail, commands', () => {
    const blocks = markdown.split('<details>\n').slice(1);
    expect(blocks).toHaveLength(report.diagnoses.length);
    expect(markdown.match(/^<\/details>$/gm)).toHaveLength(report.diagnoses.length);
    const first = blocks[0]!;
    expect(first.split('\n')[0]).toBe('<summary><b>1. CRITICAL</b> oom-killed: Container cart was OOMKilled (memory limit 256Mi)</summary>');
    expect(first).toContain('\n\n**Affected:** Deployment/cart · 3 pods: cart-6br8cpcwpc-v9tpm, cart-6br8cpcwpc-xd6r6, cart-6br8cpcwpc-z6l75 · container cart<br>\nexit 137 (SIGKILL) · cause: memory-limit · confidence 98%\n');
    expect(first).toContain('**Also explains:**\n\n- Container cart is in CrashLoopBackOff (17 restarts)\n');
    expect(first).toContain('\n\nThe kernel killed cart because it used all of its 256Mi memory limit');
    expect(first).toContain('**Evidence:**\n\n- lastState.terminated.reason=OOMKilled\n- lastState.terminated.exitCode=137\n');
    expect(first).toContain('**Last log lines** (cart-6br8cpcwpc-v9tpm/cart):\n\n```text\n2026-11-20T09:56:13.137Z  INFO 1 --- [           main]');
    expect(first).toContain(
      [
        '```sh',
        '# 1. See how much memory the containers use now (needs metrics-server)',
        'kubectl top pod -n shop cart-6br8cpcwpc-v9tpm --containers',
        '# 2. Raise the memory limit if the workload needs more (e.g. double it to 512Mi)',
        'kubectl set resources deployment/cart -n shop -c cart --limits=memory=512Mi',
        '# 3. Read the log of the crashed container (the previous instance)',
        'kubectl logs -n shop cart-6br8cpcwpc-v9tpm -c cart --previous',
        '# 4. For a JVM, Node.js or Go service, keep its heap below the limit (-XX:MaxRAMPercentage=75, --max-old-space-size, GOMEMLIMIT)',
        '```',
      ].join('\n'),
    );
  });

  it('holds every log line and every command, each inside a fence', () => {
    const blocks = fences(markdown);
    const logs = blocks.filter((block) => block.info === 'text');
    const shell = blocks.filter((block) => block.info === 'sh');
    expect(logs.map((block) => block.lines)).toEqual(report.diagnoses.filter((d) => d.logTail).map((d) => d.logTail));
    expect(shell).toHaveLength(report.diagnoses.length);
    const commands = report.diagnoses.flatMap((d) => d.remediation.flatMap((step) => (step.command ? [step.command] : [])));
    expect(shell.flatMap((block) => block.lines.filter((line) => !line.startsWith('# ')))).toEqual(commands);
  });

  it('is the same document every time (snapshot)', () => {
    expect(renderMarkdown(demo())).toBe(markdown);
    expect(markdown).toMatchSnapshot();
  });

  it('says so when nothing is wrong, and lists the reads kdiag was refused', () => {
    expect(renderMarkdown(diagnose(loadFixture('healthy-namespace.json'), rules))).toBe(
      '## kdiag: namespace shop\n\n0 critical · 0 warning · 0 info · 7 pods examined · read 2026-11-20T10:00:00Z\n\nNo problems found in 7 pods.\n',
    );
    const refused = renderMarkdown(diagnose(loadFixture('forbidden-nodes-and-events.json'), rules));
    expect(refused).toMatch(
      /\n\*\*kdiag could not read 3 things\*\*; the diagnosis above is made without them:\n\n- list events in namespace prod: HTTP 403, events is forbidden: .+\n- get nodes ip-10-0-1-23\.eu-west-1\.compute\.internal: HTTP 403, .+\n- get nodes ip-10-0-2-17\.eu-west-1\.compute\.internal: HTTP 403, .+\n$/,
    );
    // A refused read has no object to show: its row's last cell is empty.
    expect(refused).toContain('| 2 | **WARNING** | `forbidden` | kdiag may not list events (namespace prod): 403 Forbidden |  |\n');
  });

  it('names a pod scope in its heading, and lists every pod with verbose', () => {
    const snapshot = loadFixture('demo-namespace.json');
    const cart = snapshot.pods.filter((pod) => pod.metadata.name!.startsWith('cart-'));
    const report = diagnose(narrow(snapshot, cart, { kind: 'Pod', namespace: 'shop', name: 'cart' }), rules);
    expect(renderMarkdown(report).split('\n')[0]).toBe('## kdiag: pod cart in namespace shop');
    const node = diagnose(loadFixture('stuck-terminating-node-lost.json'), rules).diagnoses.find((d) => d.rule === 'node-not-ready')!;
    const many = { ...node, affected: Array.from({ length: 5 }, (_, i) => ({ kind: 'Pod', namespace: 'shop', name: `p${i}` })) };
    const one: Report = { ...report, diagnoses: [many] };
    expect(cells(renderMarkdown(one).split('\n').find((line) => line.startsWith('| 1 |'))!)[4]).toMatch(/· 5 pods: p0, p1, p2, \+2 more$/);
    expect(cells(renderMarkdown(one, { verbose: true }).split('\n').find((line) => line.startsWith('| 1 |'))!)[4]).toMatch(/· 5 pods: p0, p1, p2, p3, p4$/);
  });
});

describe('Markdown escaping of cluster text', () => {
  it('escapes what would start Markdown or HTML, and line starts that would open a block', () => {
    expect(escapeMarkdown('a|b')).toBe('a\\|b');
    expect(escapeMarkdown('<script>alert(1)</script>')).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(escapeMarkdown('`x` *y* _z_ [l](u) ~~s~~ $m$ \\')).toBe('\\`x\\` \\*y\\* \\_z\\_ \\[l\\](u) \\~\\~s\\~\\~ \\$m\\$ \\\\');
    expect(escapeMarkdown('&amp; &')).toBe('&amp;amp; &amp;');
    expect(escapeMarkdown('# h')).toBe('\\# h');
    expect(escapeMarkdown('- item')).toBe('\\- item');
    expect(escapeMarkdown('12. item')).toBe('12\\. item');
    expect(escapeMarkdown('    code')).toBe('code');
    expect(escapeMarkdown('two\nlines')).toBe('two lines');
    expect(escapeHtml(`<b>"it's" & more</b>`)).toBe('&#60;b&#62;&#34;it&#39;s&#34; &#38; more&#60;/b&#62;');
  });

  it('fences content with a fence longer than any run of backticks in it', () => {
    expect(fenced(['plain'], 'text')).toEqual(['```text', 'plain', '```']);
    expect(fenced(['```', 'a ```` b'], 'sh')).toEqual(['`````sh', '```', 'a ```` b', '`````']);
    expect(fenced(['`'.repeat(12)])[0]).toBe('`'.repeat(13));
  });

  it('keeps hostile names, messages and log lines from changing the document', () => {
    const report = diagnose(hostileSnapshot(), rules);
    const markdown = renderMarkdown(report);
    const [diagnosis] = report.diagnoses;
    expect(diagnosis!.title).toContain(HOSTILE_NAME);

    // The table keeps its five columns, and each cell reads back as the cluster text.
    const row = markdown.split('\n').find((line) => line.startsWith('| 1 |'))!;
    expect(cells(row)).toHaveLength(5);
    expect(cells(row)[3]).toBe('Container n\\|&lt;script&gt;x\\`\\*\\_ exited with code 1 (application error)');

    // No HTML, emphasis, code span or link from the cluster outside the code blocks.
    const prose = outsideFences(markdown);
    expect(prose).not.toMatch(/<script|<\/script|<\/?x>/i);
    expect(prose.match(/<\/?details>/g)).toHaveLength(2); // kdiag's own, once each
    expect(prose).not.toMatch(/(?<!\\)\*bold(?<!\\)\*/);
    expect(prose).not.toMatch(/(?<!\\)\[x(?<!\\)\]\(/);
    expect(prose).not.toMatch(/(?<!\\)``` (?<!\\)\]/);
    expect(prose).toContain('a \\| b &lt;script&gt;alert(1)&lt;/script&gt; \\`\\`\\` \\]\\]&gt; ^\\[\\[31mred \\*bold\\* \\_it\\_ \\[x\\](http://e.test) &amp; &amp;amp;');
    expect(markdown).toContain('<summary><b>1. CRITICAL</b> exit-code-1: Container n|&#60;script&#62;x`*_ exited with code 1 (application error)</summary>');

    // The log tail is one code block holding every line; no line closed it early.
    const logs = fences(markdown).filter((block) => block.info === 'text');
    expect(logs).toEqual([{ info: 'text', lines: diagnosis!.logTail }]);
    expect(diagnosis!.logTail).toHaveLength(HOSTILE_LOG.length);
    expect(markdown).toContain('\n`````````text\n```\ninside ``````\n</details>\n');

    // Terminal escapes were neutralised by the engine and stay neutralised.
    expect(markdown).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(markdown).toContain('^[[2J^[]0;title^G');
  });
});

describe('kdiag -o markdown (the built bin)', () => {
  const DEMO = fixturePath('demo-namespace.json');
  const temp = mkdtempSync(path.join(tmpdir(), 'kdiag-md-'));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  const kdiag = (args: string[]) => runKdiagOffline(args);


  it('prints the Markdown report of a namespace and exits 1 on critical diagnoses', async () => {
    const run = await kdiag(['namespace', '--snapshot', DEMO, '-o', 'markdown']);
    expect(run).toMatchObject({ code: 1, stderr: '' });
    expect(run.stdout).toBe(renderMarkdown(demo()));
  });

  it('follows --fail-on for its exit code', async () => {
    expect((await kdiag(['ns', '--snapshot', DEMO, '-o', 'markdown', '--fail-on', 'never'])).code).toBe(0);
    expect((await kdiag(['ns', '--snapshot', fixturePath('healthy-namespace.json'), '-o', 'markdown', '--fail-on', 'info'])).code).toBe(0);
    const warning = await kdiag(['ns', '--snapshot', fixturePath('frequent-restarts-recovered-oom.json'), '--output', 'markdown', '--fail-on', 'warning']);
    expect(warning.code).toBe(1);
    expect(warning.stdout).toMatch(/^## kdiag: namespace /);
  });

  it('prints one pod scope (kdiag pod) with --verbose', async () => {
    const run = await kdiag(['pod', 'cart', '--snapshot', DEMO, '-o', 'markdown', '--verbose']);
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n')[0]).toBe('## kdiag: pod cart in namespace shop');
    expect(run.stdout).toContain('| 1 | **CRITICAL** | `oom-killed` |');
  });

  it('escapes a hostile snapshot read from a file', async () => {
    const file = path.join(temp, 'hostile.json');
    writeFileSync(file, hostileSnapshotText());
    const run = await kdiag(['ns', '--snapshot', file, '-o', 'markdown']);
    expect(run.code).toBe(1);
    expect(outsideFences(run.stdout)).not.toMatch(/<script/);
    expect(run.stdout).not.toContain('\u001b');
  });

  it('refuses a format it does not know with one line and exit 2', async () => {
    const run = await kdiag(['ns', '--snapshot', DEMO, '-o', 'html']);
    expectOneLineError(run, 2, /^kdiag: .*Invalid values.*"text", "json", "markdown", "junit"/);
  });
});
