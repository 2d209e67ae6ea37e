import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomInt } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures')
export const IS_ROOT = process.getuid?.() === 0

export function ip (...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/**
 * Two network namespaces made for one test, joined by a veth pair on a private /30:
 * `inet` (the internet: it holds the DHT on `dhtHost`, an address on its loopback) and `site`
 * (the node). The site reaches `dhtHost` only through a default route via `gateway`, which the
 * test adds and removes: that is the uplink. Nothing touches the machine's own interfaces.
 */
export interface Sites {
  inet: string
  site: string
  /** The site's end of the veth. */
  siteIf: string
  siteAddr: string
  gateway: string
  dhtHost: string
  addDefaultRoute: () => void
  delDefaultRoute: () => void
}

/** Namespaces left by a test process that was killed before its teardown ran. */
function removeStale (): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const m = /^(opsw-(?:inet|site)-(\d+)-\d+)/.exec(line)
    if (m === null) continue
    try { process.kill(Number(m[2]), 0); continue } catch {}
    try { ip('netns', 'del', m[1] as string) } catch {}
  }
}

export function makeSites (t: Test): Sites {
  removeStale()
  const id = `${process.pid % 10000}${randomInt(100, 1000)}`
  const octet = randomInt(1, 250)
  const inet = `opsw-inet-${process.pid}-${id}`
  const site = `opsw-site-${process.pid}-${id}`
  const inetIf = `opi${id}`
  const siteIf = `ops${id}`
  const gateway = `10.213.${octet}.1`
  const siteAddr = `10.213.${octet}.2`
  const dhtHost = `10.214.${octet}.1`
  t.teardown(() => {
    for (const ns of [inet, site]) { try { ip('netns', 'del', ns) } catch {} }
  })
  ip('netns', 'add', inet)
  ip('netns', 'add', site)
  ip('-n', inet, 'link', 'set', 'lo', 'up')
  ip('-n', site, 'link', 'set', 'lo', 'up')
  ip('link', 'add', inetIf, 'netns', inet, 'type', 'veth', 'peer', 'name', siteIf, 'netns', site)
  ip('-n', inet, 'addr', 'add', `${gateway}/30`, 'dev', inetIf)
  ip('-n', site, 'addr', 'add', `${siteAddr}/30`, 'dev', siteIf)
  ip('-n', inet, 'addr', 'add', `${dhtHost}/32`, 'dev', 'lo')
  ip('-n', inet, 'link', 'set', inetIf, 'up')
  ip('-n', site, 'link', 'set', siteIf, 'up')
  return {
    inet,
    site,
    siteIf,
    siteAddr,
    gateway,
    dhtHost,
    addDefaultRoute: () => { ip('-n', site, 'route', 'add', 'default', 'via', gateway, 'dev', siteIf) },
    delDefaultRoute: () => { ip('-n', site, 'route', 'del', 'default', 'via', gateway, 'dev', siteIf) }
  }
}

export interface UdpCounters {
  /** Datagrams delivered to a socket. */
  in: number
  /** Datagrams sent. */
  out: number
  /** Datagrams that arrived for a port nobody listens on. */
  noPorts: number
}

/** A namespace's UDP counters so far (/proc/net/snmp is per namespace). */
export function udpCounters (ns: string): UdpCounters {
  const snmp = execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp'], { encoding: 'utf8' })
  const lines = snmp.split('\n').filter(l => l.startsWith('Udp:'))
  const names = (lines[0] ?? '').split(/\s+/)
  const values = (lines[1] ?? '').split(/\s+/).map(Number)
  const get = (name: string): number => values[names.indexOf(name)] ?? 0
  return { in: get('InDatagrams'), out: get('OutDatagrams'), noPorts: get('NoPorts') }
}

export interface Child {
  proc: ChildProcess
  /** Every JSON line the child printed on stdout. */
  events: Array<Record<string, unknown>>
  /** stderr (the child's pino logs). */
  logs: () => Array<{ level: number, msg: string }>
  /** The first matching event printed from index `from` on (default: from now). */
  waitFor: (pred: (e: Record<string, unknown>) => boolean, ms: number, what: string, from?: number) => Promise<Record<string, unknown>>
  send: (line: string) => void
}

/** A node script from fixtures/ run inside a namespace; killed at teardown. */
export function spawnIn (t: Test, ns: string, script: string, arg: unknown): Child {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, path.join(FIXTURES, script), JSON.stringify(arg)], { stdio: ['pipe', 'pipe', 'pipe'] })
  const events: Array<Record<string, unknown>> = []
  let stderr = ''
  let partial = ''
  const waiters = new Set<() => void>()
  proc.stdout?.on('data', (d: Buffer) => {
    partial += d.toString()
    const lines = partial.split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      if (line.trim() === '') continue
      events.push(JSON.parse(line) as Record<string, unknown>)
    }
    for (const w of waiters) w()
  })
  proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<void>(resolve => { proc.once('exit', () => { resolve() }) })
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) { proc.kill('SIGKILL'); await exited }
  })
  const logs = (): Array<{ level: number, msg: string }> => stderr.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as { level: number, msg: string })
  const waitFor = async (pred: (e: Record<string, unknown>) => boolean, ms: number, what: string, from = events.length): Promise<Record<string, unknown>> => {
    const start = from
    return await new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = events.slice(start).find(pred)
        if (hit !== undefined) { done(); resolve(hit) }
      }
      const timer = setTimeout(() => { done(); reject(new Error(`${script}: no ${what} within ${ms} ms; stderr:\n${stderr.slice(-3000)}`)) }, ms)
      const done = (): void => { clearTimeout(timer); waiters.delete(check) }
      waiters.add(check)
      check()
    })
  }
  return { proc, events, logs, waitFor, send: line => { proc.stdin?.write(line + '\n') } }
}
