import { useEffect, useRef, useState } from 'preact/hooks'
import { app } from '../state.js'
import { matchesName, type Profile, parseProfile } from '../lib/profile.js'
import { normalizeTag } from '../lib/text.js'
import { href } from '../lib/env.js'
import { useApp } from './hooks.js'
import { FollowButton } from './profile.js'

/** People by profile tag (relay `#t` filter) and by name (client side over fetched kind 0). */
export function People ({ query }: { query: string }) {
  useApp()
  const [q, setQ] = useState(query)
  const [results, setResults] = useState<Profile[] | null>(null)
  const [popular, setPopular] = useState<Array<[string, number]>>([])
  // the box follows the route when the query changes (a tag chip, back), but not on mount:
  // effects run a frame late, and resetting then would drop what was typed in the meantime
  const shown = useRef(query)
  useEffect(() => {
    if (shown.current === query) return
    shown.current = query
    setQ(query)
  }, [query])
  // with no search yet: the tags people here gave themselves, most used first
  useEffect(() => {
    if (query.trim() !== '') return
    let alive = true
    void app.relay.query([{ kinds: [0], limit: 300 }]).then(evs => {
      if (!alive) return
      const count = new Map<string, number>()
      for (const e of evs) {
        app.ingest(e)
        for (const t of parseProfile(e).tags) count.set(t, (count.get(t) ?? 0) + 1)
      }
      setPopular([...count].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 24))
    })
    return () => { alive = false }
  }, [query])
  useEffect(() => {
    const text = query.trim()
    if (text === '') { setResults(null); return }
    let alive = true
    const tag = normalizeTag(text)
    const byName = text.startsWith('#') ? Promise.resolve([]) : app.relay.query([{ kinds: [0], limit: 500 }])
    const byTag = tag !== '' ? app.relay.query([{ kinds: [0], '#t': [tag], limit: 200 }]) : Promise.resolve([])
    void Promise.all([byTag, byName]).then(([tagged, all]) => {
      if (!alive) return
      const found = new Map<string, Profile>()
      for (const e of tagged) { app.ingest(e); found.set(e.pubkey, parseProfile(e)) }
      for (const e of all) {
        app.ingest(e)
        const p = parseProfile(e)
        if (!found.has(e.pubkey) && matchesName(p, text)) found.set(e.pubkey, p)
      }
      setResults([...found.values()].map(p => app.profiles.get(p.pubkey) ?? p))
    })
    return () => { alive = false }
  }, [query])
  return (
    <section class='people'>
      <form class='search' role='search' onSubmit={e => { e.preventDefault(); location.hash = href({ name: 'people', query: q.trim() }) }}>
        <label for='people-q'>Find people by name or #tag</label>
        <div class='row'>
          <input id='people-q' type='search' value={q} onInput={e => setQ(e.currentTarget.value)} placeholder='#music, Ana…' autoComplete='off' />
          <button type='submit' class='primary'>Search</button>
        </div>
      </form>
      {query.trim() === '' && popular.length > 0 && <>
        <h2 class='small'>Tags people use here</h2>
        <p class='tags'>{popular.map(([t, n]) => <a key={t} class='chip' href={href({ name: 'people', query: '#' + t })}>#{t} <span class='hint'>{n}</span></a>)}</p>
      </>}
      {results === null && query.trim() !== '' && <p class='hint' role='status'>Searching…</p>}
      {results !== null && results.length === 0 && <p class='empty'>Nobody found for “{query}”.</p>}
      <ul class='list'>
        {(results ?? []).map(p => <PersonRow key={p.pubkey} p={p} />)}
      </ul>
    </section>
  )
}

export function PersonRow ({ p }: { p: Profile }) {
  return (
    <li class='person'>
      <div class='who'>
        <a class='name' href={href({ name: 'profile', pubkey: p.pubkey })}>{p.name !== '' ? p.name : p.pubkey.slice(0, 8) + '…'}</a>
        {p.tags.length > 0 && <span class='tags'>{p.tags.map(t => <a key={t} class='chip' href={href({ name: 'people', query: '#' + t })}>#{t}</a>)}</span>}
      </div>
      <FollowButton pubkey={p.pubkey} />
    </li>
  )
}
