import { useEffect, useRef, useState } from 'preact/hooks'
import { app } from '../state.js'
import type { Filter, NostrEvent } from '../lib/types.js'
import { PostCard } from './post.js'
import { useApp } from './hooks.js'

const PAGE = 30
/** Items rendered at most; older ones scrolled far past are dropped from the DOM, not from memory. */
const WINDOW = 300

interface FeedState { events: NostrEvent[], loading: boolean, done: boolean }

/**
 * A live timeline over `base` (kinds and authors/tags): the newest page, new events live,
 * older pages on demand with until/limit. Memory grows one page at a time; nothing loads "all".
 */
function useFeed (base: Filter | null, key: string, accept: (e: NostrEvent) => boolean): FeedState & { more: () => void } {
  const [state, setState] = useState<FeedState>({ events: [], loading: true, done: false })
  const ref = useRef({ ids: new Set<string>(), events: [] as NostrEvent[], busy: false, done: false })
  useEffect(() => {
    const r = { ids: new Set<string>(), events: [] as NostrEvent[], busy: true, done: false }
    ref.current = r
    setState({ events: [], loading: base !== null, done: base === null })
    if (base === null) return
    let alive = true
    const publish = (): void => { if (alive) setState({ events: r.events, loading: r.busy, done: r.done }) }
    const addAll = (evs: NostrEvent[]): string[] => addTo(r, evs, accept)
    let first: NostrEvent[] = []
    let eosed = false
    const sub = app.relay.subscribe([{ ...base, limit: PAGE }], e => {
      if (!eosed) { first.push(e); return }
      // after a reconnect the newest page comes again: only what is new gets its likes fetched
      const added = addAll([e])
      if (added.length === 0) return
      void app.loadLikes(added)
      publish()
    }, () => {
      if (eosed) return
      eosed = true
      r.busy = false
      r.done = first.length < PAGE
      void app.loadLikes(addAll(first))
      first = []
      publish()
    })
    // written here but not yet on the relay (offline, or just after a reload)
    addAll(app.relay.outbox.pending.filter(e => matches(base, e)))
    publish()
    const local = (e: NostrEvent): void => { if (matches(base, e)) { addAll([e]); publish() } }
    app.localListeners.add(local)
    return () => { alive = false; sub.close(); app.localListeners.delete(local) }
  }, [key])

  const more = (): void => {
    const r = ref.current
    if (r.busy || r.done || base === null) return
    const oldest = r.events[r.events.length - 1]
    if (oldest === undefined) return
    r.busy = true
    setState(s => ({ ...s, loading: true }))
    const until = oldest.created_at
    void app.relay.query([{ ...base, until, limit: PAGE }]).then(async evs => {
      let fresh = evs.filter(e => !r.ids.has(e.id))
      // a full page all from one second: step past that second
      if (fresh.length === 0 && evs.length >= PAGE) fresh = (await app.relay.query([{ ...base, until: until - 1, limit: PAGE }])).filter(e => !r.ids.has(e.id))
      if (ref.current !== r) return
      void app.loadLikes(addTo(r, fresh, accept))
      r.busy = false
      r.done = fresh.length === 0
      setState({ events: r.events, loading: false, done: r.done })
    })
  }
  return { ...state, more }
}

interface Loaded { ids: Set<string>, events: NostrEvent[] }

/** Adds the events not seen yet (newest first order kept); returns the ids added. */
function addTo (r: Loaded, evs: NostrEvent[], accept: (e: NostrEvent) => boolean): string[] {
  const added: string[] = []
  for (const e of evs) {
    if (r.ids.has(e.id) || app.isDeleted(e) || !accept(e)) continue
    r.ids.add(e.id)
    r.events.push(e)
    added.push(e.id)
  }
  if (added.length === 0) return added
  r.events = [...r.events].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1))
  app.want(evs.map(e => e.pubkey))
  return added
}

function matches (f: Filter, e: NostrEvent): boolean {
  if (f.kinds !== undefined && !f.kinds.includes(e.kind)) return false
  if (f.authors !== undefined && !f.authors.includes(e.pubkey)) return false
  for (const [k, v] of Object.entries(f)) {
    if (k[0] !== '#' || !Array.isArray(v)) continue
    if (!e.tags.some(t => t[0] === k.slice(1) && v.includes(t[1] as string))) return false
  }
  return true
}

export function Feed ({ filter, feedKey, empty, accept = () => true }: { filter: Filter | null, feedKey: string, empty: string, accept?: (e: NostrEvent) => boolean }) {
  useApp()
  const [round, setRound] = useState(0)
  const { events, loading, done, more } = useFeed(filter, feedKey + '|' + String(round), accept)
  const restart = (): void => { setRound(n => n + 1); window.scrollTo(0, 0) }
  const sentinel = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = sentinel.current
    if (el === null || typeof IntersectionObserver === 'undefined') return
    const io = new IntersectionObserver(entries => { if (entries.some(e => e.isIntersecting)) more() }, { rootMargin: '600px' })
    io.observe(el)
    return () => io.disconnect()
  })
  const visible = events.filter(e => !app.isDeleted(e))
  // windowing: past WINDOW items the newest leave the DOM; the timeline can start over from the top
  const from = Math.max(0, visible.length - WINDOW)
  const shown = from > 0 ? visible.slice(from) : visible
  return (
    <section class='feed' aria-busy={loading} data-loaded={visible.length}>
      {from > 0 && <button type='button' class='more' onClick={restart}>Back to the newest posts</button>}
      {shown.map(e => <PostCard key={e.id} ev={e} />)}
      {!loading && visible.length === 0 && <p class='empty'>{empty}</p>}
      <div ref={sentinel} class='sentinel' />
      {loading && <p class='hint' role='status'>Loading…</p>}
      {!loading && !done && <button type='button' class='more' onClick={more}>Older posts</button>}
      {!loading && done && visible.length > 0 && <p class='hint'>That's all.</p>}
    </section>
  )
}
