import { app } from '../state.js'
import { href, type Route } from '../lib/env.js'
import { useApp, useRoute } from './hooks.js'
import { Feed } from './feed.js'
import { Composer } from './post.js'
import { ThreadView } from './thread.js'
import { People } from './people.js'
import { ProfileView } from './profile.js'
import { CaptiveNotice, Me } from './me.js'
import { lazy } from './lazy.js'
import { ActivityLink, ActivityView } from './activity.js'

// private messages and their crypto are a separate chunk: not part of the first load
const Conversations = lazy(async () => (await import('./messages.js')).Conversations, 'Opening your messages…')
const Chat = lazy(async () => (await import('./messages.js')).Chat, 'Opening your messages…')

function Status () {
  const s = app.relay.status
  const pending = app.pendingCount
  const label = s === 'connected' ? 'Connected' : s === 'connecting' ? 'Connecting…' : 'Reconnecting…'
  return (
    <p class={'status ' + s} role='status' aria-live='polite' data-testid='status'>
      <span class='dot' aria-hidden='true' />{label}
      {pending > 0 && <span class='pending' data-testid='pending'> · {pending} waiting to send{app.relay.outbox.retryReason !== null && <span data-testid='pending-reason'> ({app.relay.outbox.retryReason})</span>}</span>}
    </p>
  )
}

/** Events the node refused (not retried): say so instead of losing them silently. */
function Refused () {
  const list = app.relay.outbox.rejected
  if (list.length === 0) return null
  return (
    <div class='notice' role='alert'>
      {list.map(r => <p key={r.event.id}>Not accepted by this node: {r.event.kind === 1059 ? 'a private message' : `“${r.event.content.slice(0, 60)}”`} ({r.reason})</p>)}
      <button type='button' class='secondary' onClick={() => { list.splice(0); app.emit() }}>OK</button>
    </div>
  )
}

function Nav ({ route }: { route: Route }) {
  const items: Array<[Route, string]> = [
    [{ name: 'here' }, 'Here'],
    [{ name: 'following' }, 'Following'],
    [{ name: 'people', query: '' }, 'People'],
    ...(app.me !== null ? [[{ name: 'messages' }, 'Messages'] as [Route, string]] : []),
    [{ name: 'me' }, app.me !== null ? 'Me' : 'Join']
  ]
  const unread = app.inbox?.unread ?? 0
  const current = (r: Route): boolean => r.name === route.name || (r.name === 'messages' && route.name === 'chat')
  return (
    <nav class={'tabs' + (items.length > 4 ? ' five' : '')} aria-label='Main'>
      {items.map(([r, label]) => (
        <a key={label} href={href(r)} aria-current={current(r) ? 'page' : undefined}>
          {label}
          {r.name === 'messages' && unread > 0 && <span class='count' data-testid='unread-tab'>{unread}<span class='sr'> unread</span></span>}
        </a>
      ))}
    </nav>
  )
}

function Page ({ route }: { route: Route }) {
  switch (route.name) {
    case 'here':
      return <>
        {app.me === null
          ? <div class='welcome'><CaptiveNotice /><p>You are on this place's own network. Read what people here are saying, then <a href='#/me'>join in one tap</a>.</p></div>
          : <Composer />}
        <Feed filter={{ kinds: [1] }} feedKey='here' empty='Nothing posted here yet. Be the first!' />
      </>
    case 'following': {
      if (app.me === null) return <p class='empty'><a href='#/me'>Create your identity</a>, then follow people to see their posts here.</p>
      if (!app.mineReady) return <p class='hint' role='status'>Loading…</p>
      const authors = [...app.myFollows, app.me]
      return <>
        <Composer />
        <Feed filter={{ kinds: [1], authors }} feedKey={'following:' + authors.join(',')} empty='Follow people (see People) to fill this timeline.' />
      </>
    }
    case 'tag':
      return <>
        <h2>#{route.tag}</h2>
        <Composer prefill={'#' + route.tag + ' '} />
        <Feed filter={{ kinds: [1], '#t': [route.tag] }} feedKey={'tag:' + route.tag} empty={'No posts with #' + route.tag + ' yet.'} />
      </>
    case 'thread': return <ThreadView id={route.id} />
    case 'profile': return <ProfileView pubkey={route.pubkey} />
    case 'people': return <People query={route.query} />
    case 'me': return <Me />
    case 'messages': return <Conversations />
    case 'chat': return <Chat peer={route.room} />
    case 'activity': return <ActivityView />
  }
}

export function App () {
  const app = useApp()
  const route = useRoute()
  return (
    <>
      <header class='top'>
        <h1><a href='#/'>{app.siteName ?? 'Outpost'}</a></h1>
        <ActivityLink current={route.name === 'activity'} />
        <Status />
      </header>
      <main id='main'>
        <Refused />
        <Page route={route} />
      </main>
      <Nav route={route} />
    </>
  )
}
