// The body of both entry scripts (kdiag.js, kubectl-kdiag.js): run the CLI, then exit with its code
// once stdout has drained. `scriptName` is the command help and examples show (default kdiag).
import { readsCluster, warmTlsRoots } from '../dist/src/kube/tls-warmup.js';

export async function run(scriptName) {
  const argv = process.argv.slice(2);
  // A command that reads the cluster: its TLS root store is made on a helper thread while the CLI loads.
  if (readsCluster(argv)) warmTlsRoots();
  const { main } = await import('../dist/src/cli/index.js');

  // A reader that goes away (`kdiag ns | head`) is not an error: stop writing, keep the exit code.
  process.stdout.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
  });

  const code = await main(argv, scriptName);
  if (process.stdout.writableLength > 0 && !process.stdout.destroyed) process.stdout.once('drain', () => process.exit(code));
  else process.exit(code);
}
