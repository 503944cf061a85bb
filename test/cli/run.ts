import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built CLI (npm test builds it first, in `pretest`). */
export const OCTA = fileURLToPath(new URL('../../dist/cli/octa.js', import.meta.url));

/** Runs `octa` with arguments; returns exit status and output. */
export function runOcta(
  args: string[],
  { input, cwd, env }: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
) {
  if (!existsSync(OCTA)) throw new Error(`${OCTA} is missing: run npm run build (npm test does)`);
  const r = spawnSync(process.execPath, [OCTA, ...args], {
    input,
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
