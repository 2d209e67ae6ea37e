import { app } from './state.js'
import { openWrap, wrapMessage } from './lib/dm-crypto.js'
import { WRAP_KIND, groupConversations, loadReadMarks, markRead, nextCreatedAt, roomMembers, roomOf, type Conversation, type ReadMarks, type Rumor } from './lib/dm.js'
import { now, type NostrEvent } from './lib/types.js'
import type { SubHandle } from './lib/relay.js'

/** Wraps asked for at a time (the node's limit is 500). */
const PAGE = 200
/**
 * Main-thread time spent opening wraps before yielding to the page, in ms. One wrap costs two
 * ECDH, two decryptions and a signature check: ~4 ms on a laptop core, ~15 ms on a slow phone.
 */
const SLICE_MS = 10

/**
 * This phone's private messages (NIP-17): the gift wraps addressed to it, live and paged back,
 * opened here with the phone's key in small batches so the page stays responsive. Nothing
 * decrypted leaves the phone; the node only ever holds the wraps.
 */
export class Inbox {
  private readonly rumors = new Map<string, Rumor>()
  /** rumor id -> this phone's own copy of it (the wrap addressed to me): "waiting to send" while it is in the outbox */
  private readonly ownWrap = new Map<string, string>()
  private readonly seen = new Set<string>()
  /** NIP-44 conversation keys by sender: one ECDH per person instead of one per message */
  private readonly keys = new Map<string, Uint8Array>()
  private queue: NostrEvent[] = []
  private draining = false
  private sub: SubHandle | null = null
  private cache: Conversation[] | null = null
  /** created_at of the oldest wrap the node sent: where the next page starts */
  private oldest = Infinity
  private stopped = false
  private firstPage = true
  read: ReadMarks
  /** fetching older wraps */
  busy = false
  /** no older wraps on the node */
  done = false

  constructor (readonly me: string, private readonly sk: Uint8Array) {
    this.read = loadReadMarks(app.store)
  }

  start (): void {
    // sent while offline, before a reload: the own copy shows the message at once
    for (const e of app.relay.outbox.pending) if (e.kind === WRAP_KIND) this.add(e)
    let got = 0
    this.busy = true
    this.sub = app.relay.subscribe([{ kinds: [WRAP_KIND], '#p': [this.me], limit: PAGE }], e => {
      got++
      this.fromRelay(e)
    }, () => {
      // a reconnect sends the newest page again: only the first end of stored events counts
      if (!this.firstPage) return
      this.firstPage = false
      this.busy = false
      this.done = got < PAGE
      this.changed()
    })
  }

  stop (): void {
    this.stopped = true
    this.sub?.close()
  }

  /** The first page is still coming or being opened. */
  get opening (): boolean {
    return this.firstPage || this.queue.length > 0
  }

  conversations (): Conversation[] {
    this.cache ??= groupConversations(this.rumors.values(), this.me, this.read)
    return this.cache
  }

  conversation (peer: string): Conversation | undefined {
    return this.conversations().find(c => c.peer === peer)
  }

  /** Conversations with something unread (the number on the Messages tab). */
  get unread (): number {
    return this.conversations().filter(c => c.unread > 0).length
  }

  isPending (r: Rumor): boolean {
    const own = this.ownWrap.get(r.id)
    return own !== undefined && app.relay.outbox.has(own)
  }

  markRead (peer: string): void {
    const c = this.conversation(peer)
    if (c === undefined || c.unread === 0) return
    this.read = markRead(app.store, this.read, peer, c.last.created_at)
    this.changed()
  }

  /**
   * Wraps `text` for the people of room `peer` (a pubkey, or a group's room key) and for this phone, and queues both in the outbox: sent exactly once,
   * kept across a reload while offline. Throws (with a message to show) if the text cannot be sent.
   */
  send (peer: string, text: string): Rumor {
    const t = now()
    const { rumor, wraps } = wrapMessage(this.sk, roomMembers(peer), text, nextCreatedAt(t, this.conversation(peer)?.last), t)
    for (const w of wraps) {
      this.seen.add(w.id)
      app.relay.publish(w)
    }
    this.ownWrap.set(rumor.id, (wraps[wraps.length - 1] as NostrEvent).id)
    this.rumors.set(rumor.id, rumor)
    this.changed()
    return rumor
  }

  /** The page of wraps before the oldest one seen. */
  async more (): Promise<void> {
    if (this.busy || this.done || this.oldest === Infinity) return
    this.busy = true
    this.changed()
    const base = { kinds: [WRAP_KIND], '#p': [this.me], limit: PAGE }
    const until = this.oldest
    const page = await app.relay.query([{ ...base, until }])
    let fresh = page.filter(e => !this.seen.has(e.id))
    // a full page all from one second: step past that second
    if (fresh.length === 0 && page.length >= PAGE) fresh = (await app.relay.query([{ ...base, until: until - 1 }])).filter(e => !this.seen.has(e.id))
    for (const e of fresh) this.fromRelay(e)
    this.busy = false
    this.done = fresh.length === 0
    this.changed()
  }

  private fromRelay (e: NostrEvent): void {
    if (e.kind !== WRAP_KIND) return
    if (e.created_at < this.oldest) this.oldest = e.created_at
    this.add(e)
  }

  private add (e: NostrEvent): void {
    if (this.seen.has(e.id) || e.kind !== WRAP_KIND) return
    this.seen.add(e.id)
    this.queue.push(e)
    if (this.draining) return
    this.draining = true
    setTimeout(() => this.drain(), 0)
  }

  private drain (): void {
    if (this.stopped) return
    const start = performance.now()
    while (this.queue.length > 0 && performance.now() - start < SLICE_MS) {
      const w = this.queue.shift() as NostrEvent
      const r = openWrap(w, this.sk, this.keys)
      // not for this key, forged, not a chat message or too big a group: ignored
      if (r === null || roomOf(r, this.me) === null || this.rumors.has(r.id)) continue
      if (r.pubkey === this.me) this.ownWrap.set(r.id, w.id)
      this.rumors.set(r.id, r)
    }
    if (this.queue.length > 0) setTimeout(() => this.drain(), 0)
    else this.draining = false
    this.changed()
  }

  private changed (): void {
    this.cache = null
    if (!this.stopped) app.emit()
  }
}
