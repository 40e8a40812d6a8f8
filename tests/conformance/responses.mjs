// The official `openai` node SDK's Responses API client against the emulator's /v1/responses.

import OpenAI from 'openai';
import { assert, assertEq, weatherSchema } from './lib/emulator.mjs';

const client = (emu) => new OpenAI({ apiKey: 'sk-conformance', baseURL: `${emu.base}/v1`, maxRetries: 0 });
const base = { model: 'emu-gpt', instructions: 'You are the architect of this project.', input: 'Design a rate limiter' };
const tools = [{ type: 'function', name: 'get_weather', description: 'weather', parameters: weatherSchema, strict: false }];

export default {
  async 'responses: streaming text through the SDK accumulator'(emu) {
    const stream = client(emu).responses.stream(base);
    let deltas = 0;
    stream.on('response.output_text.delta', () => { deltas += 1; });
    const final = await stream.finalResponse();
    assertEq(final.status, 'completed', 'status');
    assert(final.output_text.startsWith('[emulated architect via openai_responses]'), `marked answer, got ${final.output_text.slice(0, 60)}`);
    assert(deltas > 5, `several deltas, got ${deltas}`);
    assert(final.usage.input_tokens > 0 && final.usage.output_tokens > 0, 'usage');
    const whole = await client(emu).responses.create(base);
    assertEq(whole.output_text, final.output_text, 'stream and non-stream give the same text');
  },

  async 'responses: raw event iteration ends with response.completed'(emu) {
    const events = await client(emu).responses.create({ ...base, stream: true });
    const types = [];
    for await (const ev of events) types.push(ev.type);
    assertEq(types[0], 'response.created', 'first event');
    assertEq(types[types.length - 1], 'response.completed', 'last event');
    assert(types.includes('response.content_part.added') && types.includes('response.output_item.done'), 'item events');
  },

  async 'responses: function call, then its output answered in text'(emu) {
    const final = await client(emu).responses.stream({ ...base, input: 'Weather in Paris?', tools }).finalResponse();
    const call = final.output.find((o) => o.type === 'function_call');
    assert(call, 'a function_call output item');
    assertEq(call.name, 'get_weather', 'name');
    assertEq(typeof JSON.parse(call.arguments).city, 'string', 'arguments accumulated from deltas');
    const answer = await client(emu).responses.create({
      ...base, tools,
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: '18C, cloudy' },
      ],
    });
    assert(answer.output_text.includes('18C, cloudy'), 'answer uses the tool output');
  },

  async 'responses: JSON schema output'(emu) {
    const schema = { type: 'object', properties: { title: { type: 'string' }, ok: { type: 'boolean' } }, required: ['title', 'ok'], additionalProperties: false };
    const r = await client(emu).responses.create({ ...base, text: { format: { type: 'json_schema', name: 'plan', schema, strict: true } } });
    const value = JSON.parse(r.output_text);
    assertEq(typeof value.title, 'string', 'title');
    assertEq(value.ok, true, 'ok');
  },

  async 'responses: reasoning item carried into the next turn'(emu) {
    const first = await client(emu).responses.create({
      ...base, input: 'Weather in Paris?', tools, store: false,
      reasoning: { effort: 'low' }, include: ['reasoning.encrypted_content'],
    });
    const reasoning = first.output.find((o) => o.type === 'reasoning');
    const call = first.output.find((o) => o.type === 'function_call');
    assert(reasoning && reasoning.encrypted_content, 'an encrypted reasoning item');
    assertEq(first.usage.output_tokens_details.reasoning_tokens, 16, 'reasoning tokens for low effort');
    const next = await client(emu).responses.create({
      ...base, tools, store: false, reasoning: { effort: 'low' }, include: ['reasoning.encrypted_content'],
      input: [{ role: 'user', content: 'Weather in Paris?' }, reasoning, call,
        { type: 'function_call_output', call_id: call.call_id, output: '18C' }],
    });
    assertEq(next.status, 'completed', 'the follow-up with its reasoning item is accepted');
  },

  async 'responses: 429 error shape'(emu) {
    try {
      await client(emu).responses.create({ ...base, model: 'emu-fault:429,retry-after=3' });
      throw new Error('expected an error');
    } catch (err) {
      assert(err instanceof OpenAI.RateLimitError, `RateLimitError, got ${err}`);
      assertEq(err.code, 'rate_limit_exceeded', 'error code');
      assertEq(err.headers.get('retry-after'), '3', 'retry-after header');
    }
  },
};
