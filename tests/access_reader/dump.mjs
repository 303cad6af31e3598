// Every user table of an Access file (or the tables named after it) as JSON, read by mdb-reader: the
// tests' independent reader. Dates as ISO text (milliseconds, UTC), binary as hex, big integers as
// text, an attachment field as its list of attachments.
import MDBReader from "mdb-reader";
import { readFileSync } from "fs";

const reader = new MDBReader(readFileSync(process.argv[2]));
const shown = (v) => v instanceof Date ? { date: v.toISOString() }
  : Buffer.isBuffer(v) ? { hex: v.toString("hex") }
  : typeof v === "bigint" ? { big: v.toString() }
  : Array.isArray(v) ? v.map((a) => Object.fromEntries(Object.entries(a).map(([k, x]) => [k, shown(x)]))) : v;
const out = {};
const names = process.argv.length > 3 ? process.argv.slice(3) : reader.getTableNames();
for (const name of names) {
  const table = reader.getTable(name);
  out[name] = {
    columns: table.getColumns().map((c) => [c.name, c.type]),
    rows: table.getData().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, shown(v)]))),
  };
}
process.stdout.write(JSON.stringify(out));
