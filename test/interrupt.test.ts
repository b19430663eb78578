import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ApiServer } from './support/api-server.js';
import { startApiServer } from './support/api-server.js';
import { ROOT } from './support/fixtures.js';

/**
 * Ctrl-C on a terminal: kdiag runs in a pseudo-terminal (so its spinner is on and hides the
 * cursor) while the API server never answers; typing Ctrl-C must stop it promptly, show the
 * cursor again and exit 130. Python's pty module provides the terminal.
 */

const BIN = path.join(ROOT, 'bin', 'kdiag.js');
const hasPython = spawnSync('python3', ['-c', 'import pty'], { stdio: 'ignore' }).status === 0;

// Runs argv in a pty; after the first output, waits a little and types Ctrl-C; prints JSON.
const DRIVER = `
import json, os, pty, select, sys, time
argv = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
import fcntl, struct, termios
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 100, 0, 0))
out = b''
sent = None
deadline = time.time() + 10
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    if sent is not None and time.time() - sent > 3:
        break
    if sent is None and b'Reading' in out:
        time.sleep(0.3)
        os.write(fd, b'\\x03')
        sent = time.time()
code = None
while time.time() < deadline + 5:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        code = os.waitstatus_to_exitcode(status)
        break
    time.sleep(0.05)
if code is None:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
print(json.dumps({'code': code, 'output': out.decode('utf-8', 'replace'), 'afterCtrlC': (time.time() - sent) if sent else None}))
`;

let server: ApiServer;

beforeAll(async () => {
  server = await startApiServer({ fixture: path.join(ROOT, 'test/fixtures/live-world.json'), faults: { stall: true } });
});

afterAll(async () => {
  await server.close();
});

(hasPython ? describe : describe.skip)('Ctrl-C', () => {
  // A namespace sweep, and -A (which goes namespace by namespace).
  it.each([[['namespace', 'prod']], [['namespace', '-A']]])('%j stops promptly, shows the cursor again and exits 130', async (command) => {
    const argv = [process.execPath, BIN, ...command, '--kubeconfig', server.kubeconfigPath, '--request-timeout', '30s'];
    const result = await new Promise<{ code: number | null; output: string; afterCtrlC: number | null }>((resolve, reject) => {
      const child = spawn('python3', ['-c', DRIVER, JSON.stringify(argv)], { env: { PATH: process.env.PATH, HOME: ROOT, TERM: 'xterm' } });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(JSON.parse(stdout) as { code: number | null; output: string; afterCtrlC: number | null }));
    });
    expect(result.afterCtrlC).not.toBeNull();
    expect(result.code).toBe(130);
    expect(result.afterCtrlC!).toBeLessThan(2);
    expect(result.output).toContain('kdiag: interrupted');
    // The spinner hid the cursor; it is shown again after it.
    const hidden = result.output.indexOf('\u001b[?25l');
    expect(hidden).toBeGreaterThanOrEqual(0);
    expect(result.output.indexOf('\u001b[?25h', hidden)).toBeGreaterThan(hidden);
    expect(result.output).not.toMatch(/\n\s+at /);
  });
});

if (!hasPython) {
  // eslint-disable-next-line no-console
  console.warn('test/interrupt.test.ts skipped: python3 with the pty module is needed to drive a terminal');
}
