// The official `@google/genai` SDK against the emulator's /v1beta/models/…

import { GoogleGenAI } from '@google/genai';
import { assert, assertEq, weatherSchema } from './lib/emulator.mjs';

const client = (emu) => new GoogleGenAI({ apiKey: 'g-conformance', httpOptions: { baseUrl: emu.base } });
const config = { systemInstruction: 'You are a QA engineer.' };
const tools = [{ functionDeclarations: [{ name: 'get_weather', description: 'weather', parametersJsonSchema: weatherSchema }] }];

export default {
  async 'gemini: generateContent text'(emu) {
    const r = await client(emu).models.generateContent({ model: 'emu-gemini', contents: 'Test the login page', config });
    assert(r.text.startsWith('[emulated qa via gemini]'), `marked, got ${r.text.slice(0, 50)}`);
    assert(r.text.includes('Test plan'), 'a QA persona answers with a test plan');
    assertEq(r.candidates[0].finishReason, 'STOP', 'finishReason');
    assert(r.usageMetadata.totalTokenCount > 0, 'usageMetadata');
  },

  async 'gemini: streamGenerateContent text'(emu) {
    const stream = await client(emu).models.generateContentStream({ model: 'emu-gemini', contents: 'Test the login page', config });
    let text = '';
    let chunks = 0;
    let last;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.text ?? '';
      last = chunk;
    }
    assert(chunks > 1, `several chunks, got ${chunks}`);
    assert(text.startsWith('[emulated qa via gemini]'), 'streamed text reassembles');
    assertEq(last.candidates[0].finishReason, 'STOP', 'finishReason on the last chunk');
    const whole = await client(emu).models.generateContent({ model: 'emu-gemini', contents: 'Test the login page', config });
    assertEq(whole.text, text, 'stream and non-stream give the same text');
  },

  async 'gemini: function call (stream and not)'(emu) {
    const r = await client(emu).models.generateContent({
      model: 'emu-gemini', contents: 'Weather in Paris?', config: { tools },
    });
    assertEq(r.functionCalls?.[0]?.name, 'get_weather', 'function call');
    assertEq(typeof r.functionCalls[0].args.city, 'string', 'args object');
    const stream = await client(emu).models.generateContentStream({
      model: 'emu-gemini', contents: 'Weather in Paris?', config: { tools },
    });
    let calls = [];
    for await (const chunk of stream) calls = calls.concat(chunk.functionCalls ?? []);
    assertEq(calls.length, 1, 'one streamed function call');
    assertEq(calls[0].name, 'get_weather', 'streamed function call name');
  },

  async 'gemini: JSON output'(emu) {
    const r = await client(emu).models.generateContent({
      model: 'emu-gemini', contents: 'List tests',
      config: { responseMimeType: 'application/json', responseJsonSchema: { type: 'object', properties: { cases: { type: 'array', items: { type: 'string' } } }, required: ['cases'] } },
    });
    assert(Array.isArray(JSON.parse(r.text).cases), 'JSON fits the schema');
  },

  async 'gemini: 429 error'(emu) {
    try {
      await client(emu).models.generateContent({ model: 'emu-fault:429', contents: 'hi' });
      throw new Error('expected an error');
    } catch (err) {
      assertEq(err.status, 429, `status (${err.message})`);
      assert(String(err.message).includes('RESOURCE_EXHAUSTED'), 'status name in the message');
    }
  },

  async 'request log and counters saw every SDK'(emu) {
    const stats = await emu.admin('GET', 'stats');
    for (const p of ['openai', 'anthropic', 'gemini']) assert(stats.by_protocol[p] > 0, `requests from ${p}`);
    const log = await emu.admin('GET', 'requests');
    const secrets = JSON.stringify(log);
    for (const s of ['sk-conformance', 'tok-conformance', 'sk-ant-conformance', 'g-conformance']) {
      assert(!secrets.includes(s), `credential ${s} must never be logged`);
    }
  },
};
