import type { RuleContext } from './finding.js';
import type { KubeEvent, Node, Pod } from './k8s.js';

/**
 * Helpers for the `retain` of cluster rules: what of one namespace a rule about nodes reads once
 * every namespace has been seen.
 */

/** The namespace's pods on the nodes that `which` picks (a NotReady node, a cordoned one, ...). */
export function podsOnNodes(context: RuleContext, which: (node: Node) => boolean): Pod[] {
  const names = new Set<string>();
  for (const node of context.snapshot.nodes) if (node.metadata.name && which(node)) names.add(node.metadata.name);
  if (names.size === 0) return [];
  return context.snapshot.pods.filter((pod) => pod.spec.nodeName !== undefined && names.has(pod.spec.nodeName));
}

/** The namespace's events about nodes (the kubelet and the node controllers file them in "default"). */
export function eventsAboutNodes(context: RuleContext): KubeEvent[] {
  return context.snapshot.events.filter((event) => event.involvedObject.kind === 'Node');
}
