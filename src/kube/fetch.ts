import type { KubeEvent, Node, Pod, Workload } from '../model/k8s.js';
import { OWNER_KINDS } from '../model/k8s.js';
import { ClusterError, NotFoundError } from '../model/errors.js';
import { compareText, cut, firstLine, MAX_TEXT, neutralize } from '../model/text.js';
import { controllerOf } from '../model/snapshot-index.js';
import type { AccessError, LogTail, NamespacePart, Scope, Snapshot, SweepBase } from '../model/snapshot.js';
import { emptyPart, emptySnapshot, partOfEvent } from '../model/snapshot.js';
import type { Shared } from '../snapshot/project.js';
import { projectEvent, projectNode, projectPod, projectWorkload } from '../snapshot/project.js';
import { narrow, nearNames, ownerKey, podNotFound, selectPods } from '../snapshot/select.js';
import { ApiStatusError, KubeHttp } from './http.js';
import type { EventPage } from './quiet-events.js';
import { QuietPodEvents } from './quiet-events.js';

/**
 * The only code that reads the cluster. It turns API answers into a Snapshot: independent reads
 * run in parallel, lists are paged (limit + continue), and a read that is forbidden or fails becomes
 * an access error in the snapshot while the rest goes on. It only ever sends GET.
 */

type Raw = Record<string, unknown>;

/** What to read besides pods. */
export interface FetchOptions {
  /** Read the previous log tail of crashed containers. */
  logs: boolean;
  /** How many log lines to keep per container. */
  tailLines: number;
  /** At most this many containers' logs per run (the rest are skipped and said so). */
  maxLogs: number;
  /** Page size for lists. */
  pageSize: number;
  /**
   * Leave Normal events about quiet pods unparsed (see quiet-events.ts) where a namespace's events
   * are listed (a namespace sweep, `pod` of a workload): for a diagnosis, whose rules never read
   * them; never for a recording, which keeps what the cluster said.
   */
  leaveQuietEvents?: boolean;
}

export const DEFAULT_FETCH: FetchOptions = { logs: true, tailLines: 20, maxLogs: 40, pageSize: 500 };

/** How many events each snapshot's read left unparsed (Normal events about quiet pods). */
const leftOutEvents = new WeakMap<Snapshot, number>();

/** Events the read of this snapshot left unparsed: Normal events about quiet pods (see FetchOptions.leaveQuietEvents). */
export function eventsLeftOut(snapshot: Snapshot): number {
  return leftOutEvents.get(snapshot) ?? 0;
}

/** API path of each resource kdiag reads, by RBAC resource name. */
const PATHS: Record<string, (namespace: string | null) => string> = {
  pods: (ns) => (ns ? `/api/v1/namespaces/${ns}/pods` : '/api/v1/pods'),
  events: (ns) => (ns ? `/api/v1/namespaces/${ns}/events` : '/api/v1/events'),
  nodes: () => '/api/v1/nodes',
  replicasets: (ns) => apps('replicasets', ns),
  deployments: (ns) => apps('deployments', ns),
  statefulsets: (ns) => apps('statefulsets', ns),
  daemonsets: (ns) => apps('daemonsets', ns),
  jobs: (ns) => batch('jobs', ns),
  cronjobs: (ns) => batch('cronjobs', ns),
};
function apps(resource: string, ns: string | null): string {
  return ns ? `/apis/apps/v1/namespaces/${ns}/${resource}` : `/apis/apps/v1/${resource}`;
}
function batch(resource: string, ns: string | null): string {
  return ns ? `/apis/batch/v1/namespaces/${ns}/${resource}` : `/apis/batch/v1/${resource}`;
}

/** The API path of a list kdiag reads (a namespace's, or every namespace's with null). */
export function listPath(resource: 'pods' | 'events', namespace: string | null): string {
  return PATHS[resource]!(namespace);
}

/** Add an access error to a list once: the same refusal met by several reads is one. */
export function addRefusal(list: AccessError[], error: AccessError): void {
  const same = (e: AccessError) => e.resource === error.resource && e.verb === error.verb && e.namespace === error.namespace && (e.name ?? null) === (error.name ?? null) && e.status === error.status;
  if (!list.some(same)) list.push(error);
}

/** What makes an event the same one when read twice: its uid, else namespace/name. */
export const eventKey = (event: KubeEvent): string => event.metadata.uid ?? `${event.metadata.namespace ?? ''}/${event.metadata.name ?? ''}`;

/** Log tails in namespace/pod/container order. */
export const byContainer = (a: LogTail, b: LogTail): number => compareText(`${a.namespace}/${a.pod}/${a.container}`, `${b.namespace}/${b.pod}/${b.container}`);

/** An RBAC verb of a read. */
export type ReadVerb = 'get' | 'list' | 'watch';

/**
 * Every read kdiag makes, as RBAC sees it: API group ('' is the core group) → resource → verbs.
 * The fetcher sends nothing outside it (declaredReadsOnly), so this is exactly what kdiag must be
 * granted; docs/fleet/cronjob.yaml's ClusterRole is tested against it.
 */
export const READS: Readonly<Record<string, Readonly<Record<string, readonly ReadVerb[]>>>> = {
  // watch: `kdiag pod|namespace --watch` follows pods and events after listing them.
  '': { pods: ['get', 'list', 'watch'], 'pods/log': ['get'], events: ['list', 'watch'], nodes: ['get', 'list'], namespaces: ['get', 'list'] },
  apps: { replicasets: ['get', 'list'], deployments: ['get', 'list'], statefulsets: ['get', 'list'], daemonsets: ['get', 'list'] },
  batch: { jobs: ['get', 'list'], cronjobs: ['get', 'list'] },
};

/** What RBAC calls a GET of this API path: group, resource (with its subresource) and verb. */
export function rbacOf(pathname: string, query: Record<string, unknown> = {}): { group: string; resource: string; verb: ReadVerb } | undefined {
  const match = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/(.+)$/.exec(pathname);
  if (!match) return undefined;
  let segments = match[2]!.split('/');
  if (segments[0] === 'namespaces' && segments.length > 2) segments = segments.slice(2);
  const [resource, name, subresource, ...rest] = segments;
  if (!resource || rest.length > 0) return undefined;
  const watch = query.watch !== undefined && query.watch !== false && query.watch !== 'false' && query.watch !== 0;
  return { group: match[1] ?? '', resource: subresource ? `${resource}/${subresource}` : resource, verb: name ? 'get' : watch ? 'watch' : 'list' };
}

/** The methods of KubeHttp that send a request, each as (path, query, ...). */
const REQUEST_METHODS = new Set<PropertyKey>(['getJson', 'getText', 'stream']);

/** The client with every request checked against READS first: a read kdiag does not declare is a bug. */
export function declaredReadsOnly(http: KubeHttp): KubeHttp {
  return new Proxy(http, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (!REQUEST_METHODS.has(key)) return method.bind(target);
      return async (pathname: string, query: Record<string, unknown> = {}, ...rest: unknown[]) => {
        const read = rbacOf(pathname, query);
        if (!read || !READS[read.group]?.[read.resource]?.includes(read.verb)) {
          throw new Error(`GET ${pathname} is not a read kdiag declares (READS in src/kube/fetch.ts)`);
        }
        return method.call(target, pathname, query, ...rest);
      };
    },
  });
}

/** RBAC resource name of a workload kind. */
const RESOURCE_OF_KIND: Record<string, string> = {
  ReplicaSet: 'replicasets',
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  Job: 'jobs',
  CronJob: 'cronjobs',
};

const isObj = (x: unknown): x is Raw => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Env literal values of a raw pod, so they can be masked in its log lines before anything keeps them. */
function envValues(raw: Raw): string[] {
  const values: string[] = [];
  const spec = isObj(raw.spec) ? raw.spec : {};
  for (const list of [spec.containers, spec.initContainers]) {
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      if (!isObj(c) || !Array.isArray(c.env)) continue;
      for (const e of c.env) if (isObj(e) && typeof e.value === 'string' && e.value.length >= 6) values.push(e.value);
    }
  }
  return values;
}

/** The API server kept failing a read kdiag cannot do without, after the client's retries: exit 3, one line. */
function unavailable(server: string, verb: string, namespace: string | null, name: string | null, error: ApiStatusError): ClusterError {
  const what = `${verb} pods${name ? ` "${name}"` : ''}${namespace ? ` in namespace ${namespace}` : ''}`;
  const status = `${error.status}${error.reason ? ` ${error.reason}` : ''}`;
  const said = neutralize(firstLine(error.message), 200);
  return new ClusterError(`the API server at ${server} answered ${status} to ${what}, even after retries${said ? `: ${said}` : ''}`);
}

/** A fetch in progress: the snapshot it fills and the access errors it meets. */
export class Fetch {
  readonly snapshot: Snapshot;
  /** The resourceVersion of the last complete list of each resource, where to start a watch. */
  readonly listVersions = new Map<string, string>();
  /** Literal env values seen in raw pods: never recorded, and masked in log lines. */
  private readonly secrets = new Set<string>();

  constructor(
    readonly http: KubeHttp,
    scope: Scope,
    context: string,
    readonly options: FetchOptions,
  ) {
    this.snapshot = emptySnapshot(scope, new Date().toISOString());
    this.snapshot.context = context;
  }

  /**
   * Run a read; a refusal or failure of the API (403, 404, 5xx after retries) becomes an access
   * error. Unreachable server, 401, timeouts, and 5xx / 429 on the pods still end the run (ClusterError).
   */
  async guard<T>(resource: string, verb: string, namespace: string | null, name: string | null, read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof ApiStatusError)) throw error;
      // Without the pods there is nothing to diagnose: a server that keeps failing (5xx, 429) on
      // them is an unavailable cluster (exit 3), not a report. A refusal (403) still is a report.
      if (resource === 'pods' && (error.status >= 500 || error.status === 429)) throw unavailable(this.http.server, verb, namespace, name, error);
      const accessError: AccessError = { resource, verb, namespace, status: error.status, message: error.message };
      if (name) accessError.name = name;
      this.refused(accessError);
      return undefined;
    }
  }

  /** Record an access error once: the same refusal met by several reads (events of a pod and of its owners) is one. */
  refused(accessError: AccessError): void {
    addRefusal(this.snapshot.accessErrors, accessError);
  }

  /**
   * Every item of a list, page by page, each projected as its page arrives so that only the
   * projections are kept and a raw page is garbage once read: memory grows with the page size and
   * the projected cluster, not with the raw one. The next page is asked for as soon as this one's
   * continue token is known, before its items are projected. An expired continue token (410)
   * restarts the list once (what the first attempt projected is dropped).
   */
  async list<T>(resource: string, namespace: string | null, project: (raw: Raw) => T | undefined, query: Record<string, string> = {}): Promise<T[]> {
    let items: T[] = [];
    await this.pages(resource, namespace, project, query, {
      page: (projected) => {
        for (const item of projected) items.push(item);
      },
      restart: () => {
        items = [];
      },
    });
    return items;
  }

  /**
   * A list page by page, each page's projections handed to `on.page` as it arrives. The next page
   * is asked for as soon as this one's continue token is known: from its first bytes where the
   * answer has them there (the API server writes the list's metadata before its items), so that
   * the server works on the next page while this one is still arriving and being projected (one
   * page ahead of the reader at most); else once it is parsed. With `on.hold` (a consumer that
   * keeps lists abreast to keep memory low) the next page is asked for once this one is read, and
   * only when `on.hold` does not say to wait (it returns what to wait for: the consumer is
   * behind). An expired continue token (410) restarts the list once, after `on.restart`. With
   * `on.parse`, each page's bytes are read by it rather than parsed whole; `on.page` gets the page too.
   */
  async pages<T>(
    resource: string,
    namespace: string | null,
    project: (raw: Raw) => T | undefined,
    query: Record<string, string>,
    on: { page: (items: T[], page: Raw) => void; restart: () => void; hold?: () => Promise<void> | undefined; parse?: (bytes: Buffer) => unknown },
  ): Promise<void> {
    const path = PATHS[resource]!(namespace);
    /** A page asked for: `head` is the continue token its first bytes told, `early` its successor asked for from it. */
    interface Asked {
      answer: Promise<unknown>;
      head?: string;
      early?: Asked;
    }
    /**
     * The page being waited for. Only its successor is asked for early: a list runs at most one
     * page ahead of its reader, and a page asked for in vain (a wrong head, a failed list) is never
     * waited for, so nothing is asked from it.
     */
    let awaited: Asked | undefined;
    const askEarly = (asked: Asked) => {
      if (asked.head !== undefined && !asked.early) asked.early = ask(asked.head);
    };
    // A list its consumer holds back (the -A sweep, whose point is to keep little) asks once each page is read.
    const early = !on.hold;
    const ask = (token: string | undefined): Asked => {
      const asked: Asked = { answer: Promise.resolve() };
      const onContinue = (next: string) => {
        // The first head told (a retried request tells again); the token is checked against the parsed page.
        if (asked.head !== undefined) return;
        asked.head = next;
        if (asked === awaited) askEarly(asked);
      };
      asked.answer = this.http.getJson(path, { ...query, limit: this.options.pageSize, continue: token }, early ? onContinue : undefined, on.parse);
      // Awaited on the next turn of the loop; until then a failure must not count as unhandled.
      asked.answer.catch(() => undefined);
      return asked;
    };
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) on.restart();
      try {
        let current: Asked | undefined = ask(undefined);
        while (current) {
          awaited = current;
          askEarly(current);
          const page: unknown = await current.answer;
          awaited = undefined;
          if (!isObj(page)) throw new ClusterError(`the API server answered ${path} with something that is not a list`);
          const meta: Raw = isObj(page.metadata) ? page.metadata : {};
          const token: string | undefined = typeof meta.continue === 'string' && meta.continue !== '' ? meta.continue : undefined;
          // The next page is asked for before this one is projected (if not already): the server works on it meanwhile.
          let next: Asked | undefined;
          let held: Promise<void> | undefined;
          // Asked for from a head that said otherwise than the page (not seen from a real server): not followed.
          if (token && current.early && current.head === token) next = current.early;
          else if (token) {
            held = on.hold?.();
            if (!held) next = ask(token);
          }
          if (!token && typeof meta.resourceVersion === 'string' && meta.resourceVersion) this.listVersions.set(resource, meta.resourceVersion);
          const items: T[] = [];
          if (Array.isArray(page.items)) {
            const raws: unknown[] = page.items;
            for (let i = 0; i < raws.length; i++) {
              const item = raws[i];
              // Let go of each raw object once projected: the collector then need not keep (and
              // copy) the rest of the page while the projections are being made.
              raws[i] = undefined;
              if (!isObj(item)) continue;
              const projected = project(item);
              if (projected !== undefined) items.push(projected);
            }
          }
          on.page(items, page);
          if (held) {
            for (let wait: Promise<void> | undefined = held; wait; wait = on.hold?.()) await wait;
            next = ask(token);
          }
          current = next;
        }
        return;
      } catch (error) {
        if (attempt === 0 && error instanceof ApiStatusError && error.status === 410) continue;
        throw error;
      }
    }
  }

  /** Identical parts of the pods and events read (containers, labels, owners, ...), held once. */
  private readonly shared: Shared = new Map();

  readonly projectEvent = (raw: Raw): KubeEvent | undefined => projectEvent(raw, this.shared);

  /** A raw pod's projection; its env values are remembered (never kept) for masking log lines. */
  readonly projectPod = (raw: Raw): Pod | undefined => {
    for (const value of envValues(raw)) this.secrets.add(value);
    return projectPod(raw, this.shared);
  };

  addPods(raws: Raw[]): Pod[] {
    const pods: Pod[] = [];
    for (const raw of raws) {
      const pod = this.projectPod(raw);
      if (pod) pods.push(pod);
    }
    this.snapshot.pods.push(...pods);
    return pods;
  }

  /** The pods of a namespace (every pod, with null); each is shown to `quiet` as it comes. */
  async readPods(namespace: string | null, labelSelector?: string, quiet?: QuietPodEvents): Promise<Pod[]> {
    const query: Record<string, string> = labelSelector ? { labelSelector } : {};
    const project = quiet
      ? (raw: Raw) => {
          const pod = this.projectPod(raw);
          if (pod) quiet.pod(pod);
          return pod;
        }
      : this.projectPod;
    try {
      const pods = (await this.guard('pods', 'list', namespace, null, () => this.list('pods', namespace, project, query))) ?? [];
      for (const pod of pods) this.snapshot.pods.push(pod);
      return pods;
    } finally {
      quiet?.podsEnded();
    }
  }

  /** Events about one object of a namespace, by name (a refusal is recorded and gives none). */
  async eventsAbout(namespace: string, name: string): Promise<KubeEvent[]> {
    return (await this.guard('events', 'list', namespace, null, () => this.list('events', namespace, this.projectEvent, { fieldSelector: `involvedObject.name=${name}` }))) ?? [];
  }

  /**
   * Every event of a namespace, but the Normal events about quiet pods, which are left unparsed
   * (see quiet-events.ts). `podsRead` settles once the pods list has ended, after `quiet` saw it.
   */
  async readEventsLeavingQuiet(namespace: string | null, quiet: QuietPodEvents, podsRead: Promise<unknown>): Promise<void> {
    const read = await this.guard('events', 'list', namespace, null, () =>
      // `quiet.read` projects what it keeps itself and hands pages with no raw items: nothing for pages() to project.
      this.pages('events', namespace, (event) => event as unknown as KubeEvent, {}, {
        parse: (bytes) => quiet.read(bytes),
        page: (_, page) => quiet.add(page as unknown as EventPage),
        restart: () => quiet.restart(),
      }).then(() => true),
    );
    if (!read) return;
    await podsRead.catch(() => undefined);
    for (const event of quiet.settle(this.snapshot.pods)) this.snapshot.events.push(event);
    leftOutEvents.set(this.snapshot, quiet.leftOut);
  }

  /**
   * A namespace's pods and events, read side by side. For a diagnosis (options.leaveQuietEvents)
   * the events list leaves the Normal events about quiet pods unparsed; `quiet` then says how many.
   */
  readPodsAndEvents(namespace: string | null, labelSelector?: string): { pods: Promise<Pod[]>; events: Promise<void>; quiet?: QuietPodEvents } {
    const quiet = this.options.leaveQuietEvents ? new QuietPodEvents(this.projectEvent) : undefined;
    const pods = this.readPods(namespace, labelSelector, quiet);
    const events = quiet ? this.readEventsLeavingQuiet(namespace, quiet, pods) : this.readEvents(namespace);
    return { pods, events, quiet };
  }

  async readEvents(namespace: string | null, fieldSelector?: string): Promise<void> {
    const events = await this.guard('events', 'list', namespace, null, () => this.list('events', namespace, this.projectEvent, fieldSelector ? { fieldSelector } : {}));
    for (const event of events ?? []) this.snapshot.events.push(event);
  }

  /** Nodes the pods run on: one list when several are needed, single GETs otherwise. */
  async readNodes(pods: Pod[]): Promise<void> {
    const names = [...new Set(pods.map((pod) => pod.spec.nodeName).filter((n): n is string => !!n))].sort();
    if (names.length === 0) return;
    let nodes: Node[] | undefined;
    if (names.length <= 3) {
      const got = await Promise.all(
        names.map((name) => this.guard('nodes', 'get', null, name, async () => this.http.getJson(`/api/v1/nodes/${encodeURIComponent(name)}`))),
      );
      nodes = got.filter(isObj).map((raw) => projectNode(raw)).filter((node): node is Node => node !== undefined);
    } else {
      const wanted = new Set(names);
      nodes = await this.guard('nodes', 'list', null, null, () => this.list('nodes', null, (raw) => (isObj(raw.metadata) && wanted.has(String(raw.metadata.name)) ? projectNode(raw) : undefined)));
    }
    for (const node of nodes ?? []) this.snapshot.nodes.push(node);
  }

  /** Every node of the cluster (a sweep of every namespace looks at all of them). */
  async readAllNodes(): Promise<void> {
    const nodes = await this.guard('nodes', 'list', null, null, () => this.list('nodes', null, (raw) => projectNode(raw)));
    for (const node of nodes ?? []) this.snapshot.nodes.push(node);
  }

  /** Owners already in the snapshot, by kind/namespace/name. */
  private readonly ownerKeys = new Set<string>();

  addWorkload(raw: unknown, kind: string): void {
    if (!isObj(raw)) return;
    const workload = projectWorkload({ ...raw, kind });
    if (workload) this.addProjectedWorkload(workload);
  }

  private addProjectedWorkload(workload: Workload): void {
    const key = ownerKey(workload.kind, workload.metadata.namespace, workload.metadata.name);
    if (this.ownerKeys.has(key)) return;
    this.ownerKeys.add(key);
    this.snapshot.owners.push(workload);
  }

  /** Every workload of a namespace, one list per kind, in parallel. */
  async readWorkloads(namespace: string | null): Promise<void> {
    await Promise.all(
      OWNER_KINDS.map(async (kind) => {
        const resource = RESOURCE_OF_KIND[kind]!;
        const workloads = await this.guard(resource, 'list', namespace, null, () => this.list(resource, namespace, (raw) => projectWorkload({ ...raw, kind })));
        for (const workload of workloads ?? []) this.addProjectedWorkload(workload);
      }),
    );
  }

  /** GET one workload by kind and name; undefined when it does not exist or cannot be read. */
  async readWorkload(kind: string, namespace: string, name: string): Promise<Raw | undefined> {
    const resource = RESOURCE_OF_KIND[kind];
    if (!resource) return undefined;
    const path = `${PATHS[resource]!(namespace)}/${encodeURIComponent(name)}`;
    try {
      const raw = await this.http.getJson(path);
      this.addWorkload(raw, kind);
      return isObj(raw) ? raw : undefined;
    } catch (error) {
      if (!(error instanceof ApiStatusError)) throw error;
      // A deleted owner (404) is not an access problem; anything else is.
      if (error.status !== 404) this.refused({ resource, verb: 'get', namespace, name, status: error.status, message: error.message });
      return undefined;
    }
  }

  /**
   * The previous log tail of every crashed container (one that restarted, or stopped non-zero),
   * up to maxLogs containers in a run, several at a time. Env values are masked in the lines.
   */
  async readLogs(pods: Pod[]): Promise<void> {
    for (const log of await this.logsOf(pods)) this.snapshot.logs.push(log);
    this.snapshot.logs.sort(byContainer);
  }

  /** How many log tails this run chose to read (at most maxLogs). */
  private logsChosen = 0;

  /** The log tails of these pods' crashed containers, within what is left of maxLogs, in pod order. */
  async logsOf(pods: Pod[]): Promise<LogTail[]> {
    if (!this.options.logs) return [];
    const wanted: { pod: Pod; container: string; previous: boolean }[] = [];
    for (const pod of pods) {
      if (pod.status.phase === 'Succeeded') continue;
      for (const status of [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])]) {
        const last = status.lastState?.terminated;
        const now = status.state?.terminated;
        if (last) wanted.push({ pod, container: status.name, previous: true });
        else if (now && now.exitCode !== 0) wanted.push({ pod, container: status.name, previous: false });
      }
    }
    const chosen = wanted.slice(0, Math.max(0, this.options.maxLogs - this.logsChosen));
    this.logsChosen += chosen.length;
    const logs: LogTail[] = [];
    let next = 0;
    const worker = async () => {
      while (next < chosen.length) {
        const item = chosen[next++]!;
        const log = await this.readLog(item.pod, item.container, item.previous);
        if (log) logs.push(log);
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, chosen.length) }, worker));
    return logs;
  }

  private async readLog(pod: Pod, container: string, previous: boolean): Promise<LogTail | undefined> {
    const namespace = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name ?? '';
    try {
      const text = await this.http.getText(`/api/v1/namespaces/${namespace}/pods/${encodeURIComponent(name)}/log`, {
        container,
        previous: previous || undefined,
        tailLines: this.options.tailLines,
      });
      const lines = text.split(/\r?\n/);
      if (lines[lines.length - 1] === '') lines.pop();
      return { namespace, pod: name, container, previous, lines: lines.slice(-this.options.tailLines).map((line) => this.mask(cut(line, 2 * MAX_TEXT))) };
    } catch (error) {
      if (!(error instanceof ApiStatusError)) throw error;
      // 400/404: the previous container's log is gone (rotated, or the pod moved): nothing to read.
      if (error.status === 400 || error.status === 404) return undefined;
      if (!this.snapshot.accessErrors.some((e) => e.resource === 'pods/log' && e.namespace === namespace && e.status === error.status)) {
        this.snapshot.accessErrors.push({ resource: 'pods/log', verb: 'get', namespace, name, status: error.status, message: error.message });
      }
      return undefined;
    }
  }

  private mask(line: string): string {
    let out = line;
    for (const value of this.secrets) if (out.includes(value)) out = out.split(value).join('[env value masked]');
    return out;
  }
}

/**
 * The owners a set of pods points at, read up the chain: ReplicaSet then Deployment, Job then CronJob.
 * With `events`, each owner's events (FailedCreate on a ReplicaSet, ...) are read alongside the
 * owner itself, not after the chain: a round trip per hop, and kept for the owners that exist.
 */
export async function readOwnerChains(fetch: Fetch, pods: Pod[], events = false): Promise<void> {
  let refs = new Map<string, { kind: string; namespace: string; name: string }>();
  for (const pod of pods) {
    const ref = controllerOf(pod.metadata.ownerReferences);
    if (ref && RESOURCE_OF_KIND[ref.kind]) refs.set(`${ref.kind}/${pod.metadata.namespace}/${ref.name}`, { kind: ref.kind, namespace: pod.metadata.namespace ?? 'default', name: ref.name });
  }
  for (let hop = 0; hop < 3 && refs.size > 0; hop++) {
    const raws = await Promise.all(
      [...refs.values()].map(async (ref) => {
        const [raw, about] = await Promise.all([fetch.readWorkload(ref.kind, ref.namespace, ref.name), events ? fetch.eventsAbout(ref.namespace, ref.name) : undefined]);
        if (raw && about) for (const event of about) fetch.snapshot.events.push(event);
        return { ref, raw };
      }),
    );
    const next = new Map<string, { kind: string; namespace: string; name: string }>();
    for (const { ref, raw } of raws) {
      const parent = controllerOf(projectWorkload({ ...(raw ?? {}), kind: ref.kind })?.metadata.ownerReferences);
      if (parent && RESOURCE_OF_KIND[parent.kind]) next.set(`${parent.kind}/${ref.namespace}/${parent.name}`, { kind: parent.kind, namespace: ref.namespace, name: parent.name });
    }
    refs = next;
  }
}

/**
 * Read a whole namespace (or the cluster, with namespace null): pods, events, workloads, nodes, logs.
 * With a label selector (its canonical text), the API lists only the matching pods; events and
 * workloads are read whole: the engine keeps what concerns those pods (EngineOptions.select).
 */
export async function fetchNamespace(http: KubeHttp, namespace: string | null, context: string, options: FetchOptions = DEFAULT_FETCH, labelSelector?: string): Promise<Snapshot> {
  http = declaredReadsOnly(http);
  const scope: Scope = namespace ? { kind: 'Namespace', namespace, name: null } : { kind: 'Cluster', namespace: null, name: null };
  const fetch = new Fetch(http, scope, context, options);
  // The pods' nodes and log tails are read as soon as the pods are in, while the (often longer)
  // events list is still coming.
  // Every namespace: every node (a NotReady node with no pod on it is still the cluster's problem).
  const read = fetch.readPodsAndEvents(namespace, labelSelector);
  const podsThenTheirs = read.pods.then((pods) => Promise.all([namespace === null ? fetch.readAllNodes() : fetch.readNodes(pods), fetch.readLogs(pods)]));
  await Promise.all([podsThenTheirs, read.events, fetch.readWorkloads(namespace)]);
  const { snapshot } = fetch;
  await assertFoundNamespace(http, namespace, snapshot);
  return snapshot;
}

/** What a sweep of every namespace read, for --debug. */
export interface SweepCounts {
  pods: number;
  events: number;
  nodes: number;
  owners: number;
  logs: number;
  /** Objects the API listed out of namespace order (none from a real API server): diagnosed apart, at the end. */
  late: number;
}

/**
 * Every namespace, without holding the cluster: the pod, event and workload lists are read across
 * namespaces (paged, in parallel, as fetchNamespace(null) does), and the API lists each in
 * namespace order (its continue token is a key: namespace, then name). A namespace is complete
 * once every list has moved past it; it then goes to `add` (with its log tails) and is let go of.
 * A list that runs ahead of the slowest one by more than a few pages waits before asking for its
 * next page, so that what is held stays a few pages and the namespaces in between. Every node is
 * read first: the engine's namespace passes need them. `start` gets what every namespace shares.
 * With a label selector, the pods list carries it (the engine keeps what concerns those pods).
 */
export async function sweepAllNamespaces(
  http: KubeHttp,
  context: string,
  options: FetchOptions,
  start: (base: SweepBase) => (part: NamespacePart) => void,
  labelSelector?: string,
): Promise<SweepCounts> {
  http = declaredReadsOnly(http);
  const fetch = new Fetch(http, { kind: 'Cluster', namespace: null, name: null }, context, options);
  const { snapshot } = fetch;
  const add = start({ scope: snapshot.scope, capturedAt: snapshot.capturedAt, context: snapshot.context, nodes: snapshot.nodes, accessErrors: snapshot.accessErrors });
  const counts: SweepCounts = { pods: 0, events: 0, nodes: 0, owners: 0, logs: 0, late: 0 };
  const nodesRead = fetch.readAllNodes();
  nodesRead.catch(() => undefined);

  const size = (part: NamespacePart) => part.pods.length + part.events.length + part.owners.length;
  const open = new Map<string, NamespacePart>();
  /** Namespaces listed again after they were diagnosed (out of order): diagnosed at the end. */
  const late = new Map<string, NamespacePart>();
  let closedUpTo: string | undefined;
  let held = 0;
  const streams: { cursor: string; done: boolean }[] = [];
  let waiters: (() => void)[] = [];
  // Namespaces are diagnosed one after the other, in order; a failure surfaces at the end.
  let diagnosing: Promise<void> = nodesRead;
  const diagnose = (part: NamespacePart) => {
    diagnosing = diagnosing.then(async () => {
      part.logs = await fetch.logsOf(part.pods);
      counts.logs += part.logs.length;
      add(part);
    });
    diagnosing.catch(() => undefined);
  };
  const lowest = (): string | undefined => {
    let low: string | undefined;
    for (const stream of streams) if (!stream.done && (low === undefined || stream.cursor < low)) low = stream.cursor;
    return low;
  };
  /** Hand over every namespace all lists have moved past, and let waiting lists go on. */
  const settle = () => {
    const low = lowest();
    for (const namespace of [...open.keys()].sort()) {
      if (low !== undefined && namespace >= low) break;
      const part = open.get(namespace)!;
      open.delete(namespace);
      held -= size(part);
      if (closedUpTo === undefined || namespace > closedUpTo) closedUpTo = namespace;
      diagnose(part);
    }
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  };

  const follow = <T>(resource: string, project: (raw: Raw) => T | undefined, namespaceOf: (item: T) => string, put: (part: NamespacePart, item: T) => void, drop: (part: NamespacePart) => void, query: Record<string, string> = {}) => {
    const stream = { cursor: '', done: false };
    streams.push(stream);
    let restarted = false;
    const read = fetch.guard(resource, 'list', null, null, () =>
      fetch.pages(resource, null, project, query, {
        page: (items) => {
          for (const item of items) {
            const namespace = namespaceOf(item);
            if (namespace > stream.cursor) stream.cursor = namespace;
            if (closedUpTo !== undefined && namespace <= closedUpTo) {
              // Listed again after an expired continue token: already diagnosed from the first read.
              if (restarted) continue;
              let part = late.get(namespace);
              if (!part) late.set(namespace, (part = emptyPart()));
              put(part, item);
              counts.late++;
              continue;
            }
            let part = open.get(namespace);
            if (!part) open.set(namespace, (part = emptyPart()));
            put(part, item);
            held++;
          }
          settle();
        },
        restart: () => {
          restarted = true;
          stream.cursor = '';
          for (const part of open.values()) {
            held -= size(part);
            drop(part);
            held += size(part);
          }
        },
        hold: () => {
          const low = lowest();
          if (low === undefined || stream.cursor <= low || held <= 4 * options.pageSize) return undefined;
          return new Promise<void>((resolve) => waiters.push(resolve));
        },
      }),
    );
    return read.finally(() => {
      stream.done = true;
      settle();
    });
  };

  const ns = (namespace: string | undefined) => namespace ?? '';
  const reads = [
    follow('pods', fetch.projectPod, (pod) => ns(pod.metadata.namespace), (part, pod) => { part.pods.push(pod); counts.pods++; }, (part) => { counts.pods -= part.pods.length; part.pods = []; }, labelSelector ? { labelSelector } : {}),
    follow('events', fetch.projectEvent, partOfEvent, (part, event) => { part.events.push(event); counts.events++; }, (part) => { counts.events -= part.events.length; part.events = []; }),
    ...OWNER_KINDS.map((kind) =>
      follow(RESOURCE_OF_KIND[kind]!, (raw) => projectWorkload({ ...raw, kind }), (owner) => ns(owner.metadata.namespace), (part, owner) => { part.owners.push(owner); counts.owners++; }, (part) => {
        const kept = part.owners.filter((owner) => owner.kind !== kind);
        counts.owners -= part.owners.length - kept.length;
        part.owners = kept;
      }),
    ),
  ];
  await Promise.all([nodesRead, ...reads]);
  settle();
  for (const namespace of [...late.keys()].sort()) diagnose(late.get(namespace)!);
  await diagnosing;
  counts.nodes = snapshot.nodes.length;
  return counts;
}

/**
 * The API lists nothing for a namespace that does not exist: when a read of one found nothing at
 * all (nor was refused), NotFoundError if it does not exist, rather than "no problems".
 */
export async function assertFoundNamespace(http: KubeHttp, namespace: string | null, snapshot: Snapshot): Promise<void> {
  if (namespace && snapshot.pods.length === 0 && snapshot.events.length === 0 && snapshot.owners.length === 0 && snapshot.accessErrors.length === 0) {
    await assertNamespaceExists(http, namespace);
  }
}

/** NotFoundError (with near names, when namespaces may be listed) for a namespace that does not exist. */
export async function assertNamespaceExists(http: KubeHttp, namespace: string): Promise<void> {
  try {
    await http.getJson(`/api/v1/namespaces/${namespace}`);
    return;
  } catch (error) {
    if (!(error instanceof ApiStatusError)) throw error;
    // 403: kdiag may not read Namespace objects; an empty namespace is then the honest answer.
    if (error.status !== 404) return;
  }
  let names: string[] = [];
  try {
    const list = await http.getJson('/api/v1/namespaces');
    if (isObj(list) && Array.isArray(list.items)) names = list.items.map((item) => (isObj(item) && isObj(item.metadata) ? String(item.metadata.name) : '')).filter(Boolean);
  } catch (error) {
    if (!(error instanceof ApiStatusError)) throw error;
  }
  const near = nearNames(namespace, names);
  throw new NotFoundError(`namespace "${namespace}" not found${near.length ? `; did you mean: ${near.join(', ')}?` : ''}`, near);
}

/**
 * Read what `kdiag pod NAME` needs. NAME is a pod: GET it, then in parallel its events, node,
 * owner chain and log tails. Otherwise NAME is a workload: list the namespace's pods and
 * workloads, pick the workload's pods through ownerReferences (or app labels), then read theirs.
 */
export async function fetchPod(http: KubeHttp, namespace: string, name: string, context: string, options: FetchOptions = DEFAULT_FETCH): Promise<Snapshot> {
  http = declaredReadsOnly(http);
  const scope: Scope = { kind: 'Pod', namespace, name };
  const fetch = new Fetch(http, scope, context, options);
  let notFound = false;
  const raw = await fetch.guard('pods', 'get', namespace, name, async () => {
    try {
      return await http.getJson(`/api/v1/namespaces/${namespace}/pods/${encodeURIComponent(name)}`);
    } catch (error) {
      if (error instanceof ApiStatusError && error.status === 404) {
        notFound = true;
        return undefined;
      }
      throw error;
    }
  });

  if (isObj(raw)) {
    const pods = fetch.addPods([raw]);
    const pod = pods[0];
    if (pod) {
      // Every read that needs only the pod, at once; the owner chain reads each owner's events
      // with the owner. At most three round trips in a row: pod, ReplicaSet, Deployment.
      await Promise.all([fetch.readEvents(namespace, `involvedObject.name=${name}`), fetch.readNodes(pods), readOwnerChains(fetch, pods, true), fetch.readLogs(pods)]);
    }
    return dedupeEvents(fetch.snapshot);
  }
  if (!notFound) return fetch.snapshot; // the pod read itself was refused: the forbidden rule reports it

  // Not a pod: a workload of that name, or pods labelled with it. A diagnosis leaves the Normal
  // events about quiet pods unparsed, as a namespace sweep does.
  const read = fetch.readPodsAndEvents(namespace);
  await Promise.all([read.pods, fetch.readWorkloads(namespace), read.events]);
  const selection = selectPods(fetch.snapshot, namespace, name);
  if (!selection) {
    if (fetch.snapshot.accessErrors.some((e) => e.resource === 'pods')) return fetch.snapshot;
    throw podNotFound(fetch.snapshot, namespace, name);
  }
  await Promise.all([fetch.readNodes(selection.pods), fetch.readLogs(selection.pods)]);
  const narrowed = narrow(fetch.snapshot, selection.pods, scope, selection.workload);
  if (read.quiet) leftOutEvents.set(narrowed, read.quiet.leftOutAbout(selection.pods));
  return narrowed;
}

function dedupeEvents(snapshot: Snapshot): Snapshot {
  const seen = new Set<string>();
  snapshot.events = snapshot.events.filter((event) => {
    const key = eventKey(event);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return snapshot;
}
