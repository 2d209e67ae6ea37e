import { useEffect, useState } from 'preact/hooks'
import { app } from '../state.js'
import { href } from '../lib/env.js'
import type { NostrEvent } from '../lib/types.js'
import { isActivity } from '../activity.js'
import { Feed } from './feed.js'
import { Name } from './post.js'
import { ago, useApp } from './hooks.js'

/** Likes shown on the Activity page. */
const LIKES_SHOWN = 10

/** The header's way to Activity, with the count of what is new since the last look. */
export function ActivityLink ({ current }: { current: boolean }) {
  const n = app.activity?.unread ?? 0
  if (app.me === null) return null
  return (
    <a class='activity-link' href={href({ name: 'activity' })} aria-current={current ? 'page' : undefined} data-testid='activity-link'>
      Activity{n > 0 && <span class='count' data-testid='activity-count'>{n >= 100 ? '99+' : n}<span class='sr'> new</span></span>}
    </a>
  )
}

function Likes ({ me }: { me: string }) {
  const [likes, setLikes] = useState<NostrEvent[] | null>(null)
  useEffect(() => {
    let live = true
    void app.relay.query([{ kinds: [7], '#p': [me], limit: LIKES_SHOWN * 2 }]).then(evs => {
      if (!live) return
      const mine = evs.filter(e => isActivity(e, me)).sort((a, b) => b.created_at - a.created_at).slice(0, LIKES_SHOWN)
      app.want(mine.map(e => e.pubkey))
      setLikes(mine)
    })
    return () => { live = false }
  }, [me])
  if (likes === null) return <p class='hint' role='status'>Loading…</p>
  if (likes.length === 0) return <p class='empty'>No likes yet.</p>
  return (
    <ul class='likes' data-testid='likes'>
      {likes.map(e => {
        const target = [...e.tags].reverse().find(t => t[0] === 'e')?.[1]
        return (
          <li key={e.id}>
            <Name pubkey={e.pubkey} /> liked {target !== undefined && /^[0-9a-f]{64}$/.test(target) ? <a href={href({ name: 'thread', id: target })}>your post</a> : 'your post'}
            <span class='time'> · {ago(e.created_at)}</span>
          </li>
        )
      })}
    </ul>
  )
}

/** The latest likes of my posts (a few: the replies below page on as you scroll), then replies and mentions. */
export function ActivityView () {
  useApp()
  const me = app.me
  // open: everything so far is seen (again whenever something new arrives while it is open)
  useEffect(() => { app.activity?.markSeen() })
  if (me === null) return <p class='empty'><a href='#/me'>Create your identity</a> to see replies, mentions and likes.</p>
  return (
    <>
      <h2>Likes</h2>
      <Likes me={me} />
      <h2>Replies and mentions</h2>
      <Feed filter={{ kinds: [1], '#p': [me] }} feedKey={'activity:' + me} accept={e => e.pubkey !== me} empty='No replies or mentions yet.' />
    </>
  )
}
