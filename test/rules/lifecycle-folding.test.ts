import { describe, expect, it } from '@jest/globals';
import { rules } from '../../rules/index.js';
import { diagnose } from '../../src/engine/index.js';
import { loadFixture } from '../support/fixtures.js';

/** How the engine combines the lifecycle rules with the rules whose symptoms they explain (or that explain theirs). */
describe('lifecycle rules in the engine', () => {
  it('folds the restarts of a recovered OOM container into one oom-killed warning', () => {
    const report = diagnose(loadFixture('frequent-restarts-recovered-oom.json'), rules);
    expect(report.diagnoses.map((d) => [d.rule, d.severity])).toEqual([['oom-killed', 'warning']]);
    expect(report.diagnoses[0]!.context).toEqual([expect.stringMatching(/restarts often: 7 restarts/)]);
  });

  it('folds restarts with no recorded termination into the liveness-probe failures that explain them', () => {
    const report = diagnose(loadFixture('frequent-restarts-no-last-state.json'), rules);
    expect(report.diagnoses.map((d) => [d.rule, d.severity])).toEqual([['liveness-probe-failed', 'warning']]);
    expect(report.diagnoses[0]!.context).toEqual([expect.stringMatching(/restarts often: 12 restarts/)]);
  });

  it('groups the failed init container of two replicas into one diagnosis that folds the exit code, the crash loop and the Pending pod', () => {
    const report = diagnose(loadFixture('init-container-failed-crashloop.json'), rules);
    expect(report.diagnoses.map((d) => [d.rule, d.severity, d.cause])).toEqual([['init-container-failed', 'critical', 'application-error']]);
    const [init] = report.diagnoses;
    expect(init).toMatchObject({ exitCode: 1, object: { container: 'migrate' }, owner: { kind: 'Deployment', name: 'invoice-api' } });
    expect(init!.affected.map((ref) => ref.name)).toEqual(['invoice-api-5c7f9d8b6-k2x7p', 'invoice-api-5c7f9d8b6-r9m4t']);
    expect(init!.title).toContain('(2 of 3)');
    expect(init!.context).toEqual(expect.arrayContaining([expect.stringContaining('exited with code 1'), expect.stringContaining('CrashLoopBackOff')]));
    expect(init!.logTail).toContainEqual(expect.stringContaining('relation "tax_rates" does not exist'));
  });

  it('keeps an OOM-killed init container an oom-killed diagnosis', () => {
    const report = diagnose(loadFixture('init-container-failed-quiet-oom-killed.json'), rules);
    expect(report.diagnoses.map((d) => d.rule)).toEqual(['oom-killed']);
  });

  it('reports a Job that failed in an init container twice: the Job, and the init container that failed', () => {
    const report = diagnose(loadFixture('init-container-failed-restart-never-job.json'), rules);
    expect(report.diagnoses.map((d) => [d.rule, d.severity, `${d.object.kind}/${d.object.name}`])).toEqual([
      ['init-container-failed', 'critical', 'Pod/db-seed-8xk2p'],
      ['job-failed', 'critical', 'Job/db-seed'],
    ]);
    expect(report.diagnoses[0]!.context).toEqual([expect.stringContaining('exited with code 127')]);
  });

  it('groups the evicted pods of one Deployment into one diagnosis', () => {
    const report = diagnose(loadFixture('evicted-memory-deployment-replaced.json'), rules);
    expect(report.diagnoses.map((d) => [d.rule, d.severity, d.cause, d.affected.length])).toEqual([['evicted', 'warning', 'memory', 3]]);
    expect(report.diagnoses[0]!.owner).toEqual({ kind: 'Deployment', name: 'catalog' });
  });

  it('folds the kill at the deadline (exit 143) into deadline-exceeded', () => {
    const report = diagnose(loadFixture('deadline-exceeded-pod-in-job.json'), rules);
    const deadline = report.diagnoses.find((d) => d.rule === 'deadline-exceeded');
    expect(deadline?.context).toEqual([expect.stringContaining('143')]);
    expect(report.diagnoses.filter((d) => d.rule.startsWith('exit-code-'))).toEqual([]);
  });

  it('folds pods stuck Terminating on a NotReady node into node-not-ready', () => {
    const report = diagnose(loadFixture('stuck-terminating-node-lost.json'), rules);
    expect(report.diagnoses.map((d) => d.rule)).toEqual(['node-not-ready']);
    expect(report.diagnoses[0]!.context).toEqual([expect.stringContaining('stuck Terminating')]);
  });

  it('finds nothing in a healthy namespace with completed init containers, finished Jobs and a pod being deleted', () => {
    const report = diagnose(loadFixture('lifecycle-quiet-healthy.json'), rules);
    expect(report.diagnoses).toEqual([]);
  });
});
