import { useEffect, useState } from 'preact/hooks'
import { app, loadKeys } from '../state.js'
import { looksEncrypted } from '../lib/key-store.js'
import { parseTagList } from '../lib/text.js'
import { toJsonLines } from '../lib/outbox.js'
import type { NostrEvent } from '../lib/types.js'
import { useApp } from './hooks.js'
import { LazyQr as QrCode } from './lazy-qr.js'
import { Npub } from './npub.js'

export function CaptiveNotice () {
  if (!app.captive.captive) return null
  const addr = location.origin + '/'
  return (
    <div class='notice' role='alert'>
      <strong>Open this page in your browser</strong>
      <p>This sign-in window forgets everything when it closes, including a new identity. Open <a href={addr} target='_blank' rel='noopener'>{addr}</a> in Safari or Chrome first.</p>
      <p class='addr mono'>{addr}</p>
    </div>
  )
}

function ProfileForm ({ submitLabel, onDone }: { submitLabel: string, onDone?: () => void }) {
  const p = app.myProfile
  const [name, setName] = useState(p?.name ?? '')
  const [about, setAbout] = useState(p?.about ?? '')
  const [tags, setTags] = useState(p?.tags.map(t => '#' + t).join(' ') ?? '')
  const [saved, setSaved] = useState(false)
  useEffect(() => {
    if (p === null) return
    setName(p.name)
    setAbout(p.about)
    setTags(p.tags.map(t => '#' + t).join(' '))
  }, [p?.created_at])
  const submit = async (): Promise<void> => {
    const creating = app.me === null
    if (creating) await app.setIdentity((await loadKeys()).newIdentity(), true)
    await app.saveProfile({ name, about, tags: parseTagList(tags) })
    app.notice = creating ? 'Saved. Your identity is ready: back up your key below so it cannot be lost with this phone.' : ''
    app.emit()
    setSaved(!creating)
    onDone?.()
  }
  return (
    <form class='stack' onSubmit={e => { e.preventDefault(); void submit() }}>
      <label for='pf-name'>Display name</label>
      <input id='pf-name' value={name} maxLength={80} required onInput={e => { setName(e.currentTarget.value); setSaved(false) }} autoComplete='nickname' />
      <label for='pf-about'>Short bio</label>
      <textarea id='pf-about' rows={3} maxLength={500} value={about} onInput={e => { setAbout(e.currentTarget.value); setSaved(false) }} />
      <label for='pf-tags'>Your tags (what people can find you by)</label>
      <input id='pf-tags' value={tags} placeholder='#camping #music #medic' onInput={e => { setTags(e.currentTarget.value); setSaved(false) }} autoCapitalize='off' />
      <p class='hint small'>Separate with spaces. Everything here is public.</p>
      <button type='submit' class='primary'>{submitLabel}</button>
      {saved && <p role='status' class='ok'>Saved.</p>}
    </form>
  )
}

function ImportForm () {
  const [text, setText] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    setError('')
    try {
      const k = await loadKeys()
      const sk = await k.parseSecret(text, password)
      await app.setIdentity(k.identityOf(sk))
      location.hash = '#/me'
    } catch (err) {
      setError(err instanceof Error && err.name === 'KeyError' ? err.message : 'Could not read this key.')
    } finally {
      setBusy(false)
    }
  }
  return (
    <form class='stack' onSubmit={e => { void submit(e) }}>
      <label for='imp-key'>Your secret key (nsec1… or ncryptsec1…)</label>
      <textarea id='imp-key' rows={3} value={text} onInput={e => setText(e.currentTarget.value)} autoCapitalize='off' autoComplete='off' spellcheck={false} />
      {looksEncrypted(text) && <>
        <label for='imp-pw'>Password of this key</label>
        <input id='imp-pw' type='password' value={password} onInput={e => setPassword(e.currentTarget.value)} />
      </>}
      {error !== '' && <p role='alert' class='error'>{error}</p>}
      <button type='submit' class='primary' disabled={busy}>{busy ? 'Opening…' : 'Use this key'}</button>
    </form>
  )
}

function Backup () {
  const [show, setShow] = useState(false)
  const [pw, setPw] = useState('')
  const [enc, setEnc] = useState('')
  const [busy, setBusy] = useState(false)
  const [nsec, setNsec] = useState('')
  useEffect(() => {
    if (!show) return
    void Promise.all([loadKeys(), app.secretKey()]).then(([k, sk]) => setNsec(sk !== null ? k.nsecOf(sk) : ''))
  }, [show])
  const protect = async (): Promise<void> => {
    const [k, sk] = await Promise.all([loadKeys(), app.secretKey()])
    if (sk === null) return
    setEnc(await k.encryptKey(sk, pw))
  }
  return (
    <details class='card'>
      <summary>Back up your key</summary>
      <p class='warn'><strong>Anyone with this key can post as you, forever.</strong> Nobody can give it back if you lose it: there is no reset. Keep it somewhere private (a password manager, paper).</p>
      {!show
        ? <button type='button' class='secondary' onClick={() => setShow(true)}>Show my secret key</button>
        : nsec !== '' && <>
          <p class='mono key' data-testid='nsec'>{nsec}</p>
          <QrCode text={nsec} label='Your secret key as a QR code' />
          <button type='button' class='secondary' onClick={() => setShow(false)}>Hide</button>
        </>}
      <form class='stack' onSubmit={e => {
        e.preventDefault()
        setBusy(true)
        void protect().catch(() => setEnc('')).finally(() => setBusy(false))
      }}>
        <label for='bk-pw'>Or protect it with a password (ncryptsec)</label>
        <input id='bk-pw' type='password' value={pw} minLength={4} required onInput={e => setPw(e.currentTarget.value)} autoComplete='new-password' />
        <button type='submit' class='secondary' disabled={busy}>{busy ? 'Encrypting…' : 'Make protected copy'}</button>
      </form>
      {enc !== '' && <>
        <p class='mono key' data-testid='ncryptsec'>{enc}</p>
        <QrCode text={enc} label='Your password-protected key as a QR code' />
        <p class='hint small'>You need both this text and the password to use it.</p>
      </>}
    </details>
  )
}

/** Everything this key wrote that the node has, plus what waits in the outbox, as JSON lines. */
async function exportAll (): Promise<void> {
  const me = app.me
  if (me === null) return
  const all: NostrEvent[] = [...app.relay.outbox.pending.filter(e => e.pubkey === me)]
  let until: number | undefined
  for (;;) {
    const page = await app.relay.query([{ authors: [me], limit: 500, ...(until !== undefined ? { until } : {}) }])
    const fresh = page.filter(e => !all.some(x => x.id === e.id))
    all.push(...fresh)
    if (page.length < 500 || fresh.length === 0) break
    until = Math.min(...page.map(e => e.created_at))
  }
  const blob = new Blob([toJsonLines(all)], { type: 'application/x-ndjson' })
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = `outpost-${me.slice(0, 12)}.jsonl`
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 10000)
}

export function Me () {
  useApp()
  const [mode, setMode] = useState<'create' | 'import'>('create')
  const [confirmForget, setConfirmForget] = useState(false)
  // the welcome line is for right after creating, not for every later visit
  useEffect(() => () => { app.notice = '' }, [])
  if (app.me === null) {
    return (
      <section class='me'>
        <CaptiveNotice />
        <h2>{mode === 'create' ? 'Create your identity' : 'Use your existing key'}</h2>
        {mode === 'create'
          ? <>
            <p class='hint'>Your key is made on this phone and stays on it. Nothing to install, no email.</p>
            <ProfileForm submitLabel='Create my identity' />
            <button type='button' class='link' onClick={() => setMode('import')}>I already have a key</button>
          </>
          : <>
            <ImportForm />
            <button type='button' class='link' onClick={() => setMode('create')}>Create a new identity instead</button>
          </>}
      </section>
    )
  }
  const pending = app.pendingCount
  return (
    <section class='me'>
      <h2>Your profile</h2>
      <Npub pubkey={app.me} />
      {app.notice !== '' && <p role='status' class='ok'>{app.notice}</p>}
      {app.mineReady ? <ProfileForm submitLabel='Save profile' /> : <p class='hint' role='status'>Loading your profile…</p>}
      <p><a href={'#/p/' + app.me}>See your public page</a> · Following {app.myFollows.length}</p>
      <Backup />
      <div class='card'>
        <h3>Your data</h3>
        <p class='hint small'>Everything you wrote, as signed events (one JSON per line).</p>
        <button type='button' class='secondary' onClick={() => { void exportAll() }}>Export my posts</button>
        {pending > 0 && <p class='small'>{pending} waiting to send.</p>}
      </div>
      <div class='card'>
        <h3>This phone</h3>
        {!confirmForget
          ? <button type='button' class='secondary' onClick={() => setConfirmForget(true)}>Remove my key from this phone</button>
          : <>
            <p class='warn'>Without a backup, this identity is gone for good.</p>
            <button type='button' class='danger' onClick={() => { app.forget(); setConfirmForget(false) }}>Remove it</button>
            <button type='button' class='secondary' onClick={() => setConfirmForget(false)}>Keep it</button>
          </>}
      </div>
    </section>
  )
}
