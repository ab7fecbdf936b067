/**
 * The supervisor of `run` and `demo` (plain JavaScript: it starts in milliseconds, without tsx).
 *
 * Pool workers are threads: a native crash in one (onnxruntime, the wasm backend), a native abort,
 * or the kernel's out-of-memory killer ends the whole process, and nothing in it can report what
 * happened. So the CLI runs the audit in a child process and waits. Each worker writes the label
 * of the task it starts to a file in a private folder made here, synchronously, and removes it
 * when the task ends (src/pool/worker.ts); when the child dies of a signal, this prints one line
 * naming the tasks the workers were running, and exits 3. Everything finished is in the cache (each
 * batch is written as it completes), so the next run resumes.
 *
 * The child stops as soon as it loses this process (e.g. `kill -9` of the supervisor), so an audit
 * never runs on unattended. SIGINT, SIGTERM and SIGHUP are passed on, and the supervisor then ends
 * the way the child did.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CAUSES = {
  SIGSEGV: 'a native crash',
  SIGBUS: 'a native crash',
  SIGILL: 'a native crash',
  SIGFPE: 'a native crash',
  SIGABRT: 'a native abort',
  SIGKILL: 'killed, e.g. by the out-of-memory killer',
};
const PASSED_ON = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The one line after the audit process died of `signal` while the workers ran `tasks`. */
export function deathMessage(signal, tasks) {
  const cause = CAUSES[signal] ? `${signal}: ${CAUSES[signal]}` : signal;
  const where = tasks.length === 0 ? 'outside any pool task' : `while ${tasks.length === 1 ? 'a pool worker was' : 'pool workers were'} ${tasks.join('; and ')}`;
  return `privacy-audit: runtime failure: the audit process died (${cause}) ${where}; finished batches are cached: run again to resume`;
}

/**
 * Node's flags for the audit process: this one's, plus V8's young generation capped at 2 MB a
 * semi-space (unless the user set it, here or in NODE_OPTIONS). A thread that allocates little JS
 * (a pool worker) collects its young generation rarely, and the output buffers onnxruntime hands it
 * every step wait there for that; a smaller one frees them sooner (a 10k-record pii-extraction audit:
 * 606 → 574 MiB peak, no more CPU time).
 */
export function childExecArgv() {
  const set = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => /^--max-semi-space-size\b/.test(a));
  // --expose-gc: the audit collects once, when it lets go of the per-token signals (src/audit/run.ts).
  return [...process.execArgv, ...(set ? [] : ['--max-semi-space-size=2']), ...(process.execArgv.includes('--expose-gc') ? [] : ['--expose-gc'])];
}

/** Runs `bin args` as a supervised child; resolves to the exit code to return. */
export function supervise(bin, args) {
  const notes = mkdtempSync(path.join(os.tmpdir(), 'privacy-audit-tasks-'));
  /** The tasks the workers had started and not finished, in thread order. */
  const running = () => {
    try {
      return readdirSync(notes)
        .filter((f) => /^worker-\d+$/.test(f))
        .sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)))
        .map((f) => readFileSync(path.join(notes, f), 'utf8'));
    } catch {
      return [];
    }
  };
  return new Promise((resolve, reject) => {
    const child = fork(bin, args, {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      execArgv: childExecArgv(),
      env: {
        // glibc gives each thread that allocates its own malloc arena of up to 64 MB; with the pool's
        // workers and onnxruntime's threads those arenas held ~90 MB of a 30k-record audit's peak
        // (951 vs 864 MiB with two). A value the user set is kept.
        MALLOC_ARENA_MAX: '2',
        ...process.env,
        PRIVACY_AUDIT_SUPERVISED: '1',
        PRIVACY_AUDIT_SUPERVISOR_DIR: notes,
      },
    });
    const handlers = PASSED_ON.map((signal) => {
      const h = () => child.kill(signal);
      process.on(signal, h);
      return [signal, h];
    });
    child.on('error', (e) => {
      rmSync(notes, { recursive: true, force: true });
      reject(e);
    });
    child.on('exit', (code, signal) => {
      for (const [s, h] of handlers) process.off(s, h);
      const tasks = running();
      rmSync(notes, { recursive: true, force: true });
      if (signal === null) return resolve(code ?? 3);
      if (PASSED_ON.includes(signal)) {
        // Interrupted or terminated: end the same way, so a shell or CI runner sees the signal.
        process.kill(process.pid, signal);
        return resolve(128 + (os.constants.signals[signal] ?? 0));
      }
      process.stderr.write(`${deathMessage(signal, tasks)}\n`);
      resolve(3);
    });
  });
}

/** In the supervised child: let the channel not keep the process alive, and stop when the supervisor is gone. */
export function superviseeSetup() {
  if (!process.env.PRIVACY_AUDIT_SUPERVISED || !process.channel) return;
  process.channel.unref();
  process.on('disconnect', () => {
    // The supervisor was killed and can no longer remove its folder of task notes.
    if (process.env.PRIVACY_AUDIT_SUPERVISOR_DIR) rmSync(process.env.PRIVACY_AUDIT_SUPERVISOR_DIR, { recursive: true, force: true });
    process.kill(process.pid, 'SIGKILL');
  });
}
