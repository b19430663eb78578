import { existsSync } from 'node:fs';
import { EXIT, UsageError } from '../../model/errors.js';
import { toSnapshotFile, writeFileAtomic } from '../../snapshot/file.js';
import type { GlobalArgs } from '../args.js';
import { readLive } from '../live.js';

/** `kdiag snapshot NS --output-file FILE`: record a namespace sweep's reads, written atomically. */
export async function runSnapshot(args: GlobalArgs): Promise<number> {
  // Refuse before reading the cluster, not after (the write checks again, atomically).
  if (args.outputFile !== '-' && !args.force && existsSync(args.outputFile!)) throw new UsageError(`${args.outputFile} already exists (use --force to overwrite it)`);
  const snapshot = await readLive(args, 'namespace');
  const text = `${JSON.stringify(toSnapshotFile(snapshot), null, 2)}\n`;
  if (args.outputFile === '-') process.stdout.write(text);
  else {
    writeFileAtomic(args.outputFile!, text, args.force ?? false);
    process.stderr.write(
      `kdiag: wrote ${args.outputFile}: ${snapshot.pods.length} pods, ${snapshot.nodes.length} nodes, ${snapshot.events.length} events, ${snapshot.owners.length} owners, ${snapshot.logs.length} log tails${snapshot.accessErrors.length ? `, ${snapshot.accessErrors.length} reads refused` : ''}\n`,
    );
  }
  return EXIT.OK;
}
