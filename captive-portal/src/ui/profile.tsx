import { app } from '../state.js'
import { Npub } from './npub.js'
import { shortKey } from '../lib/profile.js'
import { href } from '../lib/env.js'
import { Feed } from './feed.js'
import { RichText } from './post.js'
import { useApp } from './hooks.js'
import { useEffect, useState } from 'preact/hooks'

/** Follow lists asked for at most: past it the profile says "500+ followers". */
const MAX_FOLLOWERS = 500

export function FollowButton ({ pubkey }: { pubkey: string }) {
  useApp()
  if (app.me === null || app.me === pubkey) return null
  const following = app.myFollows.includes(pubkey)
  const name = app.profiles.get(pubkey)?.name ?? ''
  return (
    <button type='button' class={following ? 'secondary' : 'primary'} disabled={!app.mineReady} aria-pressed={following}
      aria-label={(following ? 'Unfollow ' : 'Follow ') + (name !== '' ? name : shortKey(pubkey))}
      onClick={() => { void app.setFollow(pubkey, !following) }}>
      {following ? 'Following' : 'Follow'}
    </button>
  )
}

/**
 * How many people's current follow lists (kind 3, replaceable: the newest per author) name this
 * key. Mine is counted from this phone's own follow list, so a tap on Follow shows at once.
 */
function useFollowers (pubkey: string): string | null {
  const [others, setOthers] = useState<{ n: number, more: boolean } | null>(null)
  useEffect(() => {
    let live = true
    setOthers(null)
    void app.relay.query([{ kinds: [3], '#p': [pubkey], limit: MAX_FOLLOWERS }]).then(evs => {
      if (!live) return
      const newest = new Map<string, typeof evs[number]>()
      for (const e of evs) { const o = newest.get(e.pubkey); if (o === undefined || o.created_at < e.created_at) newest.set(e.pubkey, e) }
      const n = [...newest.values()].filter(e => e.pubkey !== pubkey && e.pubkey !== app.me && e.tags.some(t => t[0] === 'p' && t[1] === pubkey)).length
      setOthers({ n, more: evs.length >= MAX_FOLLOWERS })
    })
    return () => { live = false }
  }, [pubkey])
  if (others === null) return null
  const mine = app.me !== null && app.me !== pubkey && app.myFollows.includes(pubkey) ? 1 : 0
  return String(others.n + mine) + (others.more ? '+' : '')
}

export function ProfileView ({ pubkey }: { pubkey: string }) {
  useApp()
  useEffect(() => {
    void app.relay.query([{ kinds: [0, 3], authors: [pubkey] }]).then(evs => { for (const e of evs) app.ingest(e) })
  }, [pubkey])
  const p = app.profiles.get(pubkey)
  const follows = app.contacts.get(pubkey)?.tags.filter(t => t[0] === 'p').length
  const followers = useFollowers(pubkey)
  return (
    <section class='profile'>
      <div class='card'>
        <h2>{p !== undefined && p.name !== '' ? p.name : shortKey(pubkey)}</h2>
        {p !== undefined && p.tags.length > 0 && <p class='tags'>{p.tags.map(t => <a key={t} class='chip' href={href({ name: 'people', query: '#' + t })}>#{t}</a>)}</p>}
        {p !== undefined && p.about !== '' && <p class='about'><RichText text={p.about} /></p>}
        <Npub pubkey={pubkey} />
        {(follows !== undefined || followers !== null) && (
          <p class='small' data-testid='follow-counts'>
            {follows !== undefined && <>Follows {follows}</>}
            {follows !== undefined && followers !== null && ' · '}
            {followers !== null && <>{followers} {followers === '1' ? 'follower' : 'followers'}</>}
          </p>
        )}
        {app.me === pubkey
          ? <a class='button secondary' href='#/me'>Edit your profile</a>
          : <p class='row actions'><FollowButton pubkey={pubkey} />{app.me !== null && <a class='button secondary' href={href({ name: 'chat', room: pubkey })}>Message</a>}</p>}
      </div>
      <h3>Posts</h3>
      <Feed filter={{ kinds: [1], authors: [pubkey] }} feedKey={'p:' + pubkey} empty='No posts yet.' />
    </section>
  )
}
