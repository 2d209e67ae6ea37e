// Start-up / RSS bench: `outpost start` as a child process on a filled data dir: time from
// spawn to GET /api/health 200, VmRSS at ready and after the query mix over WebSocket.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { ROOT, BENCH_LIMITS, procMemMB, rmrf, sleep, tempDir } from './lib/util.js'
import { filledStore } from './lib/filled-store.js'
import { queryMix } from './lib/query-mix.js'
import { connect, closeWs, reqEose } from './lib/ws.js'
import { percentile } from './lib/stats.js'

function startChild (dataDir) {
  const args = [join(ROOT, 'bin', 'outpost.js'), 'start', '--data', dataDir, '--port', '0', '--host', '127.0.0.1',
    '--log-level', 'info', '--no-lan', '--swarm', 'off', '--sync-port', '0',
    '--messages-per-second', String(BENCH_LIMITS.messagesPerSecond)]
  const t0 = performance.now()
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', d => { stderr += d })
  const lines = []
  const listening = new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', line => {
      lines.push(line)
      let m
      try { m = JSON.parse(line) } catch { return }
      if (typeof m.msg === 'string' && m.msg.includes('listening') && m.port !== undefined) resolve({ host: m.host, port: m.port, ms: performance.now() - t0 })
    })
    child.once('exit', code => reject(new Error(`outpost start exited with ${code} before listening: ${stderr.slice(-2000)} ${lines.slice(-5).join('\n')}`)))
  })
  return { child, t0, listening, lines }
}

async function waitHealthy (host, port, t0) {
  for (;;) {
    try {
      const res = await fetch(`http://${host}:${port}/api/health`)
      const body = await res.json()
      if (res.status === 200) return { ms: performance.now() - t0, body }
    } catch {}
    await sleep(5)
  }
}

async function stopChild (child) {
  if (child.exitCode !== null) return child.exitCode
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000) // a hung close must not hang the bench
  const code = await exited
  clearTimeout(timer)
  return code
}

/** Starts a node on `dir`, runs the query mix `rounds` times over one WebSocket, stops it. */
async function measure (dir, meta, rounds) {
  const { child, t0, listening, lines } = startChild(dir)
  try {
    const addr = await listening
    const health = await waitHealthy(addr.host, addr.port, t0)
    const ready = await procMemMB(child.pid)
    let queries = 0
    if (meta !== null) {
      const ws = await connect(`ws://${addr.host}:${addr.port}/`)
      const mix = queryMix(meta, 123)
      for (let r = 0; r < rounds; r++) for (const q of mix) { await reqEose(ws, [q.make()]); queries++ }
      await closeWs(ws)
    }
    const after = await procMemMB(child.pid)
    return {
      listeningMs: addr.ms, healthMs: health.ms, events: health.body.events,
      rssReadyMB: ready.rss, rssAfterMB: after.rss, hwmMB: after.hwm, queries,
      logLines: lines.length
    }
  } finally {
    await stopChild(child)
  }
}

/** `starts` start-ups (median times); the query mix runs on the last one only. */
async function measureMany (dir, meta, rounds, starts) {
  const runs = []
  for (let i = 0; i < starts; i++) runs.push(await measure(dir, i === starts - 1 ? meta : null, rounds))
  const last = runs[runs.length - 1]
  return {
    ...last,
    starts,
    listeningMs: percentile(runs.map(r => r.listeningMs), 50),
    healthMs: percentile(runs.map(r => r.healthMs), 50),
    healthMsAll: runs.map(r => r.healthMs)
  }
}

/** opts: { sizes, rounds, starts, reindex (force an index rebuild), log } */
export async function run (opts = {}) {
  const log = opts.log ?? (() => {})
  const rounds = opts.rounds ?? 50
  const starts = opts.starts ?? 3
  const empty = await tempDir('startup-empty')
  const out = []
  try {
    out.push({ size: 0, ...await measureMany(empty, null, 0, starts) })
  } finally {
    await rmrf(empty)
  }
  for (const size of opts.sizes ?? [100_000]) {
    const meta = await filledStore(size, { log, reindex: opts.reindex === true })
    const r = await measureMany(meta.dir, meta, rounds, starts)
    out.push({ size, ...r, reindex: meta.reindex, reindexed: meta.reindexed, reindexedAt: meta.reindexedAt })
    log(`startup ${size}: health in ${r.healthMs.toFixed(0)} ms, RSS ${r.rssReadyMB.toFixed(0)} -> ${r.rssAfterMB.toFixed(0)} MB`)
  }
  return out
}
