import type { Pod, Workload } from './k8s.js';
import type { OwnerRef } from './snapshot-index.js';
import type { SnapshotIndex } from './snapshot-index.js';
import { controllerOf } from './snapshot-index.js';

/** A pod of the scope and the workload at the top of its owner chain (null: a bare pod). */
export interface RosterPod {
  namespace: string;
  name: string;
  owner: OwnerRef | null;
}

/**
 * What a report by workload (JUnit: a testcase per workload, healthy ones passing) lists besides
 * the diagnoses: every pod of the scope with its workload, and each workload's controller. The
 * engine fills it namespace by namespace (EngineOptions.roster), so a sweep of every namespace
 * keeps this much of each pod and not the pod.
 */
export class Roster {
  readonly pods: RosterPod[] = [];
  private readonly parents = new Map<string, OwnerRef>();

  /** Add pods and workloads (of one namespace, or all); `index` is over them. */
  add(pods: readonly Pod[], owners: readonly Workload[], index: SnapshotIndex): void {
    for (const pod of pods) this.pods.push({ namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', owner: index.ownerOf(pod) });
    for (const owner of owners) {
      const parent = controllerOf(owner.metadata.ownerReferences);
      if (parent) this.parents.set(key(owner.kind, owner.metadata.namespace, owner.metadata.name), { kind: parent.kind, name: parent.name });
    }
  }

  /** The controller of a workload of the scope (a ReplicaSet's Deployment), when it has one. */
  parent(kind: string, namespace: string | null | undefined, name: string): OwnerRef | undefined {
    return this.parents.get(key(kind, namespace, name));
  }
}

function key(kind: string, namespace: string | null | undefined, name: string | undefined): string {
  return `${kind}\u0000${namespace ?? ''}\u0000${name ?? ''}`;
}
