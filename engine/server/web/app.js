// ep-serve's runs board: the list of runs with filters, the start form, and one run's page
// (phases and instances, live text and tokens from the event stream, outputs, cancel/resume,
// approve/reject of a waiting gate). Routing is by the URL hash: #/ the board, #/runs/ID a run.
// Everything from the server is put on the page as text (textContent), never as HTML.

import { api, ApiError, followEvents, getToken, setToken } from './api.js';
import { renderDag } from './dag.js';

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 3000;

// ---- small helpers --------------------------------------------------------------------------

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    if (c instanceof Node) td.append(c);
    else td.textContent = c === undefined || c === null ? '' : String(c);
    tr.append(td);
  }
  return tr;
}

function statusBadge(status) {
  return el('span', status, `status status-${status}`);
}

function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function fmtDuration(ms) {
  if (ms === undefined || ms === null) return '';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return s < 120 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

// null is an unknown cost (a model without a price), never $0.
function fmtCost(usd) {
  if (usd === null) return 'unknown';
  return typeof usd === 'number' ? `$${usd.toFixed(usd < 0.01 ? 6 : 4)}` : '';
}

// A run's total: "≥ $X (N unpriced)" when some phases have no price.
function fmtTotalCost(r) {
  if (r.unpriced_phases > 0) return `≥ ${fmtCost(r.cost_usd_known)} (${r.unpriced_phases} unpriced)`;
  return fmtCost(r.cost_usd);
}

function fmtTokens(usage) {
  return usage ? `${usage.input_tokens ?? 0} / ${usage.output_tokens ?? 0}` : '';
}

function notice(message, kind = 'error') {
  const n = $('notice');
  n.textContent = message;
  n.className = kind === 'info' ? 'info' : '';
  n.hidden = !message;
}

function reportError(err) {
  if (err instanceof ApiError && err.status === 401) {
    notice(`${err.message}: enter a bearer token above`);
    return;
  }
  notice(err instanceof Error ? err.message : String(err));
}

// ---- the token field ------------------------------------------------------------------------

function initToken() {
  $('token').value = getToken();
  $('token-state').textContent = getToken() ? 'token set for this tab' : 'no token';
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    setToken($('token').value.trim());
    $('token-state').textContent = getToken() ? 'token set for this tab' : 'no token';
    notice('');
    route();
  });
}

// ---- the board: runs list and filters ------------------------------------------------------

const board = { cursor: null, timer: null, workflows: [] };

function runQuery(cursor) {
  const q = { limit: '50' };
  if ($('filter-status').value) q.status = $('filter-status').value;
  if ($('filter-workflow').value.trim()) q.workflow = $('filter-workflow').value.trim();
  if (cursor) q.cursor = cursor;
  return q;
}

function runRow(r) {
  const link = el('a', r.run_id);
  link.href = `#/runs/${encodeURIComponent(r.run_id)}`;
  const tr = row([link, r.workflow, statusBadge(r.status), fmtTime(r.created), fmtDuration(r.duration_ms),
    fmtTokens(r.usage), fmtTotalCost(r), r.mix]);
  tr.dataset.runId = r.run_id;
  tr.dataset.status = r.status;
  tr.addEventListener('click', (e) => {
    if (e.target.tagName !== 'A') location.hash = `#/runs/${encodeURIComponent(r.run_id)}`;
  });
  return tr;
}

async function loadRuns(append = false) {
  try {
    const page = await api.runs(runQuery(append ? board.cursor : null));
    const body = $('runs-table').tBodies[0];
    if (!append) body.replaceChildren();
    for (const r of page.runs) body.append(runRow(r));
    board.cursor = page.next_cursor;
    $('more-runs').hidden = !page.next_cursor;
    $('runs-empty').hidden = body.rows.length > 0;
  } catch (err) {
    reportError(err);
  }
}

function scheduleRefresh() {
  clearTimeout(board.timer);
  if (!$('board-view').hidden && $('auto-refresh').checked)
    board.timer = setTimeout(async () => {
      await loadRuns();
      scheduleRefresh();
    }, REFRESH_MS);
}

// ---- the start form -------------------------------------------------------------------------

function inputField(spec) {
  const label = el('label');
  const title = `${spec.name}${spec.required ? ' *' : ''}${spec.type && spec.type !== 'string' ? ` (${spec.type})` : ''}`;
  label.append(el('span', title));
  const multiline = spec.type === 'file' || spec.type === 'text';
  const input = document.createElement(multiline ? 'textarea' : 'input');
  input.name = spec.name;
  input.dataset.input = spec.name;
  if (spec.default !== undefined && spec.default !== null) input.value = String(spec.default);
  if (spec.required) input.required = true;
  label.append(input);
  if (spec.description) label.append(el('small', spec.description, 'muted'));
  return label;
}

function showWorkflowInputs() {
  const wf = board.workflows.find((w) => w.name === $('submit-workflow').value);
  const box = $('submit-inputs');
  box.replaceChildren(el('legend', 'Inputs'));
  $('workflow-description').textContent = wf ? (wf.description || wf.error || '') : '';
  for (const spec of (wf && wf.inputs) || []) box.append(inputField(spec));
  if (!wf || !wf.inputs || wf.inputs.length === 0) box.append(el('p', 'This workflow takes no inputs.', 'muted'));
}

// Loaded once per page (or until it first succeeds): re-rendering the form on every visit to
// the board would wipe inputs being typed.
async function loadWorkflows() {
  if (board.workflows.length > 0) return;
  try {
    const { workflows } = await api.workflows();
    board.workflows = workflows;
    const select = $('submit-workflow');
    const previous = select.value;
    select.replaceChildren();
    for (const w of workflows) {
      const o = el('option', w.error ? `${w.name} (invalid)` : w.name);
      o.value = w.name;
      o.disabled = Boolean(w.error);
      select.append(o);
    }
    if (previous && workflows.some((w) => w.name === previous)) select.value = previous;
    showWorkflowInputs();
  } catch (err) {
    reportError(err);
  }
}

async function submitRun(e) {
  e.preventDefault();
  const errors = $('submit-errors');
  errors.replaceChildren();
  const inputs = {};
  for (const field of $('submit-inputs').querySelectorAll('[data-input]'))
    if (field.value !== '') inputs[field.dataset.input] = field.value;
  const body = { workflow: $('submit-workflow').value, inputs };
  if ($('submit-mix').value) body.config = $('submit-mix').value;
  $('submit-button').disabled = true;
  try {
    const started = await api.submit(body);
    location.hash = `#/runs/${encodeURIComponent(started.run_id)}`;
  } catch (err) {
    errors.append(el('li', err.message));
    for (const p of err.problems || []) {
      const where = p.line ? `${p.file ?? ''}:${p.line}:${p.column ?? ''} ` : '';
      errors.append(el('li', `${where}${p.message}`));
    }
  } finally {
    $('submit-button').disabled = false;
  }
}

// ---- one run ----------------------------------------------------------------------------------

// The run shown now: its details from GET /v1/runs/{id}, the instances the events told us about
// since, and the stream that follows it.
const current = {
  id: null, run: null, stream: null, instances: new Map(), needs: new Map(), liveTokens: 0, gate: null, reload: null,
};

// One row per phase instance, named as the store names it: (phase, iteration, item). Events
// carry `iteration` only inside a loop and the store says 1 outside one, so a missing iteration
// is 1; the graph's placeholder row of a phase is its first instance.
function instanceKey(phase, iteration, item) {
  return `${phase}\u0000${iteration ?? 1}\u0000${item ?? ''}`;
}

function instanceFrom(p) {
  return {
    phase: p.phase, iteration: p.iteration, item: p.item, status: p.status, provider: p.provider,
    model: p.model, usage: p.usage, cost_usd: p.cost_usd, duration_ms: p.duration_ms, attempts: p.attempts,
    error: p.error, prompt: p.prompt,
  };
}

function renderSummary() {
  const r = current.run;
  if (!r) return;
  $('run-id').textContent = r.run_id;
  const badge = $('run-status');
  badge.textContent = r.status;
  badge.className = `status status-${r.status}`;
  $('run-workflow').textContent = r.workflow;
  $('run-mix').textContent = r.mix;
  $('run-started').textContent = fmtTime(r.created);
  $('run-duration').textContent = fmtDuration(r.duration_ms);
  $('run-tokens').textContent = fmtTokens(r.usage);
  $('run-cost').textContent = fmtTotalCost(r);
  $('run-live-tokens').textContent = String(current.liveTokens);
  $('run-error').hidden = !r.error;
  $('run-error').textContent = r.error || '';
  const finished = ['completed', 'failed', 'interrupted'].includes(r.status);
  $('cancel-run').disabled = finished || r.status === 'waiting';
  $('resume-run').disabled = !['failed', 'interrupted'].includes(r.status);
}

function outputButton(inst) {
  if (inst.status !== 'completed') return '';
  const b = el('button', 'Show');
  b.type = 'button';
  b.dataset.phase = inst.phase;
  b.addEventListener('click', () => showOutput(inst.phase));
  return b;
}

function renderPhases() {
  renderDag($('dag'), current.run?.graph, [...current.instances.values()]);
  const body = $('phases-table').tBodies[0];
  body.replaceChildren();
  // The iteration column is filled for the phases that ran more than once (a loop's body).
  const looped = new Set([...current.instances.values()].filter((i) => (i.iteration ?? 1) > 1).map((i) => i.phase));
  // Grouped by phase in workflow order, then by iteration and item.
  const order = [...current.needs.keys()];
  const rank = (i) => [order.indexOf(i.phase), i.iteration ?? 1, i.item ?? -1];
  const instances = [...current.instances.values()].sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
  for (const inst of instances) {
    const needs = (current.needs.get(inst.phase) || []).join(', ');
    const iteration = looped.has(inst.phase) ? inst.iteration ?? 1 : '';
    const tr = row([inst.phase, needs, iteration, inst.item ?? '', statusBadge(inst.status || 'pending'),
      inst.provider ? `${inst.provider}/${inst.model}` : '', fmtTokens(inst.usage), fmtCost(inst.cost_usd),
      fmtDuration(inst.duration_ms), inst.attempts ?? '', outputButton(inst)]);
    tr.dataset.phase = inst.phase;
    tr.dataset.iteration = String(inst.iteration ?? 1);
    if (inst.item !== undefined && inst.item !== null) tr.dataset.item = String(inst.item);
    tr.dataset.status = inst.status || 'pending';
    if (inst.error) tr.title = inst.error;
    body.append(tr);
  }
  renderGate();
}

function renderAttempts(attempts) {
  const body = $('attempts-table').tBodies[0];
  body.replaceChildren();
  for (const a of attempts || [])
    body.append(row([a.phase, a.attempt, `${a.provider}/${a.model}`, a.outcome, a.http_status ?? '',
      fmtDuration(a.latency_ms), a.error ?? '']));
}

function renderGate() {
  const waiting = [...current.instances.values()].find((i) => i.status === 'waiting');
  current.gate = waiting || null;
  $('gate').hidden = !waiting;
  if (waiting) {
    $('gate-phase').textContent = waiting.phase;
    $('gate-prompt').textContent = waiting.prompt || '';
  }
}

// The stored state: phases in workflow order (the graph), with the rows the store has.
function applyRunDetails(run) {
  current.run = run;
  const previous = current.instances;
  current.instances = new Map();
  current.needs = new Map((run.graph || []).map((g) => [g.id, g.needs || []]));
  for (const g of run.graph || [])
    current.instances.set(instanceKey(g.id), { phase: g.id, status: 'pending' });
  for (const p of run.phases || []) {
    const inst = instanceFrom(p);
    const old = previous.get(instanceKey(p.phase, p.iteration, p.item));
    if (old && old.prompt && !inst.prompt) inst.prompt = old.prompt;
    current.instances.set(instanceKey(p.phase, p.iteration, p.item), inst);
  }
  // Instances the events announced that the store has not returned yet stay visible.
  for (const [key, inst] of previous)
    if (!current.instances.has(key) && inst.status !== 'pending') current.instances.set(key, inst);
  renderSummary();
  renderPhases();
  renderAttempts(run.attempts);
}

async function reloadRun() {
  if (!current.id) return;
  const id = current.id;
  try {
    const run = await api.run(id);
    if (current.id === id) applyRunDetails(run);
  } catch (err) {
    reportError(err);
  }
}

// Reloads at most once per 300 ms however many events arrive.
function reloadSoon() {
  if (current.reload) return;
  current.reload = setTimeout(async () => {
    current.reload = null;
    await reloadRun();
  }, 300);
}

function liveBox(phase) {
  let box = [...$('live').children].find((d) => d.dataset.phase === phase);
  if (!box) {
    box = el('details');
    box.open = true;
    box.dataset.phase = phase;
    box.append(el('summary', phase), el('pre'));
    $('live').append(box);
  }
  return box.querySelector('pre');
}

function logEvent(ev) {
  const fields = { ...ev };
  delete fields.type; delete fields.ts; delete fields.run_id;
  if (ev.type === 'text_delta') return; // the live text shows those
  if (typeof fields.output === 'string' && fields.output.length > 80) fields.output = `${fields.output.slice(0, 80)}…`;
  const item = el('li', `${ev.ts ? ev.ts.slice(11, 23) : ''} ${ev.type} ${JSON.stringify(fields)}`);
  item.dataset.type = ev.type;
  $('event-log').append(item);
}

function touch(ev) {
  const key = instanceKey(ev.phase, ev.iteration, ev.item);
  let inst = current.instances.get(key);
  if (!inst) {
    inst = { phase: ev.phase, iteration: ev.iteration, item: ev.item, status: 'pending' };
    current.instances.set(key, inst);
  }
  return inst;
}

function onEvent(ev) {
  logEvent(ev);
  switch (ev.type) {
    case 'phase_started': {
      const inst = touch(ev);
      Object.assign(inst, { status: 'running', provider: ev.provider, model: ev.model, attempts: ev.attempt });
      break;
    }
    case 'text_delta': {
      liveBox(ev.phase).textContent += ev.text;
      current.liveTokens += 1; // the emulator and the providers stream about a token a delta
      $('run-live-tokens').textContent = String(current.liveTokens);
      return;
    }
    case 'phase_completed':
      Object.assign(touch(ev), { status: 'completed', provider: ev.provider, model: ev.model, usage: ev.usage,
        cost_usd: ev.cost_usd });
      reloadSoon();
      break;
    case 'phase_failed':
      Object.assign(touch(ev), { status: 'failed', error: ev.error });
      reloadSoon();
      break;
    case 'phase_skipped':
      Object.assign(touch(ev), { status: 'skipped', error: ev.reason });
      break;
    case 'phase_waiting':
      Object.assign(touch(ev), { status: 'waiting', prompt: ev.prompt });
      break;
    case 'approval_recorded':
      Object.assign(touch(ev), { status: ev.decision === 'approve' || ev.decision === 'approved' ? 'completed' : 'failed' });
      reloadSoon();
      break;
    case 'run_started':
      if (current.run) current.run.status = 'running';
      break;
    case 'run_completed':
      reloadSoon();
      break;
    default:
      break;
  }
  if (current.run && ev.type !== 'run_completed') {
    if (current.run.status !== 'running' && ev.type === 'phase_started') current.run.status = 'running';
    renderSummary();
  }
  renderPhases();
}

// Follows the run's events; a second call (after resume or approve) continues after the last
// event the page has, so nothing is shown twice.
function follow(id) {
  const from = current.stream ? current.stream.lastEventId() : '';
  if (current.stream) current.stream.stop();
  current.stream = followEvents(id, onEvent, (state) => {
    $('stream-state').textContent = state;
    // The stream ended: show the stored end state (again a moment later, in case the store
    // recorded the run's status just after its last event).
    if (state === 'complete') {
      reloadSoon();
      setTimeout(reloadRun, 1500);
    }
  }, from);
}

async function showOutput(phase) {
  try {
    const out = await api.output(current.id, phase);
    $('output-phase').textContent = phase;
    $('output-view').textContent = typeof out === 'string' ? out : JSON.stringify(out, null, 2);
    $('output-section').hidden = false;
  } catch (err) {
    reportError(err);
  }
}

async function act(verb, body) {
  try {
    await api.action(current.id, verb, body);
    notice(`${verb}: accepted`, 'info');
    await reloadRun();
    // Resume and a decided gate continue the run: follow it again from the last event seen.
    if (verb !== 'cancel') follow(current.id);
  } catch (err) {
    reportError(err);
  }
}

function decideGate(verb) {
  if (!current.gate) return;
  const body = { phase: current.gate.phase };
  const comment = $('gate-comment').value.trim();
  if (comment) body.comment = comment;
  act(verb, body);
}

async function openRun(id) {
  if (current.stream) current.stream.stop();
  Object.assign(current,
    { id, run: null, stream: null, instances: new Map(), needs: new Map(), liveTokens: 0, gate: null });
  for (const box of ['live', 'event-log']) $(box).replaceChildren();
  $('output-section').hidden = true;
  $('phases-table').tBodies[0].replaceChildren();
  $('attempts-table').tBodies[0].replaceChildren();
  $('run-id').textContent = id;
  // Nothing of the run shown before may stay on screen while this one loads (its status would
  // read as this run's).
  $('run-status').textContent = 'loading…';
  $('run-status').className = 'status';
  for (const f of ['run-workflow', 'run-mix', 'run-started', 'run-duration', 'run-tokens', 'run-cost'])
    $(f).textContent = '';
  $('dag').replaceChildren();
  $('stream-state').textContent = 'connecting…';
  await reloadRun();
  if (current.id === id && current.run) follow(id);
}

// ---- routing ----------------------------------------------------------------------------------

function route() {
  const m = /^#\/runs\/([^/]+)$/.exec(location.hash);
  $('board-view').hidden = Boolean(m);
  $('run-view').hidden = !m;
  notice('');
  if (m) {
    clearTimeout(board.timer);
    openRun(decodeURIComponent(m[1]));
  } else {
    if (current.stream) current.stream.stop();
    current.id = null;
    loadWorkflows();
    loadRuns().then(scheduleRefresh);
  }
}

function init() {
  initToken();
  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    loadRuns();
  });
  $('filter-status').addEventListener('change', () => loadRuns());
  $('auto-refresh').addEventListener('change', scheduleRefresh);
  $('more-runs').addEventListener('click', () => loadRuns(true));
  $('submit-workflow').addEventListener('change', showWorkflowInputs);
  $('submit-form').addEventListener('submit', submitRun);
  $('cancel-run').addEventListener('click', () => act('cancel', {}));
  $('resume-run').addEventListener('click', () => act('resume', {}));
  $('approve').addEventListener('click', () => decideGate('approve'));
  $('reject').addEventListener('click', () => decideGate('reject'));
  window.addEventListener('hashchange', route);
  route();
}

init();
