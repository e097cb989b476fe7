// Prints, as JSON, the rows DuckDB (@duckdb/node-api) reads from the Parquet files matching argv[2]
// with the query's column list argv[3]: an independent reader of our lake for the Python tests.
import { DuckDBInstance } from '@duckdb/node-api';

const [files, columns] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const r = await c.runAndReadAll(`SELECT ${columns} FROM read_parquet('${files}') ORDER BY ts`);
console.log(JSON.stringify(r.getRowObjectsJson()));
