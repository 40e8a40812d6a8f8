// The page's SSE decoder (engine/server/web/sse.js) at every split of a stream: the events
// must not depend on how the network cut the bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseDecoder } from '../../engine/server/web/sse.js';

const stream =
  'retry: 1000\n\n' +
  ': keep-alive\n\n' +
  'id: 1\ndata: {"type":"run_started"}\n\n' +
  'id: 2\r\ndata: {"type":"text_delta",\r\ndata: "text":"a b"}\r\n\r\n' +
  'event: custom\rid: 3\rdata:no-space\r\r' +
  'data\n\n' +
  'id: 4\ndata: {"type":"run_completed"}\n\n' +
  'id: 5\ndata: unterminated';

const expected = [
  { type: 'message', id: '1', data: '{"type":"run_started"}' },
  { type: 'message', id: '2', data: '{"type":"text_delta",\n"text":"a b"}' },
  { type: 'custom', id: '3', data: 'no-space' },
  { type: 'message', id: '3', data: '' },
  { type: 'message', id: '4', data: '{"type":"run_completed"}' },
];

function decodeIn(pieces) {
  const d = new SseDecoder();
  const out = [];
  for (const p of pieces) out.push(...d.push(p));
  return { out, retry: d.retryMs };
}

test('whole stream', () => {
  const { out, retry } = decodeIn([stream]);
  assert.deepEqual(out, expected);
  assert.equal(retry, 1000);
});

test('every split into two pieces', () => {
  for (let i = 0; i <= stream.length; i++) {
    const { out } = decodeIn([stream.slice(0, i), stream.slice(i)]);
    assert.deepEqual(out, expected, `split at ${i}`);
  }
});

test('every split into three pieces', () => {
  for (let i = 0; i <= stream.length; i += 3)
    for (let j = i; j <= stream.length; j++) {
      const { out } = decodeIn([stream.slice(0, i), stream.slice(i, j), stream.slice(j)]);
      assert.deepEqual(out, expected, `split at ${i} and ${j}`);
    }
});

test('one character at a time', () => {
  assert.deepEqual(decodeIn([...stream]).out, expected);
});

test('a comment or an empty event dispatches nothing', () => {
  assert.deepEqual(decodeIn([': only a comment\n\n\n\n']).out, []);
});
