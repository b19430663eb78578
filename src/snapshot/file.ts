import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { UsageError } from '../model/errors.js';
import type { AccessError, LogTail, Scope, Snapshot } from '../model/snapshot.js';
import { emptySnapshot } from '../model/snapshot.js';
import type { Shared } from './project.js';
import { projectObject } from './project.js';
import { describeItem, objectProblem } from './validate.js';

/**
 * The snapshot file is a `kind: List` like `kubectl get -o json` writes, so kubectl and jq read it
 * as they read any List. What a List cannot hold (scope, capture time, log tails, access errors)
 * sits beside `items` under `kdiag`.
 */
export interface SnapshotFile {
  apiVersion: 'v1';
  kind: 'List';
  metadata: Record<string, never>;
  kdiag: {
    version: 'kdiag/v1';
    scope: Scope;
    capturedAt: string;
    context: string | null;
    logs: LogTail[];
    accessErrors: AccessError[];
  };
  items: unknown[];
}

/** Serialise a snapshot (already projected: no env values, no managedFields) as a List. */
export function toSnapshotFile(snapshot: Snapshot): SnapshotFile {
  return {
    apiVersion: 'v1',
    kind: 'List',
    metadata: {},
    kdiag: {
      version: 'kdiag/v1',
      scope: snapshot.scope,
      capturedAt: snapshot.capturedAt,
      context: snapshot.context ?? null,
      logs: snapshot.logs,
      accessErrors: snapshot.accessErrors,
    },
    items: [...snapshot.pods, ...snapshot.nodes, ...snapshot.owners, ...snapshot.events],
  };
}

/**
 * Write a file atomically: a temp file beside it, fsync, rename. A failed write leaves no half
 * file, and an existing file is kept unless `force`.
 */
export function writeFileAtomic(file: string, content: string, force: boolean): void {
  if (!force && existsSync(file)) throw new UsageError(`${file} already exists (use --force to overwrite it)`);
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot write ${file}: ${(error as Error).message.split('\n')[0]}`);
  }
}

type Raw = Record<string, unknown>;
const isObj = (x: unknown): x is Raw => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Flatten Lists (and kubectl's `kind: XList`) into their items, recursively. The items move: the
 * Lists are left empty, so that the flat list holds the only reference to each raw object.
 */
function flatten(docs: unknown[], out: unknown[] = []): unknown[] {
  for (const doc of docs) {
    if (Array.isArray(doc)) flatten(doc, out);
    else if (isObj(doc) && Array.isArray(doc.items) && (doc.kind === undefined || String(doc.kind).endsWith('List'))) {
      const itemKind = typeof doc.kind === 'string' && doc.kind !== 'List' ? doc.kind.slice(0, -4) : undefined;
      const items = doc.items;
      doc.items = [];
      flatten(itemKind ? items.map((item) => (isObj(item) && !item.kind ? { ...item, kind: itemKind } : item)) : items, out);
    } else out.push(doc);
  }
  return out;
}

/** The newest timestamp in a set of objects: "now" for data that does not say when it was read. */
function newestTimestamp(snapshot: Snapshot): string {
  let newest = 0;
  const visit = (value: unknown, depth: number): void => {
    if (depth > 8) return;
    if (typeof value === 'string') {
      if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(value)) {
        const ms = Date.parse(value);
        if (Number.isFinite(ms) && ms > newest) newest = ms;
      }
    } else if (Array.isArray(value)) for (const item of value) visit(item, depth + 1);
    else if (isObj(value)) for (const item of Object.values(value)) visit(item, depth + 1);
  };
  visit([snapshot.pods, snapshot.nodes, snapshot.events, snapshot.owners], 0);
  return new Date(newest || 0).toISOString();
}

function isLogTail(x: unknown): x is LogTail {
  return isObj(x) && typeof x.namespace === 'string' && typeof x.pod === 'string' && typeof x.container === 'string' && Array.isArray(x.lines) && x.lines.every((l) => typeof l === 'string');
}

/** A recorded access error, with namespace and name normalised to string or null. */
function accessError(x: unknown): AccessError | undefined {
  if (!isObj(x) || typeof x.resource !== 'string' || typeof x.verb !== 'string' || typeof x.status !== 'number' || typeof x.message !== 'string') return undefined;
  const error: AccessError = { resource: x.resource, verb: x.verb, namespace: typeof x.namespace === 'string' ? x.namespace : null, status: x.status, message: x.message };
  if (typeof x.name === 'string') error.name = x.name;
  return error;
}

function isScope(x: unknown): x is Scope {
  return isObj(x) && ['Pod', 'Namespace', 'Cluster'].includes(String(x.kind));
}

/** A list from the kdiag block, every entry converted, or a one-line error naming the first bad one. */
function recordList<T>(value: unknown, path: string, source: string, convert: (x: unknown) => T | undefined, what: string): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new UsageError(`snapshot ${source}: ${path} is not a list`);
  return value.map((entry, i) => {
    const converted = convert(entry);
    if (converted === undefined) throw new UsageError(`snapshot ${source}: ${path}[${i}] is not ${what}`);
    return converted;
  });
}

/** Parse snapshot text: JSON, or YAML (one document or several). */
export function parseSnapshotText(text: string, source: string): unknown[] {
  const trimmed = text.trimStart();
  if (trimmed === '') throw new UsageError(`snapshot ${source} is empty`);
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return [JSON.parse(text)];
    } catch (error) {
      throw new UsageError(`snapshot ${source} is not valid JSON: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  try {
    return yaml.loadAll(text).filter((doc) => doc !== null && doc !== undefined);
  } catch (error) {
    const reason = error instanceof yaml.YAMLException ? error.reason : (error as Error).message;
    throw new UsageError(`snapshot ${source} is neither JSON nor YAML: ${reason.split('\n')[0]}`);
  }
}

/**
 * Build a Snapshot from parsed documents: a kdiag snapshot file, or any `kubectl get -o json|yaml`
 * output (a List, or one object). Objects kdiag does not read are skipped; objects of wrong shape
 * are projected away field by field.
 */
export function snapshotFromDocuments(docs: unknown[], source: string): Snapshot {
  const meta = docs.length === 1 && isObj(docs[0]) && isObj(docs[0].kdiag) ? docs[0].kdiag : undefined;
  const snapshot = emptySnapshot({ kind: 'Namespace', namespace: null, name: null }, '');
  let recognised = 0;
  // A text file is valid YAML too (one string): that is not a snapshot with a bad item.
  if (!docs.some((doc) => isObj(doc) || Array.isArray(doc))) {
    throw new UsageError(`snapshot ${source} holds no Kubernetes object kdiag reads (expected a List, or Pods, Nodes, Events, workloads)`);
  }
  // Identical parts (a workload's containers, labels, owner) are held once, as in a live read; and
  // each raw object is let go of once projected, so a big file is not held twice.
  const pool: Shared = new Map();
  const items = flatten(docs);
  items.forEach((item, i) => {
    items[i] = undefined;
    const problem = objectProblem(item);
    if (problem) throw new UsageError(`snapshot ${source}: ${describeItem(item, i)} ${problem}`);
    const projected = projectObject(item, undefined, pool);
    if (!projected) return;
    recognised++;
    if (projected.kind === 'Pod') snapshot.pods.push(projected.object);
    else if (projected.kind === 'Node') snapshot.nodes.push(projected.object);
    else if (projected.kind === 'Event') snapshot.events.push(projected.object);
    else snapshot.owners.push(projected.object);
  });
  if (recognised === 0 && !meta) {
    throw new UsageError(`snapshot ${source} holds no Kubernetes object kdiag reads (expected a List, or Pods, Nodes, Events, workloads)`);
  }
  if (meta) {
    if (isScope(meta.scope)) {
      const scope = meta.scope as unknown as Raw;
      snapshot.scope = { kind: meta.scope.kind, namespace: typeof scope.namespace === 'string' ? scope.namespace : null, name: typeof scope.name === 'string' ? scope.name : null };
    }
    if (meta.capturedAt !== undefined) {
      if (typeof meta.capturedAt !== 'string' || !Number.isFinite(Date.parse(meta.capturedAt))) throw new UsageError(`snapshot ${source}: kdiag.capturedAt is not a date`);
      snapshot.capturedAt = meta.capturedAt;
    }
    if (typeof meta.context === 'string') snapshot.context = meta.context;
    snapshot.logs = recordList(meta.logs, 'kdiag.logs', source, (x) => (isLogTail(x) ? x : undefined), 'a log tail (namespace, pod, container, lines)');
    snapshot.accessErrors = recordList(meta.accessErrors, 'kdiag.accessErrors', source, accessError, 'an access error (resource, verb, status, message)');
  } else {
    const namespaces = new Set(snapshot.pods.map((pod) => pod.metadata.namespace));
    const only = namespaces.size === 1 ? [...namespaces][0] : undefined;
    snapshot.scope = only ? { kind: 'Namespace', namespace: only, name: null } : { kind: 'Cluster', namespace: null, name: null };
  }
  if (!snapshot.capturedAt) snapshot.capturedAt = newestTimestamp(snapshot);
  return snapshot;
}

/** Read a snapshot file ("-" for standard input). */
export function readSnapshotFile(file: string): Snapshot {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read snapshot ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message.split('\n')[0]}`);
  }
  const docs = parseSnapshotText(text, file);
  text = ''; // parsed: the text of a big file need not be kept while its objects are projected
  return snapshotFromDocuments(docs, file);
}
