// The Parquet interop matrix: files we write are read by DuckDB and hyparquet with the values we
// meant to write (recomputed here from the fixture's formulas), and files DuckDB writes are read
// by us (`trib parquet cat`) with the values DuckDB itself reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { duck, ROOT, tempDir, TRIB } from './helpers.mjs';

const FIXTURE = process.env.TRIB_PARQUET_FIXTURE ?? path.join(path.dirname(TRIB), '../../tests/parquet_fixture');
const ROWS = 25_000;
const EPOCH_2020_NS = 1577836800n * 1_000_000_000n;

// The fixture's formulas (see tests/interop/fixtures/parquet_fixture.cpp).
function expectedRow(id) {
  const big = BigInt(id);
  return {
    id: big,
    i32: id % 7 === 3 ? null : id * 3 - 1000,
    f64: (id % 2 ? -1 : 1) * (id * 0.5 + 0.125),
    f32: id * 0.25,
    flag: id % 3 === 0,
    sym: id % 11 === 5 ? null : `S${id % 13}`,
    text: `row-${id}-é`,
    day: new Date(Date.UTC(2000, 0, 1 + id)).toISOString().slice(0, 10),
    ts_ns: EPOCH_2020_NS + big * 3_600_000_000_000n + big,
    ts_ms_ms: 1577836800000n + big * 1500n,
  };
}

const dir = tempDir('pq');
const combos = [];
for (const compression of ['none', 'snappy', 'gzip', 'zstd', 'brotli', 'lz4']) {
  for (const dictionary of ['0', '1']) combos.push({ compression, dictionary });
}

for (const { compression, dictionary } of combos) {
  test(`ours -> DuckDB and hyparquet: ${compression}, dictionary ${dictionary === '1' ? 'on' : 'off'}`, async () => {
    const file = path.join(dir, `ours-${compression}-${dictionary}.parquet`);
    execFileSync(FIXTURE, [file, String(ROWS), compression, dictionary, '10000']);

    // DuckDB, values as text so nothing is rounded on the way.
    const rows = await duck(`
      SELECT id::VARCHAR AS id, i32, f64, f32, flag, sym, text, day::VARCHAR AS day,
             epoch_ns(ts)::VARCHAR AS ts_ns, epoch_ms(ts_ms)::VARCHAR AS ts_ms_ms,
             typeof(ts) AS ts_type, typeof(day) AS day_type, typeof(sym) AS sym_type
      FROM read_parquet('${file}') t ORDER BY t.id`);
    assert.equal(rows.length, ROWS);
    assert.match(rows[0].ts_type, /TIMESTAMP/);
    assert.equal(rows[0].day_type, 'DATE');
    assert.equal(rows[0].sym_type, 'VARCHAR');
    for (let id = 0; id < ROWS; id++) {
      const e = expectedRow(id), g = rows[id];
      const where = `row ${id}`;
      assert.equal(g.id, String(e.id), where);
      assert.equal(g.i32, e.i32, where);
      assert.equal(g.f64, e.f64, where);
      assert.equal(g.f32, e.f32, where);
      assert.equal(g.flag, e.flag, where);
      assert.equal(g.sym, e.sym, where);
      assert.equal(g.text, e.text, where);
      assert.equal(g.day, e.day, where);
      // DuckDB reads TIMESTAMP(NANOS, isAdjustedToUTC) as TIMESTAMP WITH TIME ZONE, which holds
      // microseconds: compare at the precision DuckDB keeps.
      const nsPerUnit = g.ts_type === 'TIMESTAMP_NS' ? 1n : 1000n;
      assert.equal(BigInt(g.ts_ns) / nsPerUnit, e.ts_ns / nsPerUnit, where);
      assert.equal(g.ts_ms_ms, String(e.ts_ms_ms), where);
    }
    const [meta] = await duck(`SELECT count(DISTINCT row_group_id) AS groups,
      list(DISTINCT compression ORDER BY compression) AS codecs FROM parquet_metadata('${file}')`);
    assert.equal(Number(meta.groups), 3);
    const codec = { none: 'UNCOMPRESSED', lz4: 'LZ4_RAW' }[compression] ?? compression.toUpperCase();
    assert.deepEqual(JSON.parse(JSON.stringify(meta.codecs)), [codec]);

    // hyparquet, an independent JavaScript implementation.
    const buffer = fs.readFileSync(file);
    const arrayBuffer = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
    const objects = await parquetReadObjects({ file: arrayBuffer, compressors });
    assert.equal(objects.length, ROWS);
    for (let id = 0; id < ROWS; id += 7) {
      const e = expectedRow(id), g = objects[id];
      const where = `hyparquet row ${id}`;
      assert.equal(g.id, e.id, where);
      assert.equal(g.i32 ?? null, e.i32, where);
      assert.equal(g.f64, e.f64, where);
      assert.equal(g.f32, e.f32, where);
      assert.equal(g.flag, e.flag, where);
      assert.equal(g.sym ?? null, e.sym, where);
      assert.equal(g.text, e.text, where);
      assert.equal(new Date(g.day).toISOString().slice(0, 10), e.day, where);
      assert.equal(BigInt(new Date(g.ts).getTime()), e.ts_ns / 1_000_000n, where);
      assert.equal(BigInt(new Date(g.ts_ms).getTime()), e.ts_ms_ms, where);
    }
    const md = parquetMetadata(arrayBuffer);
    assert.equal(md.row_groups.length, 3);
    assert.ok(md.key_value_metadata.some((kv) => kv.key === 'fixture' && kv.value === 'interop'));
  });
}

// ---- DuckDB -> ours ----------------------------------------------------------------------------

// Minimal RFC 4180 CSV parser (quoted fields, doubled quotes, embedded commas and newlines).
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false, i = 0, wasQuoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"') { quoted = true; wasQuoted = true; i++; continue; }
    if (c === ',') { row.push({ v: field, q: wasQuoted }); field = ''; wasQuoted = false; i++; continue; }
    if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push({ v: field, q: wasQuoted }); rows.push(row); row = []; field = ''; wasQuoted = false; i++; continue;
    }
    field += c; i++;
  }
  if (field !== '' || row.length) { row.push({ v: field, q: wasQuoted }); rows.push(row); }
  return rows;
}

// ISO-8601 UTC (what `parquet cat` prints) to epoch nanoseconds.
function isoToNs(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
  assert.ok(m, `not an ISO-8601 UTC timestamp: ${text}`);
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return BigInt(ms) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0') || '0');
}

const normDecimal = (s) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s).replace(/^-0$/, '0');

const DUCK_TABLE = `
  SELECT i::BIGINT AS id,
         CASE WHEN i % 5 = 2 THEN NULL ELSE (i * 7 - 300)::INTEGER END AS i32,
         (i * 1.1 - 17.3)::DOUBLE AS dbl,
         (i / 8)::FLOAT AS flt,
         i % 2 = 0 AS flag,
         CASE WHEN i % 9 = 4 THEN NULL ELSE 'name ' || (i % 17) || CASE WHEN i % 4 = 0 THEN ', "quoted"' ELSE '' END END AS str,
         (DATE '1999-12-30' + (i * 3)::INTEGER) AS dt,
         (TIMESTAMP '2015-03-08 01:00:00' + to_seconds(i * 3601)) AS ts_us,
         (TIMESTAMP_NS '2021-06-01 00:00:00' + to_microseconds(i * 7)) AS ts_ns,
         (TIMESTAMP '2001-01-01' + to_milliseconds(i * 86401001))::TIMESTAMP_MS AS ts_ms,
         ((i * 12345) / 100.0 - 999)::DECIMAL(18, 4) AS dec18,
         ((i * 13) / 10.0)::DECIMAL(9, 2) AS dec9,
         ((i * 1234567) / 1000.0)::DECIMAL(30, 3) AS dec30,
         (i % 120 - 60)::TINYINT AS i8,
         (i * 3 - 30000)::SMALLINT AS i16,
         (i * 100000)::UINTEGER AS u32,
         (i::UBIGINT * 1000000007) AS u64
  FROM range(0, 3000) t(i)`;

const duckCombos = [
  ['uncompressed', ''], ['snappy', ''], ['zstd', ''], ['gzip', ''], ['brotli', ''], ['lz4', ''],
  ['snappy', ', PARQUET_VERSION v2'], ['zstd', ', PARQUET_VERSION v2'],
];

for (const [codec, extra] of duckCombos) {
  test(`DuckDB -> ours: ${codec}${extra ? ' (v2 pages)' : ''}`, async () => {
    const file = path.join(dir, `duck-${codec}${extra ? '-v2' : ''}.parquet`);
    await duck(`COPY (${DUCK_TABLE}) TO '${file}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 1000${extra})`);
    const reference = await duck(`
      SELECT id::VARCHAR AS id, i32::VARCHAR AS i32, dbl, flt, flag, str, dt::VARCHAR AS dt,
             epoch_ns(ts_us)::VARCHAR AS ts_us, epoch_ns(ts_ns)::VARCHAR AS ts_ns,
             epoch_ns(ts_ms)::VARCHAR AS ts_ms, dec18::VARCHAR AS dec18, dec9::VARCHAR AS dec9,
             dec30::VARCHAR AS dec30, i8::VARCHAR AS i8, i16::VARCHAR AS i16, u32::VARCHAR AS u32,
             u64::VARCHAR AS u64
      FROM read_parquet('${file}') t ORDER BY t.id`);

    const csv = execFileSync(TRIB, ['parquet', 'cat', file, '--format', 'csv'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    // Batches of 7 rows cut every page (v1 and v2, every encoding DuckDB chose) mid-way.
    const csv7 = execFileSync(TRIB, ['parquet', 'cat', file, '--format', 'csv', '--batch-rows', '7'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(csv7, csv, 'cat --batch-rows 7 must print what a whole-row-group read prints');
    const [header, ...body] = parseCsv(csv);
    const names = header.map((h) => h.v);
    assert.deepEqual(names, Object.keys(reference[0]));
    assert.equal(body.length, reference.length);
    for (let r = 0; r < body.length; r++) {
      const ours = Object.fromEntries(names.map((n, c) => [n, body[r][c]]));
      const ref = reference[r];
      const where = `${codec}${extra} row ${r}`;
      for (const name of ['id', 'i32', 'i8', 'i16', 'u32', 'u64']) {
        assert.equal(ours[name].v === '' ? null : ours[name].v, ref[name], `${where} ${name}`);
      }
      assert.equal(Number(ours.dbl.v), ref.dbl, `${where} dbl`);
      assert.equal(Number(ours.flt.v), ref.flt, `${where} flt`);
      assert.equal(ours.flag.v, String(ref.flag), `${where} flag`);
      assert.equal(ref.str === null ? '' : ours.str.v, ref.str ?? '', `${where} str`);
      if (ref.str === null) assert.equal(ours.str.q, false, `${where}: null must be an empty unquoted field`);
      assert.equal(ours.dt.v, ref.dt, `${where} dt`);
      for (const name of ['ts_us', 'ts_ns', 'ts_ms']) {
        assert.equal(String(isoToNs(ours[name].v)), ref[name], `${where} ${name}`);
      }
      for (const name of ['dec18', 'dec9', 'dec30']) {
        assert.equal(normDecimal(ours[name].v), normDecimal(ref[name]), `${where} ${name}`);
      }
    }
  });
}
