import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Store, type StoreOpenOptions } from '../../node/src/store/store.js'
import { defaultConfig } from '../../node/src/config/load.js'
import { signer } from '../helpers/events.js'
import { testLogger } from '../helpers/log.js'
import type { NostrEvent } from '../../node/src/events/types.js'

const base = defaultConfig({ cwd: process.cwd(), isTTY: false })

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-store-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function openStore (t: Test, dir?: string, extra: Partial<StoreOpenOptions> = {}): Promise<Store> {
  const store = await Store.open({ dir: dir ?? await tempDir(t), limits: base.limits, store: base.store, log: testLogger(), ...extra })
  t.teardown(() => store.close())
  return store
}

const ids = (es: NostrEvent[]): string[] => es.map(e => e.id)
const client = { type: 'client' as const }

t.test('an accepted event is queryable by id, author, kind, tag and time', async t => {
  const s = await openStore(t)
  const alice = signer()
  const e = alice.sign({ content: 'hello #camping', tags: [['t', 'camping']], created_at: 1000 })
  t.same(await s.ingest(e, client), { ok: true, message: '', accepted: true })
  t.equal(s.count(), 1)
  t.same(ids(await s.query([{ ids: [e.id] }])), [e.id])
  t.same(ids(await s.query([{ authors: [alice.pubkey] }])), [e.id])
  t.same(ids(await s.query([{ kinds: [1] }])), [e.id])
  t.same(ids(await s.query([{ '#t': ['camping'] }])), [e.id])
  t.same(ids(await s.query([{ '#t': ['music'] }])), [])
  t.same(ids(await s.query([{ since: 1001 }])), [])
  t.same(ids(await s.query([{ until: 999 }])), [])
  t.same(ids(await s.query([{ authors: [alice.pubkey], kinds: [1], since: 1000, until: 1000 }])), [e.id])
  t.same(ids(await s.query([{ authors: [alice.pubkey], kinds: [0] }])), [])
})

t.test('results are newest first, limit keeps the newest N, filters are ORed without duplicates', async t => {
  const s = await openStore(t)
  const a = signer()
  const b = signer()
  const evs: NostrEvent[] = []
  for (let i = 0; i < 10; i++) evs.push((i % 2 === 0 ? a : b).sign({ content: `n${i}`, created_at: 2000 + i, tags: [['t', i % 3 === 0 ? 'x' : 'y']] }))
  const results = await Promise.all(evs.map(e => s.ingest(e, client)))
  t.ok(results.every(r => r.ok))
  const all = await s.query([{}])
  t.same(all.map(e => e.created_at), [2009, 2008, 2007, 2006, 2005, 2004, 2003, 2002, 2001, 2000])
  t.same((await s.query([{ limit: 3 }])).map(e => e.created_at), [2009, 2008, 2007])
  t.same((await s.query([{ authors: [a.pubkey], limit: 2 }])).map(e => e.created_at), [2008, 2006])
  const union = await s.query([{ authors: [a.pubkey] }, { '#t': ['x'] }])
  t.same(union.map(e => e.created_at), [2009, 2008, 2006, 2004, 2003, 2002, 2000])
  t.same((await s.query([{ authors: [a.pubkey, b.pubkey], limit: 4 }])).map(e => e.created_at), [2009, 2008, 2007, 2006])
  t.same(await s.query([{ limit: 0 }]), [])
})

t.test('bad events are refused with a reason and nothing is stored', async t => {
  const s = await openStore(t)
  const a = signer()
  const good = a.sign({ content: 'ok' })
  const cases: Array<[unknown, RegExp]> = [
    [{ ...good, content: 'tampered' }, /^invalid: event id/],
    [{ ...good, sig: good.sig.replace(/^./, c => c === '0' ? '1' : '0') }, /^invalid: bad signature/],
    [{ ...good, pubkey: signer().pubkey }, /^invalid: event id/],
    [{ ...good, kind: -1 }, /^invalid: kind/],
    [{ ...good, tags: 'no' }, /^invalid: tags/],
    ['nope', /^invalid: event must be/],
    [null, /^invalid:/],
    [a.sign({ content: 'x'.repeat(base.limits.maxContentLength + 1) }), /^invalid: content too long/],
    [a.sign({ created_at: Math.floor(Date.now() / 1000) + base.limits.maxFutureSeconds + 60 }), /^invalid: created_at/],
    [a.sign({ tags: Array.from({ length: base.limits.maxTags + 1 }, () => ['t', 'x']) }), /^invalid: too many tags/]
  ]
  for (const [ev, re] of cases) {
    const r = await s.ingest(ev, client)
    t.equal(r.ok, false)
    t.match(r.message, re)
  }
  t.equal(s.count(), 0)
  t.same(await s.query([{}]), [])
})

t.test('duplicates are answered OK with duplicate: and stored once', async t => {
  const s = await openStore(t)
  const e = signer().sign({ content: 'once' })
  const rs = await Promise.all([s.ingest(e, client), s.ingest(e, client), s.ingest(e, client)])
  t.equal(rs.filter(r => r.accepted).length, 1)
  t.ok(rs.every(r => r.ok))
  t.equal(rs.filter(r => r.message.startsWith('duplicate:')).length, 2)
  t.match((await s.ingest(e, client)).message, /^duplicate:/)
  t.equal(s.count(), 1)
})

t.test('replaceable and addressable events: the newest wins in any arrival order', async t => {
  const s = await openStore(t)
  const a = signer()
  const p1 = a.sign({ kind: 0, content: '{"name":"one"}', created_at: 100 })
  const p2 = a.sign({ kind: 0, content: '{"name":"two"}', created_at: 200 })
  const p3 = a.sign({ kind: 0, content: '{"name":"three"}', created_at: 150 })
  t.ok((await s.ingest(p2, client)).ok)
  const older = await s.ingest(p1, client)
  t.equal(older.ok, false)
  t.match(older.message, /^duplicate: a newer version/)
  t.equal((await s.ingest(p3, client)).ok, false)
  t.same(ids(await s.query([{ kinds: [0], authors: [a.pubkey] }])), [p2.id])
  const p4 = a.sign({ kind: 0, content: '{"name":"four"}', created_at: 300 })
  t.ok((await s.ingest(p4, client)).ok)
  t.same(ids(await s.query([{ kinds: [0], authors: [a.pubkey] }])), [p4.id])
  t.same(ids(await s.query([{ ids: [p2.id] }])), [], 'the replaced version is gone from results')

  const d1 = a.sign({ kind: 30001, tags: [['d', 'list']], content: 'v1', created_at: 100 })
  const d2 = a.sign({ kind: 30001, tags: [['d', 'list']], content: 'v2', created_at: 200 })
  const other = a.sign({ kind: 30001, tags: [['d', 'other']], content: 'o', created_at: 50 })
  t.ok((await s.ingest(d1, client)).ok)
  t.ok((await s.ingest(other, client)).ok)
  t.ok((await s.ingest(d2, client)).ok)
  t.same(ids(await s.query([{ kinds: [30001] }])), [d2.id, other.id])
  t.same(ids(await s.query([{ kinds: [30001], '#d': ['list'] }])), [d2.id])
  t.equal(s.count(), 3)
})

t.test('NIP-09 deletion removes only the author\'s own events, even before they arrive', async t => {
  const s = await openStore(t)
  const a = signer()
  const mallory = signer()
  const post = a.sign({ content: 'regret', created_at: 100 })
  const keep = a.sign({ content: 'keep', created_at: 101 })
  t.ok((await s.ingest(post, client)).ok)
  t.ok((await s.ingest(keep, client)).ok)
  const forged = mallory.sign({ kind: 5, tags: [['e', keep.id]], created_at: 102 })
  t.ok((await s.ingest(forged, client)).ok)
  t.same(ids(await s.query([{ ids: [keep.id] }])), [keep.id], 'another key cannot delete it')
  const del = a.sign({ kind: 5, tags: [['e', post.id]], created_at: 103 })
  t.ok((await s.ingest(del, client)).ok)
  t.same(ids(await s.query([{ ids: [post.id] }])), [])
  t.same(ids(await s.query([{ kinds: [5], authors: [a.pubkey] }])), [del.id], 'the deletion itself is kept')
  const again = await s.ingest(post, client)
  t.equal(again.ok, false)
  t.match(again.message, /^blocked: /)

  // deletion arriving before its target
  const later = a.sign({ content: 'later', created_at: 104 })
  const del2 = a.sign({ kind: 5, tags: [['e', later.id]], created_at: 105 })
  t.ok((await s.ingest(del2, client)).ok)
  t.equal((await s.ingest(later, client)).ok, false)
  t.same(ids(await s.query([{ ids: [later.id] }])), [])

  // a-tag deletion of an addressable event
  const art = a.sign({ kind: 30023, tags: [['d', 'post']], content: 'draft', created_at: 110 })
  t.ok((await s.ingest(art, client)).ok)
  const del3 = a.sign({ kind: 5, tags: [['a', `30023:${a.pubkey}:post`]], created_at: 111 })
  t.ok((await s.ingest(del3, client)).ok)
  t.same(ids(await s.query([{ kinds: [30023] }])), [])
  const art2 = a.sign({ kind: 30023, tags: [['d', 'post']], content: 'new', created_at: 112 })
  t.ok((await s.ingest(art2, client)).ok, 'a version newer than the deletion is allowed')
  t.same(ids(await s.query([{ kinds: [30023] }])), [art2.id])
})

t.test('NIP-40: expired events are refused and expiring ones leave the results', async t => {
  let now = 10_000
  const s = await openStore(t, undefined, { now: () => now })
  const a = signer()
  const gone = a.sign({ created_at: 9_000, tags: [['expiration', '9500']] })
  const r = await s.ingest(gone, client)
  t.equal(r.ok, false)
  t.match(r.message, /^invalid: event has expired/)
  const soon = a.sign({ created_at: 9_000, tags: [['expiration', '10100']] })
  t.ok((await s.ingest(soon, client)).ok)
  t.same(ids(await s.query([{}])), [soon.id])
  now = 10_200
  t.same(ids(await s.query([{}])), [], 'hidden from queries once expired')
  t.equal(await s.sweepExpired(), 1)
  t.equal(s.count(), 0)
})

t.test('ephemeral events are fanned out and never stored', async t => {
  const s = await openStore(t)
  const seen: string[] = []
  const off = s.onEvent(e => seen.push(e.id))
  const eph = signer().sign({ kind: 20001, content: 'typing' })
  const post = signer().sign({ content: 'post' })
  t.ok((await s.ingest(eph, client)).ok)
  t.ok((await s.ingest(post, client)).ok)
  t.same(seen, [eph.id, post.id])
  t.same(ids(await s.query([{}])), [post.id])
  off()
})

t.test('concurrent events are group-committed into few log blocks', async t => {
  const s = await openStore(t)
  const a = signer()
  const evs = Array.from({ length: 300 }, (_, i) => a.sign({ content: `e${i}`, created_at: 5000 + i }))
  const before = s.nodeLog.current.length
  const rs = await Promise.all(evs.map(e => s.ingest(e, client)))
  t.ok(rs.every(r => r.accepted))
  const blocks = s.nodeLog.current.length - before
  t.ok(blocks >= 2 && blocks <= 20, `300 events in ${blocks} blocks`)
  t.equal(s.count(), 300)
})

t.test('data survives a reopen; a lost index is rebuilt from the logs', async t => {
  const dir = await tempDir(t)
  const a = signer()
  const evs = Array.from({ length: 20 }, (_, i) => a.sign({ content: `e${i}`, created_at: 7000 + i, tags: [['t', 'x']] }))
  const profile = a.sign({ kind: 0, content: '{}', created_at: 1 })
  const newer = a.sign({ kind: 0, content: '{"name":"a"}', created_at: 2 })
  {
    const s = await Store.open({ dir, limits: base.limits, store: base.store, log: testLogger() })
    for (const e of [...evs, profile, newer]) t.ok((await s.ingest(e, client)).ok)
    await s.close()
    await s.close() // idempotent
  }
  {
    const s = await Store.open({ dir, limits: base.limits, store: base.store, log: testLogger() })
    t.equal(s.count(), 21)
    t.equal((await s.query([{ '#t': ['x'] }])).length, 20)
    await s.close()
  }
  await rm(path.join(dir, 'index'), { recursive: true })
  {
    const s = await Store.open({ dir, limits: base.limits, store: base.store, log: testLogger() })
    t.equal(s.count(), 21, 'rebuilt at start')
    t.same(ids(await s.query([{ kinds: [0] }])), [newer.id])
    await s.close()
  }
  {
    const s = await Store.open({ dir, limits: base.limits, store: base.store, log: testLogger(), rebuildIndex: true })
    t.equal(s.count(), 21, 'reindexed on demand')
    await s.close()
  }
})

t.test('a second store on the same data dir is refused', async t => {
  const dir = await tempDir(t)
  await openStore(t, dir)
  await t.rejects(Store.open({ dir, limits: base.limits, store: base.store, log: testLogger() }), { code: 'ERR_LOCKED' })
})
