import { Relay } from './lib/relay.js'
import { Outbox } from './lib/outbox.js'
import { forgetStoredKey, hasStoredKey, storedPubkey } from './lib/key-store.js'
import type { Identity } from './lib/keys.js'
import { parseProfile, type Profile } from './lib/profile.js'
import { followedPubkeys, addFollow, removeFollow } from './lib/follows.js'
import { after, contactsTemplate, deletionTemplate, noteTemplate, profileTemplate, reactionTemplate, type ProfileFields } from './lib/events.js'
import { now, setClockOffset, type EventTemplate, type KeyValueStore, type NostrEvent } from './lib/types.js'
import { detectCaptive } from './lib/env.js'
import type { Inbox } from './inbox.js'
import { Activity } from './activity.js'

/** localStorage when it works; memory otherwise (captive sheets, private modes). */
function storage (): { store: KeyValueStore, works: boolean } {
  try {
    const ls = window.localStorage
    const k = 'outpost.probe'
    ls.setItem(k, '1')
    ls.removeItem(k)
    return { store: ls, works: true }
  } catch {
    const m = new Map<string, string>()
    return { store: { getItem: k => m.get(k) ?? null, setItem: (k, v) => { m.set(k, v) }, removeItem: k => { m.delete(k) } }, works: false }
  }
}

type Listener = () => void
type Keys = typeof import('./lib/keys.js')

let keysModule: Promise<Keys> | null = null
/** secp256k1 and bech32 arrive only when needed: visitors who just read never download them. */
export async function loadKeys (): Promise<Keys> {
  keysModule ??= import('./lib/keys.js')
  return await keysModule
}

/** Longest node name shown (the node's own limit is 64). */
const MAX_SITE_NAME = 64

/**
 * One request to the node: its name from its NIP-11 document (a hotspot provisioned for a site shows
 * that site's name, its SSID by default) and its clock from the Date header (no secure context needed).
 * It carries the phone's own clock: a node without a real-time clock reports what phones say
 * (never follows it: node/src/system/clock.ts); the node's clock is the one adopted.
 */
async function askNode (): Promise<string | null> {
  try {
    const t0 = Date.now()
    const res = await fetch('/', { cache: 'no-store', headers: { Accept: 'application/nostr+json', 'X-Outpost-Phone-Time': String(t0) } })
    const date = Date.parse(res.headers.get('date') ?? '')
    if (!Number.isNaN(date)) setClockOffset((date - (t0 + Date.now()) / 2) / 1000)
    const doc = await res.json() as { name?: unknown }
    const name = typeof doc.name === 'string' ? doc.name.trim() : ''
    return name.length > 0 && name.length <= MAX_SITE_NAME ? name : null
  } catch {
    return null
  }
}

/** The whole app's shared state; components re-render on `changed`. */
class AppState {
  readonly store: KeyValueStore
  readonly captive: ReturnType<typeof detectCaptive>
  readonly relay: Relay
  /** the phone's public key, known without loading crypto; null before an identity exists */
  me: string | null
  readonly profiles = new Map<string, Profile>()
  /** newest kind 3 per author seen */
  readonly contacts = new Map<string, NostrEvent>()
  readonly likes = new Map<string, Set<string>>()
  /** event id -> pubkeys that asked to delete it (NIP-09: only the author's own request counts) */
  private readonly deletions = new Map<string, Set<string>>()
  /** every event signed here this session, for the export (merged with the relay's copy) */
  private readonly listeners = new Set<Listener>()
  private readonly wanted = new Set<string>()
  private readonly asked = new Set<string>()
  private wantTimer: ReturnType<typeof setTimeout> | null = null
  private mineLoaded = false
  mineLoading = false
  /** private messages, once their module (and its crypto) has loaded; only with an identity */
  inbox: Inbox | null = null
  /** replies, mentions and likes since the Activity page was last open; only with an identity */
  activity: Activity | null = null
  /** the node's name, once it has said it */
  siteName: string | null = null

  constructor () {
    const s = storage()
    this.store = s.store
    this.captive = detectCaptive(navigator.userAgent, s.works)
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
    this.relay = new Relay(`${proto}//${location.host}/`, new Outbox(this.store))
    this.relay.onChange(() => this.emit())
    this.relay.authSigner = async (challenge, url) => await this.authEvent(challenge, url)
    this.me = storedPubkey(this.store)
  }

  start (): void {
    void askNode().then(name => {
      if (name === null) return
      this.siteName = name
      document.title = name
      this.emit()
    })
    this.relay.start()
    // profiles, likes and deletions as they happen, for everything on screen
    this.relay.subscribe([{ kinds: [0, 5, 7], since: now() }], e => this.ingest(e))
    if (this.me !== null) {
      void this.loadMine()
      this.openActivity()
      void this.openInbox()
    } else if (hasStoredKey(this.store)) {
      // a key saved without its public key: derive it once
      void loadKeys().then(k => {
        const id = k.loadKey(this.store)
        if (id === null) return
        k.saveKey(this.store, id.sk)
        this.me = id.pubkey
        this.emit()
        void this.loadMine()
        this.openActivity()
        void this.openInbox()
      })
    }
  }

  /** Starts counting the replies, mentions and likes this key gets (the Activity badge). */
  openActivity (): void {
    const me = this.me
    if (me === null || this.activity?.me === me) return
    this.activity?.stop()
    this.activity = new Activity(me, this.relay, this.store, () => { this.emit() })
    this.activity.start()
  }

  /** Loads the messaging module and starts reading this key's gift wraps. */
  async openInbox (): Promise<void> {
    const me = this.me
    if (me === null || this.inbox?.me === me) return
    const [m, sk] = await Promise.all([import('./inbox.js'), this.secretKey()])
    if (sk === null || this.me !== me || this.inbox?.me === me) return
    this.inbox?.stop()
    this.inbox = new m.Inbox(me, sk)
    this.inbox.start()
    this.emit()
  }

  on (fn: Listener): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** Counts emits, so a component that subscribes after rendering can tell it missed one. */
  version = 0

  emit (): void {
    this.version++
    for (const fn of this.listeners) fn()
  }

  /** Folds profile, follow list, like and deletion events into the caches. */
  ingest (e: NostrEvent): void {
    if (e.kind === 0) {
      const old = this.profiles.get(e.pubkey)
      if (old !== undefined && old.created_at >= e.created_at) return
      this.profiles.set(e.pubkey, parseProfile(e))
    } else if (e.kind === 3) {
      const old = this.contacts.get(e.pubkey)
      if (old !== undefined && old.created_at >= e.created_at) return
      this.contacts.set(e.pubkey, e)
    } else if (e.kind === 7) {
      const target = [...e.tags].reverse().find(t => t[0] === 'e')?.[1]
      if (target === undefined || e.content === '-') return
      let s = this.likes.get(target)
      if (s === undefined) this.likes.set(target, s = new Set())
      if (s.has(e.pubkey)) return
      s.add(e.pubkey)
    } else if (e.kind === 5) {
      for (const t of e.tags) {
        if (t[0] !== 'e' || t[1] === undefined) continue
        let by = this.deletions.get(t[1])
        if (by === undefined) this.deletions.set(t[1], by = new Set())
        by.add(e.pubkey)
      }
    } else {
      return
    }
    this.emit()
  }

  isDeleted (e: NostrEvent): boolean {
    return this.deletions.get(e.id)?.has(e.pubkey) === true
  }

  /** Asks the relay for profiles not seen yet, batched. */
  want (pubkeys: Iterable<string>): void {
    for (const pk of pubkeys) if (!this.asked.has(pk) && !this.profiles.has(pk)) this.wanted.add(pk)
    if (this.wanted.size === 0 || this.wantTimer !== null) return
    this.wantTimer = setTimeout(() => {
      this.wantTimer = null
      const list = [...this.wanted]
      this.wanted.clear()
      for (const pk of list) this.asked.add(pk)
      for (let i = 0; i < list.length; i += 200) {
        void this.relay.query([{ kinds: [0], authors: list.slice(i, i + 200) }]).then(evs => { for (const e of evs) this.ingest(e) })
      }
    }, 30)
  }

  /** Likes of events shown, fetched once per page. */
  async loadLikes (ids: string[]): Promise<void> {
    if (ids.length === 0) return
    const evs = await this.relay.query([{ kinds: [7], '#e': ids }])
    for (const e of evs) this.ingest(e)
  }

  get myProfile (): Profile | null {
    return this.me !== null ? this.profiles.get(this.me) ?? null : null
  }

  get myFollows (): string[] {
    return this.me !== null ? followedPubkeys(this.contacts.get(this.me)) : []
  }

  /** Own profile and follow list from the relay: on start, after an import. */
  async loadMine (): Promise<void> {
    const me = this.me
    if (me === null) return
    this.mineLoading = true
    this.emit()
    const evs = await this.relay.query([{ kinds: [0, 3], authors: [me] }])
    for (const e of evs) this.ingest(e)
    // an edit still waiting in the outbox is newer than what the relay has
    for (const e of this.relay.outbox.pending) this.ingest(e)
    this.mineLoaded = true
    this.mineLoading = false
    this.emit()
  }

  /**
   * Things waiting to send, as the user counts them: a private message is two gift wraps (one
   * for the recipient, one for this phone) but one message. Which wrap goes with which message
   * is hidden in them, so: half the wraps, rounded up (a lone wrap still counts as waiting).
   */
  get pendingCount (): number {
    const list = this.relay.outbox.pending
    const wraps = list.filter(e => e.kind === 1059).length
    return list.length - wraps + Math.ceil(wraps / 2)
  }

  get mineReady (): boolean {
    return this.mineLoaded
  }

  /** A one-line message for the Me page (e.g. after creating an identity). */
  notice = ''

  /** `fresh`: a key just made here, so the relay has nothing of it yet. */
  async setIdentity (id: Identity, fresh = false): Promise<void> {
    const k = await loadKeys()
    k.saveKey(this.store, id.sk)
    this.me = id.pubkey
    this.mineLoaded = fresh
    this.emit()
    if (!fresh) void this.loadMine()
    this.openActivity()
    void this.openInbox()
  }

  forget (): void {
    forgetStoredKey(this.store)
    this.me = null
    this.inbox?.stop()
    this.inbox = null
    this.activity?.stop()
    this.activity = null
    this.notice = ''
    this.emit()
  }

  private signing: Promise<unknown> = Promise.resolve()

  /**
   * Signs with the phone's key, shows the event at once, queues it for the relay. Signing is
   * serialized and `build` runs in turn, so a template made from state (a follow list) sees
   * every earlier signed event already applied.
   */
  async sign (build: () => EventTemplate): Promise<NostrEvent> {
    const run = this.signing.then(async () => {
      const k = await loadKeys()
      const id = k.loadKey(this.store)
      if (id === null) throw new Error('no identity on this phone')
      const ev = k.signEvent(build(), id.sk)
      this.relay.publish(ev)
      this.ingest(ev)
      for (const fn of this.localListeners) fn(ev)
      return ev
    })
    this.signing = run.catch(() => {})
    return await run
  }

  /** NIP-42: proves to the node that this phone holds its key, so it serves its private messages. */
  private async authEvent (challenge: string, relayUrl: string): Promise<NostrEvent | null> {
    if (this.me === null) return null
    const k = await loadKeys()
    const id = k.loadKey(this.store)
    if (id === null) return null
    return k.signEvent({ kind: 22242, created_at: now(), tags: [['relay', relayUrl], ['challenge', challenge]], content: '' }, id.sk)
  }

  /** The secret key, for the backup screen. */
  async secretKey (): Promise<Uint8Array | null> {
    return (await loadKeys()).loadKey(this.store)?.sk ?? null
  }

  /** Feeds that want the user's own events right away, before the relay echoes them. */
  readonly localListeners = new Set<(e: NostrEvent) => void>()

  async saveProfile (p: ProfileFields): Promise<void> {
    await this.sign(() => {
      const prev = this.myProfile
      const tpl = profileTemplate(p, prev?.raw)
      return tpl.created_at <= (prev?.created_at ?? 0) ? { ...tpl, created_at: (prev?.created_at ?? 0) + 1 } : tpl
    })
  }

  async post (content: string, replyTo?: NostrEvent): Promise<NostrEvent> {
    return await this.sign(() => noteTemplate(content, replyTo))
  }

  async like (target: NostrEvent): Promise<void> {
    if (this.me === null || this.likes.get(target.id)?.has(this.me) === true) return
    await this.sign(() => reactionTemplate(target))
  }

  async remove (target: NostrEvent): Promise<void> {
    await this.sign(() => deletionTemplate([target]))
  }

  async setFollow (pubkey: string, follow: boolean): Promise<void> {
    const me = this.me
    if (me === null) return
    await this.sign(() => {
      const prev = this.contacts.get(me) ?? null
      const tags = follow ? addFollow(prev?.tags ?? [], pubkey) : removeFollow(prev?.tags ?? [], pubkey)
      return after(contactsTemplate(tags, prev?.content ?? ''), prev)
    })
  }
}

export const app = new AppState()
