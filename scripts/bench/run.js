#!/usr/bin/env node
// `npm run bench`: builds dist/ if stale, runs the benches, prints markdown tables and writes
// bench-results/latest.md + latest.json.
//   --quick                small fast run          --only ingest,query,startup,verify,catchup,uplink,priority
//   --sizes 100000,1000000 query/start-up sizes   --n 40000 ingest events   --window 64
//   --repeat 3             ingest repetitions (medians reported)
//   --out DIR              where latest.md/latest.json go (default bench-results/)
//   --reindex              rebuild the cached stores' indexes (re-measures reindex; automatic
//                          when the compiled store code changed since they were indexed)
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { DIST, RESULTS, ROOT } from './lib/util.js'
import { markdownTable } from './lib/table.js'
import { fmt, fmtRatio, ratio } from './lib/stats.js'

const BENCHES = ['verify', 'ingest', 'query', 'startup', 'catchup', 'uplink', 'priority']
const RUN_STARTED = Date.now()
const when = r => r.reindexed || Date.parse(r.reindexedAt ?? '') >= RUN_STARTED ? 'this run' : `on ${r.reindexedAt ?? '?'}`

function parseArgs (argv) {
  const o = { quick: false, only: BENCHES, sizes: null, n: null, window: 64, repeat: null, reindex: false, out: RESULTS }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const val = () => { const v = argv[++i]; if (v === undefined) throw new Error(`${a} needs a value`); return v }
    if (a === '--quick') o.quick = true
    else if (a === '--only') o.only = val().split(',').map(s => s.trim()).filter(Boolean)
    else if (a === '--sizes') o.sizes = val().split(',').map(s => Number(s.replace(/_/g, '')))
    else if (a === '--n') o.n = Number(val())
    else if (a === '--window') o.window = Number(val())
    else if (a === '--repeat') o.repeat = Number(val())
    else if (a === '--out') o.out = val()
    else if (a === '--reindex') o.reindex = true
    else throw new Error(`unknown option ${a} (try --quick, --only ${BENCHES.join(',')}, --sizes 100000,1000000, --n, --window, --repeat, --out, --reindex)`)
  }
  for (const b of o.only) if (!BENCHES.includes(b)) throw new Error(`--only: unknown bench ${b} (one of ${BENCHES.join(', ')})`)
  if (o.sizes?.some(s => !Number.isInteger(s) || s <= 0)) throw new Error('--sizes: positive integers, comma-separated')
  return o
}

function newestMtime (dir) {
  let t = 0
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name)
    t = Math.max(t, ent.isDirectory() ? newestMtime(p) : ent.name.endsWith('.ts') ? statSync(p).mtimeMs : 0)
  }
  return t
}

function ensureBuilt (log) {
  const out = join(DIST, 'node.js')
  const src = Math.max(newestMtime(join(ROOT, 'node', 'src')), statSync(join(ROOT, 'tsconfig.build.json')).mtimeMs)
  if (existsSync(out) && statSync(out).mtimeMs >= src) return 'up to date'
  log('dist/ is missing or older than node/src: running tsc -p tsconfig.build.json ...')
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' })
  if (r.status !== 0) {
    // tsc still emits on type errors; carry on with what it wrote if there is a build at all
    if (!existsSync(out)) throw new Error('tsc failed and dist/node.js does not exist')
    log('WARNING: tsc reported errors (see above); benchmarking the emitted dist/ anyway')
    return 'rebuilt with errors'
  }
  return 'rebuilt'
}

function gitRev () {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : 'unknown'
}

const sizeName = n => n === 0 ? 'empty' : n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n)

// ---- tables ----

function ingestTable (r) {
  const [one, four] = r.runs
  const v = r.verifyOnly.eventsPerSec
  const vCpu = r.verifyOnly.cpuUs
  const spread = xs => xs.length > 1 ? `${fmtRatio(Math.min(...xs))}–${fmtRatio(Math.max(...xs))}` : ''
  const rows = [
    ['verify-only, 1 thread, events/s (median of the flanking passes)', v, fmtRatio(1)],
    ['ingest over WS, 1 connection, events/s', one.eventsPerSec, fmtRatio(r.ratio1)],
    ['ingest over WS, 4 connections, events/s', four.eventsPerSec, fmtRatio(r.ratio4)],
    [`ratio range over ${r.repeat} repetitions, 1 / 4 connections`, '', `${spread(r.spread.ratio1)} / ${spread(r.spread.ratio4)}`],
    ['OK latency p50, 1 connection, ms', one.okP50, ''],
    ['OK latency p99, 1 connection, ms', one.okP99, ''],
    ['OK latency p50, 4 connections, ms', four.okP50, fmtRatio(ratio(four.okP50, one.okP50)) + ' of 1 conn'],
    ['OK latency p99, 4 connections, ms', four.okP99, fmtRatio(ratio(four.okP99, one.okP99)) + ' of 1 conn'],
    ['verify-only CPU, µs per event (id hash + signature, one thread)', vCpu, ''],
    ['disk: 8 KiB append + fdatasync, ms (probe, same run)', r.fsyncMs, '']
  ]
  for (const x of r.runs) {
    const c = x.commit
    const clientUs = x.clientCpu * x.ms * 1000 / x.ok
    rows.push([`${x.conns} conn: events per log block (group commit)`, x.ok / c.blocks, ''])
    rows.push([`${x.conns} conn: events per WAL fsync; ms per fsync`, x.ok / c.syncs, `${fmt(c.syncMs / c.syncs)} ms`])
    rows.push([`${x.conns} conn: append, ms per block; index, ms per block`, c.appendMs / c.blocks, `${fmt(c.indexMs / c.blocks)} ms`])
    rows.push([`${x.conns} conn: node main thread CPU, µs per event -> ratio ceiling`, x.mainUsPerEvent, fmtRatio(vCpu / x.mainUsPerEvent)])
    rows.push([`${x.conns} conn: node all threads + client process CPU, µs per event -> 2-core ratio ceiling`, x.nodeUsPerEvent + clientUs, fmtRatio(2 * vCpu / (x.nodeUsPerEvent + clientUs))])
    const t = x.threadsUsPerEvent
    if (t !== undefined) {
      const split = `main ${fmt(t.main)} + verify workers ${fmt(t.verifyWorkers)} + libuv pool & V8 ${fmt(t.libuvAndV8)} + RocksDB background ${fmt(t.rocksdbBackground)} + client ${fmt(clientUs)}`
      rows.push([`${x.conns} conn: the same by threads, µs per event (/proc, 10 ms ticks)`, t.main + t.verifyWorkers + t.libuvAndV8 + t.rocksdbBackground + clientUs, split])
    }
  }
  let costs = ''
  if (r.costs) {
    const c = r.costs
    const sum = c.rows.reduce((a, x) => a + x.cpuUs, 0)
    const budget = 2 * vCpu / 0.8
    costs = `\n\n#### Where an event's CPU goes (each step alone, this thread, ${c.n} events, same run)\n\n` +
      markdownTable(['step', 'CPU µs per event, all threads', 'of which main thread', 'wall µs per event'], [...c.rows.map(x => [x.step, x.cpuUs, x.mainUs, x.wallUs]), ['sum of the steps', sum, c.rows.reduce((a, x) => a + x.mainUs, 0), '']]) +
      `\n\nVerify-only costs ${fmt(vCpu)} µs of CPU per event, so ingest at 0.80x of it leaves the node and the client process together ${fmt(budget)} µs of CPU per event on this machine's 2 cores (2 x ${fmt(vCpu)} / 0.8), of which the signature check takes ${fmt(vCpu)}. The steps above alone add up to ${fmt(sum)}; not in them: WebSocket framing and socket I/O, promises and queues, OK replies, GC, the worker hand-off, the client.`
  }
  return `### Ingest (${r.n} signed events, window ${r.window} per connection, verifier: ${r.backend}, median of ${r.repeat})\n\n` +
    markdownTable(['metric', 'value', 'ratio'], rows) +
    `\n\nratio = ingest events/s over verify-only (id hash + signature, one thread, same events) measured right before and after that ingest run (target >= 0.80); figures are medians over ${r.repeat} repetitions. Verify-only passes: ${r.verifyOnly.flanks.map(fmt).join(' / ')} events/s.` +
    '\nThe WebSocket clients run in a child process (masked EVENT frames built before timing, written to the socket; the OKs of one TCP read refill the window in one write). One unreported warm-up ingest runs first. Per-step rows time Store internals (NodeLog.appendUnsynced, the WAL fsync, LogIndexer.indexBlock) wrapped by the bench; the steps overlap. CPU rows: the node\'s main thread (/proc), all its threads (process.cpuUsage: verify workers, RocksDB, fsync) plus the client process, per accepted event. "by threads": the node\'s threads grouped from /proc (verify workers = the threads the node started: its verify pool, started before timing; "libuv pool & V8" = RocksDB reads and writes, fsync, GC and the optimizing compiler). "ratio ceiling" is the highest ingest/verify-only ratio that CPU cost allows when the main thread has a core to itself (verify-only CPU / main-thread CPU), or when the node and the client share both cores fully (2 x verify-only CPU / all CPU). CPU per event is much less sensitive to other load on the machine than events/s.' + costs
}

function queryTable (results) {
  const sizes = results.map(r => r.size)
  const base = results[0]
  const last = results[results.length - 1]
  const headers = ['query (via)', ...sizes.flatMap(s => [`${sizeName(s)} p50 ms`, `${sizeName(s)} p99 ms`]), 'results', ...(results.length > 1 ? [`p50 ratio ${sizeName(last.size)}/${sizeName(base.size)}`] : [])]
  const rows = base.rows.map((row, i) => [
    `${row.name} (${row.via})`,
    ...results.flatMap(r => [r.rows[i].p50, r.rows[i].p99]),
    last.rows[i].avgResults,
    ...(results.length > 1 ? [fmtRatio(ratio(last.rows[i].p50, row.p50))] : [])
  ])
  const stored = results.map(r => `${sizeName(r.size)}: ${r.stored} indexed (${!r.cached ? 'built this run' : r.reindexed ? 'cached log, index rebuilt this run' : 'cached data dir'})`).join(', ')
  return `### Query (${base.rows[0].n} runs per query in-process, ${base.rows[base.rows.length - 1].n} over WS)\n\n` +
    markdownTable(headers, rows) + `\n\n${stored}. results = mean events returned at ${sizeName(last.size)}. Kinds 0/3 are replaceable, so the index holds fewer events than the log.`
}

function startupTable (results) {
  const filled = results.filter(r => r.size > 0)
  const a = filled[0]
  const b = filled[filled.length - 1]
  const cols = results.map(r => sizeName(r.size))
  const rat = (f) => filled.length > 1 ? fmtRatio(ratio(f(b), f(a))) : ''
  const get = (f) => results.map(r => f(r))
  const rows = [
    ['spawn -> "listening" log line, ms', ...get(r => r.listeningMs), rat(r => r.listeningMs)],
    ['spawn -> GET /api/health 200, ms', ...get(r => r.healthMs), rat(r => r.healthMs)],
    ['VmRSS at ready, MB', ...get(r => r.rssReadyMB), rat(r => r.rssReadyMB)],
    ['VmRSS after query mix, MB', ...get(r => r.rssAfterMB), rat(r => r.rssAfterMB)],
    ['VmHWM (peak RSS), MB', ...get(r => r.hwmMB), rat(r => r.hwmMB)],
    ['queries in the mix (REQ->EOSE)', ...get(r => r.queries), ''],
    ['index rebuild (reindex) from own log, s', ...get(r => r.reindex ? r.reindex.ms / 1000 : ''), rat(r => r.reindex.ms)],
    ['index rebuild, log events/s', ...get(r => r.reindex ? r.reindex.eventsPerSec : ''), rat(r => r.reindex.eventsPerSec)]
  ]
  return `### Start-up and memory (\`outpost start\` as a child process, warm page cache)\n\n` +
    markdownTable(['metric', ...cols, ...(filled.length > 1 ? [`ratio ${sizeName(b.size)}/${sizeName(a.size)}`] : [])], rows.map(r => filled.length > 1 ? r : r.slice(0, -1))) +
    `\n\nReindex = delete <dir>/index and reopen: the store rebuilds the index from its trusted own log. It is measured when a cached data dir is built, when the compiled store code changed since, or with --reindex; here: ${filled.map(r => `${sizeName(r.size)} ${when(r)}`).join(', ')}.`
}

/** verify.js's result: { rows, n, threads, ... } or bare rows; rendered by its own table() when it exports one. */
function verifyTable (res, render) {
  const rows = Array.isArray(res) ? res : res?.rows
  const title = `### Verify (scripts/bench/verify.js${res?.n ? `, ${res.n} events, ${res.threads} pool threads` : ''})\n\n`
  if (!Array.isArray(rows) || rows.length === 0) return title + '(no rows)'
  if (typeof render === 'function') return title + render(rows)
  if (Array.isArray(rows[0])) return title + markdownTable(rows[0].map(String), rows.slice(1))
  const headers = [...new Set(rows.flatMap(r => Object.keys(r)))]
  return title + markdownTable(headers, rows.map(r => headers.map(h => r[h])))
}

function summary (res) {
  const s = []
  if (res.ingest) {
    const r = res.ingest
    const best = Math.max(r.ratio1, r.ratio4)
    s.push(`- **Ingest**: ${fmt(r.runs[0].eventsPerSec)} events/s on 1 connection (${fmtRatio(r.ratio1)} of verify-only), ${fmt(r.runs[1].eventsPerSec)} on 4 (${fmtRatio(r.ratio4)}); target >= 0.80x: **${best >= 0.8 ? 'met' : 'NOT met'}**. OK p99 ${fmt(r.runs[0].okP99)} ms (1 conn) / ${fmt(r.runs[1].okP99)} ms (4 conns).`)
  }
  if (res.query) {
    for (const q of res.query) {
      const worst = q.rows.reduce((a, b) => (b.p99 > a.p99 ? b : a))
      s.push(`- **Query at ${sizeName(q.size)}**: author timeline p50 ${fmt(q.rows[0].p50)} ms; slowest p99 is ${worst.name} (${worst.via}) at ${fmt(worst.p99)} ms.`)
    }
  }
  const reindexes = res.startup?.filter(r => r.reindex) ?? res.query ?? []
  for (const r of reindexes) s.push(`- **Reindex at ${sizeName(r.size)}**: ${fmt(r.reindex.ms / 1000)} s, ${fmt(r.reindex.eventsPerSec)} log events/s (measured ${when(r)}).`)
  if (res.catchup) s.push(`- **Catch-up of ${sizeName(res.catchup.n)} events**: ${fmt(res.catchup.ours.ms / 1000)} s, ${fmt(res.catchup.ours.eventsPerSec)} events/s verified and indexed (${fmtRatio(res.catchup.ratio)} of raw replication; ${fmtRatio(res.catchup.readAheadSpeedup)} of the events/s without read-ahead, same run; every block local after ${fmt(res.catchup.ours.localMs / 1000)} s = ${fmtRatio(res.catchup.localRatio)}); target >= 0.80x: **${res.catchup.ratio >= 0.8 ? 'met' : 'NOT met'}**.`)
  if (res.priority) s.push(`- **Priorities on a thin link** (${fmt(res.priority.rate / 1024)} KiB/s, ${fmt(res.priority.bytes / 1e6)} MB backlog, bulk written first): every private message readable after ${fmt(res.priority.prio.dms.ms / 1000)} s by priority vs ${fmt(res.priority.inOrder.dms.ms / 1000)} s in order (${fmtRatio(res.priority.dmsSpeedup)} sooner), short posts ${fmtRatio(res.priority.textSpeedup)} sooner; everything arrives at ${fmtRatio(res.priority.allRatio)} the in-order speed.`)
  if (res.uplink) s.push(`- **Uplink, ${fmt(res.uplink.n)} pending events**: delivered ${fmt(res.uplink.swarm.ms / 1000)} s after the uplink came up over the swarm (session after ${fmt(res.uplink.swarm.connectedMs / 1000)} s) vs ${fmt(res.uplink.lan.ms / 1000)} s over the LAN transport (${fmtRatio(res.uplink.ratio)} of LAN throughput).`)
  for (const r of res.startup?.filter(r => r.size > 0) ?? []) s.push(`- **Start-up at ${sizeName(r.size)}**: healthy after ${fmt(r.healthMs)} ms; RSS ${fmt(r.rssReadyMB)} MB at ready, ${fmt(r.rssAfterMB)} MB after the query mix.`)
  return s.join('\n')
}

function catchupTable (r) {
  const rows = [
    ['raw corestore replication (Noise/TCP, same blocks), s', r.raw.ms / 1000, fmt(r.raw.eventsPerSec), fmtRatio(1)],
    ['sync transport alone (indexing switched off), every block local, s', r.transport.ms / 1000, fmt(r.transport.eventsPerSec), fmtRatio(r.transportRatio)],
    ['sync catch-up: every block local, s', r.ours.localMs / 1000, fmt(r.ours.localEventsPerSec), fmtRatio(r.localRatio)],
    ['sync catch-up: every event verified + indexed (read-ahead), s', r.ours.ms / 1000, fmt(r.ours.eventsPerSec), fmtRatio(r.ratio)],
    ['the same without read-ahead (check, then index), s', r.without.ms / 1000, fmt(r.without.eventsPerSec), fmtRatio(r.withoutRatio)],
    ['the same without read-ahead: every block local, s', r.without.localMs / 1000, fmt(r.without.localEventsPerSec), fmtRatio(r.withoutLocalRatio)]
  ]
  return `### Catch-up (scripts/bench/catchup.js, ${fmt(r.n)} signed events in ${fmt(r.blocks)} blocks)\n\n` +
    markdownTable(['path', 'seconds', 'events/s', 'vs raw'], rows) +
    `\n\nA node that was away connects to one that holds ${fmt(r.n)} events (one log, ${fmt(r.eventsPerBlock)} events per block). Raw = a bare Corestore downloading the same log over the same Noise/TCP stream, measured before and after (${r.raw.flanks.map(ms => fmt(ms / 1000)).join(' / ')} s); ours = the whole sync path (handshake, admission, log exchange, replication, then every event re-verified and indexed). Read-ahead: the next blocks are decoded and their signatures checked on the worker pool while the current ones are indexed; with / without read-ahead alternated in the same run (${r.ours.runs.length} + ${r.without.runs.length} runs, means; with ${r.ours.runs.map(ms => fmt(ms / 1000)).join(' / ')} s, without ${r.without.runs.map(ms => fmt(ms / 1000)).join(' / ')} s): read-ahead = ${fmtRatio(r.readAheadSpeedup)} the events/s without; CPU of the process per event ${fmt(r.ours.cpuUsPerEvent)} µs with, ${fmt(r.without.cpuUsPerEvent)} µs without (${fmt(r.ours.cores)} vs ${fmt(r.without.cores)} cores busy); 1-min load average ${r.load.map(fmt).join(' → ')}. Target >= 0.80x of raw.`
}

function priorityTable (r) {
  const kb = b => fmt(b / 1000)
  const rows = [
    ['every private message readable', fmt(r.prio.dms.ms / 1000), kb(r.prio.dms.bytes), fmt(r.inOrder.dms.ms / 1000), kb(r.inOrder.dms.bytes), fmtRatio(r.dmsSpeedup)],
    ['every short post readable', fmt(r.prio.text.ms / 1000), kb(r.prio.text.bytes), fmt(r.inOrder.text.ms / 1000), kb(r.inOrder.text.bytes), fmtRatio(r.textSpeedup)],
    ['everything', fmt(r.prio.all.ms / 1000), kb(r.prio.all.bytes), fmt(r.inOrder.all.ms / 1000), kb(r.inOrder.all.bytes), fmtRatio(r.allRatio)]
  ]
  return `### Priorities on a thin link (scripts/bench/priority.js, ${r.total.toLocaleString('en')} events, ${fmt(r.bytes / 1e6)} MB, ${r.blocks} blocks, ${fmt(r.rate / 1024)} KiB/s each way)\n\n` +
    markdownTable(['until', 'by priority, s', 'by priority, kB in', 'in order, s', 'in order, kB in', 'in order / by priority'], rows) +
    `\n\nA site's backlog: ${r.n.bulk} bulky events of 20 KB, then ${r.n.dms} private messages (kind 4), ${r.n.text} short posts, ${r.n.bulk} more bulky events. A fresh node fetches it through a throttled TCP proxy on loopback; the same node code with priorities off (strictly in order) right after, same run. kB in: bytes the proxy had passed to the fetching node at that moment.`
}

function uplinkTable (r) {
  const rows = [
    ['LAN transport (TCP static peer), s', r.lan.ms / 1000, fmt(r.lan.eventsPerSec), fmtRatio(1)],
    ['swarm, uplink up to all delivered, s', r.swarm.ms / 1000, fmt(r.swarm.eventsPerSec), fmtRatio(r.ratio)],
    ['swarm, of which: uplink up to a ready session, s', r.swarm.connectedMs / 1000, '', ''],
    ['swarm, of which: session to all delivered, s', r.swarm.transferMs / 1000, fmt(r.n / (r.swarm.transferMs / 1000)), fmtRatio(r.transferRatio)]
  ]
  return `### Uplink (scripts/bench/uplink.js, ${fmt(r.n)} pending events in ${r.blocks} blocks)\n\n` +
    markdownTable(['path', 'seconds', 'events/s', 'vs LAN'], rows) +
    `\n\nA site holds ${fmt(r.n)} events written while offline; the uplink comes up (the site joins the community topic on a loopback hyperdht testnet where the remote peer already is) and the time runs until the remote has every event verified and indexed. Same events to a fresh node over the LAN transport (TCP static peer) before and after (${r.lan.flanks.map(ms => fmt(ms / 1000)).join(' / ')} s); two swarm runs (${r.swarm.runs.map(ms => fmt(ms / 1000)).join(' / ')} s).`
}

// ---- main ----

async function main () {
  let o
  try { o = parseArgs(process.argv.slice(2)) } catch (err) { console.error(`bench: ${err.message}`); process.exit(2) }
  const log = m => console.error(`[bench] ${m}`)
  const started = performance.now()
  const build = ensureBuilt(log)
  const sizes = o.sizes ?? (o.quick ? [10_000] : [100_000, 1_000_000])
  const cfg = o.quick
    ? { n: o.n ?? 5_000, repeat: 1, iterations: 30, wsIterations: 10, rounds: 5, starts: 1 }
    : { n: o.n ?? 40_000, repeat: 3, iterations: 200, wsIterations: 50, rounds: 20, starts: 3 }
  const res = {}
  const timings = {}
  let verifyRender = null
  const time = async (name, fn) => { const t = performance.now(); res[name] = await fn(); timings[name] = (performance.now() - t) / 1000; log(`${name} done in ${timings[name].toFixed(1)} s`) }

  if (o.only.includes('verify')) {
    const file = join(ROOT, 'scripts', 'bench', 'verify.js')
    if (existsSync(file)) {
      const mod = await import(pathToFileURL(file).href)
      await time('verify', async () => mod.run({ quick: o.quick, log }))
      verifyRender = mod.table
    }
    else log('scripts/bench/verify.js not found: skipping the verify bench')
  }
  if (o.only.includes('ingest')) await time('ingest', async () => (await import('./ingest.js')).run({ n: cfg.n, window: o.window, repeat: o.repeat ?? cfg.repeat, log }))
  if (o.only.includes('query')) await time('query', async () => (await import('./query.js')).run({ sizes, iterations: cfg.iterations, wsIterations: cfg.wsIterations, reindex: o.reindex, log }))
  if (o.only.includes('catchup')) await time('catchup', async () => (await import('./catchup.js')).run({ n: o.quick ? 10_000 : 100_000, log }))
  if (o.only.includes('uplink')) await time('uplink', async () => (await import('./uplink.js')).run({ n: 10_000, log }))
  if (o.only.includes('priority')) await time('priority', async () => (await import('./priority.js')).run(o.quick ? { bulk: 20, dms: 10, text: 40, log } : { log }))
  if (o.only.includes('startup')) await time('startup', async () => (await import('./startup.js')).run({ sizes, rounds: cfg.rounds, starts: cfg.starts, reindex: o.reindex && !o.only.includes('query'), log }))

  const totalS = (performance.now() - started) / 1000
  const env = `${new Date().toISOString()} · git ${gitRev()} · node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · ${(totalmem() / 2 ** 30).toFixed(1)} GiB · ${o.quick ? 'quick' : 'default'} mode · dist ${build}`
  const parts = [
    '# Outpost bench', '', env, '', `Total ${totalS.toFixed(0)} s (${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ')}). Absolute figures are noisy on this machine; compare ratios within one run.`,
    '', '## Summary', '', summary(res)
  ]
  if (res.verify) parts.push('', verifyTable(res.verify, verifyRender))
  if (res.ingest) parts.push('', ingestTable(res.ingest))
  if (res.query) parts.push('', queryTable(res.query))
  if (res.startup) parts.push('', startupTable(res.startup))
  if (res.catchup) parts.push('', catchupTable(res.catchup))
  if (res.uplink) parts.push('', uplinkTable(res.uplink))
  if (res.priority) parts.push('', priorityTable(res.priority))
  const md = parts.join('\n') + '\n'
  console.log(md)
  await mkdir(o.out, { recursive: true })
  await writeFile(join(o.out, 'latest.md'), md)
  await writeFile(join(o.out, 'latest.json'), JSON.stringify({ env, options: o, totalS, timings, results: res }, (k, v) => k === 'authors' || k === 'sampleIds' ? undefined : v, 2))
  log(`wrote ${join(o.out, 'latest.md')} and latest.json`)
}

main().catch(err => { console.error(err); process.exit(1) })
