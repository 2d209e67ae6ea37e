import { useEffect, useRef, useState } from 'preact/hooks'
import { app } from '../state.js'
import { href } from '../lib/env.js'
import { shortKey } from '../lib/profile.js'
import { MAX_MESSAGE, MAX_ROOM, roomMembers, type Conversation } from '../lib/dm.js'
import type { Inbox } from '../inbox.js'
import { RichText } from './post.js'
import { ago, useApp } from './hooks.js'

// Private messages (NIP-17): the list of conversations and one conversation. Loaded on demand.

function nameOf (pubkey: string): string {
  if (pubkey === app.me) return 'Notes to self'
  const p = app.profiles.get(pubkey)
  return p !== undefined && p.name !== '' ? p.name : shortKey(pubkey)
}

/** A conversation's title: the person, or a group's members ("Ana, Bo, Cy"). */
function roomName (room: string): string {
  return roomMembers(room).map(nameOf).join(', ')
}

function NoIdentity () {
  return <p class='empty'><a href='#/me'>Create your identity</a> to send and receive private messages.</p>
}

function Opening () {
  return <p class='hint' role='status'>Opening your messages…</p>
}

function Older ({ inbox }: { inbox: Inbox }) {
  if (inbox.done) return null
  return <button type='button' class='more' disabled={inbox.busy} onClick={() => { void inbox.more() }}>{inbox.busy ? 'Loading…' : 'Older messages'}</button>
}

function Row ({ c }: { c: Conversation }) {
  const mine = c.last.pubkey === app.me
  return (
    <li class={'conversation' + (c.unread > 0 ? ' unread' : '')}>
      <a href={href({ name: 'chat', room: c.peer })} aria-label={roomName(c.peer) + (c.unread > 0 ? `, ${c.unread} unread` : '')}>
        <span class='line'>
          <span class='name'>{roomName(c.peer)}</span>
          {c.unread > 0 && <span class='new' data-testid='unread'>{c.unread} new</span>}
          <span class='time'>{ago(c.last.created_at)}</span>
        </span>
        <span class='preview'>{mine ? 'You: ' : ''}{c.last.content.slice(0, 120)}</span>
      </a>
    </li>
  )
}

export function Conversations () {
  useApp()
  const inbox = app.inbox
  const list = inbox?.conversations() ?? []
  useEffect(() => { app.want(list.flatMap(c => c.members)) }, [list.length])
  if (app.me === null) return <NoIdentity />
  if (inbox === null) return <Opening />
  return (
    <section class='messages'>
      <h2>Messages</h2>
      <p class='hint small'>Private: only you and the people you write to can read them.</p>
      {inbox.opening && <Opening />}
      {!inbox.opening && list.length === 0 && <p class='empty'>No messages yet. Find someone in <a href={href({ name: 'people', query: '' })}>People</a>, open their profile and tap Message.</p>}
      <ul class='list'>{list.map(c => <Row key={c.peer} c={c} />)}</ul>
      <Older inbox={inbox} />
      <NewGroup />
    </section>
  )
}

/** Starting a group chat: 2 to MAX_ROOM people from the follow list. */
function NewGroup () {
  const [open, setOpen] = useState(false)
  const [picked, setPicked] = useState<string[]>([])
  const follows = app.myFollows.filter(p => p !== app.me)
  useEffect(() => { if (open) app.want(follows) }, [open, follows.length])
  if (!open) return <button type='button' class='secondary' onClick={() => setOpen(true)}>New group</button>
  const toggle = (p: string): void => setPicked(picked.includes(p) ? picked.filter(x => x !== p) : [...picked, p])
  const start = (e: Event): void => {
    e.preventDefault()
    if (picked.length < 2 || picked.length > MAX_ROOM) return
    location.hash = href({ name: 'chat', room: [...picked].sort().join(',') })
  }
  return (
    <form class='composer group' onSubmit={start}>
      <fieldset>
        <legend>New group: pick 2 to {MAX_ROOM} people you follow</legend>
        {follows.length < 2 && <p class='hint small'>Follow at least two people to start a group.</p>}
        {follows.map(p => (
          <label key={p} class='pick'>
            <input type='checkbox' checked={picked.includes(p)} disabled={!picked.includes(p) && picked.length >= MAX_ROOM} onChange={() => toggle(p)} /> {nameOf(p)}
          </label>
        ))}
      </fieldset>
      <div class='row'>
        <button type='button' class='secondary' onClick={() => { setOpen(false); setPicked([]) }}>Cancel</button>
        <button type='submit' class='primary' disabled={picked.length < 2}>Start group</button>
      </div>
    </form>
  )
}

function Send ({ inbox, peer }: { inbox: Inbox, peer: string }) {
  const [text, setText] = useState('')
  const [error, setError] = useState('')
  const submit = (e: Event): void => {
    e.preventDefault()
    const content = text.trim()
    if (content === '') return
    try {
      inbox.send(peer, content)
      setText('')
      setError('')
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not send this message.')
    }
  }
  return (
    <form class='composer send' onSubmit={submit}>
      <label for='dm-text' class='sr'>Your message</label>
      <textarea id='dm-text' rows={2} maxLength={MAX_MESSAGE} value={text} onInput={e => setText(e.currentTarget.value)} placeholder='Write a private message' />
      {error !== '' && <p role='alert' class='error'>{error}</p>}
      <div class='row'>
        <span class='hint small'>{app.relay.status === 'connected' ? '' : 'Offline: it will be sent when the Wi-Fi is back.'}</span>
        <button type='submit' class='primary' disabled={text.trim() === ''}>Send</button>
      </div>
    </form>
  )
}

export function Chat ({ peer }: { peer: string }) {
  useApp()
  const inbox = app.inbox
  const c = inbox?.conversation(peer)
  const end = useRef<HTMLDivElement>(null)
  const members = roomMembers(peer)
  const group = members.length > 1
  useEffect(() => { app.want(members) }, [peer])
  // seen means read: the open conversation is marked read as messages arrive
  useEffect(() => {
    if (inbox === null || c === undefined || c.unread === 0) return
    if (document.visibilityState === 'visible') inbox.markRead(peer)
    else {
      const on = (): void => { if (document.visibilityState === 'visible') inbox.markRead(peer) }
      document.addEventListener('visibilitychange', on)
      return () => document.removeEventListener('visibilitychange', on)
    }
  }, [inbox, peer, c?.last.id, c?.unread])
  useEffect(() => { end.current?.scrollIntoView({ block: 'end' }) }, [c?.messages.length])
  if (app.me === null) return <NoIdentity />
  if (inbox === null) return <Opening />
  return (
    <section class='chat'>
      <p class='context'><a href={href({ name: 'messages' })}>← Messages</a></p>
      <h2>{members.map((p, i) => <span key={p}>{i > 0 && ', '}<a class='name' href={href({ name: 'profile', pubkey: p })}>{nameOf(p)}</a></span>)}</h2>
      <Older inbox={inbox} />
      {inbox.opening && c === undefined && <Opening />}
      {!inbox.opening && c === undefined && <p class='empty'>No messages with {roomName(peer)} yet. Only {group ? 'the people of this group' : 'the two of you'} can read what you write here.</p>}
      <ol class='bubbles' aria-label='Conversation'>
        {c?.messages.map(m => (
          <li key={m.id} class={'bubble ' + (m.pubkey === app.me ? 'mine' : 'theirs')}>
            {group && m.pubkey !== app.me && <span class='from'>{nameOf(m.pubkey)}</span>}
            <p class='content'><RichText text={m.content} /></p>
            <span class='time'>{ago(m.created_at)}{inbox.isPending(m) && <span class='badge'>waiting to send</span>}</span>
          </li>
        ))}
      </ol>
      <div ref={end} />
      <Send inbox={inbox} peer={peer} />
    </section>
  )
}
