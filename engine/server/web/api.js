// ep-serve's HTTP API as the page uses it: the bearer token (kept in sessionStorage, so it
// lives as long as the tab and is never written to disk by the page), JSON calls that turn
// `{error: {type, message}}` into thrown errors, and a run's event stream followed with fetch().
//
// Why fetch() and not EventSource: ep-serve authenticates every /v1 route, the event stream
// included, with `Authorization: Bearer TOKEN` only (no token in the URL, where it would end up
// in logs), and EventSource cannot send headers. The follower below does what EventSource does:
// it decodes the stream, remembers the last `id:`, and reconnects with `Last-Event-ID` after the
// server's `retry:` delay, so a dropped connection resumes with nothing missed and nothing twice.

import { SseDecoder } from './sse.js';

const TOKEN_KEY = 'ep.token';

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function authHeaders(extra = {}) {
  const token = getToken();
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

export class ApiError extends Error {
  constructor(status, body) {
    const err = body && body.error ? body.error : null;
    super(err && err.message ? err.message : `HTTP ${status}`);
    this.status = status;
    this.type = err ? err.type : 'http_error';
    this.problems = err && Array.isArray(err.problems) ? err.problems : [];
  }
}

async function parseBody(res) {
  const type = res.headers.get('content-type') || '';
  if (res.status === 204) return null;
  if (type.includes('application/json')) return res.json();
  return res.text();
}

/** GET or POST `path`; resolves to the parsed body, rejects with an ApiError. */
export async function call(method, path, body) {
  const init = { method, headers: authHeaders(), cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const parsed = await parseBody(res);
  if (!res.ok) throw new ApiError(res.status, typeof parsed === 'object' ? parsed : null);
  return parsed;
}

export const api = {
  workflows: () => call('GET', '/v1/workflows'),
  runs: (query) => call('GET', `/v1/runs?${new URLSearchParams(query)}`),
  run: (id) => call('GET', `/v1/runs/${encodeURIComponent(id)}`),
  output: (id, phase) => call('GET', `/v1/runs/${encodeURIComponent(id)}/outputs/${encodeURIComponent(phase)}`),
  submit: (body) => call('POST', '/v1/runs', body),
  action: (id, verb, body = {}) => call('POST', `/v1/runs/${encodeURIComponent(id)}/${verb}`, body),
};

const DEFAULT_RETRY_MS = 1000;

/**
 * Follows the events of run `id` until run_completed, stop() or an error the server means
 * (4xx). `onEvent(json, id)` gets every event once; `onState(text)` the connection's state.
 * `fromId`: the last event id already seen (a run followed again after resume or approve).
 * Returns { stop(), lastEventId() }.
 */
export function followEvents(id, onEvent, onState, fromId = '') {
  let lastId = fromId;
  let stopped = false;
  let controller = null;
  let retryMs = DEFAULT_RETRY_MS;

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function once() {
    controller = new AbortController();
    const headers = authHeaders({ Accept: 'text/event-stream' });
    if (lastId) headers['Last-Event-ID'] = lastId;
    const res = await fetch(`/v1/runs/${encodeURIComponent(id)}/events`, {
      headers, signal: controller.signal, cache: 'no-store',
    });
    if (res.status === 204) return 'done'; // we have every event of a finished run
    if (!res.ok) {
      const body = await parseBody(res).catch(() => null);
      throw new ApiError(res.status, typeof body === 'object' ? body : null);
    }
    onState(lastId ? 'live (resumed)' : 'live');
    const decoder = new SseDecoder();
    const text = new TextDecoder();
    const reader = res.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const ev of decoder.push(text.decode(value, { stream: true }))) {
        lastId = ev.id;
        let parsed;
        try { parsed = JSON.parse(ev.data); } catch { continue; }
        onEvent(parsed, ev.id);
        if (parsed.type === 'run_completed') return 'done';
      }
      if (decoder.retryMs !== null) retryMs = decoder.retryMs;
    }
    return 'ended';
  }

  (async () => {
    while (!stopped) {
      let outcome;
      try {
        outcome = await once();
      } catch (err) {
        if (stopped) return;
        if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
          onState(`stopped: ${err.message}`);
          return;
        }
        outcome = 'error';
      }
      if (outcome === 'done') {
        onState('complete');
        return;
      }
      onState('reconnecting…');
      await sleep(retryMs);
    }
  })();

  return {
    stop() {
      stopped = true;
      if (controller) controller.abort();
    },
    lastEventId: () => lastId,
  };
}
