#!/usr/bin/env node
// Verify bench: pure-JS vs native (libsecp256k1) Schnorr verification of the same signed
// events, side by side in one run, against the compiled build in dist/.
//   node scripts/bench/verify.js [--n 20000] [--js-n 2000] [--threads N] [--quick]
// Events come from lib/sign.js (native sign() when built, cached in bench-results/).
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { DIST } from './lib/util.js'
import { signedEvents } from './lib/sign.js'
import { markdownTable } from './lib/table.js'

const HEADERS = ['path', 'backend', 'threads', 'events', 'events/s', 'vs js']

/** Best events/s of `repeat` timed passes (after one warm-up pass on a slice). */
async function measure (count, repeat, fn) {
  await fn(Math.min(count, 200))
  let best = 0
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now()
    await fn(count)
    best = Math.max(best, count / ((performance.now() - t0) / 1000))
  }
  return best
}

/** opts: { n = 20000, jsN = 2000, threads = availableParallelism(), repeat = 3, quick, log } */
export async function run (opts = {}) {
  const quick = opts.quick === true
  const n = opts.n ?? (quick ? 5_000 : 20_000)
  const jsN = Math.min(n, opts.jsN ?? (quick ? 500 : 2_000))
  const threads = opts.threads ?? availableParallelism()
  const repeat = opts.repeat ?? (quick ? 1 : 3)
  const log = opts.log ?? (() => {})

  const { loadVerifier, verifyEventSignature } = await import(join(DIST, 'events', 'verify.js'))
  const { VerifyPool } = await import(join(DIST, 'events', 'verify-pool.js'))
  const { lines } = await signedEvents(n, { log })
  const events = lines.map(l => JSON.parse(l))
  const items = events.map(e => ({ id: e.id, pubkey: e.pubkey, sig: e.sig }))

  const check = (ok, what) => { if (!ok) throw new Error(`verify bench: ${what} rejected valid events`) }
  const full = (v) => async (k) => { let ok = 0; for (let i = 0; i < k; i++) if (verifyEventSignature(v, events[i]) === 'ok') ok++; check(ok === k, v.backend) }
  const rows = []
  const add = (path, backend, thr, count, eps) => rows.push({ path, backend, threads: String(thr), events: count, 'events/s': eps })

  const js = loadVerifier({ forceJs: true })
  add('verifyEventSignature (id hash + sig)', 'js', 1, jsN, await measure(jsN, repeat, full(js)))
  log(`verify: js ${Math.round(rows[0]['events/s'])} events/s`)

  const warnings = []
  const v = loadVerifier({ log: { warn: (...a) => warnings.push(a) } })
  if (v.backend !== 'native') {
    log('verify: native addon not available (npm run build:native needs libsecp256k1-dev); only the js rows are meaningful')
  }
  add('verifyEventSignature (id hash + sig)', v.backend, 1, n, await measure(n, repeat, full(v)))
  add('verify (sig only)', v.backend, 1, n, await measure(n, repeat, async k => {
    let ok = 0
    for (let i = 0; i < k; i++) if (v.verify(items[i].id, items[i].pubkey, items[i].sig)) ok++
    check(ok === k, 'verify')
  }))
  add('verifyMany (sig only, one batch)', v.backend, 1, n, await measure(n, repeat, async k => {
    check(v.verifyMany(k === n ? items : items.slice(0, k)).every(Boolean), 'verifyMany')
  }))

  const pool = new VerifyPool({ threads, log: { warn: () => {} } })
  try {
    await pool.verifyMany(items.slice(0, 256)) // start the workers outside the timing
    add('VerifyPool.verifyMany (sig only)', pool.backend, threads, n, await measure(n, repeat, async k => {
      check((await pool.verifyMany(k === n ? items : items.slice(0, k))).every(Boolean), 'pool')
    }))
  } finally {
    await pool.close()
  }

  const jsRate = rows[0]['events/s']
  for (const r of rows) r['vs js'] = `${(r['events/s'] / jsRate).toFixed(1)}x`
  return { n, jsN, threads, backend: v.backend, rows }
}

export function table (rows) {
  return markdownTable(HEADERS, rows.map(r => HEADERS.map(h => r[h])))
}

function parseArgs (argv) {
  const o = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const num = () => { const x = Number(argv[++i]); if (!Number.isInteger(x) || x <= 0) throw new Error(`${a} needs a positive integer`); return x }
    if (a === '--n') o.n = num()
    else if (a === '--js-n') o.jsN = num()
    else if (a === '--threads') o.threads = num()
    else if (a === '--repeat') o.repeat = num()
    else if (a === '--quick') o.quick = true
    else throw new Error(`unknown option ${a} (--n, --js-n, --threads, --repeat, --quick)`)
  }
  return o
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const o = parseArgs(process.argv.slice(2))
  const res = await run({ ...o, log: m => console.error(`[verify] ${m}`) })
  console.log(`### Verify: ${res.n} signed events (js on ${res.jsN}), ${res.threads} pool threads\n`)
  console.log(table(res.rows))
}
