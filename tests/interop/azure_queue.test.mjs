// Our Azure Storage Queue backend against Microsoft's own client, @azure/storage-queue, on an
// Azurite of this test's own (scripts/azurite-test-server on free ports, in a temp dir):
//  (a) the SDK sends what Azure Functions sends (Base64 of JSON text) and we receive exactly
//      those bytes;
//  (b) we enqueue and the SDK's receiveMessages, Base64-decoded, gives our body exactly;
//  (c) a message we dead-letter is readable in "<queue>-poison" by the SDK: our envelope with
//      the error, the original id and the count, then the body bytes;
//  (d) a poison message without our envelope (the Functions host copies the plain text) is
//      listed by us with no error and redriven as the plain body.
// Our side is tests/interop/fixtures/azure_queue_fixture.cpp (found beside the trib binary's
// build folder, as the Parquet fixture is; TRIB_AZURE_QUEUE_FIXTURE overrides).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { ROOT, tempDir, TRIB } from './helpers.mjs';

const FIXTURE = process.env.TRIB_AZURE_QUEUE_FIXTURE ??
  path.join(path.dirname(TRIB), '../../tests/azure_queue_fixture');
const SERVER = path.join(ROOT, 'scripts/azurite-test-server');
const PREFIX = 'trib-envelope/1 ';

const dir = tempDir('azure-queue');
const serverDir = path.join(dir, 'azurite');
let conn;
let service;

// Bodies as a Functions app or a backfill would queue them: JSON text with every kind of
// character (accents, emoji, escapes, CR LF), one near our 32 KiB limit.
const BODIES = [
  JSON.stringify({ task: 'fetch', symbol: 'BRK.B', year: 2020 }),
  JSON.stringify({ note: 'café ☕ 📈 €', ctrl: '\u0001\t', quote: '"<&>"' }) + '\r\n',
  JSON.stringify({ rows: Array.from({ length: 2000 }, (_, i) => `row-${i}-é`) }),
];
// A body of ours that starts like our envelope is always wrapped in one (a foreign producer's
// text starting with the prefix would be read as an envelope: the one ambiguity, by design).
const LOOKALIKE = `${PREFIX}{"last_error":"not ours"}\nlooks like an envelope`;

function fixture(...args) {
  return spawnSync(FIXTURE, args, { encoding: 'utf8' });
}

function ok(...args) {
  const r = fixture(...args);
  assert.equal(r.status, 0, `azure_queue_fixture ${args[0]}: ${r.stderr}`);
  return r.stdout.trim();
}

let counter = 0;
function queueName() {
  return `interop-${process.pid}-${counter++}-${crypto.randomBytes(3).toString('hex')}`;
}

function bodyFile(body) {
  const file = path.join(dir, `body-${counter++}.txt`);
  fs.writeFileSync(file, body, 'utf8');
  return file;
}

// Receives every remaining message through our fixture; returns the bodies' bytes.
function receiveAll(name) {
  const out = [];
  for (;;) {
    const file = path.join(dir, `out-${counter++}.bin`);
    const r = fixture('receive', conn, name, file);
    if (r.status === 3) return out;
    assert.equal(r.status, 0, r.stderr);
    out.push(fs.readFileSync(file));
  }
}

const sortedHex = (buffers) => buffers.map((b) => b.toString('hex')).sort();

before(() => {
  assert.ok(fs.existsSync(FIXTURE), `${FIXTURE} is not built (cmake --build <build> --target azure_queue_fixture)`);
  const started = execFileSync(SERVER, ['start', serverDir], { encoding: 'utf8' });
  conn = started.trim().split('\n').pop();
  service = QueueServiceClient.fromConnectionString(conn);
});

after(() => {
  execFileSync(SERVER, ['stop', serverDir]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('(a) SDK sends Base64 of JSON, as Azure Functions does: we receive the bytes exactly', async () => {
  const name = queueName();
  const queue = service.getQueueClient(name);
  await queue.create();  // created by the SDK; our open finds it
  for (const body of BODIES) {
    await queue.sendMessage(Buffer.from(body, 'utf8').toString('base64'));
  }
  const received = receiveAll(name);
  assert.deepEqual(sortedHex(received), sortedHex(BODIES.map((b) => Buffer.from(b, 'utf8'))));
  // Received and removed through us: nothing left for the SDK.
  assert.equal((await queue.getProperties()).approximateMessagesCount, 0);
});

test('(b) we enqueue: the SDK receives Base64 that decodes to our body exactly', async () => {
  const name = queueName();
  const ids = BODIES.map((body) => ok('enqueue', conn, name, bodyFile(body)));
  const queue = service.getQueueClient(name);
  const { receivedMessageItems: items } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 });
  assert.equal(items.length, BODIES.length);
  const byId = new Map(ids.map((id, i) => [id, BODIES[i]]));
  for (const item of items) {
    assert.ok(byId.has(item.messageId), `unknown message ${item.messageId}`);
    assert.deepEqual(Buffer.from(item.messageText, 'base64'), Buffer.from(byId.get(item.messageId), 'utf8'));
    assert.equal(item.dequeueCount, 1);
    assert.equal(item.expiresOn.getUTCFullYear(), 9999);  // messagettl=-1: never expires
    await queue.deleteMessage(item.messageId, item.popReceipt);
  }
  // A plain body is plain Base64, nothing added.
  const plain = items.find((i) => byId.get(i.messageId) === BODIES[0]);
  assert.equal(plain.messageText, Buffer.from(BODIES[0], 'utf8').toString('base64'));
  // A body that looks like our envelope is wrapped in a real one, so it reads back as itself.
  ok('enqueue', conn, name, bodyFile(LOOKALIKE));
  const { receivedMessageItems: [wrapped] } = await queue.receiveMessages({ visibilityTimeout: 30 });
  assert.equal(Buffer.from(wrapped.messageText, 'base64').toString('utf8'), `${PREFIX}{}\n${LOOKALIKE}`);
  await queue.deleteMessage(wrapped.messageId, wrapped.popReceipt);
  // With a dedupe key, the message is our envelope: the key in a one-line JSON header.
  ok('enqueue-unique', conn, name, bodyFile(BODIES[0]), 'BRK.B/2020');
  assert.equal(fixture('enqueue-unique', conn, name, bodyFile(BODIES[0]), 'BRK.B/2020').status, 4);
  const { receivedMessageItems: [keyed] } = await queue.receiveMessages({ visibilityTimeout: 30 });
  const decoded = Buffer.from(keyed.messageText, 'base64').toString('utf8');
  const newline = decoded.indexOf('\n');
  assert.ok(decoded.startsWith(PREFIX));
  assert.deepEqual(JSON.parse(decoded.slice(PREFIX.length, newline)), { dedupe_key: 'BRK.B/2020' });
  assert.equal(decoded.slice(newline + 1), BODIES[0]);
});

test('(c) a message we dead-letter is readable by the SDK in the poison queue', async () => {
  const name = queueName();
  const queue = service.getQueueClient(name);
  await queue.create();
  const body = BODIES[1];
  const sent = await queue.sendMessage(Buffer.from(body, 'utf8').toString('base64'));
  const error = 'permanent: unknown symbol NOPE — "quoted"\nsecond line';
  assert.equal(ok('dead-letter', conn, name, error), sent.messageId);

  const poison = service.getQueueClient(`${name}-poison`);
  const { receivedMessageItems: items } = await poison.receiveMessages({ numberOfMessages: 32 });
  assert.equal(items.length, 1);
  const bytes = Buffer.from(items[0].messageText, 'base64');
  const newline = bytes.indexOf(0x0a);
  const head = bytes.subarray(0, newline).toString('utf8');
  assert.ok(head.startsWith(PREFIX), head);
  const header = JSON.parse(head.slice(PREFIX.length));
  assert.equal(header.last_error, error);
  assert.equal(header.id, sent.messageId);
  assert.equal(header.dequeue_count, 1);
  assert.deepEqual(bytes.subarray(newline + 1), Buffer.from(body, 'utf8'));
  // Moved, not copied.
  assert.equal((await queue.getProperties()).approximateMessagesCount, 0);
});

test('(d) a poison message the Functions host wrote (plain text) is listed and redriven as its body', async () => {
  const name = queueName();
  const body = BODIES[0];
  ok('enqueue', conn, name, bodyFile('unrelated'));  // creates the queues
  const poison = service.getQueueClient(`${name}-poison`);
  await poison.sendMessage(Buffer.from(body, 'utf8').toString('base64'));
  const listed = ok('list-poison', conn, name).split('\n').map((line) => JSON.parse(line));
  assert.equal(listed.length, 1);
  assert.equal(listed[0].body, body);
  assert.equal(listed[0].last_error, '');
  assert.equal(ok('redrive', conn, name), '1');
  const received = receiveAll(name);
  assert.deepEqual(sortedHex(received), sortedHex([Buffer.from('unrelated'), Buffer.from(body, 'utf8')]));
  assert.equal((await poison.getProperties()).approximateMessagesCount, 0);
});
