import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { rules } from '../rules/index.js';
import type { Tagged } from '../src/engine/index.js';
import { compareDiagnoses, diagnose, Engine, foldSymptoms, group, partition } from '../src/engine/index.js';
import { neutralizeDeep } from '../src/model/text.js';
import type { Rule } from '../src/model/finding.js';
import type { Snapshot } from '../src/model/snapshot.js';
import { partOfEvent } from '../src/model/snapshot.js';
import { loadFixture, mergeSnapshots, ROOT, ruleContext } from './support/fixtures.js';

/**
 * The engine diagnoses a namespace at a time and lets it go; cluster rules run once at the end over
 * what their `retain` kept. Whatever a cluster rule reads must therefore be kept: on every fixture,
 * and on all of them at once, each cluster rule finds over the engine's view exactly what it finds
 * over the whole snapshot.
 */

const fixtures = readdirSync(path.join(ROOT, 'fixtures'))
  .filter((file) => file.endsWith('.json'))
  .sort()
  .flatMap((file) => {
    try {
      return [[file, loadFixture(file)] as const];
    } catch {
      return []; // a deliberately broken file (snapshot-input tests)
    }
  });

/** Objects grouped by namespace (a stable sort), as the API lists them across namespaces. */
function byNamespace<T>(items: T[], namespace: (item: T) => string | undefined): T[] {
  return items.map((item, i) => ({ item, i, ns: namespace(item) ?? '' })).sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : a.i - b.i)).map((x) => x.item);
}

/** A snapshot as the API lists objects across namespaces: grouped by namespace, in name order. */
function listed(snapshot: Snapshot): Snapshot {
  return {
    ...snapshot,
    pods: byNamespace(snapshot.pods, (pod) => pod.metadata.namespace),
    events: byNamespace(snapshot.events, partOfEvent),
    owners: byNamespace(snapshot.owners, (owner) => owner.metadata.namespace),
    logs: byNamespace(snapshot.logs, (log) => log.namespace),
  };
}

/** Every fixture in one snapshot: many namespaces, nodes of the same name from several files. */
function merged(): Snapshot {
  return listed(mergeSnapshots(fixtures.map(([, snapshot]) => snapshot)));
}

/** The fixtures merged, and the engine's report on them: made once, read by several tests. */
const MERGED = merged();
let mergedReport: ReturnType<typeof diagnose> | undefined;
const reportOfMerged = () => (mergedReport ??= diagnose(MERGED, rules));

const clusterRules = rules.filter((rule) => rule.scope === 'cluster');

function viewOf(snapshot: Snapshot) {
  const engine = new Engine(snapshot, rules);
  for (const part of partition(snapshot)) engine.add(part);
  return engine.clusterContext();
}

function findings(rule: Rule, context: ReturnType<typeof ruleContext>) {
  return rule.match(context);
}

describe('cluster rules', () => {
  it('are the rules that read several namespaces at once, and each says what it keeps', () => {
    expect(clusterRules.map((rule) => rule.id).sort()).toEqual(['failed-create-pod-sandbox', 'forbidden', 'node-not-ready', 'node-pressure', 'node-unschedulable']);
    for (const rule of rules) expect(rule.retain !== undefined).toBe(rule.scope === 'cluster');
  });

  it('the fixtures include snapshots of several namespaces, and cluster rules fire on them', () => {
    expect(fixtures.length).toBeGreaterThan(50);
    const spread = fixtures.filter(([, s]) => partition(s).length > 1);
    expect(spread.length).toBeGreaterThan(5);
    const fired = new Set(clusterRules.filter((rule) => fixtures.some(([, s]) => findings(rule, ruleContext(s)).length > 0)).map((r) => r.id));
    expect([...fired].sort()).toEqual(clusterRules.map((r) => r.id).sort());
  });

  it.each(fixtures.map(([file, snapshot]) => [file, listed(snapshot)] as const))('find over the engine\'s view what they find over the whole snapshot: %s', (_file, snapshot) => {
    const view = viewOf(snapshot);
    const whole = ruleContext(snapshot);
    for (const rule of clusterRules) expect([rule.id, findings(rule, view)]).toEqual([rule.id, findings(rule, whole)]);
  });

  it.each([...fixtures.map(([file, snapshot]) => [file, listed(snapshot)] as const), ['every fixture at once', MERGED] as const])(
    'name only nodes, refused reads and what they retained: %s',
    (_file, snapshot) => {
      const view = viewOf(snapshot);
      const kept = new Set<string>();
      const key = (kind: string | undefined, namespace: string | null | undefined, name: string | undefined) => `${kind}/${namespace ?? ''}/${name}`;
      for (const pod of view.snapshot.pods) kept.add(key('Pod', pod.metadata.namespace, pod.metadata.name));
      for (const event of view.snapshot.events) kept.add(key(event.involvedObject.kind, event.involvedObject.namespace ?? event.metadata.namespace, event.involvedObject.name));
      for (const owner of view.snapshot.owners) kept.add(key(owner.kind, owner.metadata.namespace, owner.metadata.name));
      for (const rule of clusterRules) {
        for (const finding of findings(rule, view)) {
          for (const ref of [finding.object, ...(finding.affected ?? [])]) {
            // Nodes have no namespace; a refused read (kind Access) names the namespace it was in.
            if (ref.namespace !== null && ref.kind !== 'Access') expect([rule.id, key(ref.kind, ref.namespace, ref.name), kept.has(key(ref.kind, ref.namespace, ref.name))]).toEqual([rule.id, key(ref.kind, ref.namespace, ref.name), true]);
          }
        }
      }
    },
  );

  it('and over every fixture at once', () => {
    const snapshot = MERGED;
    expect(partition(snapshot).length).toBeGreaterThan(10);
    const view = viewOf(snapshot);
    const whole = ruleContext(snapshot);
    let total = 0;
    for (const rule of clusterRules) {
      const expected = findings(rule, whole);
      total += expected.length;
      expect([rule.id, findings(rule, view)]).toEqual([rule.id, expected]);
    }
    expect(total).toBeGreaterThan(10);
    // The view holds a small part of the pods: those on troubled nodes and those a cluster rule is about.
    expect(view.snapshot.pods.length).toBeLessThan(snapshot.pods.length / 2);
  });

  it('find the network plugin\'s pod on a node by name, in a namespace the view does not hold', () => {
    const snapshot = loadFixture('node-not-ready-cni.json');
    const view = viewOf(snapshot);
    const sandbox = rules.find((rule) => rule.id === 'failed-create-pod-sandbox')!;
    expect(view.snapshot.pods.some((pod) => pod.metadata.name === 'calico-node-q9wx4')).toBe(true); // it runs on the NotReady node
    const commands = findings(sandbox, view).flatMap((f) => f.remediation.map((step) => step.command ?? ''));
    expect(commands).toContain('kubectl logs -n kube-system calico-node-q9wx4 --all-containers');
    // Without the pods of kube-system, only by the names kept of every pod.
    const withoutPlugin = { ...view, snapshot: { ...view.snapshot, pods: view.snapshot.pods.filter((pod) => pod.metadata.namespace !== 'kube-system') } };
    const byName = findings(sandbox, { ...withoutPlugin, index: view.index }).flatMap((f) => f.remediation.map((step) => step.command ?? ''));
    expect(byName).toContain('kubectl logs -n kube-system calico-node-q9wx4 --all-containers');
  });
});

/** The plain way: every rule once over the whole snapshot, then fold, group and rank. */
function onePass(snapshot: Snapshot) {
  const context = ruleContext(snapshot);
  const podsByName = new Map(snapshot.pods.map((pod) => [`${pod.metadata.namespace}/${pod.metadata.name}`, pod]));
  const tagged: Tagged[] = rules.flatMap((rule, order) =>
    rule.match(context).map((finding) => {
      const pod = finding.object.kind === 'Pod' ? podsByName.get(`${finding.object.namespace}/${finding.object.name}`) : undefined;
      return { rule, order, finding, severity: finding.severity ?? rule.severity, owner: pod ? context.index.ownerOf(pod) : null, context: [] };
    }),
  );
  return neutralizeDeep(group(foldSymptoms(tagged)).sort(compareDiagnoses));
}

describe('the engine, a namespace at a time (most findings grouped as their namespace is let go of)', () => {
  it.each(fixtures.map(([file, snapshot]) => [file, listed(snapshot)] as const))('gives what one pass over the whole snapshot gives: %s', (_file, snapshot) => {
    expect(diagnose(snapshot, rules).diagnoses).toEqual(onePass(snapshot));
  });

  it('gives what one pass gives over every fixture at once', () => {
    const expected = onePass(MERGED);
    expect(expected.length).toBeGreaterThan(100);
    expect(reportOfMerged().diagnoses).toEqual(expected);
  });

  it('holds to the end only the findings a cluster rule may meet', () => {
    // Looked at from inside: what is grouped already, and what waits for the cluster rules.
    const inside = (snapshot: Snapshot) => {
      const engine = new Engine(snapshot, rules);
      for (const part of partition(snapshot)) engine.add(part);
      const { diagnoses, tagged, settled } = engine as unknown as { diagnoses: unknown[]; tagged: unknown[]; settled: unknown[] };
      return { grouped: diagnoses.length, held: tagged.length + settled.length };
    };
    // Healthy nodes: every diagnosis is made as its namespace is let go of.
    const quiet = inside(listed(loadFixture('exit-code-1-deployment-three-replicas.json')));
    expect(quiet.grouped).toBeGreaterThan(0);
    expect(quiet.held).toBe(0);
    // Pods on a NotReady node wait for node-not-ready (which may fold them), with their groups.
    const all = inside(MERGED);
    expect(all.grouped).toBeGreaterThan(50);
    expect(all.held).toBeGreaterThan(0);
  });
});

describe('the engine', () => {
  it('gives the same report whatever order the namespaces come in', () => {
    const forward = reportOfMerged();
    const engine = new Engine(MERGED, rules);
    for (const part of partition(MERGED).reverse()) engine.add(part);
    const backward = engine.finish();
    // Which symptom's title speaks for a group follows the order the pods come in; the rest does not.
    const key = (r: typeof forward) => r.diagnoses.map((d) => `${d.rule} ${d.severity} ${d.object.kind}/${d.object.namespace}/${d.object.name} ${d.affected.length} ${d.context.length}`).sort();
    expect(key(backward)).toEqual(key(forward));
    expect(backward.summary).toEqual(forward.summary);
  });

  it('counts every pod of every namespace', () => {
    expect(reportOfMerged().summary.pods).toBe(MERGED.pods.length);
  });
});
