// The Parquet interop matrix: files we write are read by DuckDB, hyparquet and arrow-rs (the Rust
// Arrow implementation, as parquet-wasm) with the values we meant to write (recomputed here from
// the fixture's formulas); files DuckDB writes are read by us (`trib parquet cat`) with the values
// DuckDB itself reports, and files arrow-rs writes (every codec, v1 and v2 pages, dictionary and
// the DELTA / BYTE_STREAM_SPLIT encodings) with the values we gave it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as arrow from 'apache-arrow';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import * as arrowRs from 'parquet-wasm/node';
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
  test(`ours -> DuckDB, hyparquet and arrow-rs: ${compression}, dictionary ${dictionary === '1' ? 'on' : 'off'}`, async () => {
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

    // arrow-rs: every value, timestamps to the nanosecond.
    const table = arrow.tableFromIPC(arrowRs.readParquet(new Uint8Array(buffer)).intoIPCStream());
    assert.equal(table.numRows, ROWS);
    const col = (name) => table.getChild(name);
    for (let id = 0; id < ROWS; id++) {
      const e = expectedRow(id);
      const where = `arrow-rs row ${id}`;
      assert.equal(col('id').get(id), e.id, where);
      assert.equal(col('i32').get(id), e.i32, where);
      assert.equal(col('f64').get(id), e.f64, where);
      assert.equal(col('f32').get(id), e.f32, where);
      assert.equal(col('flag').get(id), e.flag, where);
      assert.equal(col('sym').get(id), e.sym, where);
      assert.equal(col('text').get(id), e.text, where);
      assert.equal(new Date(col('day').get(id)).toISOString().slice(0, 10), e.day, where);
      assert.equal(int64At(col('ts'), id), e.ts_ns, where);
      assert.equal(int64At(col('ts_ms'), id), e.ts_ms_ms, where);
    }
  });
}

// The raw 64-bit value of row `row` of an Arrow vector (get() turns timestamps into milliseconds).
function int64At(vector, row) {
  for (const data of vector.data) {
    if (row < data.length) return data.values[data.offset + row];
    row -= data.length;
  }
  throw new Error(`row ${row} past the end`);
}

// arrow-rs writes: one table in every codec, v1 and v2 pages, dictionary on and off, and with the
// encodings other writers choose, in small pages and row groups; ours must read back exactly it.
const ARROW_ROWS = 5_000;
function arrowTable() {
  const n = ARROW_ROWS;
  const range = (f) => Array.from({ length: n }, (_, i) => f(i));
  return arrow.tableFromArrays({
    id: BigInt64Array.from(range((i) => BigInt(i) * 1_000_003n - 7n)),
    i32: arrow.vectorFromArray(range((i) => (i % 6 === 1 ? null : i * 17 - 40_000)), new arrow.Int32()),
    f64: Float64Array.from(range((i) => (i % 2 ? -1 : 1) * i / 7)),
    f32: Float32Array.from(range((i) => i * 0.5)),
    flag: arrow.vectorFromArray(range((i) => (i % 10 === 9 ? null : i % 3 === 0)), new arrow.Bool()),
    str: arrow.vectorFromArray(range((i) => (i % 8 === 2 ? null : `k${i % 37},"${'x'.repeat(i % 5)}"`)), new arrow.Utf8()),
    uniq: arrow.vectorFromArray(range((i) => `unique-${i}-value`), new arrow.Utf8()),
    day: arrow.vectorFromArray(range((i) => new Date(Date.UTC(1999, 11, 31 + i))), new arrow.DateDay()),
  });
}
const arrowIpc = arrow.tableToIPC(arrowTable(), 'stream');

const C = arrowRs.Compression, E = arrowRs.Encoding;
const arrowCombos = [];
for (const [codec, name] of [[C.UNCOMPRESSED, 'uncompressed'], [C.SNAPPY, 'snappy'], [C.GZIP, 'gzip'],
  [C.BROTLI, 'brotli'], [C.LZ4, 'lz4 (legacy)'], [C.ZSTD, 'zstd'], [C.LZ4_RAW, 'lz4_raw']]) {
  arrowCombos.push({ label: `${name}, v1 pages`, codec, v2: false, dictionary: true });
  arrowCombos.push({ label: `${name}, v2 pages`, codec, v2: true, dictionary: true });
}
arrowCombos.push({ label: 'zstd, v2, no dictionary, DELTA_BINARY_PACKED / DELTA_BYTE_ARRAY / BYTE_STREAM_SPLIT',
  codec: C.ZSTD, v2: true, dictionary: false,
  encodings: { id: E.DELTA_BINARY_PACKED, i32: E.DELTA_BINARY_PACKED, str: E.DELTA_BYTE_ARRAY,
    uniq: E.DELTA_LENGTH_BYTE_ARRAY, f64: E.BYTE_STREAM_SPLIT, f32: E.BYTE_STREAM_SPLIT } });
arrowCombos.push({ label: 'snappy, v1, no dictionary, DELTA_LENGTH_BYTE_ARRAY / DELTA_BINARY_PACKED',
  codec: C.SNAPPY, v2: false, dictionary: false,
  encodings: { str: E.DELTA_LENGTH_BYTE_ARRAY, uniq: E.DELTA_BYTE_ARRAY, id: E.DELTA_BINARY_PACKED } });

for (const combo of arrowCombos) {
  test(`arrow-rs -> ours: ${combo.label}`, () => {
    let props = new arrowRs.WriterPropertiesBuilder()
      .setCompression(combo.codec)
      .setWriterVersion(combo.v2 ? arrowRs.WriterVersion.V2 : arrowRs.WriterVersion.V1)
      .setDictionaryEnabled(combo.dictionary)
      .setDataPageSizeLimit(2048)
      .setMaxRowGroupSize(1500);
    for (const [column, encoding] of Object.entries(combo.encodings ?? {})) props = props.setColumnEncoding(column, encoding);
    const file = path.join(dir, `arrow-rs-${arrowCombos.indexOf(combo)}.parquet`);
    // writeParquet takes ownership of the table it is given: a fresh one per file.
    fs.writeFileSync(file, arrowRs.writeParquet(arrowRs.Table.fromIPCStream(arrowIpc), props.build()));

    const csv = execFileSync(TRIB, ['parquet', 'cat', file, '--format', 'csv'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const csv7 = execFileSync(TRIB, ['parquet', 'cat', file, '--format', 'csv', '--batch-rows', '7'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(csv7, csv, 'cat --batch-rows 7 must print what a whole-row-group read prints');
    const [header, ...body] = parseCsv(csv);
    const names = header.map((h) => h.v);
    assert.deepEqual(names, ['id', 'i32', 'f64', 'f32', 'flag', 'str', 'uniq', 'day']);
    assert.equal(body.length, ARROW_ROWS);
    const table = arrowTable();
    for (let r = 0; r < ARROW_ROWS; r++) {
      const got = Object.fromEntries(names.map((n, c) => [n, body[r][c]]));
      const where = `${combo.label} row ${r}`;
      const want = (name) => table.getChild(name).get(r);
      assert.equal(got.id.v, String(want('id')), where);
      assert.equal(got.i32.v === '' ? null : Number(got.i32.v), want('i32'), where);
      assert.equal(Number(got.f64.v), want('f64'), where);
      assert.equal(Number(got.f32.v), want('f32'), where);
      assert.equal(got.flag.v === '' ? null : got.flag.v === 'true', want('flag'), where);
      assert.equal(got.str.v === '' && !got.str.q ? null : got.str.v, want('str'), where);
      assert.equal(got.uniq.v, want('uniq'), where);
      assert.equal(got.day.v, new Date(want('day')).toISOString().slice(0, 10), where);
    }
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
