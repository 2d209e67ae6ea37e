// Validly signed events for the ingest bench, cached in bench-results/events-<n>.jsonl.
// Signs with the native addon's sign() when it has one (~25k/s), otherwise with nostr-tools
// on worker threads (~500/s per core).
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { join } from 'node:path'
import { getPublicKey } from 'nostr-tools/pure'
import { DIST, RESULTS, ROOT } from './util.js'
import { generateEvents } from './dataset.js'
import { hexFrom } from './rng.js'

const KEYS = 8

function nativeSigner () {
  const path = join(ROOT, 'native', 'build', 'Release', 'outpost_schnorr.node')
  if (!existsSync(path)) return null
  try {
    const addon = createRequire(import.meta.url)(path)
    return typeof addon.sign === 'function' ? addon : null
  } catch { return null }
}

async function signWithWorkers (items) {
  const threads = Math.max(1, availableParallelism())
  const per = Math.ceil(items.length / threads)
  const parts = await Promise.all(Array.from({ length: threads }, (_, t) => new Promise((resolve, reject) => {
    const w = new Worker(new URL('./sign-worker.js', import.meta.url), { workerData: items.slice(t * per, (t + 1) * per) })
    w.once('message', resolve)
    w.once('error', reject)
  })))
  return parts.flat()
}

/** Returns `n` signed event JSON lines (kinds 1 and 7 only, so every one is accepted). */
export async function signedEvents (n, { log = () => {} } = {}) {
  const file = join(RESULTS, `events-${n}.jsonl`)
  if (existsSync(file)) {
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean)
    if (lines.length === n) return { lines, cached: true, file }
  }
  const { computeId } = await import(join(DIST, 'events', 'event.js'))
  const secrets = Array.from({ length: KEYS }, (_, i) => hexFrom(`outpost-bench-ingest-key-${i}`))
  const byPub = new Map(secrets.map(sk => [getPublicKey(Buffer.from(sk, 'hex')), sk]))
  const t0 = performance.now()
  const events = [...generateEvents({ n, pubkeys: [...byPub.keys()], seed: 42, end: Math.floor(Date.now() / 1000) - 60, kinds: [[1, 0.85], [7, 0.15]], computeId })]
  const addon = nativeSigner()
  let how
  if (addon !== null) {
    how = 'native sign()'
    const keys = new Map([...byPub].map(([pk, sk]) => [pk, Buffer.from(sk, 'hex')]))
    for (const e of events) e.sig = addon.sign(Buffer.from(e.id, 'hex'), keys.get(e.pubkey), randomBytes(32)).toString('hex')
  } else {
    how = 'nostr-tools on worker threads'
    log(`signing ${n} events with nostr-tools on worker threads (slow, cached afterwards)...`)
    const signed = await signWithWorkers(events.map(e => ({ e, sk: byPub.get(e.pubkey) })))
    events.forEach((e, i) => { if (signed[i].id !== e.id) throw new Error('signer changed an id'); e.sig = signed[i].sig })
  }
  const lines = events.map(e => JSON.stringify({ id: e.id, pubkey: e.pubkey, created_at: e.created_at, kind: e.kind, tags: e.tags, content: e.content, sig: e.sig }))
  await mkdir(RESULTS, { recursive: true })
  await writeFile(file + '.tmp', lines.join('\n') + '\n')
  await rename(file + '.tmp', file)
  log(`signed ${n} events with ${how} in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${file}`)
  return { lines, cached: false, file }
}
