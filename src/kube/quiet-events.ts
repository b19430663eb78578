import { ClusterError } from '../model/errors.js';
import type { KubeEvent, Pod } from '../model/k8s.js';
import { isQuiet } from '../model/snapshot-index.js';

/**
 * Normal events about quiet pods, left unparsed. Most of a namespace's events are the Scheduled,
 * Pulled, Created and Started of pods that are running and ready; no rule reads them (pod rules go
 * over SnapshotIndex.suspects, and a quiet pod with no Warning event is not one), yet parsing and
 * projecting them is a large part of a sweep. A diagnosis (not a recording) reads the events list
 * through this: each page is cut into its items as bytes, and an item that is a Normal event about a
 * pod the pods list has shown quiet is set aside unparsed. At the end (see `settle`), the set-aside
 * events of any pod that turned out not to be quiet after all (a Warning event about it, or a pods
 * list read again) are parsed and put back in their places, so the diagnosis is the one every event
 * would give. Anything laid out otherwise than the API server writes it is parsed as usual.
 */

type Raw = Record<string, unknown>;

/**
 * A page of the events list as `read` gives it. Its items are shared out once the pods they name
 * are known (`decide`): `events` are the kept ones, projected, `left` the ones set aside.
 */
export interface EventPage {
  metadata: unknown;
  /** Always empty: what the list reader goes through (the events are in `events`). */
  items: never[];
  /** The events kept, projected, in list order. */
  events: KubeEvent[];
  /** The place in the page of each kept event. */
  at: number[];
  /** The items set aside: the pod each is about, its place in the page, its bytes. */
  left: SetAside[];
  /** Until decided: the page's bytes, where its items are, and the pod each Normal event is about. */
  pending?: { bytes: Buffer; starts: number[]; ends: number[]; about: (string | undefined)[]; last: string };
  /** The page's bytes while items are set aside (they are views of them): read whole if an item will not parse. */
  bytes?: Buffer;
  /** The page is not JSON: the list fails when it is settled. */
  broken?: boolean;
}

/** An item set aside, as bytes (a view of its page's, which stay outside the JavaScript heap) until it is put back or dropped. */
export interface SetAside {
  pod: string;
  at: number;
  bytes: Buffer;
}

const ITEMS = '"items":[';
/** How the API server starts each item of a list: an Event has no other object under a "metadata" key. */
const ITEM = '{"metadata":{';
/** An ObjectReference as the API server writes one: kind, namespace, name, in that order. */
const POD_REF = '"involvedObject":{"kind":"Pod","namespace":"';
const THEN_NAME = '","name":"';
const TYPE = '"type":"';
const NORMAL = '"type":"Normal"';

const isObj = (x: unknown): x is Raw => typeof x === 'object' && x !== null && !Array.isArray(x);

/** namespace/name, as the pods list orders them (by namespace, then name). */
export const podKey = (namespace: string | undefined, name: string | undefined): string => `${namespace ?? ''}/${name ?? ''}`;

/**
 * The list's head (its metadata), the page as latin1 text (one character per byte, so that places
 * in it are places in the bytes; only ASCII is looked for in it) and where each item starts and
 * ends; undefined when not laid out as the API server writes.
 */
export function splitItems(bytes: Buffer): { head: Raw; text: string; starts: number[]; ends: number[] } | undefined {
  const text = bytes.toString('latin1');
  const itemsAt = text.indexOf(ITEMS);
  if (itemsAt < 0) return undefined;
  // Items come last: after their closing bracket only the list's closing brace (and before it, the
  // last item's). A page that holds something else after its items may still pass this: the items
  // are then not all objects, and the page is read whole when they do not parse (see decide).
  const close = text.trimEnd().length - 2;
  if (close < itemsAt || text.charCodeAt(close) !== 0x5d || text.charCodeAt(close + 1) !== 0x7d) return undefined;
  if (close > itemsAt + ITEMS.length && text.charCodeAt(close - 1) !== 0x7d) return undefined;
  let head: unknown;
  try {
    head = JSON.parse(`${bytes.toString('utf8', 0, itemsAt)}"items":[]}`);
  } catch {
    return undefined;
  }
  if (!isObj(head)) return undefined;
  const starts: number[] = [];
  const ends: number[] = [];
  let at = itemsAt + ITEMS.length;
  if (at === close) return { head, text, starts, ends };
  if (!text.startsWith(ITEM, at)) return undefined;
  for (;;) {
    const next = text.indexOf(ITEM, at + ITEM.length);
    if (next < 0 || next > close) {
      starts.push(at);
      ends.push(close);
      return { head, text, starts, ends };
    }
    if (text.charCodeAt(next - 1) !== 0x2c) return undefined;
    starts.push(at);
    ends.push(next - 1);
    at = next;
  }
}

/**
 * For each item, namespace/name of the pod it is about when it is a Normal event about a pod;
 * undefined for any other item, or one not plainly laid out (then it is parsed). The API server
 * writes an Event's fields in one order: metadata, involvedObject (kind, namespace, name, ...),
 * ..., type. Only a flat metadata is taken: labels or annotations (maps whose keys could be
 * "type") make an item one to parse. A JSON string holds no bare quote, so what is looked for
 * cannot be inside a message.
 */
export function normalAboutPods(text: string, starts: readonly number[], ends: readonly number[]): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (let i = 0; i < starts.length; i++) out.push(aboutPod(text, starts[i]!, ends[i]!));
  return out;
}

function aboutPod(text: string, start: number, end: number): string | undefined {
  const metaFrom = start + ITEM.length;
  const metaTo = text.indexOf('}', metaFrom);
  if (metaTo < 0 || metaTo >= end) return undefined;
  const nested = text.indexOf('{', metaFrom);
  if (nested >= 0 && nested < metaTo) return undefined;
  if (text.charCodeAt(metaTo + 1) !== 0x2c || !text.startsWith(POD_REF, metaTo + 2)) return undefined;
  const nsFrom = metaTo + 2 + POD_REF.length;
  const nsTo = text.indexOf('"', nsFrom);
  if (nsTo < 0 || nsTo >= end || !text.startsWith(THEN_NAME, nsTo)) return undefined;
  const nameFrom = nsTo + THEN_NAME.length;
  const nameTo = text.indexOf('"', nameFrom);
  if (nameTo < 0 || nameTo >= end) return undefined;
  // The Event's own type: the first "type" key after the reference (none is nested in what comes between).
  const type = text.indexOf(TYPE, nameTo);
  if (type < 0 || type >= end || !text.startsWith(NORMAL, type)) return undefined;
  const namespace = text.slice(nsFrom, nsTo);
  const name = text.slice(nameFrom, nameTo);
  if (namespace.includes('\\') || name.includes('\\')) return undefined;
  return `${namespace}/${name}`;
}

/**
 * The events list read beside the pods list. The pods list comes in key order (namespace, then
 * name), like the events list, whose events are named after their object; a page of events is
 * shared out once the pods list has passed the pods its Normal events name (or has ended), so that
 * their pods are known by then. Until then it is kept as bytes: the events list is not held back.
 */
export class QuietPodEvents {
  private readonly quiet = new Set<string>();
  private cursor = '';
  /** Whether the pods list has come in key order so far: if not, what it has passed says nothing, and pages wait for its end. */
  private inOrder = true;
  private podsDone = false;
  /** The pages read so far, in list order. */
  private pages: EventPage[] = [];
  /** The least `last` of the pages not yet decided: the pods list must pass it before any is. */
  private wanted: string | undefined;
  /** Events set aside and not put back: read, not kept. */
  leftOut = 0;
  /** The same, by pod (namespace/name). */
  private leftByPod = new Map<string, number>();

  constructor(private readonly project: (raw: Raw) => KubeEvent | undefined) {}

  /** A pod of the pods list, in list order. */
  pod(pod: Pod): void {
    const key = podKey(pod.metadata.namespace, pod.metadata.name);
    if (isQuiet(pod)) this.quiet.add(key);
    if (key > this.cursor) this.cursor = key;
    else this.inOrder = false;
    if (this.inOrder && this.wanted !== undefined && this.cursor >= this.wanted) this.decideKnown();
  }

  /** The pods list ended (read, refused or failed): every page can be decided. */
  podsEnded(): void {
    this.podsDone = true;
    this.decideKnown();
  }

  /** A page of the events list, in list order (after `read`). */
  add(page: EventPage): void {
    this.pages.push(page);
    this.decideKnown();
  }

  /** The events list starts again (an expired continue token): what it gave is dropped. */
  restart(): void {
    this.pages = [];
    this.wanted = undefined;
  }

  /** Decide every page whose pods are known; note what the others wait for. */
  private decideKnown(): void {
    let wanted: string | undefined;
    for (const page of this.pages) {
      const pending = page.pending;
      if (!pending) continue;
      if (this.podsDone || (this.inOrder && pending.last <= this.cursor)) this.decide(page);
      else if (wanted === undefined || pending.last < wanted) wanted = pending.last;
    }
    this.wanted = wanted;
  }

  /** A page of the events list (bytes without managedFields), its items not yet shared out. */
  read(bytes: Buffer): EventPage {
    const split = splitItems(bytes);
    if (!split) return this.whole(bytes);
    const { head, text, starts, ends } = split;
    const about = normalAboutPods(text, starts, ends);
    let last = '';
    for (const pod of about) if (pod !== undefined && pod > last) last = pod;
    return { metadata: head.metadata, items: [], events: [], at: [], left: [], pending: { bytes, starts, ends, about, last } };
  }

  /** Share out a page's items: Normal events about pods shown quiet are set aside, the rest parsed at once. */
  private decide(page: EventPage): void {
    const { bytes, starts, ends, about } = page.pending!;
    page.pending = undefined;
    const kept: number[] = [];
    const left: SetAside[] = [];
    let size = 2;
    for (let i = 0; i < starts.length; i++) {
      const pod = about[i];
      if (pod !== undefined && this.quiet.has(pod)) left.push({ pod, at: i, bytes: bytes.subarray(starts[i], ends[i]) });
      else {
        kept.push(i);
        size += ends[i]! - starts[i]! + 1;
      }
    }
    // The kept items as one JSON array, decoded and parsed at once.
    const array = Buffer.allocUnsafe(size);
    let length = 0;
    array[length++] = 0x5b;
    for (let k = 0; k < kept.length; k++) {
      if (k > 0) array[length++] = 0x2c;
      length += bytes.copy(array, length, starts[kept[k]!], ends[kept[k]!]);
    }
    array[length++] = 0x5d;
    let raws: unknown;
    try {
      raws = JSON.parse(array.toString('utf8', 0, length));
    } catch {
      // Not cut where its items are: read the page as it is.
      return this.readWhole(page, bytes);
    }
    if (!Array.isArray(raws) || raws.length !== kept.length) return this.readWhole(page, bytes);
    for (let k = 0; k < raws.length; k++) {
      const raw: unknown = raws[k];
      const event = isObj(raw) ? this.project(raw) : undefined;
      if (event === undefined) continue;
      page.events.push(event);
      page.at.push(kept[k]!);
    }
    page.left = left;
    if (left.length > 0) page.bytes = bytes;
  }

  /** Replace what a page holds by the page read whole; a page that is not JSON is marked broken (settle fails). */
  private readWhole(page: EventPage, bytes: Buffer): void {
    try {
      const whole = this.whole(bytes);
      page.events = whole.events;
      page.at = whole.at;
    } catch {
      page.events = [];
      page.at = [];
      page.broken = true;
    }
    page.left = [];
    page.bytes = undefined;
  }

  /** A page read whole, nothing set aside. */
  private whole(bytes: Buffer): EventPage {
    const page: unknown = JSON.parse(bytes.toString('utf8'));
    const events: KubeEvent[] = [];
    const at: number[] = [];
    const raws: unknown[] = isObj(page) && Array.isArray(page.items) ? page.items : [];
    for (let i = 0; i < raws.length; i++) {
      const raw = raws[i];
      const event = isObj(raw) ? this.project(raw) : undefined;
      if (event === undefined) continue;
      events.push(event);
      at.push(i);
    }
    return { metadata: isObj(page) ? page.metadata : undefined, items: [], events, at, left: [] };
  }

  /**
   * The events of the whole list, once both lists are read (`pods`: the pods list's final pods),
   * in list order: the kept ones, and the set-aside events of every pod that is not quiet after
   * all or has a Warning event, put back in their places. The rest are counted in `leftOut`.
   */
  settle(pods: readonly Pod[]): KubeEvent[] {
    this.podsDone = true;
    this.decideKnown();
    for (const page of this.pages) if (page.broken) throw new ClusterError('the API server answered the events list with something that is not JSON');
    const quiet = new Set<string>();
    for (const pod of pods) if (isQuiet(pod)) quiet.add(podKey(pod.metadata.namespace, pod.metadata.name));
    // A page whose set-aside items will not parse (not cut where its items are) is read whole, and
    // then every event is looked at again: it may hold a Warning that puts back another page's.
    for (;;) {
      const events = this.putBack(quiet);
      if (events) return events;
    }
  }

  /** The events in list order with those put back that must be; undefined when a page had to be read whole. */
  private putBack(quiet: ReadonlySet<string>): KubeEvent[] | undefined {
    // As SnapshotIndex keys events: a Warning about a pod's name makes it a suspect.
    const warned = new Set<string>();
    for (const page of this.pages) {
      for (const event of page.events) {
        if (event.type === 'Warning' && event.involvedObject.kind === 'Pod') warned.add(podKey(event.involvedObject.namespace ?? event.metadata.namespace, event.involvedObject.name));
      }
    }
    const events: KubeEvent[] = [];
    let leftOut = 0;
    const leftByPod = new Map<string, number>();
    for (const page of this.pages) {
      const back: { at: number; event: KubeEvent }[] = [];
      for (const item of page.left) {
        if (quiet.has(item.pod) && !warned.has(item.pod)) {
          leftOut++;
          leftByPod.set(item.pod, (leftByPod.get(item.pod) ?? 0) + 1);
          continue;
        }
        let raw: unknown;
        try {
          raw = JSON.parse(item.bytes.toString('utf8'));
        } catch {
          this.readWhole(page, page.bytes!);
          if (page.broken) throw new ClusterError('the API server answered the events list with something that is not JSON');
          return undefined;
        }
        const event = isObj(raw) ? this.project(raw) : undefined;
        if (event !== undefined) back.push({ at: item.at, event });
      }
      // Both in page order: merge.
      let b = 0;
      for (let k = 0; k < page.events.length; k++) {
        while (b < back.length && back[b]!.at < page.at[k]!) events.push(back[b++]!.event);
        events.push(page.events[k]!);
      }
      while (b < back.length) events.push(back[b++]!.event);
    }
    this.leftOut = leftOut;
    this.leftByPod = leftByPod;
    return events;
  }

  /** How many of the events left out (once settled) are about these pods. */
  leftOutAbout(pods: readonly Pod[]): number {
    let count = 0;
    for (const pod of pods) count += this.leftByPod.get(podKey(pod.metadata.namespace, pod.metadata.name)) ?? 0;
    return count;
  }
}
