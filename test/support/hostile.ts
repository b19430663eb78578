import { readFileSync } from 'node:fs';
import type { Snapshot } from '../../src/model/snapshot.js';
import { parseSnapshotText, snapshotFromDocuments } from '../../src/snapshot/file.js';
import { fixturePath } from './fixtures.js';

/*
 * A recorded namespace whose cluster text is written to break reports: a container, pod and
 * workload name with a table pipe, HTML and Markdown in it, a termination message and log lines
 * with <script>, backtick fences, a CDATA end, terminal escapes and characters XML 1.0 forbids.
 */

/** The name given to the container, the Deployment and (with its suffixes) the ReplicaSet and pod. */
export const HOSTILE_NAME = 'n|<script>x`*_';

/** The termination message (the first line goes into the evidence). */
export const HOSTILE_MESSAGE = 'a | b <script>alert(1)</script> ``` ]]> \u001b[31mred *bold* _it_ [x](http://e.test) & &amp; \ufffe\ud800 ~~s~~ $x$ end';

/** The previous log tail. */
export const HOSTILE_LOG = ['```', 'inside ``````', '</details>', '<script>alert(2)</script>', ']]>', '# not a heading', '\u001b[2J\u001b]0;title\u0007', '~~~', '   ````````'];

/** The snapshot file's text: exit-code-1-ansi-termination-message.json with the hostile text in it. */
export function hostileSnapshotText(): string {
  const list = JSON.parse(readFileSync(fixturePath('exit-code-1-ansi-termination-message.json'), 'utf8')) as {
    items: { kind: string; status?: { containerStatuses?: { lastState?: { terminated?: { message?: string } } }[] } }[];
    kdiag: { logs: { lines: string[] }[] };
  };
  const rename = (value: unknown): unknown => {
    if (typeof value === 'string') return value.replaceAll('notifier', HOSTILE_NAME);
    if (Array.isArray(value)) return value.map(rename);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rename(v)]));
    return value;
  };
  const hostile = rename(list) as typeof list;
  const pod = hostile.items.find((item) => item.kind === 'Pod')!;
  pod.status!.containerStatuses![0]!.lastState!.terminated!.message = HOSTILE_MESSAGE;
  hostile.kdiag.logs[0]!.lines = HOSTILE_LOG;
  return JSON.stringify(hostile);
}

/** The hostile snapshot, loaded as the CLI loads a file. */
export function hostileSnapshot(): Snapshot {
  return snapshotFromDocuments(parseSnapshotText(hostileSnapshotText(), 'hostile.json'), 'hostile.json');
}
