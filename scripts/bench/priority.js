// Priority bench: a site's backlog written offline, bulky events (20 KB each: inline images,
// long articles) ahead of private messages and short posts, goes over a thin link (a throttled
// TCP proxy on loopback) to a fresh node. Measured side by side in one run: a node that fetches
// by priority and one that fetches strictly in order (priorities: false): time and bytes until
// every private message is readable there, until every short post is, and until everything is.
import { join } from 'node:path'
import { DIST, rmrf, tempDir } from './lib/util.js'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { ratio } from './lib/stats.js'
import { throttledProxy } from './lib/throttle.js'
import { syncNode, until } from './catchup.js'

export async function run (opts = {}) {
  const log = opts.log ?? (() => {})
  const n = { bulk: opts.bulk ?? 100, dms: opts.dms ?? 50, text: opts.text ?? 200 }
  const rate = opts.bytesPerSec ?? 256 * 1024
  const { createCommunity } = await import(join(DIST, 'sync', 'community.js'))
  const community = createCommunity({ name: 'bench priority' })
  // bulk first, then messages, then short posts, then more bulk (each group committed on its own)
  const sk = generateSecretKey()
  const to = getPublicKey(generateSecretKey())
  const now = Math.floor(Date.now() / 1000)
  const sign = (count, kind, content, tags = []) => Array.from({ length: count }, (_, i) => JSON.stringify(finalizeEvent({ kind, content: content(i), tags, created_at: now - count + i }, sk)))
  const bulk = sign(2 * n.bulk, 1, i => `photo ${i} data:image/jpeg;base64,`.padEnd(20_000, 'A'))
  const dms = sign(n.dms, 4, i => `secret ${i}?iv=AAAAAAAAAAAAAAAAAAAAAA==`, [['p', to]])
  const text = sign(n.text, 1, i => `meet at the big tent at ${i} #camp`, [['t', 'camp']])
  const groups = [bulk.slice(0, n.bulk), dms, text, bulk.slice(n.bulk)]
  const dirs = []
  const nodes = []
  const fresh = async (name, priorities) => {
    const dir = await tempDir(`priority-${name}`)
    dirs.push(dir)
    const x = await syncNode(dir, community, { priorities })
    nodes.push(x)
    return x
  }
  try {
    const site = await fresh('site', true)
    for (const g of groups) {
      const results = await Promise.all(g.map(l => site.store.ingest(JSON.parse(l), { type: 'client' })))
      if (results.some(r => !r.ok)) throw new Error(`priority bench: an event was refused: ${results.find(r => !r.ok).message}`)
    }
    const total = groups.reduce((s, g) => s + g.length, 0)
    const bytes = groups.flat().reduce((s, l) => s + l.length, 0)
    const blocks = site.store.nodeLog.current.length
    log(`priority: ${total} events (${(bytes / 1e6).toFixed(1)} MB) in ${blocks} blocks, link ${rate / 1024} KiB/s each way`)
    const once = async (priorities) => {
      const proxy = await throttledProxy(site.port, rate)
      const remote = await fresh(priorities ? 'prio' : 'inorder', priorities)
      const marks = {}
      const kinds = async (k) => (await remote.store.query([{ kinds: [k], limit: 10_000 }]))
      const t1 = performance.now()
      remote.sync.addPeerAddress({ host: '127.0.0.1', port: proxy.port, source: 'static' })
      await until(async () => {
        const now = performance.now() - t1
        if (marks.dms === undefined && (await kinds(4)).length === n.dms) marks.dms = { ms: now, bytes: proxy.stats.toClient }
        if (marks.text === undefined && (await kinds(1)).filter(e => e.content.length < 200).length === n.text) marks.text = { ms: now, bytes: proxy.stats.toClient }
        return remote.store.count() === total
      }, 600_000, 'priority delivery')
      marks.all = { ms: performance.now() - t1, bytes: proxy.stats.toClient }
      await remote.close()
      await proxy.close()
      log(`priority: ${priorities ? 'by priority' : 'in order   '} messages ${(marks.dms.ms / 1000).toFixed(2)} s, posts ${(marks.text.ms / 1000).toFixed(2)} s, all ${(marks.all.ms / 1000).toFixed(2)} s`)
      return marks
    }
    const prio = await once(true)
    const inOrder = await once(false)
    return {
      n,
      total,
      bytes,
      blocks,
      rate,
      prio,
      inOrder,
      dmsSpeedup: ratio(inOrder.dms.ms, prio.dms.ms),
      textSpeedup: ratio(inOrder.text.ms, prio.text.ms),
      allRatio: ratio(inOrder.all.ms, prio.all.ms)
    }
  } finally {
    for (const x of nodes.reverse()) await x.close().catch(() => {})
    for (const d of dirs) await rmrf(d)
  }
}
