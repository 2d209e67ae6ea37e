import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSdNotifier, watchdogInterval } from '../../node/src/system/sd-notify.js'
import { BIN, ROOT, ensureBuilt } from '../helpers/node-process.js'
import { testLogger } from '../helpers/log.js'

const LISTENER = join(ROOT, 'test', 'provisioning', 'fixtures', 'notify-listener.py')

/** A unix datagram socket standing in for systemd's; collects the messages it receives. */
async function notifySocket (t: Test): Promise<{ path: string, messages: string[], next: (pred: (m: string) => boolean) => Promise<string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-notify-'))
  const path = join(dir, 'notify.sock')
  const proc: ChildProcess = spawn('python3', [LISTENER, path], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { proc.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }) })
  const messages: string[] = []
  const waiters: Array<{ pred: (m: string) => boolean, resolve: (m: string) => void }> = []
  let buf = ''
  let bound: () => void = () => {}
  const ready = new Promise<void>(resolve => { bound = resolve })
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString()
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, i)) as { bound?: boolean, message?: string }
      buf = buf.slice(i + 1)
      if (line.bound === true) bound()
      if (line.message === undefined) continue
      messages.push(line.message)
      for (const w of waiters.splice(0)) {
        if (w.pred(line.message)) w.resolve(line.message)
        else waiters.push(w)
      }
    }
  })
  await ready
  const next = async (pred: (m: string) => boolean): Promise<string> => {
    const seen = messages.find(pred)
    if (seen !== undefined) return seen
    return await new Promise(resolve => waiters.push({ pred, resolve }))
  }
  return { path, messages, next }
}

t.test('watchdog interval is half of WATCHDOG_USEC, only for the process it names', async t => {
  t.equal(watchdogInterval({ WATCHDOG_USEC: '30000000' }, 42), 15000)
  t.equal(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42), 15000)
  t.equal(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 42), null)
  t.equal(watchdogInterval({}, 42), null)
  t.equal(watchdogInterval({ WATCHDOG_USEC: 'soon' }, 42), null)
})

t.test('without NOTIFY_SOCKET nothing is sent', async t => {
  const sent: string[][] = []
  const n = createSdNotifier({ env: { WATCHDOG_USEC: '1000' }, log: testLogger(), send: async a => { sent.push(a) } })
  t.equal(n.enabled, false)
  n.ready('up')
  n.status('x')
  n.stopping()
  await n.close()
  t.same(sent, [])
})

t.test('a failing systemd-notify is logged, never thrown', async t => {
  const n = createSdNotifier({ env: { NOTIFY_SOCKET: '/nonexistent/socket' }, log: testLogger(), send: async () => { throw new Error('boom') } })
  n.ready('up')
  n.stopping()
  await n.close()
  t.pass('no rejection escaped')
})

t.test('outpost start sends READY, STATUS, watchdog pings and STOPPING through systemd-notify', async t => {
  ensureBuilt()
  const sock = await notifySocket(t)
  const data = mkdtempSync(join(tmpdir(), 'outpost-notify-data-'))
  t.teardown(() => { rmSync(data, { recursive: true, force: true }) })
  const proc = spawn(process.execPath, [BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--data', data, '--no-log-pretty'], {
    cwd: ROOT,
    // 400 ms watchdog: a ping every 200 ms
    env: { ...process.env, NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '400000' },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const exited = new Promise<number | null>(resolve => proc.once('exit', code => { resolve(code) }))
  t.teardown(() => { if (proc.exitCode === null) proc.kill('SIGKILL') })

  const ready = await sock.next(m => m.includes('READY=1'))
  t.match(ready, /^READY=1\nSTATUS=serving on 127\.0\.0\.1:\d+$/, 'READY=1 with the address as status')
  await sock.next(m => m === 'WATCHDOG=1')
  const pingsBefore = sock.messages.filter(m => m === 'WATCHDOG=1').length
  await new Promise(resolve => setTimeout(resolve, 700))
  const pings = sock.messages.filter(m => m === 'WATCHDOG=1').length
  t.ok(pings >= pingsBefore + 2, `watchdog keeps pinging (${pings} pings)`)
  t.ok(sock.messages.lastIndexOf('WATCHDOG=1') > sock.messages.indexOf(ready), 'pings go on after READY')

  proc.kill('SIGTERM')
  const stopping = await sock.next(m => m.startsWith('STOPPING=1'))
  t.equal(stopping, 'STOPPING=1\nSTATUS=closing on SIGTERM')
  t.equal(await exited, 0, 'clean exit')
  const after = sock.messages.length
  await new Promise(resolve => setTimeout(resolve, 300))
  t.equal(sock.messages.slice(after).filter(m => m === 'WATCHDOG=1').length, 0, 'no pings after STOPPING')
  t.ok(sock.messages.indexOf(stopping) > sock.messages.lastIndexOf('WATCHDOG=1'), 'STOPPING is the last word')
})
