/**
 * CPU profiling of a benchmark host child over a window the parent chooses (for example only the
 * measured trading phase, not seeding or sign-on). The child calls `profilerMessages(dir)`; the
 * parent sends 'prof-start' and later 'prof-stop', and the child writes `<dir>/<name>` (a
 * .cpuprofile for Chrome DevTools or `node --cpu-prof` tooling) and answers
 * `{ type: 'prof-written', path }`.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';

export interface ProfWritten {
  type: 'prof-written';
  path: string;
}

/** Handle 'prof-start' / 'prof-stop' messages; returns the message handler (false: not a profiler message). */
export function profilerMessages(dir: string, name: string): (m: unknown) => boolean {
  let session: Session | undefined;
  return (m) => {
    if (m === 'prof-start') {
      void (async () => {
        session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 200 });
        await session.post('Profiler.start');
        process.send?.({ type: 'prof-started' });
      })();
      return true;
    }
    if (m === 'prof-stop') {
      void (async () => {
        const s = session;
        session = undefined;
        if (s === undefined) return;
        const { profile } = await s.post('Profiler.stop');
        s.disconnect();
        mkdirSync(dir, { recursive: true });
        const path = join(dir, name);
        writeFileSync(path, JSON.stringify(profile));
        const msg: ProfWritten = { type: 'prof-written', path };
        process.send?.(msg);
      })();
      return true;
    }
    return false;
  };
}
