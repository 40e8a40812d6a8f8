// ep-serve's OpenAI-compatible gateway driven by the official `openai` SDK, with the EP emulator
// as every provider's upstream: non-streaming and streaming (with usage), tools through the
// SDK's stream accumulator, JSON schema output, the x-ep-* headers, OpenAI-shaped errors the SDK
// turns into its own error classes, and a stream cut after output that the SDK reports as an
// error (never a complete answer). Plus one `curl -N` stream.

import OpenAI from 'openai';
import { spawn } from 'node:child_process';
import { assert, assertEq, weatherSchema } from './lib/emulator.mjs';

const client = (gw, extra = {}) => new OpenAI({ apiKey: gw.token, baseURL: `${gw.base}/v1`, maxRetries: 0, ...extra });
const tools = [{ type: 'function', function: { name: 'get_weather', description: 'weather', parameters: weatherSchema } }];

function curl(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

export default {
  async 'gateway: non-streaming persona call names the answering provider'(gw) {
    const { data, response } = await client(gw).chat.completions
      .create({ model: 'persona/architect', messages: [{ role: 'user', content: 'Design a rate limiter' }] })
      .withResponse();
    const provider = response.headers.get('x-ep-provider');
    const model = response.headers.get('x-ep-model');
    assert(provider && model, 'x-ep-provider and x-ep-model');
    assertEq(data.model, `${provider}/${model}`, 'model names who answered');
    assert(data.choices[0].message.content.startsWith('[emulated architect via'), 'the persona answered');
    assertEq(data.choices[0].finish_reason, 'stop', 'finish_reason');
    assert(data.usage.prompt_tokens > 0 && data.usage.completion_tokens > 0, 'usage');
  },

  async 'gateway: streaming with include_usage reassembles the same answer'(gw) {
    const messages = [{ role: 'user', content: 'Write tests for a parser' }];
    const stream = await client(gw).chat.completions.create({
      model: 'openai/gpt-6.2-sol', messages, stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let usage = null;
    let finish = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text += c.delta?.content ?? '';
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    assert(chunks > 3, `several chunks (${chunks})`);
    assertEq(finish, 'stop', 'finish_reason');
    assert(usage && usage.total_tokens === usage.prompt_tokens + usage.completion_tokens, 'usage chunk');
    const again = await client(gw).chat.completions.create({ model: 'openai/gpt-6.2-sol', messages });
    assertEq(again.choices[0].message.content, text, 'streamed and non-streamed answers agree');
  },

  async 'gateway: tool calls through the SDK stream accumulator'(gw) {
    const runner = client(gw).chat.completions.stream({
      model: 'persona/code_writer', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools,
    });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0].message.tool_calls[0];
    assertEq(call.function.name, 'get_weather', 'tool name');
    assertEq(typeof JSON.parse(call.function.arguments).city, 'string', 'arguments');
    assertEq(final.choices[0].finish_reason, 'tool_calls', 'finish_reason');
  },

  async 'gateway: JSON schema output'(gw) {
    const r = await client(gw).chat.completions.create({
      model: 'persona/architect', messages: [{ role: 'user', content: 'plan' }],
      response_format: { type: 'json_schema', json_schema: { name: 'plan', schema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] } } },
    });
    assertEq(typeof JSON.parse(r.choices[0].message.content).title, 'string', 'schema-shaped JSON');
  },

  async 'gateway: errors become the SDK error classes'(gw) {
    try {
      await client(gw).chat.completions.create({ model: 'persona/nobody', messages: [{ role: 'user', content: 'x' }] });
      throw new Error('expected a NotFoundError');
    } catch (e) {
      assert(e instanceof OpenAI.NotFoundError, `NotFoundError, got ${e?.constructor?.name}: ${e?.message}`);
      assertEq(e.code, 'model_not_found', 'code');
    }
    try {
      await client(gw).chat.completions.create({ model: 'persona/architect', messages: [] });
      throw new Error('expected a BadRequestError');
    } catch (e) {
      assert(e instanceof OpenAI.BadRequestError, `BadRequestError, got ${e?.constructor?.name}`);
      assertEq(e.param, 'messages', 'param');
    }
    try {
      await client(gw, { apiKey: 'wrong-token' }).chat.completions.create({ model: 'persona/architect', messages: [{ role: 'user', content: 'x' }] });
      throw new Error('expected an AuthenticationError');
    } catch (e) {
      assert(e instanceof OpenAI.AuthenticationError, `AuthenticationError, got ${e?.constructor?.name}`);
    }
    const models = await client(gw).models.list();
    assert(models.data.some((m) => m.id === 'persona/reviewer'), 'personas are listed as models');
  },

  async 'gateway: a stream cut after output is an error, never a complete answer'(gw) {
    const stream = await client(gw).chat.completions.create({
      model: 'openai/emu-fault:cut:5', messages: [{ role: 'user', content: 'Write a long essay' }], stream: true,
    });
    let text = '';
    let failed = null;
    try {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    } catch (e) {
      failed = e;
    }
    assert(failed instanceof OpenAI.APIError, `the SDK raises an APIError, got ${failed?.constructor?.name ?? 'nothing'}`);
    assert(text.length > 0, 'output arrived before the cut');
  },

  async 'gateway: curl -N streams data lines ending with [DONE]'(gw) {
    const { code, out } = await curl(['-sS', '-N', `${gw.base}/v1/chat/completions`,
      '-H', `Authorization: Bearer ${gw.token}`, '-H', 'Content-Type: application/json',
      '-d', JSON.stringify({ model: 'persona/reviewer', stream: true, messages: [{ role: 'user', content: 'Review this' }] })]);
    assertEq(code, 0, 'curl exit code');
    const lines = out.split('\n').filter((l) => l.startsWith('data: '));
    assert(lines.length > 3, `data lines (${lines.length})`);
    assertEq(lines[lines.length - 1], 'data: [DONE]', 'the last line');
    assertEq(JSON.parse(lines[0].slice(6)).object, 'chat.completion.chunk', 'chunk objects');
  },
};
