// ep-serve's web page, end to end: ep-serve (--emulate: every provider is the in-process
// emulator) on an ephemeral loopback port with a bearer token, its embedded assets checked over
// HTTP, then the page driven in headless Chromium (Debian's `chromium`, via playwright-core):
// enter the token, start a shipped workflow with an input, watch it stream and complete live,
// check the phase table and outputs against the API, cancel and resume a second run, filter the
// board, and approve a gate when this ep-serve has the approve route. Every request the browser
// makes to anything but ep-serve's loopback address is blocked and fails the test.
//
// Usage: node run.mjs PATH_TO_EP_SERVE [SCREENSHOT_DIR]
// Environment: EP_CHROMIUM (default /usr/lib/chromium/chromium, Debian's binary).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const [servePath, shotDir = process.cwd()] = process.argv.slice(2);

function fatal(message) {
  console.error(`web_page: ${message}`);
  process.exit(1);
}
if (!servePath || !existsSync(servePath)) fatal('usage: node run.mjs PATH_TO_EP_SERVE [SCREENSHOT_DIR]');
if (!existsSync(join(here, 'node_modules', 'playwright-core', 'package.json')))
  fatal("the npm package 'playwright-core' is not installed. Run: npm ci --prefix tests/web");
const chromiumPath = process.env.EP_CHROMIUM || '/usr/lib/chromium/chromium';
if (!existsSync(chromiumPath)) fatal(`no Chromium at ${chromiumPath}: apt-get install chromium (scripts/setup.sh)`);

const { chromium } = await import('playwright-core');

const TOKEN = 'web-page-test-token';
const RUN_TIMEOUT_MS = 120000; // three emulated phases at 60 tokens/s on a loaded 2-core machine
// A fixed three-phase chain from tests/web/workflows (the shipped design-implement-review loops).
const WORKFLOW = 'web-chain';

async function startServe(extraArgs) {
  const dir = mkdtempSync(join(tmpdir(), 'ep-web-'));
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('EP_') || k.startsWith('OTEL_')) delete env[k];
  Object.assign(env, { EP_SERVE_TOKENS: TOKEN, EP_LOG_LEVEL: 'warn' });
  const args = ['--listen', '127.0.0.1:0', '--db', join(dir, 'runs.db'), '--emulate', ...extraArgs];
  const child = spawn(servePath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ep-serve did not say where it listens within 30 s')), 30000);
    child.once('exit', (code) => reject(new Error(`ep-serve exited early with ${code}`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = /^listening (http:\/\/\S+)$/.exec(line);
      if (m) resolve(m[1]); else reject(new Error(`unexpected first line: '${line}'`));
    });
  });
  return {
    base,
    stop() {
      return new Promise((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
        child.once('exit', () => { clearTimeout(timer); rmSync(dir, { recursive: true, force: true }); resolve(); });
        child.kill('SIGTERM');
      });
    },
  };
}

async function apiGet(srv, path) {
  const res = await fetch(`${srv.base}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  const type = res.headers.get('content-type') || '';
  return { status: res.status, body: type.includes('json') ? await res.json() : await res.text() };
}

// ---- the embedded assets over plain HTTP ----------------------------------------------------

const staticSuite = {
  async 'GET / is the page, public, with a strong ETag and no-cache'(srv) {
    const res = await fetch(`${srv.base}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html; charset=utf-8/);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.match(res.headers.get('etag'), /^"[0-9a-f]{16}"$/);
    assert.match(res.headers.get('content-security-policy'), /connect-src 'self'/);
    const html = await res.text();
    assert.match(html, /<script type="module" src="\/ui\/app.js">/);
    const again = await fetch(`${srv.base}/`, { headers: { 'If-None-Match': res.headers.get('etag') } });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), '');
    const stale = await fetch(`${srv.base}/`, { headers: { 'If-None-Match': '"0000000000000000"' } });
    assert.equal(stale.status, 200);
  },
  async 'every asset has its content type and differs from the others'(srv) {
    const types = { 'app.js': /^text\/javascript/, 'api.js': /^text\/javascript/, 'sse.js': /^text\/javascript/,
      'dag.js': /^text\/javascript/,
      'style.css': /^text\/css/, 'index.html': /^text\/html/ };
    const etags = new Set();
    for (const [name, type] of Object.entries(types)) {
      const res = await fetch(`${srv.base}/ui/${name}`);
      assert.equal(res.status, 200, name);
      assert.match(res.headers.get('content-type'), type, name);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      etags.add(res.headers.get('etag'));
      assert.ok((await res.text()).length > 100, name);
    }
    assert.equal(etags.size, Object.keys(types).length);
  },
  async 'no path outside the embedded names: traversal, encoded slashes, unknown files'(srv) {
    for (const path of ['/ui/..%2Fapp.js', '/ui/%2e%2e%2fCMakeLists.txt', '/ui/missing.js', '/ui/embed_assets.cmake',
      '/ui/.%2Fapp.js', '/ui/app.js%00']) {
      const res = await fetch(`${srv.base}${path}`);
      assert.equal(res.status, 404, path);
      assert.equal((await res.json()).error.type, 'not_found_error', path);
    }
    for (const path of ['/ui/../../etc/passwd', '/ui/a/b', '/ui', '/ui/', '/index.html']) {
      const res = await fetch(`${srv.base}${path}`);
      assert.equal(res.status, 404, path);
    }
    const post = await fetch(`${srv.base}/`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
  },
  async 'the page is public, the API is not'(srv) {
    assert.equal((await fetch(`${srv.base}/v1/runs`)).status, 401);
    assert.equal((await fetch(`${srv.base}/v1/runs`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 200);
  },
};

// ---- the page in Chromium -------------------------------------------------------------------

function statusOf(page) {
  return page.locator('#run-status').textContent();
}

async function waitForRunStatus(page, wanted) {
  await page.waitForFunction((w) => document.getElementById('run-status').textContent === w, wanted,
    { timeout: RUN_TIMEOUT_MS });
}

async function phaseRows(page) {
  return page.$$eval('#phases-table tbody tr', (rows) => rows.map((r) => ({
    phase: r.dataset.phase, status: r.dataset.status, cells: [...r.cells].map((c) => c.textContent),
  })));
}

// Starts `workflow` from the form (with `task` when given) and returns the new run's id.
async function startRun(page, task, workflow = WORKFLOW) {
  await page.goto(`${page.epBase}/#/`);
  await page.waitForSelector(`#submit-workflow option[value="${workflow}"]`, { state: 'attached' });
  await page.selectOption('#submit-workflow', workflow);
  if (task !== undefined) await page.fill('#submit-inputs [data-input="task"]', task);
  await page.click('#submit-button');
  await page.waitForURL(/#\/runs\/[^/]+$/);
  return decodeURIComponent(new URL(page.url()).hash.slice('#/runs/'.length));
}

const pageSuite = {
  async 'without a token the page says how to authenticate'(page) {
    await page.goto(`${page.epBase}/`);
    await page.waitForSelector('#notice:not([hidden])');
    assert.match(await page.textContent('#notice'), /missing bearer token.*enter a bearer token/);
    await page.fill('#token', TOKEN);
    await page.click('#token-form button');
    await page.waitForSelector(`#submit-workflow option[value="${WORKFLOW}"]`, { state: 'attached' });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('ep.token')), TOKEN);
    assert.equal(await page.isHidden('#notice'), true);
    // The form shows the workflow's inputs with their defaults.
    await page.selectOption('#submit-workflow', WORKFLOW);
    assert.equal(await page.inputValue('#submit-inputs [data-input="language"]'), 'C++20');
  },

  async 'a run started from the form streams live and completes with its phases and outputs'(page, srv) {
    const id = await startRun(page, 'a ring buffer for WEB-PAGE-TEST');
    // Live: text and the streamed-token count grow while the run is still running.
    await page.waitForFunction(() => {
      const live = document.querySelector('#live pre');
      return live && live.textContent.length > 0 &&
        Number(document.getElementById('run-live-tokens').textContent) > 0 &&
        document.getElementById('run-status').textContent === 'running';
    }, null, { timeout: RUN_TIMEOUT_MS });
    assert.match(await page.textContent('#stream-state'), /^live/);
    await waitForRunStatus(page, 'completed');
    await page.waitForFunction(() => document.getElementById('stream-state').textContent === 'complete');

    const api = await apiGet(srv, `/v1/runs/${id}`);
    assert.equal(api.status, 200);
    assert.equal(api.body.status, 'completed');
    assert.equal(api.body.inputs.task, 'a ring buffer for WEB-PAGE-TEST', 'the form sent the input');
    // The phase table: every phase of the workflow, completed, with the API's provider, model and tokens.
    await page.waitForFunction((n) => document.querySelectorAll('#phases-table tbody tr[data-status="completed"]').length === n,
      api.body.phases.length);
    const rows = await phaseRows(page);
    assert.deepEqual(rows.map((r) => r.phase), ['design', 'implement', 'review']);
    assert.deepEqual(rows.map((r) => r.cells[1]), ['', 'design', 'implement'], 'each phase names what it needs');
    for (const p of api.body.phases) {
      const r = rows.find((x) => x.phase === p.phase);
      assert.ok(r, p.phase);
      assert.equal(r.status, 'completed');
      assert.equal(r.cells[5], `${p.provider}/${p.model}`);
      assert.equal(r.cells[6], `${p.usage.input_tokens} / ${p.usage.output_tokens}`);
      assert.ok(p.usage.output_tokens > 0);
    }
    assert.equal(await page.textContent('#run-tokens'),
      `${api.body.usage.input_tokens} / ${api.body.usage.output_tokens}`);
    // Outputs: the text phase as the API serves it, and the streamed text is that output.
    const design = await apiGet(srv, `/v1/runs/${id}/outputs/design`);
    assert.equal(design.status, 200);
    assert.ok(design.body.length > 20);
    await page.click('#phases-table tr[data-phase="design"] button');
    await page.waitForFunction(() => document.getElementById('output-phase').textContent === 'design');
    assert.equal(await page.textContent('#output-view'), design.body);
    assert.equal(await page.textContent('#live details[data-phase="design"] pre'), design.body);
    // The JSON phase, pretty-printed, with the schema's verdict.
    await page.click('#phases-table tr[data-phase="review"] button');
    await page.waitForFunction(() => document.getElementById('output-phase').textContent === 'review');
    const review = JSON.parse(await page.textContent('#output-view'));
    assert.ok(['approve', 'request_changes'].includes(review.verdict), JSON.stringify(review));
    // The event log and the attempts table.
    const types = await page.$$eval('#event-log li', (items) => items.map((i) => i.dataset.type));
    assert.equal(types[0], 'run_started');
    assert.equal(types.at(-1), 'run_completed');
    assert.equal(types.filter((t) => t === 'phase_completed').length, 3);
    assert.equal(await page.locator('#attempts-table tbody tr').count(), api.body.attempts.length);
    await page.screenshot({ path: join(shotDir, 'web_page_run.png'), fullPage: true });
    page.epCompletedRun = id;
  },

  async 'cancel stops a running run and resume finishes it, live'(page, srv) {
    const id = await startRun(page, 'cancel me');
    await page.waitForFunction(() => document.getElementById('run-status').textContent === 'running' &&
      !document.getElementById('cancel-run').disabled, null, { timeout: RUN_TIMEOUT_MS });
    await page.click('#cancel-run');
    await waitForRunStatus(page, 'interrupted');
    assert.equal((await apiGet(srv, `/v1/runs/${id}`)).body.status, 'interrupted');
    assert.equal(await page.isDisabled('#resume-run'), false);
    await page.click('#resume-run');
    await waitForRunStatus(page, 'completed');
    const api = await apiGet(srv, `/v1/runs/${id}`);
    assert.equal(api.body.status, 'completed');
    const rows = await phaseRows(page);
    assert.deepEqual(rows.map((r) => r.status), ['completed', 'completed', 'completed']);
  },

  async 'the board lists the runs and its filters narrow them'(page) {
    await page.goto(`${page.epBase}/#/`);
    const id = page.epCompletedRun;
    assert.ok(id, 'the streaming test ran first');
    const row = `#runs-table tr[data-run-id="${id}"]`;
    await page.waitForSelector(row);
    assert.equal(await page.getAttribute(row, 'data-status'), 'completed');
    const cells = await page.$$eval(`${row} td`, (tds) => tds.map((t) => t.textContent));
    assert.equal(cells[1], WORKFLOW);
    assert.match(cells[6], /^\$\d/);
    assert.equal(await page.locator('#runs-table tbody tr').count(), 2);
    await page.selectOption('#filter-status', 'failed');
    await page.waitForSelector('#runs-empty:not([hidden])');
    assert.equal(await page.locator('#runs-table tbody tr').count(), 0);
    await page.selectOption('#filter-status', 'completed');
    await page.waitForSelector(row);
    await page.fill('#filter-workflow', 'no-such-workflow');
    await page.click('#filters button');
    await page.waitForSelector('#runs-empty:not([hidden])');
    await page.fill('#filter-workflow', WORKFLOW);
    await page.click('#filters button');
    await page.waitForSelector(row);
    // A row opens its run.
    await page.click(`${row} td:nth-child(2)`);
    await page.waitForURL(new RegExp(`#/runs/${id}$`));
    await page.waitForFunction(() => document.getElementById('run-status').textContent === 'completed');
  },

  async 'a loop shows one row per stored instance, with its iteration, grouped by phase'(page, srv) {
    const id = await startRun(page, undefined, 'web-loop');
    // The run view clears what it showed of the previous run (its status) before this one loads.
    await page.waitForFunction((want) => document.getElementById('run-id').textContent === want, id);
    await waitForRunStatus(page, 'completed');
    const api = await apiGet(srv, `/v1/runs/${id}`);
    assert.equal(api.body.status, 'completed');
    const stored = api.body.phases.map((p) => `${p.phase}#${p.iteration}`).sort();
    assert.deepEqual(stored, ['check#1', 'check#2', 'check#3', 'draft#1', 'draft#2', 'draft#3', 'wrap#1']);
    // Wait for the table to settle on the stored rows (events arrive before the reload).
    await page.waitForFunction((n) => document.querySelectorAll('#phases-table tbody tr[data-status="completed"]').length === n,
      api.body.phases.length);
    const rows = await page.$$eval('#phases-table tbody tr', (trs) => trs.map((r) => ({
      key: `${r.dataset.phase}#${r.dataset.iteration}`, status: r.dataset.status, iteration: r.cells[2].textContent,
    })));
    assert.deepEqual(rows.map((r) => r.key),
      ['draft#1', 'draft#2', 'draft#3', 'check#1', 'check#2', 'check#3', 'wrap#1'], 'grouped by phase, then iteration');
    assert.deepEqual(rows.map((r) => r.iteration), ['1', '2', '3', '1', '2', '3', ''], 'iterations shown for the loop only');
    assert.ok(rows.every((r) => r.status === 'completed'));
    // The DAG: three boxes, two needs arrows and the loop's way back from check to draft.
    const nodes = await page.$$eval('#dag svg g.node', (gs) => gs.map((g) => `${g.dataset.phase}:${g.dataset.status}`));
    assert.deepEqual(nodes, ['draft:completed', 'check:completed', 'wrap:completed']);
    const edges = await page.$$eval('#dag svg .edge', (es) => es.map((e) => `${e.dataset.from}>${e.dataset.to}`));
    assert.deepEqual(edges, ['draft>check', 'check>wrap']);
    const loops = await page.$$eval('#dag svg .repeat-edge', (es) => es.map((e) => `${e.dataset.from}>${e.dataset.to}:${e.textContent}`));
    assert.deepEqual(loops, ['check>draft:repeat ≤ 3']);
    await page.screenshot({ path: join(shotDir, 'web_page_loop.png'), fullPage: true });
  },

  async 'a waiting approval gate is approved from the page and the run continues'(page, srv) {
    const doc = await apiGet(srv, '/v1/openapi.json');
    if (!doc.body.paths['/v1/runs/{id}/approve']) {
      console.log('note this ep-serve has no POST /v1/runs/{id}/approve: the gate scenario waits for it');
      return 'skipped';
    }
    const id = await startRun(page, undefined, 'web-gate');
    await page.waitForSelector('#gate:not([hidden])', { timeout: RUN_TIMEOUT_MS });
    assert.equal(await page.textContent('#gate-phase'), 'sign_off');
    assert.equal(await page.textContent('#gate-prompt'), 'Ship the draft?');
    await page.fill('#gate-comment', 'looks good');
    await page.click('#approve');
    await waitForRunStatus(page, 'completed');
    const api = await apiGet(srv, `/v1/runs/${id}`);
    assert.equal(api.body.status, 'completed');
    const rows = await phaseRows(page);
    assert.equal(rows.find((r) => r.phase === 'publish').status, 'completed');
    assert.equal(await page.getAttribute('#dag g.node[data-phase="sign_off"]', 'class'), 'node kind-approval status-completed');
  },
};

// The gate panel against answers fulfilled by the browser (no server): what the page shows for
// a waiting gate and what it sends. The end-to-end gate case above needs the server's route.
async function gateContract(context, base) {
  const page = await context.newPage();
  // sessionStorage is per tab: this new tab gets the token as a user would have entered it.
  await page.addInitScript((t) => sessionStorage.setItem('ep.token', t), TOKEN);
  const run = {
    run_id: 'gate-run', workflow: 'web-gate', status: 'waiting', mix: 'A', created: new Date().toISOString(),
    duration_ms: 10, usage: { input_tokens: 1, output_tokens: 2 }, cost_usd: 0, inputs: {}, attempts: [],
    phases: [{ phase: 'draft', status: 'completed', provider: 'openai', model: 'm', usage: { input_tokens: 1,
      output_tokens: 2 }, cost_usd: 0, attempts: 1 }, { phase: 'sign_off', status: 'waiting' }],
    graph: [{ id: 'draft', needs: [] }, { id: 'sign_off', needs: ['draft'] }, { id: 'publish', needs: ['sign_off'] }],
  };
  const decisions = [];
  await page.route(`${base}/v1/runs/gate-run`, (route) => route.fulfill({ json: run }));
  await page.route(`${base}/v1/runs/gate-run/events`, (route) => {
    if (route.request().headers()['last-event-id']) return route.fulfill({ status: 204 });
    return route.fulfill({
      headers: { 'content-type': 'text/event-stream' },
      body: 'id: 7\ndata: {"type":"phase_waiting","phase":"sign_off","prompt":"Ship the draft?"}\n\n' +
        'id: 8\ndata: {"type":"run_completed","status":"waiting"}\n\n',
    });
  });
  for (const verb of ['approve', 'reject'])
    await page.route(`${base}/v1/runs/gate-run/${verb}`, (route) => {
      decisions.push({ verb, body: route.request().postDataJSON(), auth: route.request().headers().authorization });
      return route.fulfill({ status: 202, json: { run_id: 'gate-run', status: 'running' } });
    });
  try {
    await page.goto(`${base}/#/runs/gate-run`);
    await page.waitForSelector('#gate:not([hidden])');
    assert.equal(await page.textContent('#gate-phase'), 'sign_off');
    assert.equal(await page.textContent('#gate-prompt'), 'Ship the draft?');
    assert.equal(await page.isDisabled('#cancel-run'), true, 'a waiting run has nothing to cancel');
    await page.fill('#gate-comment', 'ship it');
    await page.click('#approve');
    await page.waitForFunction(() => document.getElementById('notice').textContent === 'approve: accepted');
    await page.click('#reject');
    await page.waitForFunction(() => document.getElementById('notice').textContent === 'reject: accepted');
    assert.deepEqual(decisions, [
      { verb: 'approve', body: { phase: 'sign_off', comment: 'ship it' }, auth: `Bearer ${TOKEN}` },
      { verb: 'reject', body: { phase: 'sign_off', comment: 'ship it' }, auth: `Bearer ${TOKEN}` },
    ]);
  } finally {
    await page.close();
  }
}

// ---- runner -----------------------------------------------------------------------------------

let passed = 0;
let failures = 0;
let skipped = 0;
async function runCase(name, fn) {
  try {
    const outcome = await fn();
    if (outcome === 'skipped') {
      skipped += 1;
      console.log(`skip ${name}`);
    } else {
      passed += 1;
      console.log(`ok   ${name}`);
    }
  } catch (err) {
    failures += 1;
    console.log(`FAIL ${name}: ${err?.stack ?? err}`);
  }
}

mkdirSync(shotDir, { recursive: true });
const srv = await startServe(['--workflows', join(here, 'workflows')]);
let browser;
try {
  for (const [name, test] of Object.entries(staticSuite)) await runCase(name, () => test(srv));

  browser = await chromium.launch({ executablePath: chromiumPath, headless: true });
  const context = await browser.newContext();
  const allowed = new URL(srv.base).host;
  const blocked = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.host === allowed && url.protocol === 'http:') return route.continue();
    blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.epBase = srv.base;
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.setDefaultTimeout(30000);
  for (const [name, test] of Object.entries(pageSuite)) await runCase(name, () => test(page, srv));
  await runCase('the gate panel shows a waiting gate and sends approve/reject (answers fulfilled by the browser)',
    () => gateContract(context, srv.base));
  await runCase('the page made no request beyond ep-serve and threw no error', () => {
    assert.deepEqual(blocked, []);
    assert.deepEqual(pageErrors, []);
  });
  await page.screenshot({ path: join(shotDir, 'web_page_last.png'), fullPage: true }).catch(() => {});
} finally {
  if (browser) await browser.close();
  await srv.stop();
}
console.log(`${passed} passed, ${failures} failed, ${skipped} skipped`);
process.exit(failures === 0 && passed > 0 ? 0 : 1);
