/**
 * Container exit codes decoded. A process killed by signal N is reported by the runtime as 128+N;
 * 128 itself is not a signal and not success (containerd reports StartError with exit 128).
 */

/** Linux signal names by number (x86_64 / arm64 numbering, which Kubernetes nodes use). */
export const SIGNALS: Readonly<Record<number, string>> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS',
  8: 'SIGFPE', 9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE',
  14: 'SIGALRM', 15: 'SIGTERM', 16: 'SIGSTKFLT', 17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP',
  20: 'SIGTSTP', 21: 'SIGTTIN', 22: 'SIGTTOU', 23: 'SIGURG', 24: 'SIGXCPU', 25: 'SIGXFSZ',
  26: 'SIGVTALRM', 27: 'SIGPROF', 28: 'SIGWINCH', 29: 'SIGIO', 30: 'SIGPWR', 31: 'SIGSYS',
};

const SIGNAL_MEANING: Readonly<Record<number, string>> = {
  1: 'hangup: the controlling terminal closed, or a reload request the process does not handle',
  2: 'interrupt, as from Ctrl-C',
  3: 'quit, usually with a core dump; the JVM prints a thread dump on it',
  4: 'illegal instruction: a binary built for a newer CPU than the node has, or memory corruption',
  5: 'trace/breakpoint trap',
  6: 'abort: the process called abort(), typically a failed assertion or a fatal runtime error (glibc "double free", a C++ std::terminate, a JVM or Node fatal error)',
  7: 'bus error: a bad memory access, often a memory-mapped file that was truncated, or /dev/shm too small',
  8: 'floating-point exception, e.g. integer division by zero',
  9: 'SIGKILL cannot be caught or ignored. It is sent by the kernel OOM killer (then the reason is OOMKilled), by the kubelet when a liveness probe fails or the termination grace period runs out, or by kill -9',
  10: 'user-defined signal 1 that the process does not handle',
  11: 'segmentation fault: the process touched memory it does not own (a bug in native code or a native library)',
  12: 'user-defined signal 2 that the process does not handle',
  13: 'broken pipe: the process wrote to a pipe or socket whose reader had gone',
  14: 'alarm clock timer expired',
  15: 'terminated: the polite stop signal. The kubelet sends it when the pod is deleted, evicted, scaled down, rolled out, or the container is restarted after a failed liveness probe',
  24: 'CPU time limit (ulimit -t) exceeded',
  25: 'file size limit (ulimit -f) exceeded',
  31: 'bad system call: blocked by seccomp, or a syscall the kernel does not have',
};

/** Everything kdiag says about one exit code. */
export interface ExitCodeInfo {
  code: number;
  /** Short name: "application error", "SIGKILL", ... */
  name: string;
  /** Signal name when the code is 128+N for a real signal N. */
  signal?: string;
  signalNumber?: number;
  meaning: string;
  /** The rule that diagnoses this code. */
  rule: string;
}

/** The signal behind an exit code (129-192 = 128+N), if any. */
export function signalOf(code: number): { number: number; name: string } | undefined {
  if (code <= 128 || code > 128 + 64) return undefined;
  const number = code - 128;
  const name = SIGNALS[number] ?? (number >= 34 ? `SIGRTMIN+${number - 34}` : `signal ${number}`);
  return { number, name };
}

/** The seed rule id that handles an exit code. */
export function ruleForExitCode(code: number): string {
  if ([0, 1, 125, 126, 127, 128, 134, 137, 139, 143, 255].includes(code)) return `exit-code-${code}`;
  if (code > 128 && code < 255) return 'exit-code-signal';
  return 'exit-code-app';
}

/** Decode an exit code (0-255). Codes outside that range wrap as the kernel wraps them (mod 256). */
export function describeExitCode(input: number): ExitCodeInfo {
  const code = ((Math.trunc(input) % 256) + 256) % 256;
  const rule = ruleForExitCode(code);
  const signal = signalOf(code);
  if (signal) {
    const meaning = SIGNAL_MEANING[signal.number] ?? (signal.number >= 34 ? 'a real-time signal, sent by the application or its supervisor' : 'a signal the process did not handle');
    return { code, name: signal.name, signal: signal.name, signalNumber: signal.number, meaning: `killed by signal ${signal.number} (${signal.name}, 128+${signal.number}): ${meaning}.`, rule };
  }
  switch (code) {
    case 0:
      return { code, name: 'success', meaning: 'The process exited successfully. Under restartPolicy Always (Deployments, StatefulSets, DaemonSets) the kubelet restarts it anyway, so a main process that finishes its work and exits 0 loops as CrashLoopBackOff with reason Completed.', rule };
    case 1:
      return { code, name: 'application error', meaning: 'General application error: the program itself exited with 1 (an unhandled exception, a failed start-up check, bad configuration). It is not a segmentation fault (that is 139). The log of the crashed container says why.', rule };
    case 2:
      return { code, name: 'usage error', meaning: 'By convention a usage error: bad command-line arguments, or a shell builtin misused. Check command and args in the pod spec.', rule };
    case 125:
      return { code, name: 'runtime could not run the container', meaning: 'The container runtime itself failed before the command ran (docker run convention): an invalid option, a missing mount source, a runtime error.', rule };
    case 126:
      return { code, name: 'command not executable', meaning: 'The command was found but could not be executed: missing execute permission, a script without a valid interpreter line, or a file that is not a program.', rule };
    case 127:
      return { code, name: 'command not found', meaning: 'The shell could not find the command: a typo in command/args, a binary missing from the image, or a PATH that does not include it.', rule };
    case 128:
      return { code, name: 'could not start (invalid exit argument)', meaning: 'Not success. 128 is "invalid argument to exit"; in Kubernetes it is most often reason StartError: containerd could not start the process (exec permission denied, no such file or directory, a bad working directory or mount).', rule };
    case 255:
      return { code, name: 'exit(-1) or runtime failure', meaning: 'The program called exit(-1) (or exit(255)), which many runtimes and scripts do on a fatal error, or the container runtime failed. Exit values outside 0-255 wrap modulo 256, so 255 is also what -1 becomes.', rule };
    default:
      if (code > 192) {
        return { code, name: 'application-defined', meaning: `128+${code - 128} would be signal ${code - 128}, but Linux has no signal above 64: the program itself exited with ${code}. Its documentation or log says what that means.`, rule };
      }
      return { code, name: 'application-defined', meaning: `The program exited with ${code}, a value its own code chose. Exit codes 3-124 have no system-wide meaning; the application's documentation and its log say what ${code} is.`, rule };
  }
}
