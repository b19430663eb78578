// The body of both entry scripts (kdiag.js, kubectl-kdiag.js): run the CLI, then exit with its code
// once stdout has drained. `scriptName` is the command help and examples show (default kdiag).
import { main } from '../dist/src/cli/index.js';

export async function run(scriptName) {
  // A reader that goes away (`kdiag ns | head`) is not an error: stop writing, keep the exit code.
  process.stdout.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
  });

  const code = await main(process.argv.slice(2), scriptName);
  if (process.stdout.writableLength > 0 && !process.stdout.destroyed) process.stdout.once('drain', () => process.exit(code));
  else process.exit(code);
}
