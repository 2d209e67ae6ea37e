import t from 'tap'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { once } from 'node:events'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { Store } from '../../node/src/store/store.js'
import { defaultConfig } from '../../node/src/config/load.js'
import { signer } from '../helpers/events.js'
import { testLogger } from '../helpers/log.js'

const base = defaultConfig({ cwd: process.cwd(), isTTY: false })
const client = { type: 'client' as const }

function replicate (a: Corestore, b: Corestore): () => void {
  const s1 = a.replicate(true)
  const s2 = b.replicate(false)
  s1.pipe(s2).pipe(s1)
  s1.on('error', () => {})
  s2.on('error', () => {})
  return () => { s1.destroy(); s2.destroy() }
}

async function waitFor (cond: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise(resolve => setTimeout(resolve, 20))
}

// The power-cut scenario of the design notes: a peer copied block 1, the node lost it, wrote a
// different block 1, and met the peer again. Both sides freeze the log; the node must rotate.
t.test('a node whose log was frozen by a fork rotates onto a new log and keeps accepting posts', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-fork-'))
  const snap = await mkdtemp(path.join(tmpdir(), 'outpost-fork-snap-'))
  const peerDir = await mkdtemp(path.join(tmpdir(), 'outpost-fork-peer-'))
  t.teardown(async () => { for (const d of [dir, snap, peerDir]) await rm(d, { recursive: true, force: true }) })
  const open = async (): Promise<Store> => await Store.open({ dir, limits: base.limits, store: base.store, log: testLogger() })
  const alice = signer()
  const peer = new Corestore(peerDir)
  t.teardown(() => peer.close())

  let store = await open()
  t.ok((await store.ingest(alice.sign({ content: 'first' }), client)).ok)
  const logKey = store.nodeLog.current.key
  await store.close()
  // what survives the power cut: the state after block 0
  await cp(path.join(dir, 'cores', 'db'), path.join(snap, 'db'), { recursive: true })
  await cp(path.join(dir, 'index'), path.join(snap, 'index'), { recursive: true })

  store = await open()
  const copy: Hypercore = peer.get({ key: logKey })
  await copy.ready()
  copy.download({ start: 0, end: -1 })
  let stop = replicate(store.corestore, peer)
  t.ok((await store.ingest(alice.sign({ content: 'lost in the power cut' }), client)).ok)
  await waitFor(async () => copy.length === 2 && await copy.has(1))
  stop()
  await store.close()

  // power cut: the disk comes back with an older state
  await rm(path.join(dir, 'cores', 'db'), { recursive: true })
  await rm(path.join(dir, 'index'), { recursive: true })
  await cp(path.join(snap, 'db'), path.join(dir, 'cores', 'db'), { recursive: true })
  await cp(path.join(snap, 'index'), path.join(dir, 'index'), { recursive: true })

  store = await open()
  t.teardown(() => store.close())
  t.equal(store.nodeLog.current.length, 1, 'block 1 is gone')
  t.ok((await store.ingest(alice.sign({ content: 'written after the cut' }), client)).ok)
  const conflict = once(store.nodeLog.current, 'conflict')
  stop = replicate(store.corestore, peer)
  t.teardown(stop)
  t.ok((await store.ingest(alice.sign({ content: 'the append that reveals the fork' }), client)).ok)
  await conflict
  t.pass('the fork was detected')

  const after = alice.sign({ content: 'life goes on' })
  const r = await store.ingest(after, client)
  t.same(r, { ok: true, message: '', accepted: true }, 'a post after the fork is accepted')
  t.equal(store.nodeLog.epoch, 1, 'the node rotated onto log epoch 1')
  t.not(store.nodeLog.current.key.toString('hex'), logKey.toString('hex'))
  t.match(store.status(), { log: { epoch: 1, rotations: [{ from: 0 }] } }, 'health says so')
  t.same((await store.query([{ ids: [after.id] }])).map(e => e.id), [after.id])
  t.equal((await store.query([{ authors: [alice.pubkey] }])).length, 4, 'posts from both logs are served')

  await store.close()
  store = await open()
  t.equal(store.nodeLog.epoch, 1, 'the rotation is remembered across restarts')
  t.equal(store.count(), 4)
})
