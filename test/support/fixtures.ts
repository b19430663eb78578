import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuleContext } from '../../src/model/finding.js';
import { SnapshotIndex } from '../../src/model/snapshot-index.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import { parseSnapshotText, snapshotFromDocuments } from '../../src/snapshot/file.js';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Absolute path of a file under fixtures/. */
export function fixturePath(name: string): string {
  return path.join(ROOT, 'fixtures', name);
}

/** Load a fixture (a List, a kdiag snapshot, or kubectl output) as a Snapshot. */
export function loadFixture(name: string): Snapshot {
  const file = fixturePath(name);
  return snapshotFromDocuments(parseSnapshotText(readFileSync(file, 'utf8'), name), name);
}

/** Several snapshots as one of the whole cluster: their objects one after the other, the first's capture time and context. */
export function mergeSnapshots(parts: readonly Snapshot[]): Snapshot {
  return {
    ...parts[0]!,
    scope: { kind: 'Cluster', namespace: null, name: null },
    pods: parts.flatMap((p) => p.pods),
    nodes: parts.flatMap((p) => p.nodes),
    events: parts.flatMap((p) => p.events),
    owners: parts.flatMap((p) => p.owners),
    logs: parts.flatMap((p) => p.logs),
    accessErrors: parts.flatMap((p) => p.accessErrors),
  };
}

/** The context a rule receives for a snapshot. */
export function ruleContext(snapshot: Snapshot): RuleContext {
  return { snapshot, index: new SnapshotIndex(snapshot), now: Date.parse(snapshot.capturedAt) };
}

/** The example config file README.md documents (its yaml block that starts with `disable:`). */
export function readmeConfigExample(): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /```yaml\n(disable:[\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README.md has no yaml block starting with "disable:"');
  return block[1]!;
}
