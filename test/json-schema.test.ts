import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { rules } from '../rules/index.js';
import { diagnose } from '../src/engine/index.js';
import type { Report } from '../src/model/report.js';
import type { Snapshot } from '../src/model/snapshot.js';
import { renderJson } from '../src/report/json.js';
import { readSnapshotFile } from '../src/snapshot/file.js';
import { narrow, narrowNamespace, selectPods } from '../src/snapshot/select.js';
import { ROOT, fixturePath } from './support/fixtures.js';

/*
 * A small JSON Schema validator for the subset docs/kdiag-v1.schema.json uses: type, const, enum,
 * required, properties, additionalProperties, items, minimum, maximum, pattern and local $ref.
 * Annotations (title, description, format, ...) are skipped; any other keyword throws, so the schema
 * cannot use something this validator would silently ignore. In strict mode an object schema with
 * `properties` and no `additionalProperties` is closed: a field the schema does not list is an
 * error, so the report cannot grow an undocumented field. (The published schema stays open, as the
 * stability promise lets kdiag/v1 add fields.)
 */
type Schema = Record<string, unknown>;
const ANNOTATIONS = new Set(['$schema', '$id', '$defs', 'title', 'description', 'format', 'examples', '$comment']);
const KEYWORDS = new Set(['type', 'const', 'enum', 'required', 'properties', 'additionalProperties', 'items', 'minimum', 'maximum', 'pattern', '$ref']);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function hasType(value: unknown, type: string): boolean {
  if (type === 'integer') return Number.isInteger(value);
  return typeOf(value) === type;
}

function validate(value: unknown, schema: Schema, root: Schema, strict: boolean, at = '$', errors: string[] = []): string[] {
  for (const keyword of Object.keys(schema)) {
    if (!KEYWORDS.has(keyword) && !ANNOTATIONS.has(keyword)) throw new Error(`schema keyword ${keyword} at ${at} is not supported by this validator`);
  }
  if (typeof schema.$ref === 'string') {
    const match = /^#\/\$defs\/([^/]+)$/.exec(schema.$ref);
    const target = match ? (root.$defs as Record<string, Schema> | undefined)?.[match[1]!] : undefined;
    if (!target) throw new Error(`unresolvable $ref ${schema.$ref}`);
    validate(value, target, root, strict, at, errors);
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => hasType(value, t))) {
      errors.push(`${at}: expected ${types.join(' or ')}, got ${typeOf(value)}`);
      return errors;
    }
  }
  if ('const' in schema && JSON.stringify(value) !== JSON.stringify(schema.const)) errors.push(`${at}: expected ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${at}: ${value} < minimum ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${at}: ${value} > maximum ${schema.maximum}`);
  }
  if (typeof value === 'string' && typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${at}: "${value}" does not match ${schema.pattern}`);
  if (Array.isArray(value) && schema.items) value.forEach((item, i) => validate(item, schema.items as Schema, root, strict, `${at}[${i}]`, errors));
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? []) if (!(key in object)) errors.push(`${at}: missing required ${key}`);
    const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const [key, item] of Object.entries(object)) {
      if (properties[key]) validate(item, properties[key], root, strict, `${at}.${key}`, errors);
      else if (schema.additionalProperties === false || (strict && schema.properties && schema.additionalProperties === undefined)) errors.push(`${at}: field ${key} is not in the schema`);
      else if (typeOf(schema.additionalProperties) === 'object') validate(item, schema.additionalProperties as Schema, root, strict, `${at}.${key}`, errors);
    }
  }
  return errors;
}

const schema = JSON.parse(readFileSync(path.join(ROOT, 'docs', 'kdiag-v1.schema.json'), 'utf8')) as Schema;
const doc = readFileSync(path.join(ROOT, 'docs', 'json-report.md'), 'utf8');

/** The report exactly as `-o json` prints it (undefined fields dropped), parsed back. */
function printed(report: Report): unknown {
  return JSON.parse(renderJson(report));
}

/** What `kdiag namespace --snapshot FILE` diagnoses. */
function namespaceReport(file: string): Report {
  const snapshot = readSnapshotFile(file);
  return diagnose(narrowNamespace(snapshot, snapshot.scope.namespace), rules);
}

/** What `kdiag pod NAME --snapshot FILE` diagnoses. */
function podReport(file: string, namespace: string, name: string): Report {
  const snapshot = readSnapshotFile(file);
  const selection = selectPods(snapshot, namespace, name);
  if (!selection) throw new Error(`${name} not found in ${file}`);
  return diagnose(narrow(snapshot, selection.pods, { kind: 'Pod', namespace, name }, selection.workload), rules);
}

const demo = fixturePath('demo-namespace.json');

describe('docs/kdiag-v1.schema.json', () => {
  it('is a draft 2020-12 schema of the kdiag/v1 report', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect((schema.properties as Schema).apiVersion).toEqual({ const: 'kdiag/v1' });
  });

  it('accepts the demo namespace report, with no field it does not document', () => {
    const report = namespaceReport(demo);
    expect(report.diagnoses.length).toBeGreaterThan(2);
    expect(validate(printed(report), schema, schema, true)).toEqual([]);
  });

  it('accepts a pod-scope report (kdiag pod cart)', () => {
    const report = podReport(demo, 'shop', 'cart');
    expect(report.scope).toEqual({ kind: 'Pod', namespace: 'shop', name: 'cart' });
    expect(validate(printed(report), schema, schema, true)).toEqual([]);
  });

  it('accepts a report with refused reads', () => {
    const snapshot: Snapshot = readSnapshotFile(demo);
    snapshot.accessErrors.push(
      { resource: 'nodes', verb: 'list', namespace: null, status: 403, message: 'nodes is forbidden: User "dev" cannot list resource "nodes" in API group "" at the cluster scope' },
      { resource: 'pods/log', verb: 'get', namespace: 'shop', name: 'cart-0', status: 403, message: 'forbidden' },
    );
    const report = printed(diagnose(snapshot, rules)) as Report;
    expect(report.accessErrors).toHaveLength(2);
    expect(validate(report, schema, schema, true)).toEqual([]);
  });

  const fixtures = readdirSync(path.join(ROOT, 'fixtures')).filter((file) => /\.(json|ya?ml)$/.test(file)).sort();
  it.each(fixtures)('accepts the report of fixtures/%s', (file) => {
    expect(validate(printed(namespaceReport(fixturePath(file))), schema, schema, true)).toEqual([]);
  });

  it('rejects reports that break it (the validator is not a no-op)', () => {
    const good = printed(podReport(demo, 'shop', 'cart')) as Report;
    const broken = (change: (r: Record<string, any>) => void): string[] => {
      const copy = structuredClone(good) as unknown as Record<string, any>;
      change(copy);
      return validate(copy, schema, schema, true);
    };
    expect(broken((r) => delete r.diagnoses[0].rule)).toEqual(['$.diagnoses[0]: missing required rule']);
    expect(broken((r) => (r.diagnoses[0].severity = 'fatal'))).toHaveLength(1);
    expect(broken((r) => (r.diagnoses[0].confidence = 1.5))).toEqual(['$.diagnoses[0].confidence: 1.5 > maximum 1']);
    expect(broken((r) => (r.diagnoses[0].exitCode = 137.5))).toHaveLength(1);
    expect(broken((r) => (r.diagnoses[0].owner = 'cart'))).toHaveLength(1);
    expect(broken((r) => (r.apiVersion = 'kdiag/v2'))).toHaveLength(1);
    expect(broken((r) => (r.scope.kind = 'Deployment'))).toHaveLength(1);
    expect(broken((r) => (r.diagnoses[0].remediation[0] = { command: 'kubectl get pods' }))).toHaveLength(1);
    expect(broken((r) => (r.diagnoses[0].undocumented = true))).toEqual(['$.diagnoses[0]: field undocumented is not in the schema']);
    expect(validate({ ...good, later: 1 }, schema, schema, false)).toEqual([]);
  });
});

describe('docs/json-report.md', () => {
  it('documents every field of the schema', () => {
    const defs = schema.$defs as Record<string, Schema>;
    const fields = [schema, defs.diagnosis!, defs.objectRef!, defs.accessError!, defs.remediationStep!, (schema.properties as Record<string, Schema>).scope!, (schema.properties as Record<string, Schema>).summary!]
      .flatMap((s) => Object.keys((s.properties as Schema | undefined) ?? {}));
    for (const field of new Set(fields)) expect(doc).toContain(`\`${field}\``);
  });

  it('has an example that the schema accepts', () => {
    const block = /```json\n([\s\S]*?)\n```/.exec(doc);
    expect(block).not.toBeNull();
    const example = JSON.parse(block![1]!) as Report;
    expect(example.diagnoses[0]?.rule).toBe('oom-killed');
    expect(validate(example, schema, schema, true)).toEqual([]);
  });
});
