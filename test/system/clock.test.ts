import t, { type Test } from 'tap'
import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pino, type Logger } from 'pino'
import { NodeClock, CLOCK_FILE, MAX_LONE_STEP_MS, type NodeClockOptions } from '../../node/src/system/clock.js'
import { clockNotice } from '../../node/src/admin/clock-notice.js'

const H = 3600_000
const T0 = Date.UTC(2026, 10, 21, 12, 0, 0)

/** A clock with a hand-set system clock and monotonic clock (what a test can move), logging to an array. */
async function openClock (t: Test, dataDir: string | null, start: { sys: number, mono?: number }): Promise<{ clock: NodeClock, set: (sys: number) => void, pass: (ms: number) => void, logs: Array<{ msg: string, [k: string]: unknown }> }> {
  let sys = start.sys
  let mono = start.mono ?? 1000
  const logs: Array<{ msg: string }> = []
  const log: Logger = pino({ level: 'debug' }, { write: (s: string) => { logs.push(JSON.parse(s)) } })
  const opts: NodeClockOptions = { dataDir, log, systemNow: () => sys, monoNow: () => mono }
  const clock = await NodeClock.open(opts)
  t.teardown(() => clock.close())
  return { clock, set: v => { sys = v }, pass: ms => { sys += ms; mono += ms }, logs }
}

t.test('the floor: a restart with the system clock set back keeps the newest time known, then follows a corrected system clock', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-clock-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const first = await openClock(t, dir, { sys: T0 })
  first.pass(60_000)
  t.equal(first.clock.status().source, 'system')
  await first.clock.close()
  const saved = JSON.parse(await readFile(path.join(dir, CLOCK_FILE), 'utf8')) as { floor: string }
  t.equal(Date.parse(saved.floor), T0 + 60_000, 'the floor is saved at shutdown')

  // boots at an old fake-hwclock time, 8 h behind
  const second = await openClock(t, dir, { sys: T0 - 8 * H, mono: 5 })
  t.equal(second.clock.now(), T0 + 60_000, 'never earlier than the floor')
  t.equal(second.clock.status().source, 'floor')
  t.equal(second.clock.status().offsetSeconds, Math.round((8 * H + 60_000) / 1000))
  t.ok(second.logs.some(l => /system clock is behind the last time/.test(l.msg)), 'the boot behind the floor is logged')
  second.pass(5000)
  t.equal(second.clock.now(), T0 + 65_000, 'runs on from the floor with the monotonic clock')
  // NTP corrects the system clock: the node follows it
  second.set(T0 + 3 * H)
  t.equal(second.clock.now(), T0 + 3 * H)
  t.equal(second.clock.status().source, 'system')
  // set back by mistake: the node never runs backward
  second.set(T0 + H)
  t.ok(second.clock.now() >= T0 + 3 * H, 'never backward')
  t.equal(second.clock.status().source, 'held', 'it waits for the system clock')

  // 1970 (no fake-hwclock at all), and a garbage floor file is reported, not fatal
  await second.clock.close()
  await writeFile(path.join(dir, CLOCK_FILE), '{"version":1,"floor":"garbage"')
  const third = await openClock(t, dir, { sys: 0 })
  t.equal(third.clock.now(), 0, 'no floor: the system clock')
  t.ok(third.logs.some(l => /clock floor unreadable/.test(l.msg)))
})

t.test('peers: one is reported, never followed; two agreeing are followed; a lone online one is bounded', async t => {
  const { clock, pass, logs } = await openClock(t, null, { sys: T0 - 8 * H })
  clock.peerClock('a', T0, false)
  t.equal(clock.now(), T0 - 8 * H, 'one offline peer does not move the clock')
  t.equal(clock.status().behindPeersBy, 8 * 3600)
  const warnings = (): number => logs.filter(l => /looks behind its sync peers/.test(l.msg)).length
  t.equal(warnings(), 1, 'the skew is logged')
  clock.peerGone('a')
  clock.peerClock('a', T0, false)
  t.equal(warnings(), 1, 'once')
  t.match(clockNotice({ ...clock.status(), eventsAhead: 3 }), /8 h 0 min behind its sync peers[\s\S]*3 replicated posts are dated ahead/)

  // a second peer within two minutes of the first: they agree, the clock steps to the lower one
  clock.peerClock('b', T0 + 90_000, false)
  t.equal(clock.now(), T0)
  t.equal(clock.status().source, 'peers')
  t.equal(clock.status().behindPeersBy, 45, 'the median of the peers')
  t.equal(clockNotice({ ...clock.status(), eventsAhead: 0 })?.includes('behind its sync peers'), false, 'no skew notice once caught up')
  t.match(clockNotice({ ...clock.status(), eventsAhead: 0 }), /uses the time its sync peers gave/)
  pass(1000)
  t.equal(clock.now(), T0 + 1000, 'and runs on')
  // a peer behind moves nothing
  clock.peerClock('c', T0 - 30 * 24 * H, false)
  t.equal(clock.now(), T0 + 1000)

  // a lone online peer a month ahead: followed, but not more than a day past what we knew
  const lone = await openClock(t, null, { sys: T0 })
  lone.clock.peerClock('x', T0 + 30 * 24 * H, true)
  t.equal(lone.clock.now(), T0 + MAX_LONE_STEP_MS, 'bounded to a day')
  lone.clock.peerGone('x')
  lone.clock.peerClock('x', T0 + 30 * 24 * H, true)
  t.equal(lone.clock.now(), T0 + MAX_LONE_STEP_MS, 'reconnecting does not push further')
  const honest = await openClock(t, null, { sys: T0 - 8 * H })
  honest.clock.peerClock('y', T0, true)
  t.equal(honest.clock.now(), T0, 'an online peer 8 h ahead is followed')
  // the system clock is then set (NTP): the peer step gives way, never backward
  honest.set(T0 + 1000 + 2 * H)
  t.equal(honest.clock.now(), T0 + 1000 + 2 * H)
  t.equal(honest.clock.status().source, 'system')

  // with an uplink of our own, peers move nothing
  const online = await openClock(t, null, { sys: T0 - 8 * H })
  online.clock.online = () => true
  online.clock.peerClock('p', T0, true)
  online.clock.peerClock('q', T0, false)
  t.equal(online.clock.now(), T0 - 8 * H)
})

t.test('phones: their clocks are reported, never followed', async t => {
  const { clock, pass } = await openClock(t, null, { sys: T0 - 8 * H })
  for (let i = 0; i < 5; i++) clock.phoneClock(`10.0.0.${i}`, T0 + i * 1000)
  clock.phoneClock('10.0.0.9', 0)
  t.equal(clock.now(), T0 - 8 * H, 'five agreeing phones do not move the clock')
  t.equal(clock.status().phones, 5, 'an implausible one is not counted')
  t.equal(clock.status().behindPhonesBy, 8 * 3600 + 2, 'the median')
  t.match(clockNotice(clock.status()), /5 phones seen in the last hour say this node&#39;s clock is 8 h 0 min behind/)
  pass(2 * H)
  t.equal(clock.status().behindPhonesBy, null, 'an hour later they are forgotten')
  for (let i = 0; i < 100; i++) clock.phoneClock(`10.0.1.${i}`, T0)
  t.equal(clock.status().phones, 64, 'bounded')
})

t.test('implausible peer clocks are ignored altogether', async t => {
  const { clock } = await openClock(t, null, { sys: T0 })
  for (const v of [0, -1, 1.5, Number.MAX_SAFE_INTEGER, 2 ** 60, Date.UTC(2300, 0, 1), NaN]) {
    clock.peerClock(`p${v}`, v, true)
    clock.peerClock(`q${v}`, v, false)
  }
  t.equal(clock.now(), T0)
  t.same(clock.status().behindPeersBy, null, 'not even reported')
})
