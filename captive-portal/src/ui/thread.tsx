import { useEffect, useState } from 'preact/hooks'
import { app } from '../state.js'
import { buildThread, flattenThread, parseRefs } from '../lib/thread.js'
import type { NostrEvent } from '../lib/types.js'
import { Composer, PostCard } from './post.js'
import { useApp } from './hooks.js'

/** A post with its whole thread (NIP-10), replies live, a reply box under the opened post. */
export function ThreadView ({ id }: { id: string }) {
  useApp()
  const [events, setEvents] = useState<Map<string, NostrEvent>>(new Map())
  const [rootId, setRootId] = useState<string | null>(null)
  const [missing, setMissing] = useState(false)
  useEffect(() => {
    const map = new Map<string, NostrEvent>()
    setEvents(new Map())
    setRootId(null)
    setMissing(false)
    let alive = true
    const add = (e: NostrEvent): void => {
      if (!alive || map.has(e.id) || e.kind !== 1) return
      map.set(e.id, e)
      app.want([e.pubkey])
      setEvents(new Map(map))
    }
    let sub: { close: () => void } | null = null
    void app.relay.query([{ ids: [id] }]).then(evs => {
      const ev = evs[0]
      if (!alive) return
      if (ev === undefined) { setMissing(true); return }
      add(ev)
      const root = parseRefs(ev).root ?? ev.id
      setRootId(root)
      sub = app.relay.subscribe([{ ids: [root] }, { kinds: [1], '#e': [root] }], add, () => { void app.loadLikes([...map.keys()]) })
    })
    const local = (e: NostrEvent): void => { if (e.kind === 1 && e.tags.some(t => t[0] === 'e' && (t[1] === id || map.has(t[1] as string)))) add(e) }
    app.localListeners.add(local)
    return () => { alive = false; sub?.close(); app.localListeners.delete(local) }
  }, [id])

  if (missing) return <p class='empty'>This post is not on this node (or it was deleted).</p>
  const focus = events.get(id)
  if (rootId === null || focus === undefined) return <p class='hint' role='status'>Loading…</p>
  const live = [...events.values()].filter(e => !app.isDeleted(e))
  const { root, orphans } = buildThread(live, rootId)
  const rows = root !== null ? flattenThread(root) : orphans.flatMap(o => flattenThread(o))
  return (
    <section class='thread'>
      <h2 class='sr'>Thread</h2>
      {root === null && <p class='hint'>The first post of this thread is not here.</p>}
      {rows.map(r => (
        <div key={r.event.id} class={r.event.id === id ? 'focus' : ''}>
          <PostCard ev={r.event} depth={r.depth} showContext={false} />
          {r.event.id === id && <Composer replyTo={r.event} label='Your reply' />}
        </div>
      ))}
    </section>
  )
}
