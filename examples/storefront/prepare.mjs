// Builds the storefront example on `npm install`. An install without dev dependencies (production) has
// no Vite: it skips the build, and /demo says so if it is turned on.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

try {
  createRequire(import.meta.url).resolve('vite/package.json');
} catch {
  console.log('storefront example: not built (Vite is a dev dependency)');
  process.exit(0);
}
const build = spawnSync('npm', ['run', 'demo:build'], {
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
process.exit(build.status ?? 1);
