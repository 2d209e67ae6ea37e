// Shared bench helpers: paths, config, logging, temp dirs, process memory.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const RESULTS = join(ROOT, 'bench-results')
// OUTPOST_BENCH_DIST: benchmark another build (e.g. a baseline checkout's dist/) with these scripts
export const DIST = process.env.OUTPOST_BENCH_DIST ?? join(ROOT, 'dist')

export const silentLog = () => pino({ level: 'silent' })

/** Limits high enough that the relay never throttles the bench. */
export const BENCH_LIMITS = { messagesPerSecond: 1_000_000, eventsPerMinutePerIp: 100_000_000, connectionsPerIp: 10_000 }

/** A full Config for an in-process node: loopback, port 0, no LAN/swarm, unthrottled. */
export async function benchConfig (dataDir, overrides = {}) {
  const { defaultConfig } = await import(join(DIST, 'config', 'load.js'))
  const c = defaultConfig({ cwd: ROOT, isTTY: false })
  return {
    ...c,
    dataDir,
    host: '127.0.0.1',
    port: 0,
    syncPort: 0,
    peers: [],
    lan: false,
    swarm: 'off',
    logLevel: 'silent',
    logPretty: false,
    limits: { ...c.limits, ...BENCH_LIMITS },
    ...overrides
  }
}

export async function tempDir (prefix) {
  return await mkdtemp(join(tmpdir(), `outpost-bench-${prefix}-`))
}

export async function rmrf (dir) {
  if (existsSync(dir)) await rm(dir, { recursive: true, force: true })
}

/** VmRSS / VmHWM of a process in MB (Linux /proc). */
export async function procMemMB (pid = process.pid) {
  const text = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = name => Number((text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm')) ?? [])[1] ?? NaN)
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 }
}

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

/** Fisher-Yates-free pick of k distinct items (k << arr.length). */
export function pickDistinct (arr, k, rnd) {
  const out = new Set()
  while (out.size < Math.min(k, arr.length)) out.add(arr[Math.floor(rnd() * arr.length)])
  return [...out]
}
