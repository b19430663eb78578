import type { KubeEvent, Node, Pod, Workload } from '../model/k8s.js';
import { OWNER_KINDS } from '../model/k8s.js';
import { ClusterError } from '../model/errors.js';
import { controllerOf } from '../model/snapshot-index.js';
import type { AccessError, LogTail, Scope, Snapshot } from '../model/snapshot.js';
import { emptySnapshot } from '../model/snapshot.js';
import { compareText, firstLine, neutralize } from '../model/text.js';
import { projectEvent } from '../snapshot/project.js';
import { narrow, ownerKey, podNotFound, selectPods } from '../snapshot/select.js';
import type { FetchOptions } from './fetch.js';
import { addRefusal, assertFoundNamespace, byContainer, declaredReadsOnly, eventKey, Fetch, listPath, readOwnerChains } from './fetch.js';
import type { JsonStream, KubeHttp } from './http.js';
import { ApiStatusError, UnauthorizedError } from './http.js';

/**
 * `kdiag pod|namespace --watch`: list once, then follow the pods and events of the namespace with
 * watches (GET ?watch=true&resourceVersion=RV, still read-only) and keep a Snapshot up to date.
 * A burst of changes is one re-read: after the first change the watch waits `debounceMs` for more,
 * then re-reads the owners, nodes and log tails of the pods that changed and hands over a new
 * snapshot. A watch the server ends is resumed from the last resourceVersion seen; an expired one
 * (410 Gone, or an ERROR event with 410) lists again; a broken connection is watched again after a
 * backoff. The pods watch is the one kdiag cannot do without: refused (401, 403) it ends the watch.
 */

type Raw = Record<string, unknown>;

const isObj = (x: unknown): x is Raw => typeof x === 'object' && x !== null && !Array.isArray(x);

export interface WatchTarget {
  /** The namespace, or null for every namespace (`namespace -A`). */
  namespace: string | null;
  /** `kdiag pod NAME`: the pod, or the workload whose pods are followed (the selection is redone on each change). */
  name?: string;
  context: string;
}

export interface WatchOptions {
  fetch: FetchOptions;
  /** After a change, wait this long for more before re-reading and re-diagnosing (default 1000). */
  debounceMs?: number;
  /** Ask the server to end each watch after this many seconds; it is resumed at once (default 300). */
  watchSeconds?: number;
  /** The longest wait between two attempts to watch again after a failure (default 30000). */
  maxBackoffMs?: number;
  /** Hand over a snapshot this often without a change, for the rules that measure time (default 30000; 0 = never). */
  refreshMs?: number;
  /** What the watch does (resumes, lists again, backs off), for --debug. */
  onDebug?: (line: string) => void;
}

/** A watch ERROR event with code 410: the resourceVersion is too old, list again. */
class Expired extends Error {}

const podKey = (pod: { metadata: { namespace?: string; name?: string } }) => `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
const rawKey = (raw: Raw) => {
  const meta = isObj(raw.metadata) ? raw.metadata : {};
  return `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${typeof meta.name === 'string' ? meta.name : ''}`;
};

/** What decides whether a pod's log tails are read again: its containers' restarts and terminations. */
function restartMark(pod: Pod): string {
  return [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])]
    .map((s) => `${s.name}:${s.restartCount ?? 0}:${s.lastState?.terminated?.finishedAt ?? ''}:${s.state?.terminated?.finishedAt ?? ''}`)
    .join(',');
}

export class ClusterWatch {
  /** Called with a new snapshot after each change (debounced), and now and then without one. */
  onSnapshot: (snapshot: Snapshot) => void = () => undefined;
  /** Called once when the watch cannot go on (pods refused, credentials refused, a bug); it has stopped. */
  onFatal: (error: unknown) => void = () => undefined;

  private readonly http: KubeHttp;
  private readonly scope: Scope;
  private readonly debounceMs: number;
  private readonly watchSeconds: number;
  private readonly maxBackoffMs: number;
  private readonly refreshMs: number;

  private readonly pods = new Map<string, Pod>();
  private readonly events = new Map<string, KubeEvent>();
  private readonly owners = new Map<string, Workload>();
  private readonly nodes = new Map<string, Node>();
  private readonly logs = new Map<string, LogTail[]>();
  private readonly logMarks = new Map<string, string>();
  private readonly accessErrors: AccessError[] = [];
  private readonly versions: { pods?: string; events?: string } = {};

  /** Pods changed (added or modified) since the last re-read, by namespace/name: their latest raw object. */
  private readonly pending = new Map<string, Raw>();
  private dirty = false;
  private flushing = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private refresher: NodeJS.Timeout | undefined;
  private readonly streams = new Set<JsonStream>();
  private readonly sleepers = new Set<() => void>();

  constructor(
    http: KubeHttp,
    private readonly target: WatchTarget,
    private readonly options: WatchOptions,
  ) {
    this.http = declaredReadsOnly(http);
    this.scope = target.namespace ? { kind: 'Namespace', namespace: target.namespace, name: null } : { kind: 'Cluster', namespace: null, name: null };
    this.debounceMs = options.debounceMs ?? 1000;
    this.watchSeconds = options.watchSeconds ?? 300;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.refreshMs = options.refreshMs ?? 30_000;
  }

  private debug(line: string): void {
    this.options.onDebug?.(line);
  }

  private newFetch(): Fetch {
    return new Fetch(this.http, this.scope, this.target.context, this.options.fetch);
  }

  /**
   * List what the first diagnosis needs (as `kdiag namespace`, or `kdiag pod NAME` over the
   * namespace's lists), start the watches and return the first snapshot. Throws as the one-shot
   * reads do (not found: exit 2; cluster: exit 3), and when the pods cannot be listed.
   */
  async start(): Promise<Snapshot> {
    const { namespace, name } = this.target;
    const fetch = this.newFetch();
    await Promise.all([fetch.readPods(namespace), fetch.readEvents(namespace), fetch.readWorkloads(namespace)]);
    const snapshot = fetch.snapshot;
    const podsRefused = snapshot.accessErrors.find((e) => e.resource === 'pods');
    if (podsRefused) throw this.cannotWatch(podsRefused.status, podsRefused.message);
    await assertFoundNamespace(this.http, namespace, snapshot);
    for (const pod of snapshot.pods) this.pods.set(podKey(pod), pod);
    for (const event of snapshot.events) this.events.set(eventKey(event), event);
    for (const owner of snapshot.owners) this.owners.set(ownerKey(owner.kind, owner.metadata.namespace, owner.metadata.name), owner);
    let chosen = snapshot.pods;
    if (name !== undefined) {
      const selection = selectPods(snapshot, namespace!, name);
      if (!selection) throw podNotFound(snapshot, namespace!, name);
      chosen = selection.pods;
    }
    await Promise.all([fetch.readNodes(chosen), fetch.readLogs(chosen)]);
    for (const node of snapshot.nodes) this.nodes.set(node.metadata.name ?? '', node);
    for (const log of snapshot.logs) this.addLog(log);
    for (const pod of chosen) this.logMarks.set(podKey(pod), restartMark(pod));
    for (const error of snapshot.accessErrors) this.refused(error);
    this.versions.pods = fetch.listVersions.get('pods');
    this.versions.events = fetch.listVersions.get('events');

    void this.follow('pods');
    // Events that could not be listed are not watched either; the report says they were refused.
    if (this.versions.events !== undefined) void this.follow('events');
    if (this.refreshMs > 0) {
      this.refresher = setInterval(() => {
        if (!this.flushing && !this.timer && !this.stopped) this.onSnapshot(this.build());
      }, this.refreshMs);
    }
    return this.build();
  }

  /** Stop watching: close the streams, cancel the timers. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const stream of this.streams) stream.close();
    this.streams.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.refresher) clearInterval(this.refresher);
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
  }

  private fatal(error: unknown): void {
    if (this.stopped) return;
    this.stop();
    this.onFatal(error);
  }

  private cannotWatch(status: number, message: string): ClusterError {
    const where = this.target.namespace ? ` in namespace ${this.target.namespace}` : ' in every namespace';
    const check = `kubectl auth can-i watch pods${this.target.namespace ? ` -n ${this.target.namespace}` : ' -A'}`;
    const said = neutralize(firstLine(message), 200);
    return new ClusterError(`--watch needs to list and watch pods${where}, and the API server answered ${status}${said ? `: ${said}` : ''} (check with: ${check})`);
  }

  private refused(error: AccessError): void {
    addRefusal(this.accessErrors, error);
  }

  private addLog(log: LogTail): void {
    const key = `${log.namespace}/${log.pod}`;
    const list = this.logs.get(key) ?? [];
    list.push(log);
    this.logs.set(key, list);
  }

  /** The snapshot now: a namespace's (or the cluster's), or the pods NAME selects with what concerns them. */
  build(): Snapshot {
    const pods = [...this.pods.values()].sort((a, b) => compareText(podKey(a), podKey(b)));
    const used = new Set(pods.map((pod) => pod.spec.nodeName).filter((n): n is string => !!n));
    const snapshot: Snapshot = {
      ...emptySnapshot(this.scope, new Date().toISOString()),
      context: this.target.context,
      pods,
      nodes: [...this.nodes.values()].filter((node) => used.has(node.metadata.name ?? '')),
      events: [...this.events.values()],
      owners: [...this.owners.values()],
      logs: pods
        .flatMap((pod) => this.logs.get(podKey(pod)) ?? [])
        .sort(byContainer),
      accessErrors: [...this.accessErrors],
    };
    const { namespace, name } = this.target;
    if (name === undefined) return snapshot;
    const selection = selectPods(snapshot, namespace!, name);
    return narrow(snapshot, selection?.pods ?? [], { kind: 'Pod', namespace, name }, selection?.workload ?? null);
  }

  /** Keys of the pods the target follows now (every pod, or those NAME selects). */
  private selected(): Set<string> {
    const { namespace, name } = this.target;
    if (name === undefined) return new Set(this.pods.keys());
    const light: Snapshot = { ...emptySnapshot(this.scope, new Date().toISOString()), pods: [...this.pods.values()], owners: [...this.owners.values()] };
    return new Set((selectPods(light, namespace!, name)?.pods ?? []).map(podKey));
  }

  /** Whether a pod's controller is already known (or is nothing kdiag reads). */
  private ownerKnown(pod: Pod): boolean {
    const ref = controllerOf(pod.metadata.ownerReferences);
    if (!ref || !(OWNER_KINDS as readonly string[]).includes(ref.kind)) return true;
    return this.owners.has(ownerKey(ref.kind, pod.metadata.namespace, ref.name));
  }

  // ---------------------------------------------------------------------------------------------
  // Watching

  private path(resource: 'pods' | 'events'): string {
    return listPath(resource, this.target.namespace);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Watch one resource until stopped: resume when the server ends the watch, list again on 410, back off on failures. */
  private async follow(resource: 'pods' | 'events'): Promise<void> {
    let failures = 0;
    let relist = false;
    while (!this.stopped) {
      let opened = 0;
      try {
        if (relist) {
          await this.relist(resource);
          relist = false;
          if (this.stopped) return;
        }
        const from = this.versions[resource];
        const stream = await this.http.stream(
          this.path(resource),
          { watch: 'true', resourceVersion: from, allowWatchBookmarks: 'true', timeoutSeconds: this.watchSeconds },
          (value) => this.received(resource, value),
          (this.watchSeconds + 30) * 1000,
        );
        if (this.stopped) {
          stream.close();
          return;
        }
        opened = Date.now();
        this.streams.add(stream);
        try {
          await stream.done;
        } finally {
          this.streams.delete(stream);
        }
        if (this.stopped) return;
        // A server that ends every watch at once must not be asked again in a tight loop.
        if (Date.now() - opened < 1000) throw new ClusterError(`the watch of ${resource} ended at once`);
        failures = 0;
        this.debug(`the watch of ${resource} ended; watching again from resourceVersion ${this.versions[resource] ?? '(none)'}`);
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof Expired || (error instanceof ApiStatusError && error.status === 410)) {
          this.debug(`the watch of ${resource} expired (410): listing ${resource} again`);
          relist = true;
          continue;
        }
        if (error instanceof UnauthorizedError) return this.fatal(error);
        if (error instanceof ApiStatusError && (error.status === 401 || error.status === 403 || error.status === 404 || error.status === 405)) {
          if (resource === 'pods') return this.fatal(this.cannotWatch(error.status, error.message));
          // Without events the diagnosis goes on, as when they cannot be listed; the report says so.
          this.refused({ resource: 'events', verb: 'watch', namespace: this.target.namespace, status: error.status, message: error.message });
          this.changed();
          return;
        }
        if (!(error instanceof ClusterError) && !(error instanceof ApiStatusError)) return this.fatal(error);
        if (opened && Date.now() - opened > 60_000) failures = 0;
        failures++;
        const delay = Math.round(Math.min(this.maxBackoffMs, 500 * 2 ** (failures - 1)) * (0.5 + Math.random() / 2));
        this.debug(`the watch of ${resource} failed (${neutralize(firstLine(error.message), 300)}); watching again in ${delay} ms`);
        await this.sleep(delay);
      }
    }
  }

  /** One watch event. Throws Expired for a 410 ERROR event, a ClusterError for another ERROR (the stream ends). */
  private received(resource: 'pods' | 'events', value: unknown): void {
    if (!isObj(value) || !isObj(value.object)) return;
    const { type, object } = value;
    const meta = isObj(object.metadata) ? object.metadata : {};
    const version = typeof meta.resourceVersion === 'string' && meta.resourceVersion ? meta.resourceVersion : undefined;
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED':
        if (version) this.versions[resource] = version;
        if (resource === 'pods') this.podChanged(type, object);
        else this.eventChanged(type, object);
        return;
      case 'BOOKMARK':
        if (version) this.versions[resource] = version;
        return;
      case 'ERROR': {
        if (object.code === 410) throw new Expired();
        const message = typeof object.message === 'string' ? object.message : 'an ERROR event';
        throw new ClusterError(`the watch of ${resource} sent an error: ${neutralize(firstLine(message), 200)}`);
      }
      default:
        return;
    }
  }

  private podChanged(type: string, raw: Raw): void {
    const key = rawKey(raw);
    if (type === 'DELETED') this.forget(key);
    else this.pending.set(key, raw);
    this.changed();
  }

  private forget(key: string): void {
    this.pods.delete(key);
    this.pending.delete(key);
    this.logs.delete(key);
    this.logMarks.delete(key);
  }

  private eventChanged(type: string, raw: Raw): void {
    const event = projectEvent(raw);
    if (!event) return;
    if (type === 'DELETED') this.events.delete(eventKey(event));
    else this.events.set(eventKey(event), event);
    this.changed();
  }

  /** List one resource again (after a 410): what differs from what is known counts as changed. */
  private async relist(resource: 'pods' | 'events'): Promise<void> {
    const fetch = this.newFetch();
    const { namespace } = this.target;
    if (resource === 'pods') {
      // Page by page: a raw pod is kept only when it differs from the one known (to be re-read).
      const seen = new Set<string>();
      const differ = new Map<string, Raw>();
      const compare = (raw: Raw): undefined => {
        const key = rawKey(raw);
        seen.add(key);
        const meta = isObj(raw.metadata) ? raw.metadata : {};
        if (this.pods.get(key)?.metadata.resourceVersion !== meta.resourceVersion) differ.set(key, raw);
        return undefined;
      };
      const restart = () => {
        seen.clear();
        differ.clear();
      };
      await fetch.pages('pods', namespace, compare, {}, { page: () => undefined, restart });
      for (const [key, raw] of differ) this.pending.set(key, raw);
      for (const key of [...this.pods.keys(), ...this.pending.keys()]) if (!seen.has(key)) this.forget(key);
    } else {
      const events = await fetch.list('events', namespace, projectEvent);
      this.events.clear();
      for (const event of events) this.events.set(eventKey(event), event);
    }
    this.versions[resource] = fetch.listVersions.get(resource);
    this.changed();
  }

  // ---------------------------------------------------------------------------------------------
  // Re-reading and handing over

  /** Something changed: re-read and hand over a snapshot once the burst is over. */
  private changed(): void {
    this.dirty = true;
    this.schedule(this.debounceMs);
  }

  private schedule(ms: number): void {
    if (this.timer || this.flushing || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
  }

  private async flush(): Promise<void> {
    if (this.stopped) return;
    this.flushing = true;
    this.dirty = false;
    const raws = [...this.pending.values()];
    this.pending.clear();
    let retryIn: number | undefined;
    try {
      if (raws.length > 0) await this.reread(raws);
      if (this.stopped) return;
      this.onSnapshot(this.build());
    } catch (error) {
      if (this.stopped) return;
      if (error instanceof UnauthorizedError || !(error instanceof ClusterError)) return this.fatal(error);
      // The cluster did not answer the re-reads: keep the pods for the next attempt (unless a newer
      // version came meanwhile, or they were deleted).
      for (const raw of raws) {
        const key = rawKey(raw);
        if (!this.pending.has(key) && this.pods.has(key)) this.pending.set(key, raw);
      }
      this.dirty = true;
      retryIn = Math.max(this.debounceMs, 2000);
      this.debug(`re-reading changed pods failed (${neutralize(firstLine(error.message), 300)}); again in ${retryIn} ms`);
    } finally {
      this.flushing = false;
    }
    if (this.dirty && !this.stopped) this.schedule(retryIn ?? this.debounceMs);
  }

  /** Project the changed pods and re-read their owners, nodes and (when they restarted) log tails. */
  private async reread(raws: Raw[]): Promise<void> {
    const batch = this.newFetch();
    const pods = batch.addPods(raws);
    const before = this.selected();
    for (const pod of pods) this.pods.set(podKey(pod), pod);
    // Owners: of the followed pods (their status moves with the pods), and of any pod whose owner is
    // new (a rollout's new ReplicaSet), which may make it one of the followed pods.
    await readOwnerChains(
      batch,
      pods.filter((pod) => before.has(podKey(pod)) || !this.ownerKnown(pod)),
    );
    for (const owner of batch.snapshot.owners) this.owners.set(ownerKey(owner.kind, owner.metadata.namespace, owner.metadata.name), owner);
    const followed = this.selected();
    const chosen = pods.filter((pod) => followed.has(podKey(pod)));
    const restarted = chosen.filter((pod) => this.logMarks.get(podKey(pod)) !== restartMark(pod));
    await Promise.all([batch.readNodes(chosen), batch.readLogs(restarted)]);
    for (const node of batch.snapshot.nodes) this.nodes.set(node.metadata.name ?? '', node);
    // A pod deleted while its reads were in flight stays deleted.
    for (const pod of restarted) {
      if (!this.pods.has(podKey(pod))) continue;
      this.logs.delete(podKey(pod));
      this.logMarks.set(podKey(pod), restartMark(pod));
    }
    for (const log of batch.snapshot.logs) if (this.pods.has(`${log.namespace}/${log.pod}`)) this.addLog(log);
    for (const error of batch.snapshot.accessErrors) this.refused(error);
  }
}
