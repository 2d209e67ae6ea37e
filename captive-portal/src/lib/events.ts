import { extractHashtags } from './text.js'
import { parseRefs } from './thread.js'
import { now, type EventTemplate, type NostrEvent } from './types.js'

export interface ProfileFields {
  name: string
  about: string
  tags: string[]
  picture?: string
}

/** Kind 0 with the profile tags as `t` tags (that is what the relay's `#t` filter finds). */
export function profileTemplate (p: ProfileFields, previous?: Record<string, unknown>): EventTemplate {
  const meta: Record<string, unknown> = { ...previous, name: p.name.trim(), display_name: p.name.trim(), about: p.about.trim() }
  if (p.picture !== undefined) meta.picture = p.picture
  return { kind: 0, created_at: now(), tags: p.tags.map(t => ['t', t]), content: JSON.stringify(meta) }
}

/**
 * Kind 1; `replyTo` makes it a NIP-10 reply (marked root/reply tags, p tags of the thread).
 * `extra` is where attachments will go (NIP-92 `imeta` tags for images and video).
 */
export function noteTemplate (content: string, replyTo?: NostrEvent, extra: string[][] = []): EventTemplate {
  const tags: string[][] = []
  if (replyTo !== undefined) {
    const refs = parseRefs(replyTo)
    const root = refs.root ?? replyTo.id
    if (root !== replyTo.id) {
      tags.push(['e', root, '', 'root'], ['e', replyTo.id, '', 'reply'])
    } else {
      tags.push(['e', replyTo.id, '', 'root'])
    }
    const ps = [replyTo.pubkey, ...replyTo.tags.filter(t => t[0] === 'p' && t[1] !== undefined).map(t => t[1] as string)]
    for (const p of new Set(ps)) tags.push(['p', p])
  }
  for (const t of extractHashtags(content)) tags.push(['t', t])
  tags.push(...extra.map(t => [...t]))
  return { kind: 1, created_at: now(), tags, content }
}

/** Kind 7 like (NIP-25). */
export function reactionTemplate (target: NostrEvent, content = '+'): EventTemplate {
  return { kind: 7, created_at: now(), tags: [['e', target.id], ['p', target.pubkey], ['k', String(target.kind)]], content }
}

/** Kind 5 deletion request (NIP-09) for own events. */
export function deletionTemplate (targets: NostrEvent[], reason = ''): EventTemplate {
  const kinds = [...new Set(targets.map(t => String(t.kind)))]
  return { kind: 5, created_at: now(), tags: [...targets.map(t => ['e', t.id]), ...kinds.map(k => ['k', k])], content: reason }
}

/** Kind 3 follow list. */
export function contactsTemplate (tags: string[][], content = ''): EventTemplate {
  return { kind: 3, created_at: now(), tags, content }
}

/** created_at never goes backwards for replaceable events written in the same second. */
export function after (tpl: EventTemplate, previous: NostrEvent | null | undefined): EventTemplate {
  if (previous !== null && previous !== undefined && tpl.created_at <= previous.created_at) return { ...tpl, created_at: previous.created_at + 1 }
  return tpl
}
