import { useState, useRef, useEffect } from 'preact/hooks'
import { app } from '../state.js'
import { tokenize } from '../lib/text.js'
import { parseRefs } from '../lib/thread.js'
import { shortKey } from '../lib/profile.js'
import { href } from '../lib/env.js'
import type { NostrEvent } from '../lib/types.js'
import { ago } from './hooks.js'

/** Untrusted text as text nodes; only http(s) links become anchors. */
export function RichText ({ text }: { text: string }) {
  return (
    <>
      {tokenize(text).map((t, i) => t.type === 'link'
        ? <a key={i} href={t.href} target='_blank' rel='noopener noreferrer nofollow'>{t.text}</a>
        : t.type === 'tag'
          ? <a key={i} href={href({ name: 'tag', tag: t.tag })}>{t.text}</a>
          : t.text)}
    </>
  )
}

export function Name ({ pubkey }: { pubkey: string }) {
  const p = app.profiles.get(pubkey)
  return <a class='name' href={href({ name: 'profile', pubkey })}>{p !== undefined && p.name !== '' ? p.name : shortKey(pubkey)}</a>
}

export function PostCard ({ ev, depth = 0, showContext = true }: { ev: NostrEvent, depth?: number, showContext?: boolean }) {
  const [confirm, setConfirm] = useState(false)
  const me = app.me
  const likes = app.likes.get(ev.id)
  const liked = me !== null && likes?.has(me) === true
  const refs = parseRefs(ev)
  const parent = refs.reply
  const parentAuthor = ev.tags.find(t => t[0] === 'p')?.[1]
  const pending = app.relay.outbox.has(ev.id)
  return (
    <article class={'post' + (depth > 0 ? ' nested' : '')} style={depth > 0 ? { marginLeft: `${Math.min(depth, 6) * 0.75}rem` } : undefined} data-id={ev.id}>
      <header>
        <Name pubkey={ev.pubkey} />
        <a class='time' href={href({ name: 'thread', id: ev.id })}>{ago(ev.created_at)}</a>
        {pending && <span class='badge'>waiting to send</span>}
      </header>
      {showContext && parent !== undefined && (
        <p class='context'>
          <a href={href({ name: 'thread', id: parent })}>↳ reply{parentAuthor !== undefined ? ' to ' : ''}</a>
          {parentAuthor !== undefined && <Name pubkey={parentAuthor} />}
        </p>
      )}
      <p class='content'><RichText text={ev.content} /></p>
      <footer>
        <a class='act' href={href({ name: 'thread', id: ev.id })} aria-label='Reply or see replies'>Reply</a>
        <button type='button' class={'act' + (liked ? ' on' : '')} disabled={me === null || liked} aria-pressed={liked} onClick={() => { void app.like(ev) }}>
          {liked ? '♥' : '♡'} <span class='count'>{likes?.size ?? 0}</span><span class='sr'> likes</span>
        </button>
        {me === ev.pubkey && (confirm
          ? <>
            <button type='button' class='act danger' onClick={() => { void app.remove(ev) }}>Delete for sure</button>
            <button type='button' class='act' onClick={() => setConfirm(false)}>Keep</button>
          </>
          : <button type='button' class='act' onClick={() => setConfirm(true)}>Delete</button>)}
      </footer>
    </article>
  )
}

/** Text composer; attachments (images, video) are meant to slot in beside the text later. */
export function Composer ({ replyTo, prefill = '', label = 'Write a post', autoFocus = false, onPosted }: { replyTo?: NostrEvent, prefill?: string, label?: string, autoFocus?: boolean, onPosted?: (e: NostrEvent) => void }) {
  const [text, setText] = useState(prefill)
  const ref = useRef<HTMLTextAreaElement>(null)
  useEffect(() => { if (autoFocus) ref.current?.focus() }, [autoFocus])
  if (app.me === null) {
    return <p class='hint'><a href='#/me'>Create your identity</a> to post and reply.</p>
  }
  const submit = (e: Event): void => {
    e.preventDefault()
    const content = text.trim()
    if (content === '') return
    setText(prefill)
    void app.post(content, replyTo).then(ev => onPosted?.(ev))
  }
  const id = replyTo !== undefined ? 'reply-' + replyTo.id.slice(0, 8) : 'compose'
  return (
    <form class='composer' onSubmit={submit}>
      <label for={id}>{label}</label>
      <textarea id={id} ref={ref} rows={3} maxLength={8000} value={text} onInput={e => setText(e.currentTarget.value)} placeholder='Say something… use #tags' />
      <div class='row'>
        <span class='hint small'>{app.relay.status === 'connected' ? '' : 'Offline: it will be sent when the Wi-Fi is back.'}</span>
        <button type='submit' class='primary' disabled={text.trim() === ''}>{replyTo !== undefined ? 'Reply' : 'Post'}</button>
      </div>
    </form>
  )
}
