import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import crypto from 'hypercore-crypto'
import type Hypercore from 'hypercore'
import { Store } from '../../node/src/store/store.js'
import { IndexDb } from '../../node/src/store/index-db.js'
import { ReadAhead, type CheckedRun } from '../../node/src/store/read-ahead.js'
import type { Checked } from '../../node/src/store/log-indexer.js'
import { Priority } from '../../node/src/events/priority.js'
import { encodeBlock } from '../../node/src/store/block-codec.js'
import { computeId } from '../../node/src/events/event.js'
import { defaultConfig } from '../../node/src/config/load.js'
import { signer } from '../helpers/events.js'
import { pino, type Logger } from 'pino'

// Replicated catch-up with the read-ahead (the next blocks decoded and checked while the
// current ones are indexed) against the same catch-up without it, on real corestore + RocksDB.
// The replicated log is a core of the store's own corestore with a fixed key pair, so every
// store holds the same log under the same key and the indexes can be compared byte for byte.

const base = defaultConfig({ cwd: process.cwd(), isTTY: false })

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-readahead-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Warnings and errors the store logged (a read-ahead out of step with the index is one). */
const logged: string[] = []
const log: Logger = pino({ level: 'warn' }, { write: (line: string) => { logged.push(line) } })

/** A relay's store (no log of its own: the index holds the replicated log only). */
async function openStore (dir: string, readAhead: boolean): Promise<Store> {
  return await Store.open({ dir, limits: base.limits, store: { ...base.store, commitWindowMs: 0 }, log, readOnly: true, readAhead })
}

async function replicatedLog (store: Store, seed: Buffer, blocks?: Buffer[]): Promise<Hypercore> {
  const core = store.corestore.get({ keyPair: crypto.keyPair(seed) })
  await core.ready()
  for (const b of blocks ?? []) await core.append(b)
  return core
}

/** Every key and value of the index, in order (the store must be closed). */
async function dumpIndex (dir: string): Promise<string[]> {
  const idx = new IndexDb(path.join(dir, 'index'), { writeBufferMiB: 4 })
  await idx.ready()
  const out: string[] = []
  try {
    for await (const { key, value } of idx.iterator({})) out.push(`${key.toString('hex')}=${value.toString('hex')}`)
  } finally {
    await idx.close()
  }
  return out
}

t.test('invalid events over several runs: the same counts and byte for byte the same index with and without read-ahead, skip respected', async t => {
  const s = signer()
  const now = Math.floor(Date.now() / 1000)
  const blocks: Buffer[] = []
  const good = new Set<string>()
  let bad = 0
  let earlier = ''
  for (let blk = 0; blk < 14; blk++) {
    const lines: string[] = []
    for (let i = 0; i < 20; i++) {
      // block 3: private messages (its own priority class); block 12: bulky
      const e = s.sign({ kind: blk === 3 ? 4 : 1, content: blk === 12 ? 'x'.repeat(2000 + i) : `block ${blk} line ${i}`, created_at: now - blk * 100 - i })
      good.add(e.id)
      lines.push(JSON.stringify(e))
      if (blk === 2 && i === 0) earlier = JSON.stringify(e)
    }
    if (blk === 1 || blk === 9) { // bad signature (a valid one, of another event)
      const e = s.sign({ content: `forged ${blk}`, created_at: now - 1 })
      lines.splice(5, 0, JSON.stringify({ ...e, sig: s.sign({ content: 'other' }).sig }))
      bad++
    }
    if (blk === 5 || blk === 13) { // bad id: content changed after signing
      lines.splice(7, 0, JSON.stringify({ ...s.sign({ content: `original ${blk}`, created_at: now - 2 }), content: 'tampered' }))
      bad++
    }
    if (blk === 6 || blk === 9) { lines.splice(3, 0, '{not json'); bad++ }
    if (blk === 11) lines.push(earlier) // the same event again: a duplicate, not invalid
    blocks.push(encodeBlock(lines))
  }
  const seed = crypto.randomBytes(32)

  const catchUp = async (readAhead: boolean, ahead: number[]): Promise<{ dump: string[], invalid: number, stored: number, emitted: string[], count: number }> => {
    const dir = await tempDir(t)
    const store = await openStore(dir, readAhead)
    const core = await replicatedLog(store, seed, blocks)
    const emitted: string[] = []
    store.onEvent(e => { emitted.push(e.id) })
    // blocks indexed ahead of the checkpoint (fetched by priority), then skipped in order
    const done = new Set(await store.indexReplicatedBlocks(core, ahead))
    const stored = await store.indexReplicatedLog(core, { skip: seq => done.delete(seq) })
    t.equal(done.size, 0, 'every block indexed ahead was skipped, once')
    const invalid = store.invalidEvents(core.key.toString('hex'))
    const count = store.count()
    await core.close()
    await store.close()
    return { dump: await dumpIndex(dir), invalid, stored, emitted, count }
  }

  const before = await catchUp(false, [])
  const now1 = await catchUp(true, [])
  const skipped = await catchUp(true, [9, 10])

  t.equal(before.invalid, bad, `without read-ahead: the ${bad} invalid lines counted`)
  t.equal(before.count, good.size, 'every valid event indexed once')
  t.equal(now1.invalid, bad, 'with read-ahead: each invalid line counted exactly once')
  t.equal(skipped.invalid, bad, 'blocks indexed ahead: their invalid lines are not counted again')
  t.equal(now1.stored, good.size)
  t.equal(now1.count, good.size)
  t.equal(skipped.count, good.size)
  for (const r of [before, now1, skipped]) {
    t.equal(r.emitted.length, good.size, 'each stored event fanned out once')
    t.equal(new Set(r.emitted).size, good.size)
  }
  t.same(now1.emitted, before.emitted, 'fanned out in log order')
  t.ok(before.dump.some(k => k.startsWith('0e')) && before.dump.some(k => k.startsWith('0b')), 'the index holds block priorities and the checkpoint')
  t.same(now1.dump, before.dump, 'read-ahead: the same index keys and values (locations, priorities, checkpoint, count)')
  t.same(skipped.dump, before.dump, 'read-ahead with blocks skipped: the same index')
  t.same(logged.filter(l => l.includes('out of step')), [], 'every run came in order: none checked twice')
})

/** 30 blocks of 256 lines: one signed event, then 255 with good ids and a wrong signature. */
function heavyBlocks (): { blocks: Buffer[], ids: string[] } {
  const s = signer()
  const now = Math.floor(Date.now() / 1000)
  const sig = s.sign({ content: 'x' }).sig
  const blocks: Buffer[] = []
  const ids: string[] = []
  for (let blk = 0; blk < 30; blk++) {
    const e = s.sign({ content: `good ${blk}`, created_at: now - blk })
    ids.push(e.id)
    const lines = [JSON.stringify(e)]
    for (let i = 1; i < 256; i++) {
      const f = { pubkey: s.pubkey, created_at: now - blk, kind: 1, tags: [], content: `bulk ${blk}/${i}` }
      lines.push(JSON.stringify({ id: computeId(f), ...f, sig }))
    }
    blocks.push(encodeBlock(lines))
  }
  return { blocks, ids }
}

t.test('a store closed while the read-ahead is checking further blocks shuts down cleanly; reopened, it resumes exactly', async t => {
  const { blocks, ids } = heavyBlocks()
  const seed = crypto.randomBytes(32)
  const dir = await tempDir(t)
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown): void => { unhandled.push(err) }
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => { process.off('unhandledRejection', onUnhandled) })

  const store = await openStore(dir, true)
  const core = await replicatedLog(store, seed, blocks)
  const hex = core.key.toString('hex')
  let closing: Promise<void> | null = null
  // the first turn's first event: close right then, the read-ahead being at work on the next runs
  store.onEvent(() => { closing ??= store.close() })
  const stored = await store.indexReplicatedLog(core)
  t.ok(closing !== null, 'closed during the catch-up')
  await closing
  t.equal(stored, 4, 'the turn under way finished (4 blocks), nothing after it')
  t.equal(store.invalidEvents(hex), 4 * 255, 'only its invalid lines counted')
  await new Promise(resolve => setTimeout(resolve, 200))
  t.same(unhandled, [], 'nothing thrown unhandled')

  const again = await openStore(dir, true)
  t.teardown(() => again.close())
  t.equal(again.count(), 4, 'reopened: the index holds the first turn')
  const core2 = await replicatedLog(again, seed)
  t.equal(core2.length, 30)
  t.equal(await again.indexReplicatedLog(core2), 26, 'the rest indexed once')
  t.equal(again.invalidEvents(hex), 26 * 255, 'the rest\'s invalid lines counted, none of the first turn\'s again')
  t.equal(again.count(), 30)
  t.equal((await again.query([{ ids }])).length, 30)
  await core2.close()
})

t.test('stop() ends the read-ahead catch-up after the turn under way; the next call resumes exactly', async t => {
  const { blocks } = heavyBlocks()
  const dir = await tempDir(t)
  const store = await openStore(dir, true)
  t.teardown(() => store.close())
  const core = await replicatedLog(store, crypto.randomBytes(32), blocks)
  const hex = core.key.toString('hex')
  let stop = false
  const off = store.onEvent(() => { stop = true })
  t.equal(await store.indexReplicatedLog(core, { stop: () => stop }), 4)
  off()
  t.equal(store.invalidEvents(hex), 4 * 255)
  t.equal(await store.indexReplicatedLog(core), 26)
  t.equal(store.invalidEvents(hex), 30 * 255, 'every invalid line counted exactly once')
  t.equal(store.count(), 30)
  await core.close()
})

t.test('a block not here yet ends the read-ahead; appended later, the catch-up goes on from it', async t => {
  const { blocks } = heavyBlocks()
  const dir = await tempDir(t)
  const store = await openStore(dir, true)
  t.teardown(() => store.close())
  const core = await replicatedLog(store, crypto.randomBytes(32), blocks.slice(0, 10))
  const hex = core.key.toString('hex')
  t.equal(await store.indexReplicatedLog(core), 10)
  t.equal(store.invalidEvents(hex), 10 * 255)
  for (const b of blocks.slice(10)) await core.append(b)
  t.equal(await store.indexReplicatedLog(core), 20)
  t.equal(store.invalidEvents(hex), 30 * 255)
  t.equal(store.count(), 30)
  await core.close()
})

t.test('an index ahead of the replicated log (truncated under it) is reported, with or without read-ahead', async t => {
  const s = signer()
  const blocks = Array.from({ length: 6 }, (_, i) => encodeBlock([JSON.stringify(s.sign({ content: `n ${i}` }))]))
  for (const readAhead of [false, true]) {
    const dir = await tempDir(t)
    const store = await openStore(dir, readAhead)
    t.teardown(() => store.close())
    const core = await replicatedLog(store, crypto.randomBytes(32), blocks)
    t.equal(await store.indexReplicatedLog(core), 6)
    await (core as unknown as { truncate: (length: number) => Promise<void> }).truncate(3) // not in our typings of hypercore
    await t.rejects(store.indexReplicatedLog(core), { code: 'ERR_INDEX_AHEAD' }, `read-ahead ${readAhead ? 'on' : 'off'}`)
    await core.close()
  }
})

/** A stand-in for LogIndexer.check that records the blocks it was handed. */
function recordingCheck (seen: number[]): (blocks: Array<{ seq: number, block: Buffer }>) => Promise<Checked> {
  return async blocks => {
    for (const b of blocks) seen.push(b.seq)
    await new Promise(resolve => setTimeout(resolve, 1))
    return { items: [], classes: blocks.map(b => ({ seq: b.seq, priority: Priority.Bulk })), bad: blocks.length }
  }
}

async function settle (): Promise<void> { await new Promise(resolve => setTimeout(resolve, 100)) }

t.test('the read-ahead hands its runs over in log order, each block checked once, at most `depth` runs waiting', async t => {
  const dir = await tempDir(t)
  const store = await openStore(dir, true)
  t.teardown(() => store.close())
  const core = await replicatedLog(store, crypto.randomBytes(32), Array.from({ length: 22 }, (_, i) => encodeBlock([`line ${i}`])))
  const seen: number[] = []
  const asked: number[] = []
  const ra = new ReadAhead({ core, from: 0, blocksPerRun: 4, depth: 2, skip: seq => { asked.push(seq); return seq === 5 || seq === 6 }, check: recordingCheck(seen) })
  await settle()
  t.same(seen, [0, 1, 2, 3, 4, 7], 'nothing taken: two runs checked, then it waits (blocks 5 and 6 skipped)')
  const runs: CheckedRun[] = []
  for (let r = await ra.take(); r !== null; r = await ra.take()) {
    runs.push(r)
    await settle() // the read-ahead fills up again before the next take
  }
  t.same(runs.map(r => [r.from, r.to]), [[0, 4], [4, 8], [8, 12], [12, 16], [16, 20], [20, 22]], 'runs in order, contiguous, skipped blocks inside theirs')
  t.same(runs.map(r => r.checked.classes.map(c => c.seq)), [[0, 1, 2, 3], [4, 7], [8, 9, 10, 11], [12, 13, 14, 15], [16, 17, 18, 19], [20, 21]])
  t.same(seen, [0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21], 'each block checked once, in order')
  t.same(asked, Array.from({ length: 22 }, (_, i) => i), 'skip asked once per block, in order')
  t.ok(ra.done)
  await ra.close()
  await core.close()
})

t.test('the read-ahead: closed while a run is being checked, it waits for that check and checks nothing more; an error comes after the runs before it', async t => {
  const dir = await tempDir(t)
  const store = await openStore(dir, true)
  t.teardown(() => store.close())
  const core = await replicatedLog(store, crypto.randomBytes(32), Array.from({ length: 12 }, (_, i) => encodeBlock([`line ${i}`])))
  const release: Array<() => void> = []
  let finished = 0
  const ra = new ReadAhead({
    core,
    from: 0,
    blocksPerRun: 4,
    depth: 2,
    check: async blocks => {
      await new Promise<void>(resolve => { release.push(resolve) })
      finished++
      return { items: [], classes: [], bad: blocks.length }
    }
  })
  await settle()
  t.equal(release.length, 2, 'two runs on the pool at once (depth 2), the third waits')
  let closed = false
  const closing = ra.close().then(() => { closed = true })
  await settle()
  t.notOk(closed, 'close() waits for the checks in flight')
  release.splice(0).forEach(r => { r() })
  await closing
  t.equal(finished, 2)
  await settle()
  t.equal(release.length, 0, 'nothing checked after close()')
  t.equal(await ra.take(), null, 'and nothing handed over')

  const failing = new ReadAhead({
    core,
    from: 0,
    blocksPerRun: 4,
    depth: 2,
    check: async blocks => {
      if (blocks[0]?.seq === 8) throw new Error('check failed')
      return { items: [], classes: [], bad: blocks.length }
    }
  })
  t.same((await failing.take())?.from, 0)
  t.same((await failing.take())?.from, 4)
  await t.rejects(failing.take(), /check failed/)
  t.ok(failing.done)
  await failing.close()
  await core.close()
})

t.test('no read-ahead ran out of step with the index in any of these', async t => {
  t.same(logged.filter(l => l.includes('out of step')), [])
})
