import { describe, expect, it } from '@jest/globals';
import type { Severity } from '../src/model/finding.js';
import type { Diagnosis } from '../src/model/report.js';
import { changeJson, diagnosisKey, diffReports, renderChanges } from '../src/report/changes.js';

/** The report diff behind `kdiag --watch`: what appeared, changed severity, or was resolved. */

function diagnosis(rule: string, severity: Severity, over: Partial<Diagnosis> = {}): Diagnosis {
  const object = over.object ?? { kind: 'Pod', namespace: 'prod', name: 'web-7d9f8c6b5-abcde', container: 'web' };
  return {
    rule,
    severity,
    title: `${rule} on ${object.name}`,
    object,
    affected: [object],
    owner: { kind: 'Deployment', name: 'web' },
    evidence: ['state.waiting.reason=CrashLoopBackOff'],
    explanation: 'Why it matters.',
    confidence: 0.9,
    context: [],
    remediation: [{ description: 'Read the log', command: 'kubectl logs -n prod web-7d9f8c6b5-abcde -c web --previous' }],
    ...over,
  };
}

const report = (...diagnoses: Diagnosis[]) => ({ diagnoses });
const AT = new Date('2026-11-25T11:00:31.250Z');

describe('diagnosisKey', () => {
  it('is the rule, the workload and the container: another pod of the same Deployment is the same diagnosis', () => {
    const a = diagnosis('oom-killed', 'critical');
    const b = diagnosis('oom-killed', 'critical', { object: { kind: 'Pod', namespace: 'prod', name: 'web-8f9e0d1c2-zzzzz', container: 'web' } });
    expect(diagnosisKey(a)).toBe('oom-killed|Deployment/prod/web|web');
    expect(diagnosisKey(b)).toBe(diagnosisKey(a));
    expect(diagnosisKey(diagnosis('oom-killed', 'critical', { object: { ...a.object, container: 'sidecar' } }))).not.toBe(diagnosisKey(a));
    expect(diagnosisKey(diagnosis('exit-code-1', 'critical'))).not.toBe(diagnosisKey(a));
  });

  it('is the object itself when there is no workload', () => {
    const bare = diagnosis('pod-pending', 'critical', { owner: null, object: { kind: 'Pod', namespace: 'prod', name: 'worker' } });
    const node = diagnosis('node-not-ready', 'critical', { owner: null, object: { kind: 'Node', namespace: null, name: 'node-a' } });
    expect(diagnosisKey(bare)).toBe('pod-pending|Pod/prod/worker|');
    expect(diagnosisKey(node)).toBe('node-not-ready|Node//node-a|');
  });
});

describe('diffReports', () => {
  it('reports nothing between equal reports, nor for a new title, evidence or affected pods alone', () => {
    const a = diagnosis('oom-killed', 'critical');
    expect(diffReports(report(a), report(a))).toEqual([]);
    const later = diagnosis('oom-killed', 'critical', { title: 'OOMKilled, 8 restarts', evidence: ['restartCount=8'], affected: [a.object, { ...a.object, name: 'web-7d9f8c6b5-fghij' }] });
    expect(diffReports(report(a), report(later))).toEqual([]);
  });

  it('makes every diagnosis new when there was no report before', () => {
    const a = diagnosis('oom-killed', 'critical');
    const b = diagnosis('pod-pending', 'warning', { owner: null, object: { kind: 'Pod', namespace: 'prod', name: 'worker' } });
    expect(diffReports(null, report(a, b)).map((c) => [c.kind, c.diagnosis.rule])).toEqual([
      ['new', 'oom-killed'],
      ['new', 'pod-pending'],
    ]);
  });

  it('finds what appeared, what changed severity (with the severity before) and what was resolved', () => {
    const oom = diagnosis('oom-killed', 'critical');
    const pull = diagnosis('image-pull-back-off', 'critical', { object: { kind: 'Pod', namespace: 'prod', name: 'web-8f9e0d1c2-zzzzz', container: 'web' } });
    const pending = diagnosis('pod-pending', 'critical', { owner: null, object: { kind: 'Pod', namespace: 'prod', name: 'worker' } });
    const recovered = { ...oom, severity: 'warning' as const };
    const changes = diffReports(report(oom, pending), report(pull, recovered));
    expect(changes).toEqual([
      { kind: 'resolved', key: 'pod-pending|Pod/prod/worker|', diagnosis: pending },
      { kind: 'changed', key: 'oom-killed|Deployment/prod/web|web', diagnosis: recovered, previousSeverity: 'critical' },
      { kind: 'new', key: 'image-pull-back-off|Deployment/prod/web|web', diagnosis: pull },
    ]);
  });

  it('pairs diagnoses with the same key by cause, then in order', () => {
    const limit = diagnosis('pod-pending', 'critical', { cause: 'insufficient-resources' });
    const mount = diagnosis('pod-pending', 'warning', { cause: 'unbound-claim' });
    // Same two causes, order swapped, one severity changed: one change, matched by cause.
    const mountNow = { ...mount, severity: 'critical' as const };
    expect(diffReports(report(limit, mount), report(mountNow, limit)).map((c) => [c.kind, c.diagnosis.cause, c.previousSeverity])).toEqual([
      ['changed', 'unbound-claim', 'warning'],
    ]);
    // One cause gone, another came: paired by order, reported as a change only when the severity moved.
    const other = diagnosis('pod-pending', 'critical', { cause: 'node-selector' });
    expect(diffReports(report(limit, mount), report(other))).toEqual([{ kind: 'resolved', key: diagnosisKey(mount), diagnosis: mount }]);
  });

  it('resolves everything when the report becomes empty', () => {
    const a = diagnosis('oom-killed', 'critical');
    const b = diagnosis('exit-code-1', 'critical');
    expect(diffReports(report(a, b), report()).map((c) => c.kind)).toEqual(['resolved', 'resolved']);
  });
});

describe('renderChanges', () => {
  const oom = diagnosis('oom-killed', 'critical');

  it('prints one line per change with the time, and the full text of a new diagnosis', () => {
    const changes = diffReports(report(diagnosis('exit-code-1', 'critical')), report({ ...oom }));
    const text = renderChanges(changes, AT, { color: false, width: 100 });
    const lines = text.split('\n');
    expect(lines[0]).toBe('2026-11-25T11:00:31Z  resolved  CRITICAL  exit-code-1 on web-7d9f8c6b5-abcde  [exit-code-1]  Deployment/web · pod web-7d9f8c6b5-abcde, container web');
    expect(lines[1]).toBe('2026-11-25T11:00:31Z  new       CRITICAL  oom-killed on web-7d9f8c6b5-abcde  [oom-killed]  Deployment/web · pod web-7d9f8c6b5-abcde, container web');
    // The body follows without the where-line, which the change line has.
    expect(lines[2]).toBe('    confidence 90%');
    expect(text).toContain('    Evidence\n      • state.waiting.reason=CrashLoopBackOff');
    expect(text).toContain('$ kubectl logs -n prod web-7d9f8c6b5-abcde -c web --previous');
  });

  it('shows the severity before for a change', () => {
    const text = renderChanges(diffReports(report(oom), report({ ...oom, severity: 'warning' })), AT, { color: false, width: 100 });
    expect(text).toBe('2026-11-25T11:00:31Z  changed   WARNING (was CRITICAL)  oom-killed on web-7d9f8c6b5-abcde  [oom-killed]  Deployment/web · pod web-7d9f8c6b5-abcde, container web\n');
  });

  it('prints nothing for no change, and colours only when asked', () => {
    expect(renderChanges([], AT, { color: true, width: 100 })).toBe('');
    expect(renderChanges(diffReports(null, report(oom)), AT, { color: false, width: 100 })).not.toContain('\u001b[');
    expect(renderChanges(diffReports(null, report(oom)), AT, { color: true, width: 100 })).toContain('\u001b[');
  });

  it('has a JSON form per change', () => {
    const [change] = diffReports(report(oom), report({ ...oom, severity: 'warning' }));
    expect(JSON.parse(JSON.stringify(changeJson(change!, AT)))).toEqual({ type: 'changed', at: '2026-11-25T11:00:31Z', previousSeverity: 'critical', diagnosis: { ...oom, severity: 'warning' } });
  });
});
