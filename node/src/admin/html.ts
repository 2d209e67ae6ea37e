import { npubEncode, noteEncode } from 'nostr-tools/nip19'
import type { NostrEvent } from '../events/types.js'
import { escapeHtml, formatTime, shortKey } from '../mirror/html.js'
import type { ActionRecord, Entry } from './moderation.js'
import { formatBytes, type DiskUsage } from './disk.js'
import { clockNotice } from './clock-notice.js'

/** Strict: no script at all, styles and forms to this node only, never framed. */
export const ADMIN_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

const e = escapeHtml

export function adminPage (opts: { site: string, title: string, body: string, session?: { id: string, csrf: string } }): string {
  const logout = opts.session === undefined
    ? ''
    : `<form class="logout" method="post" action="/admin/logout">${csrfField(opts.session.csrf)}<span>session ${e(opts.session.id)}</span> <button type="submit">Log out</button></form>`
  return '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">' +
    `<link rel="icon" href="data:,"><title>${e(opts.title)}</title><link rel="stylesheet" href="/admin/admin.css"></head>` +
    `<body><header><strong>${e(opts.site)}</strong> <span class="muted">admin</span>${logout}</header>` +
    `<main>${opts.body}</main></body></html>\n`
}

export function csrfField (token: string): string {
  return `<input type="hidden" name="csrf" value="${e(token)}">`
}

export function renderNotConfigured (site: string, problem: string | null): string {
  const body = problem === null
    ? '<h1>No admin password is set</h1>' +
      '<p>This node has no admin password, so its admin view is closed and shows nothing.</p>' +
      '<p>On a Pi provisioned with Outpost, run once more: <code>sudo ./provisioning/provision.sh --admin-password-file FILE</code> ' +
      '(a file holding the password; or <code>--admin-password TEXT</code>). It stores only an scrypt hash in ' +
      '<code>/etc/outpost/admin-password.scrypt</code> and points the node at it.</p>' +
      '<p>Elsewhere, set <code>adminPasswordFile</code> in the config file (or <code>--admin-password-file</code>, ' +
      '<code>OUTPOST_ADMIN_PASSWORD_FILE</code>) to a file holding one line <code>scrypt$N$r$p$salt$hash</code> ' +
      '(base64 salt and hash, as <code>node provisioning/lib/hash-password.mjs &lt; password-file</code> prints it), then restart the node.</p>'
    : '<h1>The admin password cannot be used</h1>' +
      `<p>The admin password file set in this node's configuration cannot be used: ${e(problem)}. ` +
      'The admin view stays closed until it is fixed (see the node\'s log).</p>'
  return adminPage({ site, title: `Admin · ${site}`, body })
}

export function renderLogin (opts: { site: string, csrf: string, error: string | null }): string {
  const err = opts.error === null ? '' : `<p class="error" role="alert">${e(opts.error)}</p>`
  const body = `<h1>Log in</h1>${err}` +
    '<form method="post" action="/admin/login" class="login">' + csrfField(opts.csrf) +
    '<label for="password">Admin password</label>' +
    '<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024" autofocus>' +
    '<button type="submit">Log in</button></form>' +
    '<p class="muted">This page travels unencrypted over the hotspot\'s Wi-Fi (there is no HTTPS offline): log in from a ' +
    'network you trust, or over an encrypted Wi-Fi (WPA2) the public does not know the passphrase of.</p>'
  return adminPage({ site: opts.site, title: `Log in · ${opts.site}`, body })
}

export interface DashboardView {
  site: string
  session: { id: string, csrf: string }
  health: Record<string, unknown>
  sync: Record<string, unknown> | null
  disk: DiskUsage
  blocked: Array<[string, Entry]>
  hidden: Array<{ id: string, entry: Entry, event: NostrEvent | undefined }>
  /** Totals (the lists above show the newest few hundred). */
  counts: { blocked: number, hidden: number }
  actions: ActionRecord[]
  /** The newest posts shown here, with buttons to hide them or block their author. */
  recent: NostrEvent[]
  damaged: string | null
  flash: string | null
  error: string | null
  /** What the operator typed, put back into the form after an error. */
  typed?: { field: 'block' | 'hide', value: string }
  now: number
}

// loose readers for the status objects (/api/health, /api/sync)
const rec = (v: unknown): Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : {}
const arr = (v: unknown): unknown[] => Array.isArray(v) ? v : []
const str = (v: unknown): string => typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : v === null || v === undefined ? '—' : JSON.stringify(v)
const int = (v: unknown): string => typeof v === 'number' && Number.isFinite(v) ? v.toLocaleString('en-US') : '—'
const bytes = (v: unknown): string => typeof v === 'number' && Number.isFinite(v) ? formatBytes(v) : '—'

function ago (iso: unknown, now: number): string {
  if (typeof iso !== 'string') return '—'
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return e(iso)
  return `${e(iso.slice(0, 16).replace('T', ' '))} UTC <span class="muted">(${duration((now - t) / 1000)} ago)</span>`
}

export function duration (seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min`
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`
}

function table (head: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="muted">${e(empty)}</p>`
  return `<div class="scroll"><table><thead><tr>${head.map(h => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map(r => `<tr>${r.map(c => `<td>${c}</td>`).join('')}</tr>`).join('') + '</tbody></table></div>'
}

function dl (pairs: Array<[string, string]>): string {
  return `<dl>${pairs.map(([k, v]) => `<dt>${e(k)}</dt><dd>${v}</dd>`).join('')}</dl>`
}

function npub (hex: string): string {
  try { return npubEncode(hex) } catch { return hex }
}

function action (path: string, csrf: string, field: string, value: string, label: string): string {
  return `<form class="inline" method="post" action="${path}">${csrfField(csrf)}<input type="hidden" name="${field}" value="${e(value)}"><button type="submit">${e(label)}</button></form>`
}

function preview (ev: NostrEvent | undefined): string {
  if (ev === undefined) return '<span class="muted">not stored here (yet)</span>'
  const text = ev.content.length > 140 ? ev.content.slice(0, 140) + '…' : ev.content
  return `<span class="muted">${e(shortKey(ev.pubkey))}, kind ${ev.kind}:</span> <span class="text">${e(text)}</span>`
}

export function renderDashboard (v: DashboardView): string {
  const h = v.health
  const st = rec(h.store)
  const log = rec(st.log)
  const csrf = v.session.csrf
  const parts: string[] = []
  if (v.flash !== null) parts.push(`<p class="flash" role="status">${e(v.flash)}</p>`)
  if (v.error !== null) parts.push(`<p class="error" role="alert">${e(v.error)}</p>`)
  if (v.damaged !== null) parts.push(`<p class="error">${e(v.damaged)}</p>`)
  const clock = clockNotice(h.clock)
  if (clock !== null) parts.push(clock)
  const space = rec(h.disk)
  if (space.full === true) {
    parts.push(`<p class="error" role="alert" data-testid="disk-full"><strong>Storage is full</strong> (${bytes(space.free)} free, the reserve is ${bytes(space.reserve)}): ` +
      'new posts are refused and replication is paused. Reading and serving go on. Free some space (or move the data to a bigger card); ' +
      'the node resumes by itself.</p>')
  }

  const disk = v.disk
  const diskText = `${formatBytes(disk.used)}${disk.partial ? ' or more' : ''}` +
    (disk.free !== null && disk.total !== null ? ` <span class="muted">(${formatBytes(disk.free)} free of ${formatBytes(disk.total)})</span>` : '')
  const portal = h.portal === null || h.portal === undefined ? 'captive portal off' : `${int(rec(h.portal).accepted)} <span class="muted">(portal mode ${e(str(rec(h.portal).mode))})</span>`
  parts.push('<section><h2>This node</h2>' + dl([
    ['Name', e(v.site)],
    ['Role', e(str(h.role))],
    ['Version', e(str(h.version))],
    ['Uptime', typeof h.uptime === 'number' ? duration(h.uptime) : '—'],
    ['Events stored', int(st.events ?? h.events)],
    ['Storage used on disk', diskText],
    ['Own log', Object.keys(log).length === 0 ? 'none (read-only relay)' : `${e(shortKey(str(log.key)))} <span class="muted">${int(log.length)} blocks, epoch ${e(str(log.epoch))}</span>`],
    ['Signature checks', e(str(st.verifier))],
    ['Open WebSocket connections', int(h.connections)],
    ['Phones accepted by the portal', portal]
  ]) + '</section>')

  const sync = rec(v.sync)
  const delivery = rec(sync.delivery)
  // the delivery view's two statements (node/src/sync/delivery.ts), with times a person reads
  const text = sync.delivery === null || sync.delivery === undefined
    ? ''
    : `<li>${typeof delivery.notLeftSince === 'string' ? `Posts written here since ${ago(delivery.notLeftSince, v.now)} have not left this site yet.` : 'Every post written here has left this site.'}</li>` +
      `<li>${typeof delivery.lastWiderContact === 'string' ? `Last contact with the wider community: ${ago(delivery.lastWiderContact, v.now)}.` : 'No contact with the wider community yet.'}</li>`
  parts.push('<section><h2>Delivery</h2>' +
    (text === '' ? '<p class="muted">No delivery view yet.</p>' : `<ul class="delivery">${text}</ul>`) +
    dl([['Own blocks not yet left this site', int(delivery.pendingBlocks)]]) + '</section>')

  const swarm = rec(sync.swarm)
  const uplink = rec(swarm.uplink)
  const budget = rec(swarm.budget)
  parts.push('<section><h2>Uplink and internet swarm</h2>' + dl([
    ['Swarm mode', e(str(swarm.mode))],
    ...(swarm.mode === 'off' || swarm.mode === undefined
      ? []
      : [
          ['Uplink', `${e(str(uplink.state))}, since ${ago(uplink.since, v.now)}`] as [string, string],
          ['Swarm', `${e(str(swarm.state))}, ${int(swarm.connections)} connections`] as [string, string],
          ['Data budget', swarm.budget === null ? 'none' : `${bytes(budget.used)} of ${bytes(budget.bytes)} used${budget.spent === true ? ' <strong>(spent: swarm left until the uplink comes back)</strong>' : ''}`] as [string, string]
        ])
  ]) + '</section>')

  const peers = arr(sync.peers).map(rec)
  parts.push('<section><h2>Sync peers</h2>' + table(['peer', 'source', 'since', 'connected', 'bytes in', 'bytes out'], peers.map(p => [
    `<code>${e(shortKey(str(p.key)))}</code>${p.host !== null && p.host !== undefined ? ` <span class="muted">${e(str(p.host))}:${e(str(p.port))}</span>` : ''}`,
    e(str(p.source)), ago(p.since, v.now), p.connected === true ? 'yes' : 'handshaking', bytes(p.bytesIn), bytes(p.bytesOut)
  ]), 'No peer connected right now.') + '</section>')

  const logs = arr(sync.logs).map(rec)
  parts.push('<section><h2>Logs carried</h2>' + table(['log', 'whose', 'length', 'here', 'backlog', 'fetching', 'peers'], logs.map(l => [
    `<code>${e(shortKey(str(l.key)))}</code>`, l.own === true ? 'this node' : `node ${e(shortKey(str(l.node)))}`,
    int(l.length), int(l.available), typeof l.lag === 'number' && l.lag > 0 ? `<strong>${int(l.lag)}</strong>` : '0', e(str(l.fetching)), int(l.peers)
  ]), 'No logs yet.') + '</section>')

  parts.push(renderModeration(v, csrf))
  return adminPage({ site: v.site, title: `Admin · ${v.site}`, body: parts.join(''), session: v.session })
}

function renderModeration (v: DashboardView, csrf: string): string {
  const typed = (f: 'block' | 'hide'): string => v.typed?.field === f ? ` value="${e(v.typed.value)}"` : ''
  const forms = '<div class="forms">' +
    `<form method="post" action="/admin/block">${csrfField(csrf)}<label for="pubkey">Block a key (npub or hex)</label>` +
    `<input id="pubkey" name="pubkey" maxlength="1000" required${typed('block')}><button type="submit">Block</button></form>` +
    `<form method="post" action="/admin/hide">${csrfField(csrf)}<label for="event">Hide an event (id, note or nevent)</label>` +
    `<input id="event" name="event" maxlength="1000" required${typed('hide')}><button type="submit">Hide</button></form></div>`
  const blocked = table(['key', 'since', ''], v.blocked.map(([pk, en]) => [
    `<code title="${e(pk)}">${e(npub(pk))}</code>`, e(en.at.slice(0, 16).replace('T', ' ')), action('/admin/unblock', csrf, 'pubkey', pk, 'Unblock')
  ]), 'No key is blocked.')
  const hidden = table(['event', 'since', ''], v.hidden.map(({ id, entry, event }) => [
    `<code title="${e(id)}">${e(shortKey(id))}</code> ${preview(event)}`, e(entry.at.slice(0, 16).replace('T', ' ')), action('/admin/unhide', csrf, 'event', id, 'Unhide')
  ]), 'No event is hidden.')
  const recent = table(['post', 'author', ''], v.recent.map(p => [
    `<span class="muted">${e(formatTime(p.created_at))}</span> <span class="text">${e(p.content.length > 200 ? p.content.slice(0, 200) + '…' : p.content)}</span>`,
    `<code title="${e(p.pubkey)}">${e(shortKey(p.pubkey))}</code>`,
    action('/admin/hide', csrf, 'event', p.id, 'Hide') + action('/admin/block', csrf, 'pubkey', p.pubkey, 'Block author')
  ]), 'No posts shown here yet.')
  const log = table(['when', 'what', 'target', 'session', 'from'], v.actions.map(a => [
    e(a.at.slice(0, 19).replace('T', ' ')), e(a.action), `<code title="${e(a.target)}">${e(a.action.endsWith('block') ? npub(a.target) : safeNote(a.target))}</code>`, e(a.session), e(a.ip)
  ]), 'No moderation action yet.')
  return '<section><h2>Moderation (this site only)</h2>' +
    '<p class="muted">Blocking a key refuses its posts from phones here and stops this node showing any of its events; hiding ' +
    'stops this node showing one event. Both apply to this node only: events that came from other nodes stay stored and are still ' +
    'passed on to them, and other sites decide for themselves.</p>' + forms +
    `<h3>Blocked keys (${v.counts.blocked})</h3>${blocked}<h3>Hidden events (${v.counts.hidden})</h3>${hidden}` +
    `<h3>Newest posts shown here</h3>${recent}<h3>Moderation log</h3>${log}</section>`
}

function safeNote (hex: string): string {
  try { return noteEncode(hex) } catch { return hex }
}

export function renderMessage (site: string, title: string, text: string, link = '/admin'): string {
  return adminPage({ site, title: `${title} · ${site}`, body: `<h1>${e(title)}</h1><p>${e(text)}</p><p><a href="${e(link)}">Back to the admin page</a></p>` })
}

export const ADMIN_CSS = `*{box-sizing:border-box}
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:64rem;padding:0 1rem 3rem;color:#1b1f23;background:#f7f7f5}
header{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap;padding:.9rem 0;border-bottom:1px solid #ddd;margin-bottom:1rem}
.logout{margin-left:auto;font-size:.85em;color:#666}
h1{font-size:1.3rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}h3{font-size:1rem;margin:1rem 0 .4rem}
section{background:#fff;border:1px solid #e4e4e4;border-radius:6px;padding:.5rem 1rem 1rem;margin:0 0 1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}dt{color:#555}dd{margin:0}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eee;vertical-align:top}
.text{white-space:pre-wrap;overflow-wrap:anywhere}
.muted{color:#777}.error{color:#a11;font-weight:600}.flash{color:#1f6f50;font-weight:600}
.forms{display:flex;flex-wrap:wrap;gap:1rem}.forms form{flex:1 1 18rem;display:flex;flex-direction:column;gap:.3rem}
form.inline{display:inline}form.login{display:flex;flex-direction:column;gap:.4rem;max-width:20rem}
input{font:inherit;padding:.45rem;border:1px solid #bbb;border-radius:4px}
button{font:inherit;padding:.35rem .7rem;border:1px solid #888;border-radius:4px;background:#f2f2f2;cursor:pointer;margin:.1rem}
code{font-size:.9em;overflow-wrap:anywhere}
`
