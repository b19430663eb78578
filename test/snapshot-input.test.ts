import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { rules } from '../rules/index.js';
import { diagnose } from '../src/engine/index.js';
import { KdiagError, UsageError } from '../src/model/errors.js';
import { renderJson } from '../src/report/json.js';
import { renderText } from '../src/report/text.js';
import { snapshotFromDocuments } from '../src/snapshot/file.js';
import { fixturePath } from './support/fixtures.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function fixture(name: string): Json {
  return JSON.parse(readFileSync(fixturePath(name), 'utf8')) as Json;
}

function pod(overrides: (p: Record<string, Json>) => void): Json {
  const p: Record<string, Json> = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'prod', uid: 'u1' },
    spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
    status: {
      phase: 'Running',
      containerStatuses: [{ name: 'web', restartCount: 2, state: { running: { startedAt: '2026-11-20T09:00:00Z' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } }],
    },
  };
  overrides(p);
  return { apiVersion: 'v1', kind: 'List', items: [p] };
}

function problem(doc: Json): string {
  try {
    snapshotFromDocuments([doc], 'f.json');
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected the snapshot to be refused');
}

describe('snapshot input checks', () => {
  it('accepts objects that leave optional fields out, as the API does', () => {
    const snapshot = snapshotFromDocuments([pod((p) => delete p.status)], 'f.json');
    expect(snapshot.pods).toHaveLength(1);
  });

  it('shares identical parts of replicas, as a live read does, and takes the items out of the Lists it reads', () => {
    const list = pod(() => undefined) as { items: Json[] };
    const second = JSON.parse(JSON.stringify(list.items[0])) as { metadata: { name: string } };
    second.metadata.name = 'web-2';
    list.items.push(second as unknown as Json);
    const snapshot = snapshotFromDocuments([list as unknown as Json], 'f.json');
    expect(snapshot.pods).toHaveLength(2);
    expect(snapshot.pods[1]!.spec.containers).toBe(snapshot.pods[0]!.spec.containers);
    // The raw objects are not kept twice: the List no longer holds them.
    expect(list.items).toEqual([]);
  });

  it('names the place where a field has the wrong type', () => {
    const doc = pod((p) => {
      ((p.status as { containerStatuses: { lastState: { terminated: Record<string, Json> } }[] }).containerStatuses[0]!.lastState.terminated).exitCode = '137';
    });
    expect(problem(doc)).toBe('snapshot f.json: items[0] (Pod prod/web-1) status.containerStatuses[0].lastState.terminated.exitCode is a string, expected a number');
  });

  it('refuses an object without a name', () => {
    expect(problem(pod((p) => delete (p.metadata as Record<string, Json>).name))).toBe('snapshot f.json: items[0] (Pod) metadata.name is missing');
  });

  it('refuses a list entry that is not an object', () => {
    expect(problem({ kind: 'List', items: [42] } as Json)).toBe('snapshot f.json: items[0] is a number, expected an object');
  });

  it('refuses containers given as an object instead of a list', () => {
    expect(problem(pod((p) => ((p.spec as Record<string, Json>).containers = { name: 'web' })))).toMatch(/spec\.containers is an object, expected a list/);
  });

  it('refuses a malformed kdiag block', () => {
    const doc = { kind: 'List', items: [], kdiag: { logs: [{ pod: 'x' }] } } as Json;
    expect(problem(doc)).toBe('snapshot f.json: kdiag.logs[0] is not a log tail (namespace, pod, container, lines)');
    expect(problem({ kind: 'List', items: [], kdiag: { capturedAt: 'yesterday' } } as Json)).toBe('snapshot f.json: kdiag.capturedAt is not a date');
  });

  it('skips kinds it does not read without checking them', () => {
    const snapshot = snapshotFromDocuments([{ kind: 'List', items: [{ kind: 'ConfigMap', metadata: 'odd' }, ...((pod(() => undefined) as { items: Json[] }).items)] } as Json], 'f.json');
    expect(snapshot.pods).toHaveLength(1);
  });
});

/** Every path to a value inside a JSON document. */
function paths(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (prefix.length > 0) out.push(prefix);
  if (Array.isArray(value)) value.forEach((item, i) => paths(item, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

type Mutation = { at: number; action: 'replace' | 'delete' | 'duplicate'; value: Json };

/** Apply mutations to a deep copy: replace a value, delete it, or duplicate a list entry. */
function mutate(doc: Json, all: (string | number)[][], mutations: Mutation[]): Json {
  const copy = structuredClone(doc);
  for (const { at, action, value } of mutations) {
    const path = all[at % all.length]!;
    let parent: Json = copy;
    for (const step of path.slice(0, -1)) {
      if (parent === null || typeof parent !== 'object') break;
      parent = (parent as Record<string | number, Json>)[step as never] ?? null;
    }
    if (parent === null || typeof parent !== 'object') continue;
    const key = path[path.length - 1]!;
    const holder = parent as Record<string | number, Json>;
    if (action === 'delete') {
      if (Array.isArray(holder)) holder.splice(Number(key), 1);
      else delete holder[key];
    } else if (action === 'duplicate' && Array.isArray(holder) && holder[Number(key)] !== undefined) {
      holder.push(structuredClone(holder[Number(key)]!));
    } else holder[key] = value;
  }
  return copy;
}

const FUZZED = ['demo-namespace.json', 'oom-killed-crashloop.json', 'exit-code-137-liveness-probe.json', 'pending-insufficient-cpu.json', 'node-not-ready-unknown.json', 'forbidden-nodes-and-events.json'];

describe('mutated snapshots', () => {
  it.each(FUZZED)('never crash or hang the engine or the reporters (%s)', (name) => {
    const doc = fixture(name);
    const all = paths(doc);
    const mutation = fc.record<Mutation>({
      at: fc.nat(),
      action: fc.constantFrom('replace', 'replace', 'delete', 'duplicate'),
      value: fc.oneof(fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, fc.constantFrom<Json>(null, '', -1, 1e308, '\u001b[2J', [], {}, 'x'.repeat(5000))),
    });
    let refused = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (mutations) => {
        const input = mutate(doc, all, mutations);
        let snapshot;
        try {
          snapshot = snapshotFromDocuments([input], name);
        } catch (error) {
          // A refused file is fine, as long as it is a one-line input error, not a crash.
          if (!(error instanceof KdiagError) || error.message.includes('\n')) throw error;
          refused++;
          return;
        }
        const report = diagnose(snapshot, rules, { onRuleError: (id, error) => { throw new Error(`rule ${id} threw: ${String(error)}`); } });
        JSON.parse(renderJson(report));
        renderText(report, { color: false, width: 100 });
      }),
      { numRuns: 500, seed: 20261125 },
    );
    // Some mutations must get through to the engine for the property to mean anything.
    expect(refused).toBeLessThan(450);
  });
});
