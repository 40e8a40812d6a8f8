// Starts `ep-emulator --zero-latency --print-port` and reads its port from the first stdout line.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export async function startEmulator(path) {
  const child = spawn(path, ['--port', '0', '--zero-latency', '--print-port'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ep-emulator did not print its port within 10 s')), 10000);
    child.once('exit', (code) => reject(new Error(`ep-emulator exited early with ${code}`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      const n = Number.parseInt(line, 10);
      if (!Number.isInteger(n) || n <= 0) reject(new Error(`unexpected first line: '${line}'`));
      else resolve(n);
    });
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    port,
    base,
    async admin(method, path, body) {
      const res = await fetch(`${base}/_emulator/${path}`, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      return res.json();
    },
    stop() {
      return new Promise((resolve) => {
        const timer = setTimeout(() => { child.kill('SIGKILL'); }, 5000);
        child.once('exit', () => { clearTimeout(timer); resolve(); });
        child.kill('SIGTERM');
      });
    },
  };
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

export function assertEq(actual, expected, message) {
  if (actual !== expected) {
    throw new Error(`assertion failed: ${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

export const weatherSchema = {
  type: 'object',
  properties: { city: { type: 'string' }, days: { type: 'integer' } },
  required: ['city'],
};
