#!/usr/bin/env node
// Phone client bench (`npm run bench:web`), in Debian's Chromium at 360x640 against a real node:
//  1. cold first load on a slow 3G profile (CDP: 400 ms RTT, 400 kbit/s down and up; the
//     WebPageTest "3G Slow" figures), without and with 4x CPU slowdown: time to the app being
//     interactive (rendered, tabs and buttons live) and to the first posts on screen;
//  2. a Here timeline over ~10,000 posts: first page, then paging back in time by scrolling:
//     per-page latency, longest frame while scrolling, DOM size and JS heap as pages pile up;
//  3. private messages: a phone whose key has a full first page of gift wraps (NIP-17, made by
//     nostr-tools' own nip17) opens the Messages tab: time until every wrap is opened and the
//     conversations listed, and the longest frame meanwhile (wraps are opened in small batches),
//     without and with 4x CPU slowdown.
// Options: --n 12000 (signed events seeded, 85% kind 1), --pages 25, --wraps 200, --peers 20.
// Writes bench-results/web.md.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { wrapEvent } from 'nostr-tools/nip17'
import { BENCH_LIMITS, RESULTS, ROOT, rmrf, tempDir } from './lib/util.js'
import { signedEvents } from './lib/sign.js'
import { connect, closeWs, publish } from './lib/ws.js'
import { markdownTable } from './lib/table.js'
import { percentile } from './lib/stats.js'

const args = process.argv.slice(2)
const opt = (name, dflt) => { const i = args.indexOf('--' + name); return i >= 0 ? Number(args[i + 1]) : dflt }
const N = opt('n', 12000)
const PAGES = opt('pages', 25)
const WRAPS = opt('wraps', 200)
const PEERS = opt('peers', 20)
const log = (...a) => console.error('[web bench]', ...a)

async function startNode (data) {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'outpost.js'), 'start', '--data', data, '--port', '0', '--host', '127.0.0.1',
    '--no-lan', '--swarm', 'off', '--no-log-pretty',
    '--messages-per-second', String(BENCH_LIMITS.messagesPerSecond),
    '--events-per-minute-per-ip', String(BENCH_LIMITS.eventsPerMinutePerIp)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', line => {
      try { const m = JSON.parse(line); if (String(m.msg).includes('listening') && m.port !== undefined) resolve(m.port) } catch {}
    })
    child.once('exit', code => reject(new Error(`node exited with ${code}`)))
  })
  return { child, port }
}

async function coldLoad (browser, base, { cpu }) {
  const context = await browser.newContext({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true })
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true })
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 400, downloadThroughput: 400 * 1000 / 8, uploadThroughput: 400 * 1000 / 8 })
  if (cpu > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: cpu })
  let bytes = 0
  cdp.on('Network.loadingFinished', e => { bytes += e.encodedDataLength })
  const t0 = Date.now()
  await page.goto(base, { waitUntil: 'commit' })
  await page.locator('.tabs a').first().waitFor({ timeout: 60000 })
  const interactive = Date.now() - t0
  await page.locator('.post').first().waitFor({ timeout: 60000 })
  const posts = Date.now() - t0
  await context.close()
  return { interactive, posts, bytes }
}

async function timeline (browser, base) {
  const context = await browser.newContext({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true })
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  await cdp.send('Performance.enable')
  const t0 = Date.now()
  await page.goto(base)
  await page.locator('.post').first().waitFor({ timeout: 30000 })
  const first = Date.now() - t0
  // frame gaps while scrolling, from inside the page
  await page.evaluate(`(() => { window.__gaps = []; let last = performance.now(); const f = t => { window.__gaps.push(t - last); last = t; requestAnimationFrame(f) }; requestAnimationFrame(f) })()`)
  const perPage = []
  const loaded = () => page.evaluate('Number(document.querySelector(".feed").dataset.loaded)')
  for (let i = 0; i < PAGES; i++) {
    const t = Date.now()
    const before = await loaded()
    await page.mouse.wheel(0, 4000)
    await page.evaluate('window.scrollTo(0, document.body.scrollHeight)')
    try {
      await page.waitForFunction(n => Number(document.querySelector('.feed').dataset.loaded) > n, before, { timeout: 15000 })
    } catch { break }
    perPage.push(Date.now() - t)
  }
  const total = await loaded()
  const gaps = await page.evaluate('window.__gaps')
  const metrics = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map(m => [m.name, m.value]))
  const rendered = await page.locator('.post').count()
  const result = {
    first,
    pages: perPage.length,
    pageP50: percentile(perPage, 50),
    pageMax: Math.max(...perPage),
    frameP95: percentile(gaps, 95),
    frameMax: Math.max(...gaps),
    longFrames: gaps.filter(g => g > 50).length,
    frames: gaps.length,
    rendered,
    total,
    nodes: metrics.Nodes,
    heapMB: metrics.JSHeapUsedSize / 1e6
  }
  await context.close()
  return result
}

/** WRAPS gift-wrapped messages to a fresh key from PEERS people, as JSON lines; the key's hex. */
function inboxFixture () {
  const sk = generateSecretKey()
  const pubkey = getPublicKey(sk)
  const peers = Array.from({ length: PEERS }, () => generateSecretKey())
  const lines = []
  for (let i = 0; i < WRAPS; i++) {
    const w = wrapEvent(peers[i % PEERS], { publicKey: pubkey }, `message ${i} ` + 'x'.repeat(i % 120))
    lines.push(JSON.stringify({ id: w.id, pubkey: w.pubkey, created_at: w.created_at, kind: w.kind, tags: w.tags, content: w.content, sig: w.sig }))
  }
  return { sk: Buffer.from(sk).toString('hex'), pubkey, lines }
}

async function inbox (browser, base, fx, { cpu }) {
  const context = await browser.newContext({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true })
  await context.addInitScript(`localStorage.setItem('outpost.sk', '${fx.sk}'); localStorage.setItem('outpost.pk', '${fx.pubkey}');
    window.__gaps = []; let last = performance.now(); const f = t => { window.__gaps.push(t - last); last = t; requestAnimationFrame(f) }; requestAnimationFrame(f)`)
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  if (cpu > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: cpu })
  const t0 = Date.now()
  await page.goto(base + '#/messages')
  // frames from here on: the app is up, the inbox loads, authenticates and opens the wraps
  await page.locator('.tabs a').first().waitFor({ timeout: 60000 })
  await page.evaluate('window.__gaps = []')
  await page.waitForFunction(n => document.querySelectorAll('.conversation').length === n && document.querySelector('.messages [role=status]') === null, PEERS, { timeout: 120000 })
  const ms = Date.now() - t0
  const gaps = await page.evaluate('window.__gaps')
  await context.close()
  return { ms, frameMax: Math.max(...gaps), longFrames: gaps.filter(g => g > 100).length }
}

async function main () {
  for (const f of [join(ROOT, 'dist', 'cli', 'main.js'), join(ROOT, 'captive-portal', 'dist', 'index.html')]) {
    if (!existsSync(f)) throw new Error(`${f} missing: run npm run build first`)
  }
  const { lines } = await signedEvents(N, { log })
  const posts = lines.filter(l => l.includes('"kind":1,')).length
  const data = await tempDir('web')
  const { child, port } = await startNode(data)
  const base = `http://127.0.0.1:${port}/`
  let browser
  try {
    const ws = await connect(base.replace('http', 'ws'))
    const t = Date.now()
    const r = await publish(ws, lines, 256)
    await closeWs(ws)
    log(`seeded ${r.ok} events (${posts} posts) in ${((Date.now() - t) / 1000).toFixed(1)} s${r.rejected > 0 ? `, ${r.rejected} rejected: ${r.messages.join('; ')}` : ''}`)
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
    const loads = []
    for (const cpu of [1, 4]) {
      const runs = []
      for (let i = 0; i < 3; i++) runs.push(await coldLoad(browser, base, { cpu }))
      loads.push({ cpu, runs })
    }
    const tl = await timeline(browser, base)
    const fx = inboxFixture()
    const ws2 = await connect(base.replace('http', 'ws'))
    await publish(ws2, fx.lines, 64)
    await closeWs(ws2)
    const dms = []
    for (const cpu of [1, 4]) {
      const runs = []
      for (let i = 0; i < 3; i++) runs.push(await inbox(browser, base, fx, { cpu }))
      dms.push({ cpu, runs })
    }
    const med = (runs, k) => percentile(runs.map(r => r[k]), 50)
    const md = [
      `## Phone client (captive-portal/) — ${new Date().toISOString()}`,
      '',
      `Cold first load at 360x640, slow 3G (400 ms RTT, 400 kbit/s), median of 3, node holding ${posts} posts:`,
      '',
      markdownTable(['CPU', 'interactive (ms)', 'first posts shown (ms)', 'bytes over the wire'],
        loads.map(l => [l.cpu === 1 ? 'unthrottled' : `${l.cpu}x slower`, med(l.runs, 'interactive'), med(l.runs, 'posts'), med(l.runs, 'bytes')])),
      '',
      `Here timeline over ${posts} posts, ${tl.pages} pages of 30 loaded by scrolling:`,
      '',
      markdownTable(['first page (ms)', 'page p50 (ms)', 'page max (ms)', 'frame p95 (ms)', 'frame max (ms)', 'frames > 50 ms', 'posts loaded', 'posts in DOM', 'DOM nodes', 'JS heap (MB)'],
        [[tl.first, tl.pageP50, tl.pageMax, tl.frameP95.toFixed(1), tl.frameMax.toFixed(0), `${tl.longFrames} of ${tl.frames}`, tl.total, tl.rendered, tl.nodes, tl.heapMB.toFixed(1)]]),
      '',
      `Messages tab opened cold (page load included) with ${WRAPS} gift wraps from ${PEERS} people, key already on the phone, median of 3:`,
      '',
      markdownTable(['CPU', 'all opened and listed (ms)', 'per wrap (ms)', 'longest frame (ms)', 'frames > 100 ms'],
        dms.map(d => [d.cpu === 1 ? 'unthrottled' : `${d.cpu}x slower`, med(d.runs, 'ms'), (med(d.runs, 'ms') / WRAPS).toFixed(1), med(d.runs, 'frameMax').toFixed(0), med(d.runs, 'longFrames')])),
      ''
    ].join('\n')
    console.log(md)
    await mkdir(RESULTS, { recursive: true })
    await writeFile(join(RESULTS, 'web.md'), md)
  } finally {
    await browser?.close()
    const exited = new Promise(resolve => { if (child.exitCode !== null) resolve(); else child.once('exit', resolve) })
    child.kill('SIGTERM')
    await exited
    await rmrf(data)
  }
}

main().catch(err => { console.error(err); process.exit(1) })
