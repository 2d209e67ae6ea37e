import { promises as fs } from 'node:fs'
import path from 'node:path'
import { decode } from 'nostr-tools/nip19'
import type { Logger } from 'pino'
import { writeFileDurable } from '../store/node-file.js'

/**
 * Site-local moderation: which authors this node refuses and which events it does not show.
 * It decides what this node serves, never what the community holds: events replicated from
 * other nodes are still stored and carried on (ModeratedStore only filters this node's outputs
 * and its clients' input).
 */

export const MODERATION_FILE = 'moderation.json'
/** Most blocked keys and hidden events kept (each a Set lookup per event served). */
export const MAX_BLOCKED = 10_000
export const MAX_HIDDEN = 10_000
/** Actions kept for the admin page (newest last in the file). */
export const MAX_ACTIONS = 200
/** Longest key or event reference accepted from the form. */
export const MAX_REF_LENGTH = 1000

export type ModerationAction = 'block' | 'unblock' | 'hide' | 'unhide'

export interface ActionRecord {
  at: string
  action: ModerationAction
  /** 64-hex pubkey or event id. */
  target: string
  /** The admin session's id (not its secret token). */
  session: string
  ip: string
}

export interface Entry { at: string, session: string }

interface ModerationFileV1 {
  version: 1
  blocked: Record<string, Entry>
  hidden: Record<string, Entry>
  actions: ActionRecord[]
}

/** Who did it: logged with every action. */
export interface Operator { session: string, ip: string }

const HEX64 = /^[0-9a-f]{64}$/

export class Moderation {
  private blocked = new Map<string, Entry>()
  private hidden = new Map<string, Entry>()
  private actions: ActionRecord[] = []
  private chain: Promise<void> = Promise.resolve()
  /** Set when the file could not be read at start and was moved aside (shown on /admin). */
  damaged: string | null = null

  private constructor (private readonly file: string, private readonly log: Logger, private readonly now: () => number) {}

  static async open (opts: { dataDir: string, log: Logger, now?: () => number }): Promise<Moderation> {
    const m = new Moderation(path.join(opts.dataDir, MODERATION_FILE), opts.log, opts.now ?? Date.now)
    await m.load()
    return m
  }

  /** Nothing blocked or hidden: the view passes everything through untouched. */
  get empty (): boolean { return this.blocked.size === 0 && this.hidden.size === 0 }

  isBlocked (pubkey: string): boolean { return this.blocked.has(pubkey) }
  isHidden (id: string): boolean { return this.hidden.has(id) }
  /** Whether this node shows the event. */
  visible (e: { id: string, pubkey: string }): boolean {
    return !this.hidden.has(e.id) && !this.blocked.has(e.pubkey)
  }

  blockedKeys (): Array<[string, Entry]> { return [...this.blocked.entries()].reverse() }
  hiddenEvents (): Array<[string, Entry]> { return [...this.hidden.entries()].reverse() }
  /** Newest first. */
  recentActions (): ActionRecord[] { return [...this.actions].reverse() }
  get counts (): { blocked: number, hidden: number } { return { blocked: this.blocked.size, hidden: this.hidden.size } }

  /**
   * Applies one action; resolves once the new policy is durable on disk (it applies in memory
   * only then, so what is shown always matches what survives a power cut). `changed` is false
   * when it was already so. Throws a ModerationError for a full list.
   */
  async apply (action: ModerationAction, target: string, who: Operator): Promise<{ changed: boolean }> {
    if (!HEX64.test(target)) throw new ModerationError('not a 64-hex key or id')
    const run = this.chain.then(async () => await this.applyNow(action, target, who))
    this.chain = run.then(() => {}, () => {})
    return await run
  }

  private async applyNow (action: ModerationAction, target: string, who: Operator): Promise<{ changed: boolean }> {
    const blocked = new Map(this.blocked)
    const hidden = new Map(this.hidden)
    const map = action === 'block' || action === 'unblock' ? blocked : hidden
    const entry: Entry = { at: new Date(this.now()).toISOString(), session: who.session }
    let changed: boolean
    if (action === 'block' || action === 'hide') {
      changed = !map.has(target)
      const max = action === 'block' ? MAX_BLOCKED : MAX_HIDDEN
      if (changed && map.size >= max) throw new ModerationError(`at most ${max} ${action === 'block' ? 'blocked keys' : 'hidden events'}; remove some first`)
      if (changed) map.set(target, entry)
    } else {
      changed = map.delete(target)
    }
    const record: ActionRecord = { at: entry.at, action, target, session: who.session, ip: who.ip }
    const actions = [...this.actions, record].slice(-MAX_ACTIONS)
    await this.write({ version: 1, blocked: Object.fromEntries(blocked), hidden: Object.fromEntries(hidden), actions })
    this.blocked = blocked
    this.hidden = hidden
    this.actions = actions
    this.log.info({ action, target, changed, session: who.session, ip: who.ip }, `moderation: ${action}${changed ? '' : ' (already so)'}`)
    return { changed }
  }

  private async write (doc: ModerationFileV1): Promise<void> {
    await writeFileDurable(this.file, JSON.stringify(doc) + '\n', 0o640)
  }

  private async load (): Promise<void> {
    let text: string
    try {
      text = await fs.readFile(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    try {
      const doc = JSON.parse(text) as Partial<ModerationFileV1>
      if (doc.version !== 1 || !isRecord(doc.blocked) || !isRecord(doc.hidden) || !Array.isArray(doc.actions)) throw new Error('unknown format')
      this.blocked = entries(doc.blocked, MAX_BLOCKED)
      this.hidden = entries(doc.hidden, MAX_HIDDEN)
      this.actions = doc.actions.filter(isAction).slice(-MAX_ACTIONS)
      this.log.info({ blocked: this.blocked.size, hidden: this.hidden.size }, 'moderation policy loaded')
    } catch (err) {
      // written atomically, so only a hand edit gets here: keep the node up, say so loudly
      const aside = `${this.file}.corrupt-${this.now()}`
      await fs.rename(this.file, aside).catch(() => {})
      this.damaged = `${this.file} could not be read (${(err as Error).message}) and was moved to ${aside}: nothing is blocked or hidden until you act again`
      this.log.error({ err, file: this.file, movedTo: aside }, 'moderation policy unreadable; starting with none')
    }
  }
}

export class ModerationError extends Error {}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function entries (v: Record<string, unknown>, max: number): Map<string, Entry> {
  const out = new Map<string, Entry>()
  for (const [k, e] of Object.entries(v)) {
    if (out.size >= max) break
    if (!HEX64.test(k) || !isRecord(e)) continue
    out.set(k, { at: typeof e.at === 'string' ? e.at.slice(0, 40) : '', session: typeof e.session === 'string' ? e.session.slice(0, 40) : '' })
  }
  return out
}

const ACTIONS = new Set(['block', 'unblock', 'hide', 'unhide'])
function isAction (v: unknown): v is ActionRecord {
  return isRecord(v) && typeof v.at === 'string' && typeof v.action === 'string' && ACTIONS.has(v.action) &&
    typeof v.target === 'string' && HEX64.test(v.target) && typeof v.session === 'string' && typeof v.ip === 'string'
}

/** What the operator typed, as a 64-hex value or the reason it is not one. */
export type Parsed = { ok: true, hex: string } | { ok: false, error: string }

/**
 * A public key from the admin form: 64 hex characters, npub1…, nprofile1… (with or without
 * `nostr:`), or a mirror / phone app link ending in /p/<hex>.
 */
export function parsePubkeyRef (input: string): Parsed {
  return parseRef(input, 'p', 'a public key (npub1…, nprofile1… or 64 hex characters)', d => {
    if (d.type === 'npub') return hex(d.data)
    if (d.type === 'nprofile') return hex((d.data as { pubkey?: unknown }).pubkey)
    if (d.type === 'nsec') return { ok: false, error: 'That is a secret key (nsec): it should never leave its owner\'s phone. Paste the npub instead.' }
    return null
  })
}

/**
 * An event from the admin form: 64 hex characters, note1…, nevent1… (with or without
 * `nostr:`), or a mirror / phone app link ending in /e/<hex>.
 */
export function parseEventRef (input: string): Parsed {
  return parseRef(input, 'e', 'an event id (note1…, nevent1… or 64 hex characters)', d => {
    if (d.type === 'note') return hex(d.data)
    if (d.type === 'nevent') return hex((d.data as { id?: unknown }).id)
    if (d.type === 'naddr') return { ok: false, error: 'An naddr names a replaceable event, not one event: paste its nevent or id.' }
    return null
  })
}

const hex = (v: unknown): Parsed => typeof v === 'string' && HEX64.test(v) ? { ok: true, hex: v } : { ok: false, error: 'That link holds no valid 64-hex value.' }

function parseRef (input: string, route: 'p' | 'e', what: string, fromNip19: (d: { type: string, data: unknown }) => Parsed | null): Parsed {
  const s = input.trim()
  if (s.length === 0) return { ok: false, error: `Enter ${what}.` }
  if (s.length > MAX_REF_LENGTH) return { ok: false, error: `That is too long for ${what}.` }
  const bare = s.replace(/^nostr:/i, '')
  if (/^[0-9a-fA-F]{64}$/.test(bare)) return { ok: true, hex: bare.toLowerCase() }
  const link = new RegExp(`/${route}/([0-9a-fA-F]{64})/?$`).exec(bare)
  if (link !== null) return { ok: true, hex: (link[1] as string).toLowerCase() }
  if (/^(npub|nprofile|nsec|note|nevent|naddr)1[02-9ac-hj-np-z]+$/i.test(bare)) {
    let d: { type: string, data: unknown }
    try {
      d = decode(bare.toLowerCase() as `${string}1${string}`) as { type: string, data: unknown }
    } catch {
      return { ok: false, error: `That is not ${what}: its checksum or length is wrong.` }
    }
    const r = fromNip19(d)
    if (r !== null) return r
  }
  return { ok: false, error: `That is not ${what}.` }
}
