import { app } from '../state.js'
import { Npub } from './npub.js'
import { shortKey } from '../lib/profile.js'
import { href } from '../lib/env.js'
import { Feed } from './feed.js'
import { RichText } from './post.js'
import { useApp } from './hooks.js'
import { useEffect } from 'preact/hooks'

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

export function ProfileView ({ pubkey }: { pubkey: string }) {
  useApp()
  useEffect(() => {
    void app.relay.query([{ kinds: [0, 3], authors: [pubkey] }]).then(evs => { for (const e of evs) app.ingest(e) })
  }, [pubkey])
  const p = app.profiles.get(pubkey)
  const follows = app.contacts.get(pubkey)?.tags.filter(t => t[0] === 'p').length
  return (
    <section class='profile'>
      <div class='card'>
        <h2>{p !== undefined && p.name !== '' ? p.name : shortKey(pubkey)}</h2>
        {p !== undefined && p.tags.length > 0 && <p class='tags'>{p.tags.map(t => <a key={t} class='chip' href={href({ name: 'people', query: '#' + t })}>#{t}</a>)}</p>}
        {p !== undefined && p.about !== '' && <p class='about'><RichText text={p.about} /></p>}
        <Npub pubkey={pubkey} />
        {follows !== undefined && <p class='small'>Follows {follows}</p>}
        {app.me === pubkey
          ? <a class='button secondary' href='#/me'>Edit your profile</a>
          : <p class='row actions'><FollowButton pubkey={pubkey} />{app.me !== null && <a class='button secondary' href={href({ name: 'chat', pubkey })}>Message</a>}</p>}
      </div>
      <h3>Posts</h3>
      <Feed filter={{ kinds: [1], authors: [pubkey] }} feedKey={'p:' + pubkey} empty='No posts yet.' />
    </section>
  )
}
