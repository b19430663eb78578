/**
 * Node parses its bundled root certificates (about 140, some 40 ms) into a store the first time
 * any TLS context is made, even one that trusts only the kubeconfig's CA. The store is the
 * process's, made once (a thread that asks meanwhile waits for it). A helper thread makes it while
 * the main thread loads the CLI and reads the kubeconfig, so the first request leaves sooner (about
 * 30 ms here, started from the entry script). It only warms that cache: if the thread is late or
 * fails, the main thread makes the store as it would have anyway. The thread ends once the store is
 * made and never holds the process open; a run that fails before it reads anything waits for it
 * at exit (about 30 ms).
 */

/** The commands that read a live cluster. */
const LIVE_COMMANDS = new Set(['namespace', 'ns', 'pod', 'snapshot']);

/** Whether these arguments read a live cluster: a live command, not asking for help, without --snapshot (a replay reads a file). */
export function readsCluster(argv: readonly string[]): boolean {
  return LIVE_COMMANDS.has(argv[0] ?? '') && !argv.some((a) => a === '--snapshot' || a.startsWith('--snapshot=') || a === '--help' || a === '-h');
}

let warming = false;

/**
 * Start making the root store on a helper thread, once per process; whether this call started it.
 * Not with NODE_EXTRA_CA_CERTS: node then reads that file and makes the store as it starts, so
 * there is nothing to warm.
 */
export function warmTlsRoots(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NODE_EXTRA_CA_CERTS || warming) return false;
  warming = true;
  import('node:worker_threads')
    .then(({ Worker }) => {
      const worker = new Worker("require('node:tls').createSecureContext()", { eval: true, stdout: true, stderr: true });
      worker.on('error', () => undefined);
      worker.unref();
    })
    .catch(() => undefined);
  return true;
}
