import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { spawnNode, BIN, type NodeProcess } from '../helpers/node-process.js'
import { signer } from '../helpers/events.js'
import { until } from './sync-helpers.js'
import { CLOCK_FILE } from '../../node/src/system/clock.js'
import { publish, fetchEvents, getJson } from './ws-client.js'

// Real `outpost start` processes on loopback; C runs with its system clock 8 h behind
// (libfaketime, Debian package `faketime`; the monotonic clock is left alone, as on a Pi).
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1'
const BEHIND = { LD_PRELOAD: LIBFAKETIME, FAKETIME: '-8h', DONT_FAKE_MONOTONIC: '1' }
const H = 3600_000

interface ClockHealth { now: string, offsetSeconds: number, source: string, behindPeersBy: number | null, behindPhonesBy: number | null, eventsAhead: number }
const clockOf = async (n: NodeProcess): Promise<ClockHealth> => (await getJson(n.port, '/api/health')).clock as ClockHealth
/** The Date header phones adopt (captive-portal/src/state.ts askNode), ms. */
const dateHeader = async (n: NodeProcess): Promise<number> => {
  const res = await fetch(`http://127.0.0.1:${n.port}/`, { headers: { Accept: 'application/nostr+json' } })
  await res.arrayBuffer()
  return Date.parse(res.headers.get('date') ?? '')
}
const near = (a: number, b: number, ms = 60_000): boolean => Math.abs(a - b) < ms

t.test('a node 8 h behind loses no replicated event, says so, takes the time of agreeing peers, and keeps it after a restart', async t => {
  if (!existsSync(LIBFAKETIME)) return t.fail(`${LIBFAKETIME} is missing: apt-get install faketime (see .ci/run)`)
  const faked = Number(execFileSync(process.execPath, ['-e', 'console.log(Date.now())'], { env: { ...process.env, ...BEHIND }, encoding: 'utf8' }))
  t.ok(near(faked, Date.now() - 8 * H), 'libfaketime sets Node\'s Date.now() 8 h back')

  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-clock-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  execFileSync(process.execPath, [BIN, 'community', 'create', '--out', 'secret.json', '--name', 'Clocks'], { cwd: dir })
  const community = path.join(dir, 'secret.json')
  const syncPort = async (n: NodeProcess): Promise<number> => (await getJson(n.port, '/api/sync')).listen.port as number

  const a = await spawnNode(t, ['--data', path.join(dir, 'a'), '--community', community, '--swarm', 'off'])
  const s = signer()
  // written at A in the last hours: all of it is "in the future" for C's clock
  const written = Array.from({ length: 20 }, (_, i) => s.sign({ content: `at A ${i}`, created_at: Math.floor(Date.now() / 1000) - i * 1200 }))
  for (const e of written) t.equal((await publish(a.port, e)).ok, true)

  // C was set up with the right time, then was off for 8 h and boots 8 h behind (fake-hwclock
  // saved the time it stopped, and so did C). Its storage is made with the real clock: under
  // libfaketime Node's clock is faked but the kernel's file times are not, which hypercore-storage's
  // device file check would take for a copied store; on a Pi both are the same clock.
  const cDir = path.join(dir, 'c')
  const setup = await spawnNode(t, ['--data', cDir, '--community', community, '--swarm', 'off'])
  setup.proc.kill('SIGTERM')
  t.equal(await setup.exited, 0)
  await writeFile(path.join(cDir, CLOCK_FILE), JSON.stringify({ version: 1, floor: new Date(Date.now() - 8 * H).toISOString() }))
  const cArgs = ['--data', cDir, '--community', community, '--swarm', 'off', '--peer', `127.0.0.1:${await syncPort(a)}`]
  let c = await spawnNode(t, cArgs, { env: BEHIND })
  await until(async () => (await fetchEvents(c.port, { authors: [s.pubkey], limit: 100 })).length === written.length, 20_000, 'C indexes A\'s events')
  t.pass('every event A wrote in the last 8 h is indexed and served by C')
  await c.waitForOutput('looks behind its sync peers')
  let clock = await clockOf(c)
  t.equal(clock.source, 'system', 'one peer alone does not move C\'s clock')
  t.ok(clock.behindPeersBy !== null && near(clock.behindPeersBy * 1000, 8 * H), `health: behind its peers by ${clock.behindPeersBy ?? 0} s`)
  t.ok(clock.eventsAhead >= 18, `health: ${clock.eventsAhead} replicated events ahead of C's clock`)
  t.ok(near(await dateHeader(c), Date.now() - 8 * H), 'phones still get C\'s clock (8 h behind)')
  // the web app tells the phone's clock: reported, not followed
  await fetch(`http://127.0.0.1:${c.port}/`, { headers: { Accept: 'application/nostr+json', 'X-Outpost-Phone-Time': String(Date.now()) } }).then(async r => await r.arrayBuffer())
  clock = await clockOf(c)
  t.ok(clock.behindPhonesBy !== null && near(clock.behindPhonesBy * 1000, 8 * H), `health: behind a phone by ${clock.behindPhonesBy ?? 0} s`)
  t.equal(clock.source, 'system', 'a phone does not move the clock')
  const early = s.sign({ content: 'a phone with the right time, before' })
  t.match(await publish(c.port, early), { ok: false, message: /in the future/ }, 'C refuses a phone post dated right: its clock is behind')

  // a restart changes nothing about what was indexed
  c.proc.kill('SIGTERM')
  t.equal(await c.exited, 0)
  c = await spawnNode(t, cArgs, { env: BEHIND })
  t.equal((await fetchEvents(c.port, { authors: [s.pubkey], limit: 100 })).length, written.length, 'still served after a restart')

  // a second peer with the right time joins: A and B agree, C steps forward
  const b = await spawnNode(t, ['--data', path.join(dir, 'b'), '--community', community, '--swarm', 'off', '--peer', `127.0.0.1:${await syncPort(c)}`])
  await until(async () => (await clockOf(c)).source === 'peers', 20_000, 'C takes the agreeing peers\' time')
  clock = await clockOf(c)
  t.ok(near(Date.parse(clock.now), Date.now()), `C's clock is right (${clock.now})`)
  t.ok(near(clock.offsetSeconds * 1000, 8 * H), `offset ${clock.offsetSeconds} s from its system clock`)
  t.ok(near(await dateHeader(c), Date.now()), 'phones now get the right time from the Date header')
  const after = s.sign({ content: 'a phone with the right time, after' })
  t.same(await publish(c.port, after), { ok: true, message: '' }, 'and C takes its posts')
  await until(async () => (await fetchEvents(b.port, { ids: [after.id] })).length === 1, 20_000, 'C\'s post reaches B')

  // restart C alone, its system clock still 8 h behind: the floor it saved holds
  c.proc.kill('SIGTERM')
  t.equal(await c.exited, 0)
  a.proc.kill('SIGTERM')
  b.proc.kill('SIGTERM')
  await Promise.all([a.exited, b.exited])
  c = await spawnNode(t, ['--data', cDir, '--community', community, '--swarm', 'off'], { env: BEHIND })
  await c.waitForOutput('system clock is behind the last time')
  clock = await clockOf(c)
  t.equal(clock.source, 'floor')
  t.ok(near(Date.parse(clock.now), Date.now()), `after the restart C's clock is still right (${clock.now})`)
  t.ok(near(await dateHeader(c), Date.now()), 'and so is the Date header')
  const third = s.sign({ content: 'a phone with the right time, after the restart' })
  t.same(await publish(c.port, third), { ok: true, message: '' })
})
