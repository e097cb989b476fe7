// Our Azure Blob lake checked with Microsoft's own SDK (@azure/storage-blob) against Azurite:
// blobs trib wrote are read back by the SDK byte for byte (with the Content-MD5 we sent), DuckDB
// reads the curated Parquet the SDK downloaded, and blobs the SDK wrote (one shot and in blocks)
// are listed and read by trib with the same sizes, ETags and bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { ROOT, SP500, TRIB, duck, tempDir } from './helpers.mjs';

const AZURITE = path.join(ROOT, 'scripts/azurite-test-server');
let serverDir, connection, ws, env, service, container;
const CONTAINER = `interop-${process.pid}`;

function tribAz(...args) {
  return execFileSync(TRIB, ['-w', ws, ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
}

before(() => {
  serverDir = tempDir('azurite');
  connection = execFileSync(AZURITE, ['start', serverDir], { encoding: 'utf8' }).trim();
  env = { ...process.env, AZURE_STORAGE_CONNECTION_STRING: connection };
  ws = tempDir('azws');
  fs.writeFileSync(path.join(ws, 'trib.toml'),
    `[lake]\nkind = "azure"\ncontainer = "${CONTAINER}"\nprefix = "ws"\n`);
  tribAz('init');
  tribAz('ingest', '--vendor', 'csv', '--file', SP500, '--symbol', '^GSPC');
  service = BlobServiceClient.fromConnectionString(connection);
  container = service.getContainerClient(CONTAINER);
});

after(() => {
  if (serverDir) execFileSync(AZURITE, ['stop', serverDir]);
  for (const d of [serverDir, ws]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

async function blobNames(prefix) {
  const names = [];
  for await (const b of container.listBlobsFlat({ prefix })) names.push(b);
  return names;
}

test('the SDK reads every curated blob trib wrote, byte for byte, with our Content-MD5', async () => {
  const ours = JSON.parse(tribAz('lake', 'ls', 'curated/', '--json'));
  assert.ok(ours.length >= 20, `curated objects: ${ours.length}`);
  const sdk = await blobNames('ws/curated/');
  assert.deepEqual(sdk.map((b) => b.name).sort(), ours.map((o) => `ws/${o.key}`).sort());
  const out = tempDir('azexport');
  tribAz('lake', 'export', out, '--prefix', 'curated/');
  for (const o of ours) {
    const blob = container.getBlobClient(`ws/${o.key}`);
    const bytes = await blob.downloadToBuffer();
    assert.deepEqual(bytes, fs.readFileSync(path.join(out, o.key)), o.key);
    const props = await blob.getProperties();
    assert.equal(props.etag, o.etag, `ETag of ${o.key}`);
    assert.equal(Number(props.contentLength), o.size);
    const md5 = crypto.createHash('md5').update(bytes).digest();
    assert.deepEqual(Buffer.from(props.contentMD5), md5, `Content-MD5 of ${o.key}`);
  }
  // DuckDB reads the live files the SDK fetched: one row per S&P 500 session in the file.
  const dl = tempDir('azsdk');
  for (const o of ours) {
    const target = path.join(dl, o.key);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    await container.getBlobClient(`ws/${o.key}`).downloadToFile(target);
  }
  const rows = await duck(`SELECT count(*)::INTEGER AS n, min(session_date)::VARCHAR AS first FROM read_parquet('${dl}/curated/**/data.parquet', hive_partitioning = false)`);
  assert.equal(rows[0].n, 5105);
  assert.equal(rows[0].first, '2000-01-03');
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(dl, { recursive: true, force: true });
});

test('trib lists and reads blobs the SDK wrote, in one shot and in blocks', async () => {
  const small = Buffer.from('written by @azure/storage-blob\n');
  const big = crypto.randomBytes(700 * 1024 + 17);
  await container.getBlockBlobClient('ws/sdk/small.txt').uploadData(small);
  // Blocks of 64 KiB: Put Block x 11, then Put Block List.
  await container.getBlockBlobClient('ws/sdk/big.bin').uploadData(big, { blockSize: 64 * 1024, maxSingleShotSize: 64 * 1024 });
  const listed = JSON.parse(tribAz('lake', 'ls', 'sdk/', '--json'));
  assert.deepEqual(listed.map((o) => o.key), ['sdk/big.bin', 'sdk/small.txt']);
  for (const o of listed) {
    const props = await container.getBlobClient(`ws/${o.key}`).getProperties();
    assert.equal(o.etag, props.etag);
    assert.equal(o.size, Number(props.contentLength));
  }
  const out = tempDir('azsdk2');
  tribAz('lake', 'export', out, '--prefix', 'sdk/');
  assert.deepEqual(fs.readFileSync(path.join(out, 'sdk/small.txt')), small);
  assert.deepEqual(fs.readFileSync(path.join(out, 'sdk/big.bin')), big);
  fs.rmSync(out, { recursive: true, force: true });
});

test('a blob changed behind our back fails the version check: verify reports it, nothing is rewritten', async () => {
  const ours = JSON.parse(tribAz('lake', 'ls', '_versions/', '--json'));
  assert.ok(ours.length > 0);
  const victim = `ws/${ours[0].key}`;
  const original = await container.getBlobClient(victim).downloadToBuffer();
  const tampered = Buffer.from(original);
  tampered[tampered.length >> 1] ^= 0xff;
  await container.getBlockBlobClient(victim).uploadData(tampered);
  let status = 0;
  try {
    tribAz('verify');
  } catch (e) {
    status = e.status;
  }
  assert.equal(status, 5, 'verify exits 5 (data loss) on a version object that does not match its SHA-256');
  await container.getBlockBlobClient(victim).uploadData(original);
  tribAz('verify');
});
