import type { ObjectRef, Severity } from '../model/finding.js';
import { severityWeight } from '../model/finding.js';
import type { Diagnosis, Report } from '../model/report.js';
import type { Roster } from '../model/roster.js';
import { neutralize } from '../model/text.js';
import { describeAffected, describeFacts, describeScope } from './markdown.js';

/**
 * The JUnit XML report, for CI dashboards: one <testsuite> named after the scope, one <testcase>
 * per workload (a pod's owner at the top of its chain) or bare pod, healthy ones passing. A
 * diagnosis at or above --fail-on is a <failure> (type = rule id, message = title) on every
 * testcase it affects; diagnoses below it go to that testcase's <system-out>.
 */

/** How the JUnit report is drawn. */
export interface JunitOptions {
  /** Diagnoses at or above this severity are failures; `never` makes every testcase pass. */
  failOn: Severity | 'never';
}

/** One testcase: a workload or a bare pod (or, for a diagnosis about no pod, its object). */
interface Case {
  classname: string;
  name: string;
  failures: Diagnosis[];
  output: Diagnosis[];
}

/** The classname of cluster-scoped objects (Nodes); it cannot be a namespace name. */
const CLUSTER = '(cluster)';

// Characters XML 1.0 does not allow anywhere (C0 controls but tab, CR, LF; lone surrogates; U+FFFE, U+FFFF).
const ILLEGAL_XML = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/** Escape text for XML character data: `&`, `<`, `>` (so `]]>` cannot appear), quotes; illegal characters dropped. */
export function escapeXml(text: string): string {
  return text.replace(ILLEGAL_XML, '').replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!);
}

/** Escape text for an XML attribute value: as character data, and line breaks and tabs kept as references. */
function escapeAttr(text: string): string {
  return escapeXml(text).replace(/[\t\n\r]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function caseKey(classname: string, name: string): string {
  return `${classname}\u0000${name}`;
}

/**
 * The testcases of a roster: every pod's workload (Deployment over its ReplicaSet, CronJob over
 * its Job, StatefulSet, DaemonSet), or the pod itself when it has none, and a lookup from a pod to
 * its testcase. Names come from the cluster, so they are neutralised like the report's.
 */
function casesOf(roster: Roster): { cases: Map<string, Case>; podCase: Map<string, Case> } {
  const cases = new Map<string, Case>();
  const podCase = new Map<string, Case>();
  for (const pod of roster.pods) {
    const namespace = neutralize(pod.namespace);
    const { owner } = pod;
    const name = neutralize(owner ? `${owner.kind}/${owner.name}` : `Pod/${pod.name}`);
    const testcase = caseFor(cases, namespace, name);
    podCase.set(`${namespace}/${neutralize(pod.name)}`, testcase);
  }
  return { cases, podCase };
}

function caseFor(cases: Map<string, Case>, classname: string, name: string): Case {
  const k = caseKey(classname, name);
  let testcase = cases.get(k);
  if (!testcase) {
    testcase = { classname, name, failures: [], output: [] };
    cases.set(k, testcase);
  }
  return testcase;
}

/** The top of a workload's owner chain in the scope (a ReplicaSet's Deployment, a Job's CronJob). */
function topOf(roster: Roster, ref: ObjectRef): { kind: string; name: string } {
  let top = { kind: ref.kind, name: ref.name };
  for (let hops = 0; hops < 4; hops++) {
    const owner = roster.parent(top.kind, ref.namespace, top.name);
    if (!owner) break;
    top = { kind: owner.kind, name: neutralize(owner.name) };
  }
  return top;
}

/**
 * The testcases a diagnosis belongs to: those of the pods it affects; for a diagnosis about no pod
 * (a ReplicaSet that cannot create pods, a node with none of the scope's pods, a refused read), its
 * object's workload, or the object itself.
 */
function casesOfDiagnosis(d: Diagnosis, cases: Map<string, Case>, podCase: Map<string, Case>, roster: Roster): Case[] {
  const refs = [d.object, ...d.affected];
  const found = new Set<Case>();
  for (const ref of refs) {
    if (ref.kind !== 'Pod') continue;
    const namespace = ref.namespace ?? 'default';
    const known = podCase.get(`${namespace}/${ref.name}`);
    const owner = d.owner ? `${d.owner.kind}/${d.owner.name}` : `Pod/${ref.name}`;
    found.add(known ?? caseFor(cases, namespace, owner));
  }
  if (found.size === 0) {
    for (const ref of refs) {
      const top = ref.namespace ? topOf(roster, ref) : ref;
      found.add(caseFor(cases, ref.namespace ?? CLUSTER, `${top.kind}/${top.name}`));
    }
  }
  return [...found];
}

/** A diagnosis as plain text: the body of a <failure> or a part of <system-out>. */
function describe(d: Diagnosis): string {
  const out: string[] = [`${d.severity.toUpperCase()} ${d.rule}: ${d.title}`];
  const affected = describeAffected(d, true);
  if (affected) out.push(`Affected: ${affected}`);
  out.push(describeFacts(d));
  for (const symptom of d.context) out.push(`Also explains: ${symptom}`);
  out.push('', d.explanation, '', 'Evidence:', ...d.evidence.map((line) => `  - ${line}`));
  if (d.logTail?.length) out.push('', `Last log lines (${d.object.name}/${d.object.container ?? ''}):`, ...d.logTail.map((line) => `  | ${line}`));
  if (d.remediation.length) {
    out.push('', 'Next (printed, never run by kdiag):');
    d.remediation.forEach((step, i) => {
      out.push(`  ${i + 1}. ${step.description}`);
      if (step.command) out.push(`     $ ${step.command}`);
    });
  }
  return out.join('\n');
}

/**
 * The JUnit XML report of a diagnosis and the roster of what it diagnosed (it lists the healthy
 * pods, which the report only counts: see EngineOptions.roster). Deterministic:
 * testcases sorted by classname and name, diagnoses in the report's ranked order.
 */
export function renderJunit(report: Report, roster: Roster, options: JunitOptions): string {
  const { cases, podCase } = casesOf(roster);
  const threshold = options.failOn === 'never' ? Infinity : severityWeight(options.failOn);
  for (const d of report.diagnoses) {
    const failing = severityWeight(d.severity) >= threshold;
    for (const testcase of casesOfDiagnosis(d, cases, podCase, roster)) (failing ? testcase.failures : testcase.output).push(d);
  }
  const sorted = [...cases.values()].sort((a, b) => (a.classname < b.classname ? -1 : a.classname > b.classname ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const tests = sorted.length;
  const failures = sorted.filter((testcase) => testcase.failures.length > 0).length;
  const suite = `kdiag ${describeScope(report)}`;

  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="kdiag" tests="${tests}" failures="${failures}" errors="0" skipped="0" time="0">`);
  out.push(`  <testsuite name="${escapeAttr(suite)}" tests="${tests}" failures="${failures}" errors="0" skipped="0" time="0">`);
  out.push('    <properties>');
  const properties: [string, string][] = [
    ['capturedAt', report.capturedAt],
    ['failOn', options.failOn],
    ['pods', String(report.summary.pods)],
    ['critical', String(report.summary.critical)],
    ['warning', String(report.summary.warning)],
    ['info', String(report.summary.info)],
    ['accessErrors', String(report.accessErrors.length)],
  ];
  for (const [name, value] of properties) out.push(`      <property name="kdiag.${name}" value="${escapeAttr(value)}"/>`);
  out.push('    </properties>');
  for (const testcase of sorted) {
    const open = `    <testcase classname="${escapeAttr(testcase.classname)}" name="${escapeAttr(testcase.name)}" time="0"`;
    if (testcase.failures.length === 0 && testcase.output.length === 0) {
      out.push(`${open}/>`);
      continue;
    }
    out.push(`${open}>`);
    for (const d of testcase.failures) {
      out.push(`      <failure type="${escapeAttr(d.rule)}" message="${escapeAttr(d.title)}">${escapeXml(describe(d))}</failure>`);
    }
    if (testcase.output.length) out.push(`      <system-out>${escapeXml(testcase.output.map(describe).join('\n\n'))}</system-out>`);
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>');
  return `${out.join('\n')}\n`;
}
