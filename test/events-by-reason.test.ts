import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { KubeEvent, Pod } from '../src/model/k8s.js';
import { SnapshotIndex } from '../src/model/snapshot-index.js';
import type { Snapshot } from '../src/model/snapshot.js';
import { ROOT, loadFixture } from './support/fixtures.js';

/**
 * SnapshotIndex.podEventsWithReason picks a pod's events by reason from its listed events and
 * sorts only those: it must give exactly what filtering the pod's time-sorted events gives, before
 * and after those were sorted, on every fixture and on ties, unordered lists, a recreated pod's
 * leftovers (another uid) and more events than the short sort handles.
 */

const byReason = (events: readonly KubeEvent[], reasons: readonly string[]) => events.filter((e) => e.reason !== undefined && reasons.includes(e.reason));

/** Every reason set worth asking of a pod: each reason alone, all of them, pairs, and one it lacks. */
function reasonSets(events: readonly KubeEvent[]): string[][] {
  const reasons = [...new Set(events.map((e) => e.reason).filter((r): r is string => !!r))];
  const sets = reasons.map((r) => [r]);
  for (let i = 1; i < reasons.length; i++) sets.push([reasons[i - 1]!, reasons[i]!]);
  sets.push(reasons, ['NoSuchReason'], []);
  return sets;
}

function expectSameAsSorted(snapshot: Snapshot): number {
  let checked = 0;
  for (const pod of snapshot.pods) {
    // A fresh index before podEvents sorted anything, then the same one after.
    const cold = new SnapshotIndex(snapshot);
    const warm = new SnapshotIndex(snapshot);
    const sorted = warm.podEvents(pod);
    for (const reasons of reasonSets(sorted)) {
      expect(cold.podEventsWithReason(pod, reasons)).toEqual(byReason(sorted, reasons));
      expect(warm.podEventsWithReason(pod, reasons)).toEqual(byReason(sorted, reasons));
      checked++;
    }
  }
  return checked;
}

describe('podEventsWithReason', () => {
  it('gives what filtering podEvents gives, on every fixture', () => {
    const files = readdirSync(path.join(ROOT, 'fixtures')).filter((f) => f.endsWith('.json'));
    let checked = 0;
    for (const file of files) checked += expectSameAsSorted(loadFixture(file));
    expect(checked).toBeGreaterThan(500);
  });

  it('keeps ties in list order, sorts an unordered list, leaves out another uid\'s events, past the short sort', () => {
    const demo = loadFixture('demo-namespace.json');
    const pod: Pod = demo.pods[0]!;
    const about = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
    const reasons = ['BackOff', 'Failed', 'Pulling', 'Unhealthy'];
    const events: KubeEvent[] = Array.from({ length: 80 }, (_, i) => ({
      metadata: { name: `${pod.metadata.name}.${i}`, namespace: pod.metadata.namespace },
      involvedObject: i % 9 === 4 ? { ...about, uid: 'a-recreated-pod' } : i % 11 === 0 ? { ...about, uid: undefined } : about,
      reason: reasons[i % reasons.length],
      message: `event ${i}`,
      // Out of order, with many equal times.
      lastTimestamp: new Date(Date.UTC(2026, 10, 25, 10, (i * 7) % 13)).toISOString(),
    }));
    const snapshot: Snapshot = { ...demo, pods: [pod], events };
    expect(expectSameAsSorted(snapshot)).toBeGreaterThan(5);
    const index = new SnapshotIndex(snapshot);
    const picked = index.podEventsWithReason(pod, ['BackOff', 'Failed']);
    expect(picked.length).toBeGreaterThan(32);
    expect(picked.some((e) => e.involvedObject.uid === 'a-recreated-pod')).toBe(false);
  });
});
