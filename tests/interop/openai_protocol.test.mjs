// The mock Chat Completions server (tests/support/mock_llm) against the official `openai` npm
// package: the SDK's own requests (OpenAI and AzureOpenAI clients, plain and streamed, with tools
// and tool results) must pass the mock's request checks, and the SDK must read the mock's
// answers (completion objects, chunk streams with split tool-call arguments, usage, errors) as
// it reads OpenAI's. This is what makes the mock a faithful stand-in for trib's client tests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI, { AzureOpenAI } from 'openai';
import { tempDir, TRIB } from './helpers.mjs';

const MOCK = process.env.TRIB_MOCK_LLM ?? path.join(path.dirname(TRIB), '../../tests/mock_llm');
const KEY = 'sk-mock-llm-5e1f0c9a7b3d';
const dir = tempDir('openai-protocol');
let server;
let base;

const SCRIPT = {
  conversations: [
    {
      match: 'close',
      turns: [
        { tool_calls: [{ name: 'get_bars', arguments: { symbol: 'AAPL', from: '2016-03-01', to: '2016-03-31', adjust: 'raw' } },
                       { name: 'coverage', arguments: { symbol: 'AAPL' } }] },
        { content: 'AAPL closed at {{get_bars.rows.0.close}} on {{get_bars.rows.0.date}}.' },
      ],
    },
    { match: 'busy', turns: [{ fault: { status: 429, retry_after: 0 }, content: 'after a 429' }] },
  ],
};

const TOOLS = [
  { type: 'function', function: { name: 'get_bars', description: 'bars', parameters: { type: 'object', properties: { symbol: { type: 'string' } } } } },
  { type: 'function', function: { name: 'coverage', description: 'coverage', parameters: { type: 'object', properties: {} } } },
];

before(async () => {
  fs.writeFileSync(path.join(dir, 'script.json'), JSON.stringify(SCRIPT));
  const portFile = path.join(dir, 'port');
  server = spawn(MOCK, ['--port-file', portFile, '--script', path.join(dir, 'script.json')], { stdio: 'inherit' });
  for (let i = 0; i < 200 && !fs.existsSync(portFile); i++) await new Promise((r) => setTimeout(r, 25));
  base = `http://127.0.0.1:${fs.readFileSync(portFile, 'utf8').trim()}`;
});

after(() => {
  server?.kill('SIGTERM');
});

async function requests() {
  return (await fetch(`${base}/_mock/requests`)).json();
}

// The conversation the SDK drives: a question, the two tool calls, their results, the answer.
async function converse(client, model, stream) {
  const messages = [
    { role: 'system', content: 'Answer from the tools.' },
    { role: 'user', content: 'What was the close?' },
  ];
  let first;
  if (stream) {
    const chunks = await client.chat.completions.create({ model, messages, tools: TOOLS, tool_choice: 'auto', stream: true, stream_options: { include_usage: true } });
    const calls = [];
    let usage;
    let count = 0;
    for await (const chunk of chunks) {
      count++;
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices?.[0]?.delta?.tool_calls ?? []) {
        calls[c.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } };
        if (c.id) calls[c.index].id = c.id;
        if (c.function?.name) calls[c.index].function.name += c.function.name;
        if (c.function?.arguments) calls[c.index].function.arguments += c.function.arguments;
      }
    }
    assert.ok(count > 4, 'the answer arrives in many chunks');
    assert.ok(usage.total_tokens > 0);
    first = { role: 'assistant', content: null, tool_calls: calls };
  } else {
    const r = await client.chat.completions.create({ model, messages, tools: TOOLS, tool_choice: 'auto', temperature: 0 });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    first = r.choices[0].message;
  }
  assert.equal(first.tool_calls.length, 2);
  assert.deepEqual(JSON.parse(first.tool_calls[0].function.arguments), { symbol: 'AAPL', from: '2016-03-01', to: '2016-03-31', adjust: 'raw' });
  assert.equal(first.tool_calls[1].function.name, 'coverage');
  messages.push(first);
  messages.push({ role: 'tool', tool_call_id: first.tool_calls[0].id, content: JSON.stringify({ rows: [{ date: '2016-03-01', close: 100.53 }] }) });
  messages.push({ role: 'tool', tool_call_id: first.tool_calls[1].id, content: '{"years":[]}' });
  if (stream) {
    const runner = client.chat.completions.stream({ model, messages, tools: TOOLS });
    const done = await runner.finalChatCompletion();
    return done.choices[0].message.content;
  }
  const r = await client.chat.completions.create({ model, messages, tools: TOOLS });
  return r.choices[0].message.content;
}

for (const stream of [false, true]) {
  test(`OpenAI client, ${stream ? 'streamed' : 'plain'}: the SDK's requests pass, its parser reads our answers`, async () => {
    const client = new OpenAI({ apiKey: KEY, baseURL: `${base}/v1`, maxRetries: 0 });
    assert.equal(await converse(client, 'gpt-4o-mini', stream), 'AAPL closed at 100.53 on 2016-03-01.');
  });

  test(`AzureOpenAI client, ${stream ? 'streamed' : 'plain'}: deployment path, api-version, api-key`, async () => {
    const client = new AzureOpenAI({ apiKey: KEY, endpoint: base, apiVersion: '2024-10-21', deployment: 'research-4o', maxRetries: 0 });
    assert.equal(await converse(client, 'research-4o', stream), 'AAPL closed at 100.53 on 2016-03-01.');
    const azure = (await requests()).filter((r) => r.kind === 'azure');
    assert.ok(azure.length >= 2);
    for (const r of azure) {
      assert.equal(r.deployment, 'research-4o');
      assert.equal(r.api_version, '2024-10-21');
      assert.equal(r.headers['api-key'], KEY);
    }
  });
}

test('every SDK request was accepted (status 200), with the SDK headers', async () => {
  const log = await requests();
  assert.ok(log.length >= 8);
  for (const r of log) assert.equal(r.status, 200, `${r.path}: ${r.body.slice(0, 200)}`);
  assert.ok(log.some((r) => r.headers['authorization'] === `Bearer ${KEY}`));
});

test('the SDK reads our errors and retries a 429 as it does OpenAI\'s', async () => {
  const bad = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${base}/v1`, maxRetries: 0 });
  await assert.rejects(bad.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'close' }] }),
    (e) => e instanceof OpenAI.AuthenticationError && e.status === 401 && e.code === 'invalid_api_key');
  const client = new OpenAI({ apiKey: KEY, baseURL: `${base}/v1`, maxRetries: 2 });
  const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'busy?' }] });
  assert.equal(r.choices[0].message.content, 'after a 429');
  // A tool message answering no call is refused as OpenAI refuses it.
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [
    { role: 'user', content: 'close' }, { role: 'tool', tool_call_id: 'nope', content: '{}' }] }),
  (e) => e instanceof OpenAI.BadRequestError && /must be a response to a preceeding message/.test(e.message));
});
