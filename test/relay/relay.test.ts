import t, { type Test } from 'tap'
import { WebSocket } from 'ws'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import { RelayServer, type RelayServerOptions } from '../../node/src/relay/relay-server.js'
import { createHttpApp, createHttpServer, listen, closeHttpServer } from '../../node/src/http/app.js'
import type { Limits } from '../../node/src/config/types.js'
import type { NostrEvent } from '../../node/src/events/types.js'
import type { Store } from '../../node/src/store/store.js'
import { createStore, testLimits } from '../helpers/store.js'
import { signer } from '../helpers/events.js'
import { testLogger } from '../helpers/log.js'

useWebSocketImplementation(WebSocket)

type Msg = unknown[]

/** A raw NIP-01 client: every received message is queued until a test takes it. */
class Client {
  private readonly queue: Msg[] = []
  private readonly waiters = new Set<() => void>()
  private ended: Error | null = null
  readonly closed: Promise<{ code: number, reason: string }>

  private constructor (readonly ws: WebSocket) {
    ws.on('message', data => {
      this.queue.push(JSON.parse(String(data)) as Msg)
      this.wakeAll()
    })
    this.closed = new Promise(resolve => {
      ws.on('close', (code, reason) => {
        this.ended = new Error(`connection closed (${code})`)
        this.wakeAll()
        resolve({ code, reason: reason.toString() })
      })
    })
    ws.on('error', () => {})
  }

  static async open (url: string, opts: { autoPong?: boolean } = {}): Promise<Client> {
    const ws = new WebSocket(url, opts)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => { resolve() })
      ws.once('unexpected-response', (_req, res) => { reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { statusCode: res.statusCode })) })
      ws.once('error', reject)
    })
    return new Client(ws)
  }

  send (...m: unknown[]): void { this.ws.send(JSON.stringify(m)) }
  raw (data: string | Buffer): void { this.ws.send(data) }

  /** Removes and returns the first queued message matching pred, waiting for one if needed. */
  async take (pred: (m: Msg) => boolean = () => true): Promise<Msg> {
    for (;;) {
      const i = this.queue.findIndex(pred)
      if (i !== -1) return this.queue.splice(i, 1)[0] as Msg
      if (this.ended !== null) throw this.ended
      await new Promise<void>(resolve => { this.waiters.add(resolve) })
    }
  }

  private wakeAll (): void {
    const ws = [...this.waiters]
    this.waiters.clear()
    for (const w of ws) w()
  }

  /** Messages received and not taken yet. */
  pending (): Msg[] { return [...this.queue] }

  async publish (e: NostrEvent): Promise<Msg> {
    this.send('EVENT', e)
    return await this.take(m => m[0] === 'OK' && m[1] === e.id)
  }

  /** REQ, then the stored events up to EOSE (fails on CLOSED). */
  async req (subId: string, ...filters: unknown[]): Promise<NostrEvent[]> {
    this.send('REQ', subId, ...filters)
    const events: NostrEvent[] = []
    for (;;) {
      const m = await this.take(m => m[1] === subId && (m[0] === 'EVENT' || m[0] === 'EOSE' || m[0] === 'CLOSED'))
      if (m[0] === 'EOSE') return events
      if (m[0] === 'CLOSED') throw new Error(`CLOSED ${String(m[2])}`)
      events.push(m[2] as NostrEvent)
    }
  }

  async event (subId: string): Promise<NostrEvent> {
    return (await this.take(m => m[0] === 'EVENT' && m[1] === subId))[2] as NostrEvent
  }

  async close (): Promise<void> {
    this.ws.close()
    await this.closed
  }
}

/** The HTTP status an upgrade was refused with (fails when it is accepted). */
async function refusedWith (url: string): Promise<number> {
  const c = await Client.open(url).catch((err: { statusCode?: number }) => err.statusCode ?? -1)
  if (typeof c === 'number') return c
  c.ws.terminate()
  throw new Error('the upgrade was accepted')
}

interface Harness { url: string, relay: RelayServer, store: Store, client: () => Promise<Client> }

/** Real store + relay + HTTP server on a port-0 loopback socket, all closed at the end. */
async function start (t: Test, limits: Partial<Limits> = {}, opts: Partial<RelayServerOptions> = {}): Promise<Harness> {
  const l = testLimits({ connectionsPerIp: 200, messagesPerSecond: 1000, eventsPerMinutePerIp: 10_000, ...limits })
  const store = await createStore(t, { limits: l })
  const relay = new RelayServer({ store, limits: l, log: testLogger(), ...opts })
  const app = createHttpApp({ log: testLogger(), nip11: () => ({}), health: () => ({ ok: true }), staticDir: '/nonexistent' })
  const server = createHttpServer(app, relay)
  t.teardown(async () => {
    await relay.close()
    await closeHttpServer(server)
  })
  const { port } = await listen(server, '127.0.0.1', 0)
  const url = `ws://127.0.0.1:${port}`
  return {
    url,
    relay,
    store,
    client: async () => {
      const c = await Client.open(url)
      t.teardown(() => { c.ws.terminate() })
      return c
    }
  }
}

const alice = signer()
const bob = signer()
const now = (): number => Math.floor(Date.now() / 1000)

t.test('EVENT: accepted, duplicate, invalid signature, malformed', async t => {
  const h = await start(t)
  const c = await h.client()
  const e = alice.sign({ content: 'hello camp' })
  t.same(await c.publish(e), ['OK', e.id, true, ''])
  const dup = await c.publish(e)
  t.equal(dup[2], true, 'NIP-01: a duplicate is OK true')
  t.match(dup[3], /^duplicate:/)

  const forged = { ...bob.sign({ content: 'x' }), pubkey: alice.pubkey }
  const bad = await c.publish(forged)
  t.equal(bad[2], false)
  t.match(bad[3], /^invalid:/)

  c.send('EVENT', 'not an event')
  t.same((await c.take(m => m[0] === 'OK')).slice(0, 3), ['OK', '', false])
  c.send('EVENT', { id: 'x'.repeat(500) })
  const long = await c.take(m => m[0] === 'OK')
  t.equal(long[1], '', 'a huge id is not echoed back')
  t.match(long[3], /^invalid:/)
  t.equal(h.store.count(), 1)
})

t.test('REQ: stored events newest first, EOSE, then live events', async t => {
  const h = await start(t)
  const c = await h.client()
  const old = [1, 2, 3].map(i => alice.sign({ content: `old ${i}`, created_at: now() - 100 + i }))
  for (const e of old) t.equal((await c.publish(e))[2], true)
  await c.publish(bob.sign({ content: 'not alice' }))

  const reader = await h.client()
  const history = await reader.req('feed', { authors: [alice.pubkey] })
  t.same(history.map(e => e.content), ['old 3', 'old 2', 'old 1'])
  t.same(await reader.req('two', { authors: [alice.pubkey], limit: 2 }).then(es => es.length), 2)

  const fresh = alice.sign({ content: 'live' })
  await c.publish(bob.sign({ content: 'bob live' }))
  await c.publish(fresh)
  t.same(await reader.event('feed'), fresh, 'only matching live events arrive')
  t.notOk(reader.pending().some(m => m[0] === 'EVENT' && m[1] === 'feed'))
})

t.test('REQ with limit 0 sends only EOSE, then live events', async t => {
  const h = await start(t)
  const c = await h.client()
  await c.publish(alice.sign({ content: 'stored' }))
  t.same(await c.req('live', { kinds: [1], limit: 0 }), [])
  const e = alice.sign({ content: 'new' })
  await c.publish(e)
  t.equal((await c.event('live')).id, e.id)
})

t.test('events published during the stored query are neither lost nor duplicated', async t => {
  const h = await start(t)
  const writer = await h.client()
  const preload = Array.from({ length: 20 }, (_, i) => alice.sign({ content: `p${i}`, created_at: now() - 50 + i }))
  await Promise.all(preload.map(e => writer.publish(e)))
  const during = Array.from({ length: 10 }, (_, i) => alice.sign({ content: `d${i}` }))

  const reader = await h.client()
  reader.send('REQ', 's', { authors: [alice.pubkey] })
  await Promise.all(during.map(e => writer.publish(e)))
  await reader.take(m => m[0] === 'EOSE')
  const marker = alice.sign({ content: 'marker' })
  await writer.publish(marker)
  await reader.take(m => m[0] === 'EVENT' && (m[2] as NostrEvent).id === marker.id)

  const seen = reader.pending().filter(m => m[0] === 'EVENT').map(m => (m[2] as NostrEvent).id)
  t.equal(new Set(seen).size, seen.length, 'no event is sent twice')
  t.same(new Set(seen), new Set([...preload, ...during].map(e => e.id)), 'every event arrives')
})

t.test('CLOSE stops live events for that subscription only', async t => {
  const h = await start(t)
  const c = await h.client()
  t.same(await c.req('a', { kinds: [1] }), [])
  t.same(await c.req('b', { kinds: [1] }), [])
  c.send('CLOSE', 'a')
  const e = alice.sign({ content: 'after close' })
  await c.publish(e)
  // 'a' comes before 'b' in fan-out order: had it survived, its copy would be here already
  t.equal((await c.event('b')).id, e.id)
  t.notOk(c.pending().some(m => m[1] === 'a'), 'nothing for the closed subscription')
  c.send('CLOSE', 'never-opened')
  t.same(await c.req('c', { ids: [e.id] }).then(es => es.map(x => x.id)), [e.id], 'still working')
})

t.test('a REQ with an existing id replaces the subscription', async t => {
  const h = await start(t)
  const c = await h.client()
  await c.req('s', { kinds: [1] })
  await c.req('barrier', { kinds: [1, 7] })
  await c.req('s', { kinds: [7] })
  const post = alice.sign({ kind: 1, content: 'post' })
  const like = alice.sign({ kind: 7, content: '+', tags: [['e', post.id]] })
  await c.publish(post)
  t.equal((await c.event('barrier')).id, post.id)
  t.notOk(c.pending().some(m => m[1] === 's'), 'the old filters are gone')
  await c.publish(like)
  t.equal((await c.event('s')).id, like.id)
  t.equal(h.relay.subscriptions, 2)
})

t.test('subscription, filter and id limits answer CLOSED or NOTICE', async t => {
  const h = await start(t, { maxSubscriptions: 2, maxFilters: 2 })
  const c = await h.client()
  await c.req('one', {})
  await c.req('two', {})
  c.send('REQ', 'three', {})
  t.same(await c.take(m => m[0] === 'CLOSED'), ['CLOSED', 'three', 'rate-limited: too many subscriptions (max 2)'])
  t.same(await c.req('two', { kinds: [1] }), [], 'replacing an existing one is fine at the limit')

  c.send('REQ', 'two', { kinds: ['x'] })
  const bad = await c.take(m => m[0] === 'CLOSED')
  t.equal(bad[1], 'two')
  t.match(bad[2], /^invalid: kinds/)
  t.equal(h.relay.subscriptions, 1, 'a refused replacement closes the old subscription')

  c.send('REQ', 'f', {}, {}, {})
  t.same(await c.take(m => m[0] === 'CLOSED'), ['CLOSED', 'f', 'invalid: too many filters (max 2)'])
  c.send('REQ', 'g', { search: 'tents' })
  t.match((await c.take(m => m[0] === 'CLOSED'))[2], /^invalid: unknown filter key "search"/)
  c.send('REQ', 'x'.repeat(65), {})
  t.match((await c.take(m => m[0] === 'NOTICE'))[1], /^invalid: subscription id/)
  c.send('REQ', 42, {})
  t.match((await c.take(m => m[0] === 'NOTICE'))[1], /^invalid: subscription id/)
  c.send('COUNT', 'n', {})
  t.match(await c.take(m => m[0] === 'CLOSED'), ['CLOSED', 'n', /^unsupported:/])
})

t.test('garbage gets a NOTICE and the connection keeps working', async t => {
  const h = await start(t)
  const c = await h.client()
  const garbage: Array<[string, RegExp]> = [
    ['{not json', /^invalid: could not parse JSON/],
    ['{"a":1}', /^invalid: message must be a non-empty JSON array/],
    ['[]', /^invalid: message must be/],
    ['["HELLO"]', /^invalid: unknown message type "HELLO"/],
    ['[1,2]', /^invalid: message type must be a string/],
    ['["EVENT"]', /^invalid: EVENT takes exactly one event/],
    ['["REQ","s"]', /^invalid: REQ takes a subscription id and at least one filter/],
    ['["CLOSE"]', /^invalid: CLOSE takes/],
    ['["CLOSE",7]', /^invalid: subscription id/],
    ['['.repeat(50_000) + ']'.repeat(50_000), /^invalid: /],
    ['["EVENT",{"tags":' + '['.repeat(50_000) + ']'.repeat(50_000) + '}]', /^invalid: /]
  ]
  for (const [text, re] of garbage) {
    c.raw(text)
    const m = await c.take()
    t.match(m[0] === 'OK' ? m[3] : m[1], re, text.slice(0, 30))
  }
  c.raw(Buffer.from('["HELLO"]'))
  t.match((await c.take(m => m[0] === 'NOTICE'))[1], /unknown message type/, 'binary frames are read as text')
  const e = alice.sign({ content: 'still here' })
  t.equal((await c.publish(e))[2], true)
  t.equal(h.relay.connections, 1)
})

t.test('oversize frames: an error reply, then a close; the server serves others throughout', async t => {
  const max = 16 * 1024
  const h = await start(t, { maxFrameBytes: max, maxContentLength: 64 * 1024, maxEventBytes: 128 * 1024 })
  const bystander = await h.client()
  await bystander.req('all', { kinds: [1] })
  const c = await h.client()

  const big = alice.sign({ content: 'x'.repeat(max) })
  c.send('EVENT', big)
  t.same(await c.take(), ['OK', big.id, false, `invalid: message too large (max ${max} bytes)`])
  c.raw(JSON.stringify(['REQ', 's', { '#t': ['y'.repeat(max)] }]))
  t.match((await c.take())[1], /^invalid: message too large/)
  t.equal((await c.publish(alice.sign({ content: 'small' })))[2], true, 'the connection still works')

  c.raw(Buffer.alloc(max * 3, 0x20))
  t.equal((await c.closed).code, 1009, 'past twice the limit ws closes with 1009')

  const e = alice.sign({ content: 'after the giant' })
  t.equal((await bystander.publish(e))[2], true)
  t.equal((await bystander.event('all')).content, 'small')
  t.equal((await bystander.event('all')).id, e.id)
  const fresh = await h.client()
  t.same((await fresh.req('q', { ids: [e.id] })).map(x => x.id), [e.id])
})

t.test('ephemeral events are delivered live but never stored', async t => {
  const h = await start(t)
  const listener = await h.client()
  await listener.req('eph', { kinds: [20001] })
  const c = await h.client()
  const e = alice.sign({ kind: 20001, content: 'typing…' })
  t.equal((await c.publish(e))[2], true)
  t.equal((await listener.event('eph')).id, e.id)
  t.same(await c.req('later', { kinds: [20001] }), [])
  t.same(await c.req('byid', { ids: [e.id] }), [])
})

t.test('per-connection message rate: OK false, CLOSED or NOTICE with rate-limited:', async t => {
  const h = await start(t, { messagesPerSecond: 2 })
  const c = await h.client()
  // burst is 2x the rate: 4 messages pass, then everything is refused until tokens refill
  for (let i = 0; i < 4; i++) c.send('CLOSE', `x${i}`)
  const e = alice.sign({ content: 'too fast' })
  c.send('EVENT', e)
  c.send('REQ', 'r', {})
  c.send('CLOSE', 'r')
  t.same(await c.take(), ['OK', e.id, false, 'rate-limited: slow down'])
  t.same(await c.take(), ['CLOSED', 'r', 'rate-limited: slow down'])
  t.same(await c.take(), ['NOTICE', 'rate-limited: slow down'])
  const other = await h.client()
  t.same(await other.req('ok', { limit: 1 }), [], 'other connections have their own bucket')
})

t.test('per-IP EVENT rate: rate-limited: OK false, across connections', async t => {
  const h = await start(t, { eventsPerMinutePerIp: 3 })
  const c1 = await h.client()
  const c2 = await h.client()
  t.equal((await c1.publish(alice.sign({ content: '1' })))[2], true)
  t.equal((await c2.publish(alice.sign({ content: '2' })))[2], true)
  t.equal((await c1.publish(alice.sign({ content: '3' })))[2], true)
  const refused = await c2.publish(alice.sign({ content: '4' }))
  t.equal(refused[2], false)
  t.match(refused[3], /^rate-limited:/)
  t.same(await c2.req('r', { kinds: [1] }).then(es => es.length), 3, 'REQs are not counted as events')
})

t.test('connections per IP: the upgrade is refused with 429', async t => {
  const h = await start(t, { connectionsPerIp: 2 })
  const a = await h.client()
  await h.client()
  t.equal(await refusedWith(h.url), 429)
  await a.close()
  // the server counts the socket out when it closes: retry until it has
  let c: Client | null = null
  for (let i = 0; i < 100 && c === null; i++) c = await Client.open(h.url).catch(() => null)
  t.ok(c, 'a slot frees up when a connection closes')
  c?.ws.terminate()
})

t.test('only / upgrades', async t => {
  const h = await start(t)
  t.equal(await refusedWith(h.url + '/other'), 404)
  const c = await Client.open(h.url + '/?x=1')
  t.teardown(() => { c.ws.terminate() })
  t.equal(h.relay.connections, 1)
})

t.test('many parallel clients all get every live event', async t => {
  const h = await start(t)
  const clients = await Promise.all(Array.from({ length: 25 }, async () => await h.client()))
  await Promise.all(clients.map(async c => await c.req('feed', { kinds: [1] })))
  t.equal(h.relay.connections, 25)
  const events = clients.slice(0, 5).map((c, i) => ({ c, e: alice.sign({ content: `from ${i}` }) }))
  const oks = await Promise.all(events.map(async ({ c, e }) => await c.publish(e)))
  t.ok(oks.every(m => m[2] === true))
  const want = new Set(events.map(x => x.e.id))
  for (const c of clients) {
    const got = new Set<string>()
    while (got.size < want.size) got.add((await c.event('feed')).id)
    t.same(got, want)
  }
})

t.test('a client that stops reading is closed with 1008 instead of growing memory', async t => {
  const h = await start(t, {}, { maxBufferedBytes: 64 * 1024 })
  const slow = await h.client()
  await slow.req('eph', { kinds: [20001] })
  const socket = (slow.ws as unknown as { _socket: { pause: () => void, resume: () => void } })._socket
  socket.pause()
  const writer = await h.client()
  const content = 'z'.repeat(30 * 1024)
  let sent = 0
  for (; sent < 1000 && h.relay.subscriptions === 1; sent++) {
    await writer.publish(alice.sign({ kind: 20001, content }))
  }
  t.equal(h.relay.subscriptions, 0, `the slow connection was dropped after ${sent} events`)
  socket.resume()
  t.equal((await slow.closed).code, 1008)
  t.equal((await writer.publish(alice.sign({ content: 'fine' })))[2], true)
})

t.test('a connection that stops answering pings is terminated', async t => {
  const h = await start(t, {}, { pingIntervalMs: 30 })
  const healthy = await h.client()
  const dead = await Client.open(h.url, { autoPong: false })
  t.teardown(() => { dead.ws.terminate() })
  t.equal((await dead.closed).code, 1006, 'dropped without a closing handshake')
  let pings = 0
  await new Promise<void>(resolve => {
    healthy.ws.on('ping', () => { if (++pings === 3) resolve() })
  })
  t.equal(healthy.ws.readyState, WebSocket.OPEN, 'a client that pongs stays')
  t.equal(h.relay.connections, 1)
})

t.test('close() says 1001 to every client, is idempotent, and refuses new upgrades', async t => {
  const h = await start(t)
  const a = await h.client()
  const b = await h.client()
  await a.req('s', {})
  await Promise.all([h.relay.close(), h.relay.close()])
  t.equal((await a.closed).code, 1001)
  t.equal((await b.closed).code, 1001)
  t.equal(h.relay.connections, 0)
  t.equal(await refusedWith(h.url), 503)
  await h.relay.close()
})

t.test('nostr-tools Relay: publish, subscribe, EOSE and live events', async t => {
  const h = await start(t)
  const relay = await Relay.connect(h.url)
  t.teardown(() => { relay.close() })
  const first = alice.sign({ content: 'via nostr-tools', tags: [['t', 'camping']] })
  t.equal(await relay.publish(first), '')
  t.match(await relay.publish(first), /^duplicate:/)
  await t.rejects(relay.publish({ ...first, content: 'tampered' }), /invalid:/)

  const second = bob.sign({ content: 'second', tags: [['t', 'camping']] })
  const got: string[] = []
  await new Promise<void>((resolve, reject) => {
    const sub = relay.subscribe([{ '#t': ['camping'] }], {
      onevent: e => {
        got.push(e.content)
        if (e.id === second.id) { sub.close(); resolve() }
      },
      oneose: () => { relay.publish(second).catch(reject) },
      onclose: reason => { if (got.length < 2) reject(new Error(reason)) }
    })
  })
  t.same(got, ['via nostr-tools', 'second'])
})
