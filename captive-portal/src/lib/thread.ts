import type { NostrEvent } from './types.js'

export interface Refs {
  /** the thread's root event id */
  root?: string
  /** the event this one answers directly (equals root for a top-level reply) */
  reply?: string
  /** other events mentioned */
  mentions: string[]
}

/** NIP-10: marked `e` tags (root/reply/mention), falling back to the deprecated positional scheme. */
export function parseRefs (ev: Pick<NostrEvent, 'tags'>): Refs {
  const es = ev.tags.filter(t => t[0] === 'e' && typeof t[1] === 'string' && t[1] !== '')
  const refs: Refs = { mentions: [] }
  const marked = es.some(t => t[3] === 'root' || t[3] === 'reply')
  if (marked) {
    for (const t of es) {
      const id = t[1] as string
      if (t[3] === 'root') refs.root = id
      else if (t[3] === 'reply') refs.reply = id
      else refs.mentions.push(id)
    }
    if (refs.reply === undefined && refs.root !== undefined) refs.reply = refs.root
    if (refs.root === undefined && refs.reply !== undefined) refs.root = refs.reply
    return refs
  }
  const ids = es.map(t => t[1] as string)
  if (ids.length === 0) return refs
  refs.root = ids[0]
  refs.reply = ids[ids.length - 1]
  refs.mentions = ids.slice(1, -1)
  return refs
}

export interface ThreadNode {
  event: NostrEvent
  children: ThreadNode[]
}

/**
 * Builds the reply tree of `rootId` from any set of events (duplicates ignored). Replies whose
 * parent is missing hang under the root, so nothing that was fetched is hidden. Children are
 * oldest first. Returns null when the root itself is not among the events.
 */
export function buildThread (events: Iterable<NostrEvent>, rootId: string): { root: ThreadNode | null, orphans: ThreadNode[] } {
  const nodes = new Map<string, ThreadNode>()
  for (const e of events) if (!nodes.has(e.id)) nodes.set(e.id, { event: e, children: [] })
  const root = nodes.get(rootId) ?? null
  const orphans: ThreadNode[] = []
  for (const n of nodes.values()) {
    if (n.event.id === rootId) continue
    const r = parseRefs(n.event)
    if (r.root !== rootId && r.reply !== rootId) continue
    const parent = r.reply !== undefined ? nodes.get(r.reply) : undefined
    if (parent !== undefined && parent !== n && !isDescendant(parent, n, nodes)) parent.children.push(n)
    else if (root !== null) root.children.push(n)
    else orphans.push(n)
  }
  const sort = (list: ThreadNode[]): void => {
    list.sort((a, b) => a.event.created_at - b.event.created_at || (a.event.id < b.event.id ? -1 : 1))
    for (const c of list) sort(c.children)
  }
  if (root !== null) sort(root.children)
  sort(orphans)
  return { root, orphans }
}

/** Guards against reply cycles made up by hostile events (a replies to b, b replies to a). */
function isDescendant (candidate: ThreadNode, of: ThreadNode, nodes: Map<string, ThreadNode>): boolean {
  let cur: ThreadNode | undefined = candidate
  const seen = new Set<string>()
  while (cur !== undefined && !seen.has(cur.event.id)) {
    if (cur === of) return true
    seen.add(cur.event.id)
    const r = parseRefs(cur.event)
    cur = r.reply !== undefined && r.reply !== cur.event.id ? nodes.get(r.reply) : undefined
  }
  return false
}

/** Flattens a tree depth-first with each node's depth, for rendering an indented list. */
export function flattenThread (root: ThreadNode, maxDepth = 6): Array<{ event: NostrEvent, depth: number }> {
  const out: Array<{ event: NostrEvent, depth: number }> = []
  const walk = (n: ThreadNode, d: number): void => {
    out.push({ event: n.event, depth: Math.min(d, maxDepth) })
    for (const c of n.children) walk(c, d + 1)
  }
  walk(root, 0)
  return out
}
