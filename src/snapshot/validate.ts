/**
 * A recorded snapshot or kubectl output is input from a file, so it may be truncated, hand-edited or
 * simply not what it claims to be. The projection tolerates missing optional fields (the API omits
 * them too), but a field that kdiag's rules depend on having the wrong type means the file is
 * broken: report the first such place in one line rather than diagnose half a pod.
 */

type Raw = Record<string, unknown>;

const isObj = (x: unknown): x is Raw => typeof x === 'object' && x !== null && !Array.isArray(x);

function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'a list';
  if (typeof x === 'object') return 'an object';
  return `a ${typeof x}`;
}

type Expect = 'string' | 'number' | 'object' | 'list';

const WANTED: Record<Expect, (x: unknown) => boolean> = {
  string: (x) => typeof x === 'string',
  number: (x) => typeof x === 'number' && Number.isFinite(x),
  object: isObj,
  list: Array.isArray,
};

const ARTICLE: Record<Expect, string> = { string: 'a string', number: 'a number', object: 'an object', list: 'a list' };

/** A checker that remembers the first problem and ignores the rest. */
class Checker {
  problem: string | undefined;

  /** Check an optional field: absent (or null) is fine, present must have the expected type. */
  field(holder: Raw, key: string, expect: Expect, path: string): boolean {
    const value = holder[key];
    if (value === undefined || value === null) return false;
    if (WANTED[expect](value)) return true;
    this.problem ??= `${path}${key} is ${typeName(value)}, expected ${ARTICLE[expect]}`;
    return false;
  }

  /** A required field. */
  required(holder: Raw, key: string, expect: Expect, path: string): boolean {
    if (holder[key] === undefined || holder[key] === null) {
      this.problem ??= `${path}${key} is missing`;
      return false;
    }
    return this.field(holder, key, expect, path);
  }

  state(holder: Raw, key: string, path: string): void {
    if (!this.field(holder, key, 'object', path)) return;
    const state = holder[key] as Raw;
    for (const phase of ['waiting', 'running', 'terminated']) this.field(state, phase, 'object', `${path}${key}.`);
    if (isObj(state.terminated)) this.required(state.terminated, 'exitCode', 'number', `${path}${key}.terminated.`);
  }

  containerStatuses(status: Raw, key: string): void {
    if (!this.field(status, key, 'list', 'status.')) return;
    (status[key] as unknown[]).forEach((item, i) => {
      const path = `status.${key}[${i}].`;
      if (!isObj(item)) {
        this.problem ??= `status.${key}[${i}] is ${typeName(item)}, expected an object`;
        return;
      }
      this.required(item, 'name', 'string', path);
      this.field(item, 'restartCount', 'number', path);
      this.state(item, 'state', path);
      this.state(item, 'lastState', path);
    });
  }

  containers(spec: Raw, key: string): void {
    if (!this.field(spec, key, 'list', 'spec.')) return;
    (spec[key] as unknown[]).forEach((item, i) => {
      if (!isObj(item)) this.problem ??= `spec.${key}[${i}] is ${typeName(item)}, expected an object`;
      else this.required(item, 'name', 'string', `spec.${key}[${i}].`);
    });
  }

  conditions(status: Raw): void {
    if (!this.field(status, 'conditions', 'list', 'status.')) return;
    (status.conditions as unknown[]).forEach((item, i) => {
      if (!isObj(item)) this.problem ??= `status.conditions[${i}] is ${typeName(item)}, expected an object`;
      else this.required(item, 'type', 'string', `status.conditions[${i}].`);
    });
  }
}

/** Kinds kdiag reads from a file; every other kind is skipped without a check. */
const READ_KINDS = new Set(['Pod', 'Node', 'Event', 'ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);

/**
 * The first problem in one object of a snapshot file that kdiag reads, or undefined when its
 * fields are usable. Only the fields rules depend on are checked.
 */
export function objectProblem(item: unknown): string | undefined {
  if (!isObj(item)) return `is ${typeName(item)}, expected an object`;
  if (typeof item.kind !== 'string' || !READ_KINDS.has(item.kind)) return undefined;
  const check = new Checker();
  if (check.required(item, 'metadata', 'object', '')) {
    const meta = item.metadata as Raw;
    check.required(meta, 'name', 'string', 'metadata.');
    check.field(meta, 'namespace', 'string', 'metadata.');
    check.field(meta, 'labels', 'object', 'metadata.');
    check.field(meta, 'ownerReferences', 'list', 'metadata.');
  }
  const spec = isObj(item.spec) ? item.spec : undefined;
  const status = isObj(item.status) ? item.status : undefined;
  check.field(item, 'spec', 'object', '');
  check.field(item, 'status', 'object', '');
  if (item.kind === 'Pod') {
    if (spec) {
      check.containers(spec, 'containers');
      check.containers(spec, 'initContainers');
      check.field(spec, 'nodeName', 'string', 'spec.');
    }
    if (status) {
      check.field(status, 'phase', 'string', 'status.');
      check.conditions(status);
      check.containerStatuses(status, 'containerStatuses');
      check.containerStatuses(status, 'initContainerStatuses');
    }
  } else if (item.kind === 'Node') {
    if (status) check.conditions(status);
    if (spec) check.field(spec, 'taints', 'list', 'spec.');
  } else if (item.kind === 'Event') {
    if (!isObj(item.involvedObject) && !isObj(item.regarding)) return 'involvedObject is missing';
    check.field(item, 'message', 'string', '');
    check.field(item, 'reason', 'string', '');
    check.field(item, 'count', 'number', '');
  } else if (status) {
    check.conditions(status);
  }
  return check.problem;
}

/** How an object is named in an error: `items[3] (Pod prod/web-1)`. */
export function describeItem(item: unknown, index: number): string {
  if (!isObj(item)) return `items[${index}]`;
  const meta = isObj(item.metadata) ? item.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : undefined;
  const namespace = typeof meta.namespace === 'string' ? `${meta.namespace}/` : '';
  const kind = typeof item.kind === 'string' ? item.kind : 'object';
  return `items[${index}] (${kind}${name ? ` ${namespace}${name}` : ''})`;
}
