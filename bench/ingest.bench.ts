/**
 * Ingest throughput: OCSF API Activity JSON lines from local disk into the event store, with
 * validation, quarantine, dedup and IP enrichment, against a bare `INSERT … SELECT … FROM file()`
 * of the same file into a table of the same shape (one JSON parse, no checks). Both run in the
 * same process, back to back, on the same file, once per round; each round starts from empty
 * tables.
 *
 *   node --import tsx bench/ingest.bench.ts [--events N] [--rounds R] [--input FILE] [--keep]
 *
 *   --events N   lines in the generated input (default 2,000,000; 0.1 % malformed)
 *   --rounds R   measure R times (default 2)
 *   --input F    reuse (or create, and keep) the input file F instead of a temporary one
 *   --keep       keep the temporary directory (input and workspace)
 *   --plain      lines without the key Vigil does not store (metadata.product): by default each
 *                line carries one (cut out at ingest before lines were kept whole; see below)
 *   --real       lines with every field OCSF requires that Vigil does not store (category_uid,
 *                type_uid, severity_id, class_name, activity_name, metadata.version and
 *                metadata.product with its vendor_name), as a real producer writes them (~840 B)
 *   --files N    split the input into N files of consecutive lines (kept beside `--input` as
 *                F.parts-N/) and ingest their folder; bare reads them with one glob
 *
 * Printed per round: wall seconds and events/s of each, the ratio of rates (vigil / bare), CPU
 * seconds of the process (chDB threads included) and the peak RSS sampled during each run.
 * The machine is shared and has 2 cores: compare numbers from the same round only.
 *
 * Measured with the probe before the parse (a file whose first lines have no unknown key is parsed
 * without the remainder's SQL), back to back against the commit before it, load 3–6 (wall and
 * ratio swung up to 2x between rounds of the same code; CPU is the steadier figure): 2 M lines
 * with a nested unknown key, vigil CPU 26.6 / 31.6 s before, 26.5 / 26.4 s after (bare 7.5–8.4 s;
 * ratio 0.25–0.55 either way; peak RSS ~3.3 GB both); --plain, 14.5 / 13.8 / 13.3 / 12.8 s
 * before, 14.1 / 13.0 / 13.6 / 13.5 s after (ratio 0.57–0.97 either way, ~2.9 GB). The remainder
 * still costs ~7 µs a line (remainder.ts: an exact one needs a split of the line, ~2 µs, and about
 * as many passes over its members as now); what the probe saves is its ~0.2 s of planning per
 * ingest: a 10-line ingest 0.58 → 0.41 s.
 * Quiet machine afterwards (load 1.5–2.3, 2 rounds each, several runs): --plain 290,820–326,203
 * events/s, ratio 0.84–0.88, CPU 11.7–12.9 s, peak RSS ~3.0 GB; with the unknown key 147,590–153,038
 * events/s, ratio 0.40–0.46, CPU 25.0–26.1 s. A materialised view on `events` (tried for the scope,
 * withdrawn) took --plain from 281,991 to 206,955 back to back.
 * With the token ledger written after each batch (src/store/ledger.ts; 0.12 s of a 6.4 s ingest),
 * interleaved with the code before it in a slower phase: --plain 266,295 / 275,829 / 296,480
 * events/s with it, 265,942 / 278,211 / 252,078 before (ratio 0.78-0.92 both); later, 283,907
 * and 305,866 (ratio 0.84, 0.81).
 * Without the UTF-8 scan for storable lines (the JSON parser already rejects invalid UTF-8; the
 * whole parse of 1 M lines 3.74–3.84 against 3.89–4.42 CPU s, interleaved) and with expressions
 * compiled at once for inputs of 64 MiB or more (2 M lines 11.4–11.8 against 11.6–12.5 CPU s,
 * interleaved): --plain 304,015 and 337,107 events/s (ratio 0.79, 0.84, CPU 12.2 / 11.1 s, peak RSS
 * ~3.0 GB); with the unknown key 151,917 and 153,888 (ratio 0.39, 0.40, CPU 25.0 / 24.6 s).
 * Then with member key bounds counting colons (remainder.ts): with the unknown key 160,093 and
 * 171,175 events/s (ratio 0.42, 0.46, CPU 23.4 / 22.2 s).
 * Round 1 is what a `vigil ingest` process sees: later rounds reuse memory the first had to fault
 * in and expressions it compiled. Fresh processes, round 1 only, interleaved: --plain 300,245–
 * 317,438 events/s without compiling the parse at once, 285,193–315,960 with it (so it was
 * dropped), ratio 0.83–0.92, peak RSS ~3.0 GB; with the unknown key, after keeping repeated keys
 * and skipping the remainder's gate when nearly every probed line needs it, 161,333–169,943
 * (ratio 0.43–0.48, CPU 22.5–23.7 s), the same as before both. 4 M plain lines (2.7 GB, ingested
 * in 3 pieces): 243,249 events/s, peak RSS 2,680 MB; in one piece 262,544, 5,406 MB.
 * The same 2 M plain lines in 40 files of 33 MB (`--files 40`): 59,121 events/s (ratio 0.18, CPU
 * 44.0 s) ingested one file after the other, 284,389 (ratio 0.81, CPU 11.9 s) read in batches of
 * up to 1 GiB (two here); bare reads all 40 with one glob.
 * `--real` (2 M lines of ~840 B, so 1.68 GB, ingested in 2 pieces; a slow day, bare 275,837
 * events/s): 72,608 and 85,246 events/s (ratio 0.26 and 0.29, CPU 47.2 / 42.5 s). Without any
 * remainder (a trial build, not kept) 173,350 (ratio 0.66, CPU 17.7 s); keeping each line whole
 * instead of its remainder 112,904 (ratio 0.39, CPU 30.8 s, peak RSS 5.4 GB). Same day: --plain
 * 237,695–252,896 events/s, the default 161,002 (ratio 0.42). Later, in a faster phase,
 * interleaved: --real 101,468 / 109,925 events/s (ratio 0.28 / 0.32, CPU 35.5 / 33.1 s) before
 * deciding kept members by arithmetic (remainder.ts), 115,718 / 113,426 (ratio 0.35 / 0.34, CPU
 * 31.4 / 32.2 s) after; the default then 167,532 (ratio 0.49, CPU 22.8 s).
 * Then each OCSF line kept whole (`raw_events`, read again from the input after the events are
 * written) and what Vigil does not map cut out when an event is read, not at ingest (fresh
 * processes, 2 rounds each unless said; bare 238–324k events/s meanwhile; the machine drifted):
 * --real 127,877 / 134,038 / 157,452 / 142,460 events/s (ratio 0.54 / 0.47 / 0.53 / 0.57, CPU
 * 21–26 s, peak RSS ~4.2 GB), where trials of the code before had 0.29–0.35; the default 197,293 /
 * 242,086 (ratio 0.79 / 0.76); --plain 256,969 / 227,951 (ratio 0.90 / 0.81; the kept lines cost
 * ~1.2 s wall on these 2 M, so lines without unknown keys lost what the others gained);
 * --plain --files 40 175,663 / 201,353 (ratio 0.57 / 0.64). Then, joining a one-file input's
 * lines by number alone, in a faster phase: --real 180,054 / 172,309 / 168,011 / 149,633 (ratio
 * 0.58 / 0.61 / 0.55 / 0.54, CPU 18–22 s), --plain 260,768 / 270,793 (0.86 / 0.84), the default
 * 258,101 / 274,635 (0.80 / 0.90), peak RSS ~5.3 GB for these two (one 1.3 GB file, not cut).
 * With kept lines written in parts of 262,144 rows, one round each, twice: --plain 268,538 /
 * 241,309 (0.88 / 0.85, peak RSS 4.8–5.0 GB), the default 240,392 / 210,897 (0.93 / 0.85), --real
 * 150,336 / 137,924 (0.57 / 0.50, 4.1 GB). With `raw_events` ordered by where each line was read,
 * one round each, interleaved, in a slow phase (bare 203–277k for one file): --real 134,322 /
 * 130,744 (0.66 / 0.57, CPU 25–26 s, peak RSS 3.8–3.9 GB), --plain 194,817 / 220,705 (0.71 /
 * 0.80), the default 197,472 / 223,825 (0.71 / 0.89; peak RSS 4.6–5.0 GB), --plain --files 40
 * 191,443 (0.52; bare read the 40 files at 370,356).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadIpDatabase } from '../src/sources/enrich/index.ts';
import { ingestInputs } from '../src/sources/index.ts';
import { openWorkspace } from '../src/store/index.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '2000000' },
    rounds: { type: 'string', default: '2' },
    input: { type: 'string' },
    keep: { type: 'boolean', default: false },
    plain: { type: 'boolean', default: false },
    real: { type: 'boolean', default: false },
    files: { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  const header = fs.readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0] ?? '';
  console.log(header.replace(/^\/\*\*|^ \* ?/gm, '').trim());
  process.exit(0);
}
const n = Number(args.events);
const rounds = Number(args.rounds);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ingest-bench-'));
const file = args.input ? path.resolve(args.input) : path.join(dir, 'api.jsonl');
const ws = await openWorkspace(path.join(dir, 'ws'));
const e = ws.engine;

// The input is written by the engine itself: realistic field shapes, Korean carrier, broadband
// and hosting addresses, 3 subjects per read, and 0.1 % malformed lines.
const t = performance.now();
const lines = async () =>
  (
    await e.query<{ n: number }>(`SELECT count() AS n FROM file({f:String}, 'LineAsString', 'line String')`, {
      f: file,
    })
  )[0]?.n;
if (!fs.existsSync(file) || (await lines()) !== n) {
  await e.exec(`INSERT INTO FUNCTION file('${file}', 'LineAsString', 'line String')
  SELECT if(number % 1000 = 999, concat('{"time": ', toString(number), ', "broken'),
    concat('{${args.real ? '"category_uid":6,"type_uid":600302,"severity_id":1,"class_name":"API Activity","activity_name":"Read",' : ''}"time":', toString(1750000000000 + number * 13),
      ',"class_uid":6003,"activity_id":2,"status_id":1,"actor":{"user":{"uid":"c-', toString(number % 200000),
      '","type":"Customer"},"session":{"uid":"tok-', toString(intDiv(number, 6)),
      '","credential_uid":"k-cust-2025","created_time":', toString(1750000000000 + number * 13 - 60000),
      ',"expiration_time":', toString(1750000000000 + number * 13 + 3540000), '}},"src_endpoint":{"ip":"',
      multiIf(number % 10 < 6, IPv4NumToString(toUInt32(3726639104 + number % 65536)),
              number % 10 < 9, IPv4NumToString(toUInt32(1885339648 + number % 1048576)),
              IPv4NumToString(toUInt32(872415232 + number % 4096))),
      '"},"http_request":{"http_method":"GET","url":{"path":"/v1/me/addresses"},"user_agent":"ShopApp/5.',
      toString(number % 10), ' (iPhone)"},"api":{"operation":"GetShippingAddresses","request":{"uid":"req-', toString(number),
      '"}},"resources":[{"uid":"c-', toString(number % 200000), '","type":"customer"},{"uid":"r-', toString(number % 300000),
      '","type":"recipient"},{"uid":"r-', toString(number % 300001), '","type":"recipient"}],"http_response":{"code":200,"length":',
      toString(1000 + number % 3000), '},"metadata":{${args.real ? '"version":"1.3.0","product":{"name":"gateway","vendor_name":"Example"},' : ''}"uid":"evt-', toString(number), '"${args.plain || args.real ? '' : ',"product":{"name":"gateway"}'}}}'))
  FROM numbers(${n})
  SETTINGS engine_file_truncate_on_insert = 1`);
}
const bytes = fs.statSync(file).size;
// Several files: consecutive lines, cut at line ends, in a folder of their own.
const parts = Number(args.files);
const input = parts > 1 ? `${file}.parts-${parts}` : file;
if (parts > 1 && !fs.existsSync(input)) {
  const text = fs.readFileSync(file);
  fs.mkdirSync(input);
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const end =
      i === parts - 1 ? text.length : text.indexOf(10, Math.floor(((i + 1) * text.length) / parts)) + 1;
    fs.writeFileSync(path.join(input, `part-${String(i).padStart(4, '0')}.jsonl`), text.subarray(start, end));
    start = end;
  }
}
console.log(
  `input: ${n.toLocaleString('en')} lines, ${(bytes / 1e6).toFixed(0)} MB (${input}${parts > 1 ? `, ${parts} files` : ''}), ready in ${((performance.now() - t) / 1000).toFixed(1)} s`,
);

/** Runs `f`, returning wall seconds, CPU seconds (user + system, all threads) and peak sampled RSS. */
async function measure(f: () => Promise<unknown>): Promise<{ wall: number; cpu: number; rssMB: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    await f();
  } finally {
    clearInterval(timer);
  }
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  peak = Math.max(peak, process.memoryUsage.rss());
  return { wall, cpu: (c.user + c.system) / 1e6, rssMB: peak / 2 ** 20 };
}

// Bare engine: the same file, one typed JSON parse per line, straight into a table of the same shape.
await e.exec('CREATE TABLE bare AS events');
const bare = () =>
  e.exec(`INSERT INTO bare (event_id, time, class_uid, activity_id, status_id, actor_uid, token_id, key_id, src_ip,
    http_method, url_path, user_agent, operation, subject_ids, http_status, response_bytes, source_file, source_line)
  SELECT j.metadata.uid, fromUnixTimestamp64Milli(j.time, 'UTC'), j.class_uid, j.activity_id, j.status_id, j.actor.user.uid,
    j.actor.session.uid, j.actor.session.credential_uid, toIPv6OrDefault(j.src_endpoint.ip), j.http_request.http_method,
    j.http_request.url.path, j.http_request.user_agent, j.api.operation, arrayMap(r -> r.uid, j.resources),
    j.http_response.code, j.http_response.length, '${file}', _row_number
  FROM (SELECT _row_number, JSONExtract(line, 'Tuple(time Int64, class_uid UInt16, activity_id UInt8, status_id UInt8,
      actor Tuple(user Tuple(uid String), session Tuple(uid String, credential_uid String)), src_endpoint Tuple(ip String),
      http_request Tuple(http_method String, url Tuple(path String), user_agent String), api Tuple(operation String),
      resources Array(Tuple(uid String, type String)), http_response Tuple(code UInt16, length UInt64),
      metadata Tuple(uid String))') AS j FROM file('${parts > 1 ? path.join(input, '*.jsonl') : file}', 'LineAsString', 'line String'))`);

// Load the IP database once, outside the timing (it is loaded once per workspace).
await loadIpDatabase(e);

const rate = (s: number) => Math.round(n / s).toLocaleString('en');
const fmt = (m: { wall: number; cpu: number; rssMB: number }) =>
  `${m.wall.toFixed(2)} s = ${rate(m.wall)} events/s, CPU ${m.cpu.toFixed(1)} s, peak RSS ${m.rssMB.toFixed(0)} MB`;
for (let round = 1; round <= rounds; round++) {
  for (const table of ['events', 'raw_events', 'quarantine', 'ingests', 'bare'])
    await e.exec(`TRUNCATE TABLE ${table}`);
  let counts: unknown;
  const vigil = await measure(async () => {
    counts = (await ingestInputs(ws, [input])).counts;
  });
  const plain = await measure(bare);
  console.log(`round ${round}: ${JSON.stringify(counts)}`);
  console.log(`  vigil ingest (validation, quarantine, dedup, enrichment): ${fmt(vigil)}`);
  console.log(`  bare INSERT … SELECT … FROM file():                      ${fmt(plain)}`);
  console.log(`  ratio vigil/bare rate: ${(plain.wall / vigil.wall).toFixed(2)}`);
}
console.log(`process peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
await ws.close();
if (!args.keep) fs.rmSync(dir, { recursive: true, force: true });
