import t from 'tap'
import { IpTable, TokenBucket } from '../../node/src/relay/rate-limit.js'

/** A hand-driven clock, in ms. */
function clock (): { now: () => number, advance: (ms: number) => void } {
  let ms = 0
  return { now: () => ms, advance: d => { ms += d } }
}

t.test('a token bucket allows a burst, then the rate', async t => {
  const c = clock()
  const b = new TokenBucket(10, 20, c.now)
  let n = 0
  while (b.take()) n++
  t.equal(n, 20, 'starts full')
  c.advance(100)
  t.ok(b.take(), 'one token per 100 ms at 10/s')
  t.notOk(b.take())
  c.advance(60_000)
  t.ok(b.full(), 'never holds more than the burst')
  n = 0
  while (b.take()) n++
  t.equal(n, 20)
})

t.test('the IP table counts connections and events per address, and forgets idle ones', async t => {
  const c = clock()
  const ips = new IpTable(2, 3, c.now)
  t.ok(ips.connect('a'))
  t.ok(ips.connect('a'))
  t.notOk(ips.connect('a'), 'third connection refused')
  t.ok(ips.connect('b'), 'other addresses are separate')
  t.equal(ips.connections('a'), 2)
  ips.disconnect('a')
  t.ok(ips.connect('a'))

  t.ok(ips.takeEvent('a'))
  t.ok(ips.takeEvent('a'))
  t.ok(ips.takeEvent('a'))
  t.notOk(ips.takeEvent('a'), '3 per minute')
  c.advance(20_000)
  t.ok(ips.takeEvent('a'), 'one more after 20 s')

  ips.disconnect('b')
  ips.disconnect('b')
  t.equal(ips.connections('b'), 0, 'never below zero')
  ips.sweep()
  t.equal(ips.size, 1, 'b is idle and forgotten, a still has connections')
  ips.disconnect('a')
  ips.disconnect('a')
  ips.sweep()
  t.equal(ips.size, 1, 'a keeps its drained bucket until it refills')
  c.advance(60_000)
  ips.sweep()
  t.equal(ips.size, 0)
})
