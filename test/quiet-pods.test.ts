import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { rules } from '../rules/index.js';
import type { KubeEvent, Pod } from '../src/model/k8s.js';
import { isQuiet, SnapshotIndex } from '../src/model/snapshot-index.js';
import type { Snapshot } from '../src/model/snapshot.js';
import { loadFixture, mergeSnapshots, ROOT } from './support/fixtures.js';

/**
 * Pod rules go over SnapshotIndex.suspects: every pod but the quiet ones (running, ready, never
 * restarted, nothing waiting, no Warning event). That is only a saving if no rule would have found
 * anything on a quiet pod: each rule must find exactly what it finds when it looks at every pod.
 */

/** An index whose suspects are every pod: what the rules find when they look at quiet pods too. */
class EveryPodIndex extends SnapshotIndex {
  override get suspects(): readonly Pod[] {
    return this.snapshot.pods;
  }
}

const fixtureNames = readdirSync(path.join(ROOT, 'fixtures'))
  .filter((name) => /\.(json|ya?ml)$/.test(name))
  .sort();
const fixtures: [string, Snapshot][] = fixtureNames.map((name) => [name, loadFixture(name)]);
const everything = mergeSnapshots(fixtures.map(([, snapshot]) => snapshot));

/** What every rule finds (and, for a cluster rule, retains) on a snapshot with this index. */
function found(snapshot: Snapshot, index: SnapshotIndex): unknown {
  const context = { snapshot, index, now: Date.parse(snapshot.capturedAt) };
  return rules.map((rule) => ({ rule: rule.id, findings: rule.match(context), retained: rule.retain?.(context) }));
}

describe('the pod rules and quiet pods', () => {
  it.each([...fixtures, ['every fixture in one cluster', everything] as [string, Snapshot]])('%s: every rule finds the same as when it looks at every pod', (_, snapshot) => {
    expect(found(snapshot, new SnapshotIndex(snapshot))).toEqual(found(snapshot, new EveryPodIndex(snapshot)));
  });

  it('the fixtures hold quiet pods, and pods of every kind of trouble besides', () => {
    const quiet = everything.pods.filter(isQuiet);
    expect(quiet.length).toBeGreaterThanOrEqual(10);
    expect(new SnapshotIndex(everything).suspects.length).toBeGreaterThan(everything.pods.length / 2);
  });
});

/** A healthy pod: Running, ready, one container running since it started, an init container done. */
function healthyPod(): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'prod', uid: 'u-1' },
    spec: { containers: [{ name: 'web', image: 'web:1' }], initContainers: [{ name: 'migrate', image: 'web:1' }], nodeName: 'node-1' },
    status: {
      phase: 'Running',
      conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True' })),
      initContainerStatuses: [{ name: 'migrate', ready: true, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
      containerStatuses: [{ name: 'web', ready: true, started: true, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }],
    },
  };
}

describe('isQuiet', () => {
  it('holds for a pod running and ready since it started', () => {
    expect(isQuiet(healthyPod())).toBe(true);
  });

  it.each<[string, (pod: Pod) => void]>([
    ['being deleted', (pod) => (pod.metadata.deletionTimestamp = '2026-01-01T00:00:00Z')],
    ['Pending', (pod) => (pod.status.phase = 'Pending')],
    ['Succeeded', (pod) => (pod.status.phase = 'Succeeded')],
    ['with a status reason', (pod) => (pod.status.reason = 'NodeLost')],
    ['not Ready', (pod) => (pod.status.conditions![2]!.status = 'False')],
    ['with no Ready condition', (pod) => (pod.status.conditions = pod.status.conditions!.filter((c) => c.type !== 'Ready'))],
    ['with no conditions', (pod) => delete pod.status.conditions],
    ['with a condition Unknown', (pod) => (pod.status.conditions![0]!.status = 'Unknown')],
    ['restarted once', (pod) => (pod.status.containerStatuses![0]!.restartCount = 1)],
    ['with an earlier termination', (pod) => (pod.status.containerStatuses![0]!.lastState = { terminated: { exitCode: 137, reason: 'OOMKilled' } })],
    ['with a container waiting', (pod) => (pod.status.containerStatuses![0]!.state = { waiting: { reason: 'CrashLoopBackOff' } })],
    ['with a container terminated', (pod) => (pod.status.containerStatuses![0]!.state = { terminated: { exitCode: 0 } })],
    ['with a container not ready', (pod) => (pod.status.containerStatuses![0]!.ready = false)],
    ['with a container that has no status', (pod) => pod.spec.containers.push({ name: 'sidecar', image: 'proxy:1' })],
    ['with no container statuses', (pod) => delete pod.status.containerStatuses],
    ['with an init container that failed', (pod) => (pod.status.initContainerStatuses![0]!.state = { terminated: { exitCode: 1, reason: 'Error' } })],
    ['with an init container that exited 0 marked OOMKilled', (pod) => (pod.status.initContainerStatuses![0]!.state = { terminated: { exitCode: 0, reason: 'OOMKilled' } })],
    ['with an init container that exited 0 with a message', (pod) => (pod.status.initContainerStatuses![0]!.state = { terminated: { exitCode: 0, reason: 'Completed', message: 'exec /bin/x: exec format error' } })],
    ['with an init container that restarted', (pod) => (pod.status.initContainerStatuses![0]!.restartCount = 2)],
    ['with an init container waiting', (pod) => (pod.status.initContainerStatuses![0]!.state = { waiting: { reason: 'PodInitializing' } })],
    ['with an ephemeral container waiting', (pod) => (pod.status.ephemeralContainerStatuses = [{ name: 'debugger', state: { waiting: { reason: 'ImagePullBackOff' } } }])],
  ])('does not hold for a pod %s', (_, change) => {
    const pod = healthyPod();
    change(pod);
    expect(isQuiet(pod)).toBe(false);
  });

  it('a Warning event about a quiet pod makes it a suspect, a Normal one does not', () => {
    const pod = healthyPod();
    const event = (type: string, name: string): KubeEvent => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${name}.1`, namespace: 'prod' },
      involvedObject: { kind: 'Pod', namespace: 'prod', name },
      type,
      reason: type === 'Warning' ? 'Unhealthy' : 'Pulled',
    });
    const other = { ...healthyPod(), metadata: { name: 'web-2', namespace: 'prod', uid: 'u-2' } };
    const snapshot: Snapshot = {
      ...loadFixture(fixtureNames[0]!),
      pods: [pod, other],
      events: [event('Normal', 'web-1'), event('Warning', 'web-2')],
    };
    expect(new SnapshotIndex(snapshot).suspects).toEqual([other]);
  });
});
