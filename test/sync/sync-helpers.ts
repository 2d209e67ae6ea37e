import type { Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Store } from '../../node/src/store/store.js'
import { defaultConfig } from '../../node/src/config/load.js'
import { SyncManager } from '../../node/src/sync/sync-manager.js'
import { loadIdentity, type KeyPair } from '../../node/src/sync/identity.js'
import net from 'node:net'
import crypto from 'hypercore-crypto'
import Protomux from 'protomux'
import NoiseSecretStream from '@hyperswarm/secret-stream'
import { admitNode } from '../../node/src/sync/admission.js'
import c from 'compact-encoding'
import { CHANNEL_PROTOCOL, hello, logList, priorityAnswer, priorityRequest, type PriorityAnswer, type PriorityRequest } from '../../node/src/sync/messages.js'
import type { NodeClock } from '../../node/src/system/clock.js'
import { SYNC_PROTOCOL, channelId } from '../../node/src/sync/protocol.js'
import type { Community } from '../../node/src/sync/community.js'
import type { NostrEvent } from '../../node/src/events/types.js'
import { testLogger } from '../helpers/log.js'

const base = defaultConfig({ cwd: process.cwd(), isTTY: false })

export interface SyncNode { dir: string, store: Store, sync: SyncManager, keyPair: KeyPair, port: number, close: () => Promise<void> }

/**
 * A real store and sync manager in a temp dir, listening on 127.0.0.1; admitted with the
 * community secret unless `admitted: false`. Closed (sync, then store) when the test ends.
 */
export async function createSyncNode (t: Test, community: Community, opts: { dir?: string, admitted?: boolean, listen?: boolean, idleTimeoutMs?: number, relay?: boolean, priorities?: boolean, clock?: NodeClock } = {}): Promise<SyncNode> {
  const dir = opts.dir ?? await mkdtemp(path.join(tmpdir(), 'outpost-test-sync-'))
  if (opts.dir === undefined) t.teardown(() => rm(dir, { recursive: true, force: true }))
  const relay = opts.relay === true
  const clock = opts.clock
  const store = await Store.open({ dir, limits: base.limits, store: { ...base.store, commitWindowMs: 0 }, log: testLogger(), readOnly: relay, ...(clock === undefined ? {} : { now: () => clock.nowSeconds() }) })
  const keyPair = await loadIdentity(dir, { create: true }) as KeyPair
  const admission = opts.admitted === false || community.secretKey === null ? null : admitNode(community, keyPair.publicKey, relay ? 'relay' : 'node')
  // a relay gets a relay certificate but only the public part of the community
  const sync = new SyncManager({ store, community: relay ? { ...community, secretKey: null } : community, keyPair, admission, relay, dataDir: dir, log: testLogger(), listen: opts.listen === false ? null : { host: '127.0.0.1', port: 0 }, ...(opts.priorities === false ? { priorities: false } : {}), ...(opts.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: opts.idleTimeoutMs }), ...(clock === undefined ? {} : { clock }) })
  const addr = await sync.start()
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await sync.close()
    await store.close()
  }
  t.teardown(close)
  return { dir, store, sync, keyPair, port: addr?.port ?? 0, close }
}

/** Polls until `fn` is true (bounded): sync is asynchronous by nature. */
export async function until (fn: () => boolean | Promise<boolean>, ms = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

export async function has (store: Store, id: string): Promise<boolean> {
  return (await store.query([{ ids: [id] }])).length === 1
}

export async function ingestAll (store: Store, events: NostrEvent[]): Promise<void> {
  for (const r of await Promise.all(events.map(async e => await store.ingest(e, { type: 'client' })))) {
    if (!r.ok) throw new Error(`ingest failed: ${r.message}`)
  }
}

export interface RawPeer {
  stream: NoiseSecretStream
  keyPair: { publicKey: Buffer, secretKey: Buffer }
  sendLogs: (e: unknown[]) => void
  requestPriorities: (r: PriorityRequest) => void
  /** Sends a priority answer as given (any shape: the encoder writes what it is handed). */
  answerPriorities: (a: PriorityAnswer) => void
  answers: PriorityAnswer[]
  /** Sends a clock message with any uint; a bigint is written as a full 64-bit varint (beyond what the codec takes). */
  sendClock: (now: number | bigint, online: boolean) => void
  /** The clock messages the node sent us. */
  clocks: Array<{ now: number, online: boolean }>
  opened: Promise<void>
  closed: Promise<void>
}

/** A hand-made peer: Noise over TCP, our channel and its messages, then whatever the test sends. */
export async function rawPeer (port: number, community: Community, admitted: boolean): Promise<RawPeer> {
  const keyPair = crypto.keyPair()
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  const stream = new NoiseSecretStream(true, socket, { keyPair })
  stream.on('error', () => {})
  const closed = new Promise<void>(resolve => stream.once('close', () => { resolve() }))
  let onopen = (): void => {}
  const opened = new Promise<void>(resolve => { onopen = resolve })
  const answers: PriorityAnswer[] = []
  const clocks: Array<{ now: number, online: boolean }> = []
  // the clock message as raw fields: a hostile peer writes values the real codec would refuse
  const rawClock = {
    preencode (state: c.State, m: { now: number | bigint, online: boolean }): void {
      if (typeof m.now === 'bigint') state.end += 9
      else c.uint.preencode(state, m.now)
      c.bool.preencode(state, m.online)
    },
    encode (state: c.State, m: { now: number | bigint, online: boolean }): void {
      if (typeof m.now === 'bigint') {
        (state.buffer as Buffer)[state.start++] = 0xff
        c.biguint64.encode(state, m.now)
      } else {
        c.uint.encode(state, m.now)
      }
      c.bool.encode(state, m.online)
    },
    decode (state: c.State): { now: number, online: boolean } { return { now: c.uint.decode(state), online: c.bool.decode(state) } }
  }
  const ch = Protomux.from(stream).createChannel({
    protocol: CHANNEL_PROTOCOL,
    id: channelId(community.publicKey),
    handshake: hello,
    messages: [{ encoding: logList }, { encoding: priorityRequest }, { encoding: priorityAnswer, onmessage: (a: PriorityAnswer) => { answers.push(a) } }, { encoding: rawClock, onmessage: (m: { now: number, online: boolean }) => { clocks.push(m) } }],
    onopen
  })
  if (ch === null) throw new Error('no channel')
  ch.open({ version: SYNC_PROTOCOL, admission: admitted ? admitNode(community, keyPair.publicKey) : Buffer.alloc(0) })
  const msg = (i: number): Protomux.Message<unknown> => ch.messages[i] as Protomux.Message<unknown>
  return {
    stream,
    keyPair,
    sendLogs: e => { msg(0).send(e) },
    requestPriorities: r => { msg(1).send(r) },
    answerPriorities: a => { msg(2).send(a) },
    answers,
    sendClock: (now, online) => { msg(3).send({ now, online }) },
    clocks,
    opened,
    closed
  }
}
