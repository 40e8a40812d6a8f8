// Conformance of ep-serve's OpenAI-compatible gateway with the official `openai` SDK.
//
// Usage: node run_gateway.mjs /path/to/ep-emulator /path/to/ep-serve
// Starts the emulator (zero latency) and ep-serve on ephemeral loopback ports, ep-serve's
// providers pointed at the emulator with dummy keys and a bearer token of its own, runs
// gateway.mjs, and exits non-zero on any failure.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [emulatorPath, servePath] = process.argv.slice(2);
function fatal(message) {
  console.error(`gateway_conformance: ${message}`);
  process.exit(1);
}
if (!emulatorPath || !existsSync(emulatorPath) || !servePath || !existsSync(servePath)) {
  fatal('usage: node run_gateway.mjs PATH_TO_EP_EMULATOR PATH_TO_EP_SERVE');
}
if (!existsSync(join(here, 'node_modules', 'openai', 'package.json'))) {
  fatal("the npm package 'openai' is not installed. Run: npm ci --prefix tests/conformance");
}

const { startEmulator } = await import('./lib/emulator.mjs');
const suite = (await import('./gateway.mjs')).default;

async function startServe(emu) {
  const dir = mkdtempSync(join(tmpdir(), 'ep-gateway-'));
  const token = 'gw-conformance-token';
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('EP_')) delete env[k];
  Object.assign(env, {
    EP_OPENAI_BASE_URL: `${emu.base}/v1`, EP_OPENAI_API_KEY: 'emulated-key',
    EP_ANTHROPIC_BASE_URL: emu.base, EP_ANTHROPIC_API_KEY: 'emulated-key',
    EP_GEMINI_BASE_URL: `${emu.base}/v1beta`, EP_GEMINI_API_KEY: 'emulated-key',
    EP_SERVE_TOKENS: token, EP_LOG_LEVEL: 'warn',
  });
  const child = spawn(servePath, ['--listen', '127.0.0.1:0', '--db', join(dir, 'runs.db')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ep-serve did not say where it listens within 20 s')), 20000);
    child.once('exit', (code) => reject(new Error(`ep-serve exited early with ${code}`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = /^listening (http:\/\/\S+)$/.exec(line);
      if (m) resolve(m[1]); else reject(new Error(`unexpected first line: '${line}'`));
    });
  });
  return {
    base, token,
    stop() {
      return new Promise((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
        child.once('exit', () => { clearTimeout(timer); rmSync(dir, { recursive: true, force: true }); resolve(); });
        child.kill('SIGTERM');
      });
    },
  };
}

const emu = await startEmulator(emulatorPath);
let gw;
let passed = 0;
let failures = 0;
try {
  gw = await startServe(emu);
  for (const [name, test] of Object.entries(suite)) {
    try {
      await test(gw);
      passed += 1;
      console.log(`ok   ${name}`);
    } catch (err) {
      failures += 1;
      console.log(`FAIL ${name}: ${err?.stack ?? err}`);
    }
  }
} finally {
  if (gw) await gw.stop();
  await emu.stop();
}
console.log(`${passed} passed, ${failures} failed`);
process.exit(failures === 0 && passed > 0 ? 0 : 1);
