import { describe, expect, it } from '@jest/globals';
import { rules } from '../rules/index.js';
import { diagnose } from '../src/engine/index.js';
import { severityWeight } from '../src/model/finding.js';
import type { Diagnosis } from '../src/model/report.js';
import type { Snapshot } from '../src/model/snapshot.js';
import { loadFixture, mergeSnapshots } from './support/fixtures.js';

/** Several fixtures as one cluster-wide snapshot (they share one capture time). */
function merged(...fixtures: string[]): Snapshot {
  const parts = fixtures.map(loadFixture);
  for (const part of parts) expect(part.capturedAt).toBe(parts[0]!.capturedAt);
  return mergeSnapshots(parts);
}

function pods(diagnosis: Diagnosis): string[] {
  return diagnosis.affected.filter((ref) => ref.kind === 'Pod').map((ref) => `${ref.namespace}/${ref.name}`);
}

/** Every string anywhere in a JSON-like value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** Context beyond the crash loop that a cause's diagnosis carries, by fixture: a probe kill also folds in the probe's failures. */
const MORE_CONTEXT: Record<string, string[]> = { 'exit-code-137-liveness-probe.json': ['Liveness probe of web fails'] };

describe('diagnose', () => {
  it('folds the CrashLoopBackOff an OOM kill causes into one oom-killed diagnosis', () => {
    const report = diagnose(loadFixture('oom-killed-crashloop.json'), rules);
    expect(report.diagnoses).toHaveLength(1);
    const [oom] = report.diagnoses;
    expect(oom).toMatchObject({
      rule: 'oom-killed',
      severity: 'critical',
      object: { kind: 'Pod', namespace: 'shop', name: 'cart-5f7d9b8c4-q8w2m', container: 'cart' },
      owner: { kind: 'Deployment', name: 'cart' },
      exitCode: 137,
      signal: 'SIGKILL',
      cause: 'memory-limit',
    });
    expect(oom!.context).toEqual([expect.stringContaining('CrashLoopBackOff')]);
    expect(report.summary).toEqual({ critical: 1, warning: 0, info: 0, pods: 1 });
  });

  it.each([
    ['exit-code-0-completed-crashloop.json', 'exit-code-0', undefined],
    ['exit-code-125-docker-run-failed.json', 'exit-code-125', undefined],
    ['exit-code-126-script-not-executable.json', 'exit-code-126', undefined],
    ['exit-code-127-command-not-found.json', 'exit-code-127', undefined],
    ['exit-code-128-entrypoint-not-found.json', 'exit-code-128', 'entrypoint-not-found'],
    ['exit-code-134-js-heap-out-of-memory.json', 'exit-code-134', 'js-heap-exhausted'],
    ['exit-code-137-liveness-probe.json', 'exit-code-137', 'liveness-probe'],
    ['exit-code-139-segfault.json', 'exit-code-139', undefined],
    ['exit-code-255-php-fatal-error.json', 'exit-code-255', undefined],
    ['exit-code-app-usage-error.json', 'exit-code-app', undefined],
    ['oom-killed-no-memory-limit.json', 'oom-killed', 'node-memory'],
  ])('on %s names the cause (%s) and keeps the crash loop as its context', (fixture, rule, cause) => {
    const report = diagnose(loadFixture(fixture), rules);
    const mine = report.diagnoses.filter((d) => d.rule === rule);
    expect(mine.map((d) => ({ severity: d.severity, cause: d.cause }))).toEqual([{ severity: 'critical', cause }]);
    expect(mine[0]!.context).toEqual([expect.stringContaining('CrashLoopBackOff'), ...(MORE_CONTEXT[fixture] ?? []).map((text) => expect.stringContaining(text))]);
    expect(report.diagnoses.filter((d) => d.rule === 'crash-loop-back-off')).toEqual([]);
  });

  it('names the failed init container on exit-code-1-init-container-migration.json, folding its exit 1 and its crash loop', () => {
    const report = diagnose(loadFixture('exit-code-1-init-container-migration.json'), rules);
    expect(report.diagnoses.map((d) => [d.rule, d.severity, d.cause, d.exitCode])).toEqual([['init-container-failed', 'critical', 'application-error', 1]]);
    expect(report.diagnoses[0]!.context).toEqual([expect.stringContaining('exited with code 1'), expect.stringContaining('CrashLoopBackOff')]);
  });

  it('leaves a crash loop with no recorded termination as the diagnosis', () => {
    const report = diagnose(loadFixture('crash-loop-back-off-no-last-state.json'), rules);
    expect(report.diagnoses.map((d) => [d.rule, d.severity])).toEqual([['crash-loop-back-off', 'critical']]);
  });

  it('finds nothing on healthy pods, finished Jobs, a completed init container and a pod being deleted', () => {
    const report = diagnose(loadFixture('exit-codes-quiet-healthy-and-finished-jobs.json'), rules);
    expect(report.diagnoses).toEqual([]);
    expect(report.summary).toEqual({ critical: 0, warning: 0, info: 0, pods: 8 });
  });

  it('groups three replicas of one Deployment failing the same way into one diagnosis', () => {
    const report = diagnose(loadFixture('exit-code-1-deployment-three-replicas.json'), rules);
    expect(report.diagnoses).toHaveLength(1);
    const [diagnosis] = report.diagnoses;
    expect(diagnosis).toMatchObject({ rule: 'exit-code-1', severity: 'critical', exitCode: 1, owner: { kind: 'Deployment', name: 'payments-api' } });
    expect(diagnosis!.affected).toEqual(
      ['d4f7k', 'p2s9x', 'w7n5q'].map((suffix) => ({ kind: 'Pod', namespace: 'payments', name: `payments-api-6c9d8f7b4-${suffix}`, container: 'api' })),
    );
    expect(diagnosis!.context.length).toBeGreaterThan(0);
    for (const line of diagnosis!.context) expect(line).toContain('CrashLoopBackOff');
    expect(report.summary).toEqual({ critical: 1, warning: 0, info: 0, pods: 3 });
  });

  it('takes the worst pod of a group as its representative, and says each folded symptom once', () => {
    const snapshot = loadFixture('demo-namespace.json');
    const report = diagnose(snapshot, rules);
    const checkout = report.diagnoses.find((d) => d.owner?.name === 'checkout' && d.rule === 'exit-code-137');
    expect(checkout).toBeDefined();
    expect(checkout!.severity).toBe('critical');
    // The representative is a pod that is down now, not the replica that is running again.
    expect(checkout!.evidence.some((line) => line.startsWith('state.running'))).toBe(false);
    const cart = report.diagnoses.find((d) => d.owner?.name === 'cart' && d.rule === 'oom-killed');
    expect(cart!.affected).toHaveLength(3);
    expect(cart!.context.filter((line) => /CrashLoopBackOff/.test(line))).toHaveLength(1);
  });

  it('ranks critical before warning, then more pods first, then higher confidence', () => {
    const report = diagnose(
      merged(
        'oom-killed-recovered-running.json',
        'exit-code-143-liveness-probe.json',
        'oom-killed-crashloop.json',
        'exit-code-137-liveness-probe.json',
        'exit-code-1-deployment-three-replicas.json',
      ),
      rules,
    );
    expect(report.diagnoses.map((d) => [d.severity, d.rule, pods(d).length])).toEqual([
      // Three pods outrank one, although oom-killed is the surer diagnosis.
      ['critical', 'exit-code-1', 3],
      ['critical', 'oom-killed', 1],
      ['critical', 'exit-code-137', 1],
      ['warning', 'oom-killed', 1],
      ['warning', 'exit-code-143', 1],
    ]);
    for (let i = 1; i < report.diagnoses.length; i++) {
      const [before, after] = [report.diagnoses[i - 1]!, report.diagnoses[i]!];
      expect(severityWeight(before.severity)).toBeGreaterThanOrEqual(severityWeight(after.severity));
      if (before.severity === after.severity) expect(pods(before).length).toBeGreaterThanOrEqual(pods(after).length);
    }
    expect(report.summary).toEqual({ critical: 3, warning: 2, info: 0, pods: 7 });
  });

  it('gives the same report for the same snapshot, and leaves the snapshot as it was', () => {
    const snapshot = merged('exit-code-1-deployment-three-replicas.json', 'oom-killed-crashloop.json', 'exit-code-signal-sigint-sigpipe.json', 'exit-code-1-ansi-termination-message.json');
    const before = structuredClone(snapshot);
    const first = diagnose(snapshot, rules);
    const second = diagnose(snapshot, rules);
    expect(second).toEqual(first);
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(snapshot).toEqual(before);
    expect(diagnose(merged('exit-code-1-deployment-three-replicas.json', 'oom-killed-crashloop.json', 'exit-code-signal-sigint-sigpipe.json', 'exit-code-1-ansi-termination-message.json'), rules)).toEqual(first);
    // The order the API listed the objects in does not matter either.
    const reversed: Snapshot = { ...snapshot, pods: [...snapshot.pods].reverse(), events: [...snapshot.events].reverse(), owners: [...snapshot.owners].reverse(), logs: [...snapshot.logs].reverse() };
    expect(diagnose(reversed, rules)).toEqual(first);
  });

  it('neutralises terminal escape sequences from a termination message and a log tail', () => {
    const snapshot = loadFixture('exit-code-1-ansi-termination-message.json');
    // The fixture really carries ESC and BEL: the engine, not the loader, makes them harmless.
    expect(strings(snapshot).some((s) => s.includes('\u001b'))).toBe(true);
    const report = diagnose(snapshot, rules);
    const text = strings(report);
    expect(text.filter((s) => /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/.test(s))).toEqual([]);
    expect(JSON.stringify(report)).not.toMatch(/\\u001b|\\u0007/);
    const [diagnosis] = report.diagnoses;
    expect(diagnosis!.rule).toBe('exit-code-1');
    expect(diagnosis!.evidence).toContainEqual(expect.stringContaining('^[[31mERROR^[[39m notifier: SMTP login failed'));
    expect(diagnosis!.logTail).toContainEqual(expect.stringContaining('^[]0;notifier: all good^G'));
  });

  it('folds the forbidden finding on a workload into failed-create on the same workload, for non-pod objects too', () => {
    const report = diagnose(loadFixture('failed-create-quota.json'), rules);
    expect(report.diagnoses.filter((d) => d.rule === 'forbidden')).toEqual([]);
    expect(report.diagnoses.map((d) => [d.rule, d.severity, `${d.object.kind}/${d.object.name}`, d.cause])).toEqual([
      ['failed-create', 'critical', 'StatefulSet/db', 'quota'],
      ['failed-create', 'warning', 'ReplicaSet/api-7d9f8c6b5', 'quota'],
    ]);
    for (const diagnosis of report.diagnoses) expect(diagnosis.context).toEqual([expect.stringContaining('cannot create pods')]);
  });

  it('does not report a run time for a process that never started (StartError, startedAt at the Unix epoch)', () => {
    const report = diagnose(loadFixture('exit-code-128-entrypoint-permission-denied.json'), rules);
    const [diagnosis] = report.diagnoses;
    expect(diagnosis!.rule).toBe('exit-code-128');
    expect(diagnosis!.evidence).toContain('lastState.terminated.reason=StartError');
    expect(diagnosis!.evidence.filter((line) => line.startsWith('ran '))).toEqual([]);
  });
});

describe('diagnose: volume, sandbox and probe events', () => {
  const summary = (report: ReturnType<typeof diagnose>): string[][] =>
    report.diagnoses.map((d) => [d.rule, d.severity, `${d.object.kind}/${d.object.name}${d.object.container ? `/${d.object.container}` : ''}`, d.cause ?? '']);

  it('gives one diagnosis per pod that cannot mount a volume: failed-mount, with pod-pending folded in as context', () => {
    const report = diagnose(loadFixture('failed-mount-missing-secret-and-configmap.json'), rules);
    expect(report.diagnoses.filter((d) => d.rule === 'pod-pending')).toEqual([]);
    expect(summary(report)).toEqual([
      ['failed-mount', 'critical', 'Pod/api-6b8f9c7d5-5j99r', 'missing-secret'],
      ['failed-mount', 'critical', 'Pod/ledger-worker-5d7f6c8b9-h7p4r', 'missing-configmap'],
      ['failed-mount', 'warning', 'Pod/gateway-7c6d9f8b4-qdtrr', 'missing-secret'],
    ]);
    for (const diagnosis of report.diagnoses) expect(diagnosis.context).toEqual([expect.stringContaining('is Pending on')]);
  });

  it('groups the replicas of a Deployment whose sandboxes fail on one node, and folds pod-pending into the sandbox diagnosis', () => {
    const report = diagnose(loadFixture('failed-create-pod-sandbox-calico-unauthorized-and-runtime.json'), rules);
    expect(report.diagnoses.map((d) => [d.rule, d.cause, d.affected.length])).toEqual([
      ['failed-create-pod-sandbox', 'cni', 2],
      ['failed-create-pod-sandbox', 'other', 1],
    ]);
    expect(report.diagnoses[0]!.remediation.map((step) => step.command)).toContain('kubectl get pods -n kube-system -o wide --field-selector spec.nodeName=k8s-worker-1');
  });

  it('folds a sandbox failure on a node whose network plugin is not ready into node-not-ready', () => {
    const report = diagnose(loadFixture('node-not-ready-cni.json'), rules);
    expect(report.diagnoses.filter((d) => d.rule === 'failed-create-pod-sandbox' || d.rule === 'pod-pending').map((d) => d.object.name)).toEqual([]);
    const node = report.diagnoses.find((d) => d.rule === 'node-not-ready' && d.object.name === 'ip-10-0-3-41.eu-west-1.compute.internal');
    expect(node!.context).toEqual([expect.stringContaining('network plugin calico fails'), expect.stringContaining('is Pending on')]);
  });

  it('shows a liveness kill as the exit code it caused, with the probe failures as context; a probe failing again after the kills makes it critical', () => {
    const report = diagnose(loadFixture('liveness-probe-failed-restarts.json'), rules);
    expect(summary(report)).toEqual([
      ['exit-code-143', 'critical', 'Pod/catalog-84b7f6c9d-cr9zw/catalog', 'liveness-probe'],
      ['liveness-probe-failed', 'critical', 'Pod/storefront-6c8d9b7f5-w9fdq/storefront', 'http-status'],
    ]);
    expect(report.diagnoses[0]!.context).toEqual([expect.stringContaining('Liveness probe of catalog fails')]);
    // nginx exits 0 when the kubelet stops it: the exit 0 and the crash loop are the probe's doing.
    expect(report.diagnoses[1]!.context).toEqual([expect.stringContaining('exits 0 and is restarted'), expect.stringContaining('CrashLoopBackOff')]);
  });

  it('keeps a liveness probe that has not restarted its container yet as its own warning', () => {
    const report = diagnose(loadFixture('liveness-probe-failed-not-restarted-yet.json'), rules);
    expect(report.diagnoses.map((d) => [d.rule, d.severity])).toEqual(Array.from({ length: 4 }, () => ['liveness-probe-failed', 'warning']));
  });

  it('names the startup probe for the kills it causes, folding the exit code and the crash loop into it', () => {
    const report = diagnose(loadFixture('startup-probe-failed-slow-start.json'), rules);
    expect(report.diagnoses.filter((d) => d.rule !== 'startup-probe-failed')).toEqual([]);
    const pricing = report.diagnoses.find((d) => d.object.name.startsWith('pricing-'));
    expect(pricing).toMatchObject({ severity: 'critical', cause: 'http-status' });
    expect(pricing!.context).toEqual([expect.stringContaining('exit 137'), expect.stringContaining('CrashLoopBackOff')]);
  });

  it('finds nothing in transient start-up errors, an old probe blip, warm-up failures and a pod shutting down', () => {
    const report = diagnose(loadFixture('events-quiet-healthy.json'), rules);
    expect(report.diagnoses).toEqual([]);
  });
});
