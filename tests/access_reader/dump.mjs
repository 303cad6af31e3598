// Every user table of an Access file as JSON, read by mdb-reader: the tests' independent reader.
// Dates as ISO text (milliseconds, UTC), binary as hex, big integers as text.
import MDBReader from "mdb-reader";
import { readFileSync } from "fs";

const reader = new MDBReader(readFileSync(process.argv[2]));
const shown = (v) => v instanceof Date ? { date: v.toISOString() }
  : Buffer.isBuffer(v) ? { hex: v.toString("hex") }
  : typeof v === "bigint" ? { big: v.toString() } : v;
const out = {};
for (const name of reader.getTableNames()) {
  const table = reader.getTable(name);
  out[name] = {
    columns: table.getColumns().map((c) => [c.name, c.type]),
    rows: table.getData().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, shown(v)]))),
  };
}
process.stdout.write(JSON.stringify(out));
