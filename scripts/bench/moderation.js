#!/usr/bin/env node
// Moderation bench: REQ-shaped queries through the moderated view (node/src/admin) side by side
// with the bare store.query, on a filled store, in the same run, interleaved query by query:
//   - no policy (the view passes straight through),
//   - the most active author of the newest posts blocked and up to 1,000 posts hidden (100 of
//     the newest 500, the rest spread over the store).
//   node scripts/bench/moderation.js [--size 100000] [--iterations 200]
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DIST, silentLog, tempDir } from './lib/util.js'
import { filledStore, openStore } from './lib/filled-store.js'
import { summarize, fmt, fmtRatio, ratio } from './lib/stats.js'
import { markdownTable } from './lib/table.js'

export async function run ({ size = 100_000, iterations = 200, log = () => {} } = {}) {
  const meta = await filledStore(size, { log })
  const store = await openStore(meta.dir)
  const { Moderation } = await import(join(DIST, 'admin', 'moderation.js'))
  const { ModeratedStore } = await import(join(DIST, 'admin', 'moderated-store.js'))
  const limits = { maxLimit: 500, defaultLimit: 500 }
  try {
    // the policy: the author with most of the newest 500 posts, and 1,000 other posts hidden
    const newest = await store.query([{ kinds: [1], limit: 500 }])
    const byAuthor = new Map()
    for (const e of newest) byAuthor.set(e.pubkey, (byAuthor.get(e.pubkey) ?? 0) + 1)
    const [top, share] = [...byAuthor].sort((a, b) => b[1] - a[1])[0]
    // hidden: posts spread over the whole store, and 100 of the newest 500 (a busy moderator)
    const sampled = (await store.query([{ ids: meta.sampleIds.slice(0, 1000) }])).filter(e => e.pubkey !== top).map(e => e.id)
    const hiddenIds = [...new Set([...newest.filter(e => e.pubkey !== top).slice(0, 100).map(e => e.id), ...sampled])].slice(0, 1000)
    const dir = await tempDir('moderation')
    const at = new Date().toISOString()
    await writeFile(join(dir, 'moderation.json'), JSON.stringify({
      version: 1,
      blocked: { [top]: { at, session: 'bench' } },
      hidden: Object.fromEntries(hiddenIds.map(id => [id, { at, session: 'bench' }])),
      actions: []
    }))
    const withPolicy = new ModeratedStore(store, await Moderation.open({ dataDir: dir, log: silentLog() }), limits)
    const noPolicy = new ModeratedStore(store, await Moderation.open({ dataDir: await tempDir('moderation-empty'), log: silentLog() }), limits)
    const other = meta.authors.find(a => a !== top)
    const queries = [
      { name: 'global timeline, limit 50', f: () => [{ kinds: [1], limit: 50 }] },
      { name: 'global timeline, limit 500', f: () => [{ kinds: [1], limit: 500 }] },
      { name: 'tag #music, limit 50', f: () => [{ kinds: [1], '#t': ['music'], limit: 50 }] },
      { name: 'another author, limit 50', f: () => [{ kinds: [1], authors: [other], limit: 50 }] },
      { name: 'the blocked author, limit 50', f: () => [{ kinds: [1], authors: [top], limit: 50 }] }
    ]
    const rows = []
    for (const q of queries) {
      const samples = { bare: [], none: [], policy: [] }
      let shown = 0
      for (let i = 0; i < iterations + 5; i++) {
        for (const [k, s] of [['bare', store], ['none', noPolicy], ['policy', withPolicy]]) {
          const t0 = performance.now()
          const got = await s.query(q.f())
          const ms = performance.now() - t0
          if (i >= 5) samples[k].push(ms)
          if (k === 'policy') shown = got.length
        }
      }
      const r = { name: q.name, bare: summarize(samples.bare), none: summarize(samples.none), policy: summarize(samples.policy), shown }
      rows.push(r)
      log(`moderation ${q.name}: bare p50 ${r.bare.p50.toFixed(3)} ms, no policy ${r.none.p50.toFixed(3)}, policy ${r.policy.p50.toFixed(3)} (${shown} shown)`)
    }
    return { size, stored: store.count(), iterations, share, hidden: hiddenIds.length, rows }
  } finally {
    await store.close()
  }
}

export function table (r) {
  return `### Moderation (scripts/bench/moderation.js, ${fmt(r.stored)} events indexed, ${r.iterations} runs per query)\n\n` +
    markdownTable(['query', 'store.query p50 ms', 'view, no policy p50 ms', 'ratio', 'view, policy p50 ms', 'ratio', 'view, policy p99 ms', 'events shown'],
      r.rows.map(x => [x.name, x.bare.p50, x.none.p50, fmtRatio(ratio(x.none.p50, x.bare.p50)), x.policy.p50, fmtRatio(ratio(x.policy.p50, x.bare.p50)), x.policy.p99, x.shown])) +
    `\n\nPolicy: the author of ${r.share} of the newest 500 posts blocked, ${r.hidden} posts hidden (100 of the newest 500, the rest spread over the store). Ratios are over the bare store.query of the same filter, measured interleaved in the same run.`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2)
  const opt = name => { const i = args.indexOf(name); return i === -1 ? undefined : Number(args[i + 1]) }
  const r = await run({ size: opt('--size'), iterations: opt('--iterations'), log: m => console.error(`[bench] ${m}`) })
  console.log(table(r))
}
