// The official `@anthropic-ai/sdk` against the emulator's /v1/messages.

import Anthropic from '@anthropic-ai/sdk';
import { assert, assertEq, weatherSchema } from './lib/emulator.mjs';

// The SDK sends `Authorization: Bearer` with authToken and `x-api-key` with apiKey; both work.
const bearer = (emu) => new Anthropic({ authToken: 'tok-conformance', baseURL: emu.base, maxRetries: 0 });
const keyed = (emu) => new Anthropic({ apiKey: 'sk-ant-conformance', baseURL: emu.base, maxRetries: 0 });
const system = 'You are a meticulous code reviewer.';
const tools = [{ name: 'get_weather', description: 'weather', input_schema: weatherSchema }];

export default {
  async 'anthropic: non-streaming text (x-api-key)'(emu) {
    const m = await keyed(emu).messages.create({
      model: 'emu-claude', max_tokens: 256, system, messages: [{ role: 'user', content: 'Review my parser' }],
    });
    assertEq(m.content[0].type, 'text', 'block type');
    assert(m.content[0].text.startsWith('[emulated reviewer via anthropic]'), `marked, got ${m.content[0].text.slice(0, 50)}`);
    assert(m.content[0].text.includes('Verdict'), 'a reviewer gives a verdict');
    assertEq(m.stop_reason, 'end_turn', 'stop_reason');
    assert(m.usage.input_tokens > 0 && m.usage.output_tokens > 0, 'usage');
  },

  async 'anthropic: streaming text (Bearer)'(emu) {
    const stream = bearer(emu).messages.stream({
      model: 'emu-claude', max_tokens: 256, system, messages: [{ role: 'user', content: 'Review my parser' }],
    });
    let deltas = '';
    stream.on('text', (t) => { deltas += t; });
    const final = await stream.finalMessage();
    assertEq(final.content[0].text, deltas, 'final message equals the deltas');
    assert(deltas.startsWith('[emulated reviewer via anthropic]'), 'marked');
    assertEq(final.stop_reason, 'end_turn', 'stop_reason');
    assert(final.usage.output_tokens > 1, 'cumulative usage from message_delta');
  },

  async 'anthropic: thinking block, structured output and prompt cache through the SDK'(emu) {
    const final = await keyed(emu).messages.stream({
      model: 'emu-claude', max_tokens: 2048, thinking: { type: 'adaptive' }, output_config: { effort: 'medium' },
      messages: [{ role: 'user', content: 'Weather in Paris?' }], tools,
    }).finalMessage();
    assertEq(final.content[0].type, 'thinking', 'the thinking block comes first');
    assert(final.content[0].signature.length > 0, 'with its signature (signature_delta accumulated)');
    assertEq(final.content[1].type, 'tool_use', 'then the call');
    const next = await keyed(emu).messages.create({
      model: 'emu-claude', max_tokens: 2048, thinking: { type: 'adaptive' }, tools,
      messages: [{ role: 'user', content: 'Weather in Paris?' }, { role: 'assistant', content: final.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: final.content[1].id, content: '18C' }] }],
    });
    assertEq(next.stop_reason, 'end_turn', 'the follow-up with the thinking block is accepted');

    const schema = { type: 'object', properties: { verdict: { enum: ['approve', 'reject'] } }, required: ['verdict'], additionalProperties: false };
    const big = [{ type: 'text', text: system + ' '.repeat(6000), cache_control: { type: 'ephemeral' } }];
    const ask = () => keyed(emu).messages.create({
      model: 'emu-claude', max_tokens: 256, system: big, output_config: { format: { type: 'json_schema', schema } },
      messages: [{ role: 'user', content: 'Review my parser' }],
    });
    const first = await ask();
    assert(['approve', 'reject'].includes(JSON.parse(first.content[0].text).verdict), 'JSON that fits the schema');
    assert(first.usage.cache_creation_input_tokens > 1000, 'the cache is written');
    const second = await ask();
    assertEq(second.usage.cache_read_input_tokens, first.usage.cache_creation_input_tokens, 'then read');
  },

  async 'anthropic: streaming tool_use'(emu) {
    const final = await keyed(emu).messages.stream({
      model: 'emu-claude', max_tokens: 256, tools, messages: [{ role: 'user', content: 'Weather in Paris?' }],
    }).finalMessage();
    const block = final.content.find((b) => b.type === 'tool_use');
    assert(block, 'a tool_use block');
    assertEq(block.name, 'get_weather', 'tool name');
    assertEq(typeof block.input.city, 'string', 'input assembled from input_json_delta');
    assertEq(final.stop_reason, 'tool_use', 'stop_reason');
  },

  async 'anthropic: non-streaming tool_use then tool_result'(emu) {
    const client = keyed(emu);
    const first = await client.messages.create({
      model: 'emu-claude', max_tokens: 256, tools, messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    const use = first.content[0];
    assertEq(use.type, 'tool_use', 'tool_use block');
    const second = await client.messages.create({
      model: 'emu-claude', max_tokens: 256, tools,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '18C, cloudy' }] },
      ],
    });
    assertEq(second.content[0].type, 'text', 'text after the tool result');
    assert(second.content[0].text.includes('18C, cloudy'), 'uses the tool result');
  },

  async 'anthropic: in-stream overloaded error'(emu) {
    try {
      await keyed(emu).messages.stream({
        model: 'emu-fault:overloaded:3', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }],
      }).finalMessage();
      throw new Error('expected an error');
    } catch (err) {
      assert(err instanceof Anthropic.APIError, `APIError, got ${err}`);
      assert(String(err.message).includes('overloaded_error') || err.error?.error?.type === 'overloaded_error',
        `overloaded_error, got ${err.message}`);
    }
  },

  async 'anthropic: 529 error shape'(emu) {
    try {
      await keyed(emu).messages.create({ model: 'emu-fault:529', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
      throw new Error('expected an error');
    } catch (err) {
      assertEq(err.status, 529, 'status');
      assertEq(err.error?.error?.type, 'overloaded_error', 'error.type');
    }
  },
};
