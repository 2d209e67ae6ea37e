#!/usr/bin/env node
// Mirror bench (relay role): pages of the read-only HTML view over HTTP on a filled store,
// side by side with the bare store.query behind each page, in the same run.
//   node scripts/bench/mirror.js [--size 100000] [--iterations 100]
import http from 'node:http'
import { join } from 'node:path'
import { DIST, silentLog } from './lib/util.js'
import { filledStore, openStore } from './lib/filled-store.js'
import { summarize, fmt, fmtRatio, ratio } from './lib/stats.js'
import { markdownTable } from './lib/table.js'

async function time (fn, iterations) {
  for (let i = 0; i < 5; i++) await fn(i) // warm-up
  const ms = []
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now()
    await fn(i)
    ms.push(performance.now() - t0)
  }
  return summarize(ms)
}

export async function run ({ size = 100_000, iterations = 100, log = () => {} } = {}) {
  const meta = await filledStore(size, { log })
  const store = await openStore(meta.dir)
  const { createHttpApp } = await import(join(DIST, 'http', 'app.js'))
  const { mirror } = await import(join(DIST, 'mirror', 'mirror.js'))
  const app = createHttpApp({ log: silentLog(), nip11: () => ({}), health: () => ({ ok: true }), staticDir: '/nonexistent', mirror: mirror({ store, name: 'bench', maxLimit: 500 }) })
  const server = http.createServer(app.callback())
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${server.address().port}`
  const get = async path => {
    const res = await fetch(base + path)
    const body = await res.text()
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`)
    return body.length
  }
  try {
    const newest = (await store.query([{ kinds: [1], limit: 1 }]))[0].created_at
    const ids = meta.sampleIds
    const authors = meta.authors
    // older pages: `until` spread over the 30 days of data
    const untilAt = i => newest - ((i * 7919) % (30 * 86_400))
    const pages = [
      { name: 'newest posts /', path: () => '/', query: () => [{ kinds: [1], limit: 50 }] },
      { name: 'older page /?until=', path: i => `/?until=${untilAt(i)}`, query: i => [{ kinds: [1], until: untilAt(i), limit: 50 }] },
      { name: 'tag /t/music', path: () => '/t/music', query: () => [{ kinds: [1], '#t': ['music'], limit: 50 }] },
      { name: 'author /p/<key>', path: i => `/p/${authors[i % 50]}`, query: i => [{ kinds: [1], authors: [authors[i % 50]], limit: 50 }] },
      { name: 'thread /e/<id>', path: i => `/e/${ids[i % ids.length]}`, query: i => [{ ids: [ids[i % ids.length]], kinds: [1] }, { kinds: [1], '#e': [ids[i % ids.length]], limit: 200 }] }
    ]
    const rows = []
    for (const p of pages) {
      let bytes = 0
      const page = await time(async i => { bytes += await get(p.path(i)) }, iterations)
      const bare = await time(async i => { for (const f of p.query(i)) await store.query([f]) }, iterations)
      rows.push({ name: p.name, page, bare, bytes: bytes / (iterations + 5) })
      log(`mirror ${p.name}: page p50 ${page.p50.toFixed(2)} ms, store.query p50 ${bare.p50.toFixed(2)} ms`)
    }
    return { size, stored: store.count(), iterations, rows, rss: process.memoryUsage().rss / 1024 / 1024 }
  } finally {
    await new Promise(resolve => server.close(resolve))
    await store.close()
  }
}

export function table (r) {
  return `### Mirror (scripts/bench/mirror.js, ${fmt(r.stored)} events indexed, ${r.iterations} requests per page)\n\n` +
    markdownTable(['page', 'HTTP p50 ms', 'HTTP p99 ms', 'store.query p50 ms', 'page / query p50', 'HTML KB'],
      r.rows.map(x => [x.name, x.page.p50, x.page.p99, x.bare.p50, fmtRatio(ratio(x.page.p50, x.bare.p50)), x.bytes / 1024])) +
    `\n\nstore.query = the page's post query alone (a thread: the post and its replies); the page adds the profile query, HTML rendering and an HTTP round trip on loopback. RSS at the end: ${fmt(r.rss)} MB.`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2)
  const opt = name => { const i = args.indexOf(name); return i === -1 ? undefined : Number(args[i + 1]) }
  const r = await run({ size: opt('--size'), iterations: opt('--iterations'), log: m => console.error(`[bench] ${m}`) })
  console.log(table(r))
}
