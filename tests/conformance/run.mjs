// Conformance of the EP development emulator with the official provider SDKs.
//
// Usage: node run.mjs /path/to/ep-emulator
// Starts the emulator on an ephemeral loopback port, drives it with the `openai`,
// `@anthropic-ai/sdk` and `@google/genai` npm packages (Chat Completions and the Responses
// API; streaming and not, text and a tool call, JSON mode, reasoning, an error), and exits
// non-zero on any failure. If the SDKs are missing,
// it fails with the command that installs them.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function fatal(message) {
  console.error(`emulator_conformance: ${message}`);
  process.exit(1);
}

const emulatorPath = process.argv[2];
if (!emulatorPath || !existsSync(emulatorPath)) {
  fatal(`usage: node run.mjs PATH_TO_EP_EMULATOR (got '${emulatorPath ?? ''}')`);
}
for (const pkg of ['openai', '@anthropic-ai/sdk', '@google/genai']) {
  if (!existsSync(join(here, 'node_modules', pkg, 'package.json'))) {
    fatal(`the npm package '${pkg}' is not installed. Run: npm ci --prefix tests/conformance`);
  }
}

const { startEmulator } = await import('./lib/emulator.mjs');
const suites = [
  (await import('./openai.mjs')).default,
  (await import('./responses.mjs')).default,
  (await import('./anthropic.mjs')).default,
  (await import('./gemini.mjs')).default,
];

const emu = await startEmulator(emulatorPath);
let failures = 0;
let passed = 0;
try {
  for (const suite of suites) {
    for (const [name, test] of Object.entries(suite)) {
      try {
        await test(emu);
        passed += 1;
        console.log(`ok   ${name}`);
      } catch (err) {
        failures += 1;
        console.log(`FAIL ${name}: ${err?.stack ?? err}`);
      }
    }
  }
} finally {
  await emu.stop();
}
console.log(`${passed} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
