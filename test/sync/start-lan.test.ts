import t from 'tap'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { createCommunity } from '../../node/src/sync/community.js'
import { advertiseOn, startLan } from '../../node/src/sync/start-lan.js'
import { defaultConfig } from '../../node/src/config/load.js'
import { createSyncNode } from './sync-helpers.js'

const v4 = (address: string, internal = false) => ({ address, netmask: '255.255.255.0', family: 'IPv4' as const, mac: '00:00:00:00:00:00', internal, cidr: `${address}/24` })
const system = { lo: [v4('127.0.0.1', true)], wlan0: [v4('10.42.0.1')], eth0: [v4('192.168.1.20')] }

t.test('where LAN discovery advertises: configured interfaces, the sync address\'s interface, or all', async t => {
  t.same(advertiseOn(['wlan0'], '192.168.1.20', system), ['wlan0'], 'configured interfaces win')
  t.equal(advertiseOn([], '0.0.0.0', system), undefined, 'a wildcard sync address: every interface')
  t.equal(advertiseOn([], '::', system), undefined)
  t.same(advertiseOn([], '10.42.0.1', system), ['wlan0'], 'sync bound to the AP address: only the AP')
  t.same(advertiseOn([], '192.168.1.20', system), ['eth0'])
  t.equal(advertiseOn([], '10.9.9.9', system), undefined, 'an address no interface holds (yet): every interface')
  t.equal(advertiseOn([], '127.0.0.1', system), null, 'loopback: nothing a LAN peer could reach')
  t.equal(advertiseOn([], '::1', system), null)
})

t.test('--lan with the sync port on loopback advertises nothing and says why', async t => {
  const node = await createSyncNode(t, createCommunity())
  const lines: Array<{ msg: string, level: number }> = []
  const log = pino({ level: 'warn' }, new Writable({ write (chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString())); done() } }))
  const config = { ...defaultConfig({ cwd: process.cwd(), isTTY: false }), lan: true }
  t.equal(await startLan(config, node.sync, log), null, 'no discovery started (no socket on the machine\'s interfaces)')
  t.match(lines, [{ msg: /sync port listens on loopback only/ }])
})
