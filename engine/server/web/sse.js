// A sans-I/O decoder of the Server-Sent Events wire format (the WHATWG "event stream"
// interpretation): feed it text in pieces of any size, get whole events back. The page reads
// /v1/runs/{id}/events with fetch() rather than EventSource because EventSource cannot send the
// Authorization header that ep-serve requires; this decoder is what EventSource would do inside.
// It is tested at every split of a stream in tests/web/sse_decoder.test.mjs.

export class SseDecoder {
  constructor() {
    this.pending = '';     // text after the last complete line
    this.data = [];        // data lines of the event being read
    this.eventType = '';
    this.lastEventId = ''; // persists across events, as the spec says
    this.retryMs = null;   // the server's last `retry:` value
    this.sawCarriageReturn = false;
  }

  /** Decodes `text` (any piece of the stream); returns the events it completed, in order. */
  push(text) {
    const events = [];
    let chunk = this.pending + text;
    // A CR at the end of a piece may be the first half of CRLF: keep it for the next piece.
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c !== '\n' && c !== '\r') continue;
      if (c === '\r' && i + 1 === chunk.length) break;
      const line = chunk.slice(start, i);
      if (c === '\r' && chunk[i + 1] === '\n') i++;
      start = i + 1;
      const ev = this.line(line);
      if (ev) events.push(ev);
    }
    this.pending = chunk.slice(start);
    return events;
  }

  line(line) {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null; // a comment: the server's keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.eventType = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^[0-9]+$/.test(value)) this.retryMs = Number(value);
    return null;
  }

  dispatch() {
    if (this.data.length === 0) {
      this.eventType = '';
      return null;
    }
    const ev = { type: this.eventType || 'message', data: this.data.join('\n'), id: this.lastEventId };
    this.data = [];
    this.eventType = '';
    return ev;
  }
}
