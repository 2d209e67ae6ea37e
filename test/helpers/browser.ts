import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import WebSocket from 'ws'
import { finalizeEvent } from 'nostr-tools/pure'
import type { Test } from 'tap'
import type { Filter, NostrEvent } from '../../node/src/events/types.js'
import { ROOT, spawnNode, type NodeProcess } from './node-process.js'

const WEB = path.join(ROOT, 'captive-portal')

function newest (p: string): number {
  const s = statSync(p)
  if (!s.isDirectory()) return s.mtimeMs
  return Math.max(s.mtimeMs, ...readdirSync(p).map(f => newest(path.join(p, f))))
}

/** The phone client is built (captive-portal/dist) and newer than its sources; builds it if not. */
export function ensureWebBuilt (): void {
  const built = path.join(WEB, 'dist', 'index.html')
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(newest(path.join(WEB, 'src')), newest(path.join(WEB, 'index.html')))) return
  execFileSync('npm', ['run', 'build:web', '--silent'], { cwd: ROOT, stdio: 'inherit' })
}

/** A node on loopback with its own temp data dir, serving the built client. */
export async function startNode (t: Test, extraArgs: string[] = []): Promise<{ node: NodeProcess, base: string }> {
  ensureWebBuilt()
  const data = mkdtempSync(path.join(tmpdir(), 'outpost-web-'))
  t.teardown(() => rmSync(data, { recursive: true, force: true }))
  const node = await spawnNode(t, ['--swarm', 'off', '--no-lan', '--data', data, ...extraArgs])
  return { node, base: `http://127.0.0.1:${node.port}/` }
}

/** Debian's Chromium, headless, closed at teardown. */
export async function launchBrowser (t: Test): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']
  })
  t.teardown(async () => { await browser.close() })
  return browser
}

export interface Phone {
  context: BrowserContext
  page: Page
  /** uncaught page errors and CSP violations seen so far */
  problems: string[]
}

/** A separate "phone": its own context (storage), 360x640 mobile emulation. */
export async function phone (browser: Browser, opts: { userAgent?: string } = {}): Promise<Phone> {
  const context = await browser.newContext({
    viewport: { width: 360, height: 640 },
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 1,
    acceptDownloads: true,
    userAgent: opts.userAgent ?? 'Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36'
  })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', err => problems.push('pageerror: ' + err.message))
  page.on('console', m => { if (m.type() === 'error' && /Content.Security.Policy|Refused/i.test(m.text())) problems.push('csp: ' + m.text()) })
  return { context, page, problems }
}

/**
 * Stored events from the node's relay, over a plain WebSocket (what any Nostr client sees).
 * `auth`: secret keys to authenticate as first (NIP-42), to be served private messages.
 * Rejects with the reason when the relay answers CLOSED.
 */
export async function relayQuery (base: string, filter: Filter, opts: { auth?: Uint8Array[] } = {}): Promise<NostrEvent[]> {
  const ws = new WebSocket(base.replace(/^http/, 'ws'))
  const out: NostrEvent[] = []
  const keys = opts.auth ?? []
  const oks = new Set<string>()
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { ws.close(); reject(new Error('relay query timed out')) }, 10000)
    const fail = (err: Error): void => { clearTimeout(timer); ws.close(); reject(err) }
    // a REQ for gift wraps before AUTH brings the challenge
    ws.on('open', () => ws.send(JSON.stringify(keys.length > 0 ? ['REQ', 'probe', { kinds: [1059], limit: 0 }] : ['REQ', 'q', filter])))
    ws.on('message', d => {
      const m = JSON.parse(d.toString()) as unknown[]
      if (m[0] === 'AUTH' && keys.length > 0 && oks.size === 0) {
        for (const sk of keys) {
          const ev = finalizeEvent({ kind: 22242, created_at: Math.floor(Date.now() / 1000), tags: [['relay', base.replace(/^http/, 'ws')], ['challenge', m[1] as string]], content: '' }, sk)
          oks.add(ev.id)
          ws.send(JSON.stringify(['AUTH', ev]))
        }
      } else if (m[0] === 'OK' && oks.has(m[1] as string)) {
        if (m[2] !== true) return fail(new Error(`AUTH refused: ${String(m[3])}`))
        oks.delete(m[1] as string)
        if (oks.size === 0) ws.send(JSON.stringify(['REQ', 'q', filter]))
      } else if (m[0] === 'EVENT' && m[1] === 'q') {
        out.push(m[2] as NostrEvent)
      } else if (m[0] === 'EOSE' && m[1] === 'q') {
        clearTimeout(timer)
        ws.close()
        resolve(out)
      } else if (m[0] === 'CLOSED' && m[1] === 'q') {
        fail(new Error(`closed: ${String(m[2])}`))
      }
    })
    ws.on('error', err => fail(err))
  })
}

/** Publishes signed events straight to the relay and waits for every OK. */
export async function relayPublish (base: string, events: NostrEvent[]): Promise<void> {
  const ws = new WebSocket(base.replace(/^http/, 'ws'))
  const waiting = new Set(events.map(e => e.id))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { ws.close(); reject(new Error('relay publish timed out')) }, 20000)
    ws.on('open', () => { for (const e of events) ws.send(JSON.stringify(['EVENT', e])) })
    ws.on('message', d => {
      const m = JSON.parse(d.toString()) as unknown[]
      if (m[0] !== 'OK') return
      if (m[2] !== true) { clearTimeout(timer); ws.close(); reject(new Error(`rejected: ${String(m[3])}`)); return }
      waiting.delete(m[1] as string)
      if (waiting.size === 0) { clearTimeout(timer); ws.close(); resolve() }
    })
    ws.on('error', err => { clearTimeout(timer); reject(err) })
  })
}

/** Where screenshots go when SCREENSHOTS=dir is set (for looking at the UI), else nowhere. */
export async function screenshot (page: Page, name: string): Promise<void> {
  const dir = process.env.SCREENSHOTS
  if (dir === undefined || dir === '') return
  await page.screenshot({ path: path.join(dir, name + '.png') })
}

// generous: the CI machine may be shared and busy; a healthy run takes a fraction of it
export const WAIT = { timeout: 30000 }

/** Opens the Me page, fills the join form and creates the identity. */
export async function createIdentity (page: Page, base: string, p: { name: string, about?: string, tags?: string }): Promise<void> {
  await page.goto(base + '#/me')
  await page.getByLabel('Display name').fill(p.name)
  if (p.about !== undefined) await page.getByLabel('Short bio').fill(p.about)
  if (p.tags !== undefined) await page.getByLabel('Your tags').fill(p.tags)
  await page.getByRole('button', { name: 'Create my identity' }).click()
  await page.getByText('Saved.').waitFor(WAIT)
}

/** Posts from the Here tab's composer. */
export async function writePost (page: Page, text: string): Promise<void> {
  await page.locator('.tabs').getByRole('link', { name: 'Here', exact: true }).click()
  await page.getByLabel('Write a post').fill(text)
  await page.getByRole('button', { name: 'Post', exact: true }).click()
}
