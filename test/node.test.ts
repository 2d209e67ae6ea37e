import t from 'tap'
import net from 'node:net'
import { Store } from '../node/src/store/store.js'
import { loadConfig } from '../node/src/config/load.js'
import { startNode } from '../node/src/node.js'
import { pino } from 'pino'
import { testLogger } from './helpers/log.js'
import { tempDir } from './portal/portal-helpers.js'

async function refused (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => { s.destroy(); resolve(false) })
    s.once('error', () => { resolve(true) })
  })
}

t.test('a step of close that fails does not keep the rest (the store) from closing', async t => {
  const dir = await tempDir(t, 'outpost-node-')
  const config = loadConfig({ argv: ['--port', '0', '--sync-port', '0', '--data', dir], env: {}, cwd: dir, isTTY: false })
  const node = await startNode(config, { log: testLogger() })
  const sync = node.sync
  const realClose = sync.close.bind(sync)
  sync.close = async () => { throw new Error('sync close broke') }
  t.teardown(realClose)

  await t.rejects(node.close(), /sync close broke/, 'close reports the failure')
  t.ok(await refused(node.address.port), 'the HTTP port is closed')
  // the data dir lock is released only by store.close()
  const again = await Store.open({ dir, limits: config.limits, store: config.store, log: testLogger() })
  t.pass('the store was closed: the data dir opens again')
  await again.close()
})

t.test('a busy sync port: the node still serves phones, and says so once', async t => {
  const dir = await tempDir(t, 'outpost-node-')
  const busy = net.createServer()
  await new Promise<void>(resolve => busy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { busy.close() })
  const port = (busy.address() as net.AddressInfo).port
  const config = loadConfig({ argv: ['--port', '0', '--sync-port', String(port), '--data', dir], env: {}, cwd: dir, isTTY: false })
  const lines: Array<{ msg: string }> = []
  const log = pino({ level: 'error' }, { write: (s: string) => { lines.push(JSON.parse(s)) } })
  const node = await startNode(config, { log })
  t.teardown(() => node.close())
  t.equal(node.sync.listening, null, 'no sync listener')
  t.same(lines.map(l => l.msg), ['cannot listen for sync connections'], 'one error line')
  const res = await fetch(`http://127.0.0.1:${node.address.port}/api/health`)
  t.equal(res.status, 200, 'the node is up')
})
