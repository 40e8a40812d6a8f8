// The official `openai` node SDK against the emulator's /v1/chat/completions.

import OpenAI from 'openai';
import { assert, assertEq, weatherSchema } from './lib/emulator.mjs';

const client = (emu) => new OpenAI({ apiKey: 'sk-conformance', baseURL: `${emu.base}/v1`, maxRetries: 0 });
const architect = [
  { role: 'system', content: 'You are the architect of this project.' },
  { role: 'user', content: 'Design a rate limiter' },
];
const tools = [{ type: 'function', function: { name: 'get_weather', description: 'weather', parameters: weatherSchema } }];

export default {
  async 'openai: non-streaming text'(emu) {
    const r = await client(emu).chat.completions.create({ model: 'emu-gpt', messages: architect });
    const text = r.choices[0].message.content;
    assert(text.startsWith('[emulated architect via openai]'), `marked answer, got ${text.slice(0, 60)}`);
    assert(text.includes('## Components'), 'an architect answers with a design');
    assertEq(r.choices[0].finish_reason, 'stop', 'finish_reason');
    assert(r.usage.completion_tokens > 0 && r.usage.prompt_tokens > 0, 'usage');
  },

  async 'openai: streaming text with usage'(emu) {
    const stream = await client(emu).chat.completions.create({
      model: 'emu-gpt', messages: architect, stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let finish = null;
    let usage = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text += c.delta?.content ?? '';
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    assert(chunks > 5, `several chunks, got ${chunks}`);
    assert(text.startsWith('[emulated architect via openai]'), 'streamed text reassembles');
    assertEq(finish, 'stop', 'finish_reason');
    assert(usage && usage.total_tokens === usage.prompt_tokens + usage.completion_tokens, 'usage chunk');
    // Same request, same answer: the emulator is deterministic.
    const again = await client(emu).chat.completions.create({ model: 'emu-gpt', messages: architect });
    assertEq(again.choices[0].message.content, text, 'stream and non-stream give the same text');
  },

  async 'openai: streaming tool call (SDK accumulator)'(emu) {
    const runner = client(emu).chat.completions.stream({
      model: 'emu-gpt', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools,
    });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0].message.tool_calls[0];
    assertEq(call.function.name, 'get_weather', 'tool name');
    const args = JSON.parse(call.function.arguments);
    assertEq(typeof args.city, 'string', 'required argument filled');
    assertEq(final.choices[0].finish_reason, 'tool_calls', 'finish_reason');
  },

  async 'openai: tool result answered in text'(emu) {
    const r = await client(emu).chat.completions.create({
      model: 'emu-gpt', tools,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '18C, cloudy' },
      ],
    });
    assert(r.choices[0].message.content.includes('18C, cloudy'), 'answer uses the tool result');
    assertEq(r.choices[0].finish_reason, 'stop', 'finish_reason');
  },

  async 'openai: JSON schema output'(emu) {
    const r = await client(emu).chat.completions.create({
      model: 'emu-gpt', messages: architect,
      response_format: { type: 'json_schema', json_schema: { name: 'plan', schema: { type: 'object', properties: { title: { type: 'string' }, steps: { type: 'array', items: { type: 'string' } }, ok: { type: 'boolean' } }, required: ['title', 'steps', 'ok'] } } },
    });
    const value = JSON.parse(r.choices[0].message.content);
    assertEq(typeof value.title, 'string', 'title');
    assert(Array.isArray(value.steps), 'steps');
    assertEq(value.ok, true, 'ok');
  },

  async 'openai: 429 error shape with retry-after'(emu) {
    try {
      await client(emu).chat.completions.create({ model: 'emu-fault:429,retry-after=3', messages: architect });
      throw new Error('expected an error');
    } catch (err) {
      assert(err instanceof OpenAI.RateLimitError, `RateLimitError, got ${err}`);
      assertEq(err.status, 429, 'status');
      assertEq(err.headers.get('retry-after'), '3', 'retry-after header');
      assertEq(err.code, 'rate_limit_exceeded', 'error code');
    }
  },

  async 'openai: content filter'(emu) {
    const r = await client(emu).chat.completions.create({ model: 'emu-fault:content-filter', messages: architect });
    assertEq(r.choices[0].finish_reason, 'content_filter', 'finish_reason');
  },
};
