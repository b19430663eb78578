import type { RuleContext } from './finding.js';
import type { KubeEvent, Pod } from './k8s.js';

/**
 * Helpers for the `retain` of cluster rules: what of one namespace a rule about nodes reads once
 * every namespace has been seen.
 */

/**
 * The namespace's pods on the named nodes (a NotReady node, a cordoned one, ...), from the index's
 * pods by node. In no particular order: the engine keeps retained pods in the namespace's order.
 */
export function podsOnNodes(context: RuleContext, names: Iterable<string | undefined>): Pod[] {
  const pods: Pod[] = [];
  for (const name of names) if (name) pods.push(...context.index.podsOnNode(name));
  return pods;
}

/** The namespace's events about nodes (the kubelet and the node controllers file them in "default"). */
export function eventsAboutNodes(context: RuleContext): KubeEvent[] {
  return context.index.nodeEvents.slice();
}
