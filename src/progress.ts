/**
 * Progress on stderr: a live bar on a terminal, plain lines elsewhere (CI logs, pipes). A bar needs a
 * TTY and no `CI`; `NO_COLOR` is respected by printing no colour at all (the bar has none).
 */
import cliProgress from 'cli-progress';
import type { Progress } from './audit/signals.ts';

export function createProgress(log: (line: string) => void): { progress: Progress; stop(): void } {
  const live = Boolean(process.stderr.isTTY) && !process.env.CI;
  if (!live) {
    return {
      progress: (p) => {
        if (p.done === p.total) log(`  ${p.op} ${p.model}: ${p.total} batch(es) done`);
      },
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: '  {task} [{bar}] {value}/{total} batches', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.legacy,
  );
  let current = '';
  return {
    progress: (p) => {
      const task = `${p.op} ${p.model}`.padEnd(18);
      if (task !== current) {
        if (current) bar.stop();
        bar.start(p.total, 0, { task });
        current = task;
      }
      bar.update(p.done, { task });
      if (p.done === p.total) {
        bar.stop();
        current = '';
      }
    },
    stop: () => {
      if (current) bar.stop();
    },
  };
}
