// Network namespaces for tests that need real multicast or several hosts: isolated namespaces
// joined by bridges that live in a namespace of their own. Nothing here touches the machine's
// own interfaces or routes, and every namespace and process is removed in t.teardown (and at
// process exit, and stale ones of dead test processes at the next start).
//
//   const skip = netnsUnavailable()           // not root, or no iproute2
//   t.test('...', { skip: skip ?? false }, async t => {
//     const lab = await createLab(t)
//     const br = await lab.bridge()
//     const a = await lab.host('a', [{ bridge: br, ifname: 'eth0', cidr: '10.99.1.1/24' }])
//     const node = lab.spawn(a, process.execPath, [BIN, 'start', '--lan', '--host', '0.0.0.0'], { cwd: ROOT })
//     await node.waitFor(line => line.includes('listening'))   // stdout lines, as they come
//   })
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import type { Test } from 'tap'

const PREFIX = 'otest-'
const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find(p => existsSync(p))

/** Why namespace tests cannot run here, or null when they can (root and iproute2). */
export function netnsUnavailable (): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'network namespaces need root (CI runs as root)'
  if (IP === undefined) return 'the ip command (iproute2) is not installed'
  return null
}

function ip (args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(IP as string, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || err.message}`))
      else resolve(stdout)
    })
  })
}

function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Namespaces left by test processes that died before their teardown ran (ours only). */
async function removeStale (): Promise<void> {
  const list = await ip(['netns', 'list'])
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? ''
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)
    if (m !== null && !pidAlive(Number(m[1]))) await ip(['netns', 'del', name]).catch(() => {})
  }
}

/** A process running inside a namespace, with its stdout as lines. */
export interface NsProcess {
  proc: ChildProcess
  /** stdout lines so far. */
  lines: string[]
  /** stderr lines so far. */
  errLines: string[]
  /** stdout lines parsed as JSON (lines that are not JSON are skipped). */
  json: () => unknown[]
  /** stdout and stderr so far, for failure messages. */
  output: () => string
  /** Resolves with the first stdout line (past or future) `match` accepts; rejects on timeout or exit. */
  waitFor: (match: (line: string) => boolean, timeoutMs?: number) => Promise<string>
  /** Like waitFor over stderr lines. */
  waitForStderr: (match: (line: string) => boolean, timeoutMs?: number) => Promise<string>
  /** Like waitFor over JSON lines. */
  waitForJson: <T = Record<string, unknown>>(match: (value: T) => boolean, timeoutMs?: number) => Promise<T>
  exited: Promise<number | null>
  /** Sends the signal (default SIGTERM) and waits for the exit; SIGKILL after `graceMs`. */
  stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<number | null>
}

export interface Lab {
  /** A new namespace with loopback up; returns its name. */
  namespace: (label: string) => Promise<string>
  /** A new bridge (in the lab's hub namespace); returns its name there. */
  bridge: () => Promise<string>
  /** A veth pair: `ifname` with address `cidr` (e.g. 10.99.1.2/24) in `ns`, the other end on `bridge`. */
  connect: (ns: string, bridge: string, opts: { ifname: string, cidr: string }) => Promise<void>
  /** A namespace joined to bridges: `host('a', [{ bridge, ifname: 'eth0', cidr: '10.99.1.1/24' }])`. */
  host: (label: string, links: Array<{ bridge: string, ifname: string, cidr: string }>) => Promise<string>
  /** Runs `ip <args>` inside a namespace (`ip -n ns ...`) and returns stdout. */
  ip: (ns: string, args: string[]) => Promise<string>
  /** Spawns a command inside a namespace; killed in teardown. */
  spawn: (ns: string, command: string, args: string[], opts?: { cwd?: string, env?: NodeJS.ProcessEnv }) => NsProcess
}

/**
 * A set of namespaces and bridges that lives as long as the test `t`.
 * Call netnsUnavailable() first and skip with its reason when it is not null.
 */
export async function createLab (t: Test): Promise<Lab> {
  const reason = netnsUnavailable()
  if (reason !== null) throw new Error(reason)
  await removeStale()
  const id = `${PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`
  const namespaces: string[] = []
  const procs: NsProcess[] = []
  let hub: string | null = null
  let count = 0

  const cleanupSync = (): void => {
    for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL')
    for (const ns of namespaces) {
      try { execFileSync(IP as string, ['netns', 'del', ns], { stdio: 'ignore' }) } catch {}
    }
  }
  process.once('exit', cleanupSync)
  t.teardown(async () => {
    process.removeListener('exit', cleanupSync)
    await Promise.all(procs.map(p => p.stop('SIGKILL', 0)))
    // hub last: deleting a namespace removes its ends of the veth pairs
    for (const ns of namespaces.reverse()) await ip(['netns', 'del', ns]).catch(() => {})
    namespaces.length = 0
  })

  const namespace = async (label: string): Promise<string> => {
    const name = `${id}-${label}`.slice(0, 60)
    await ip(['netns', 'add', name])
    namespaces.push(name)
    await ip(['-n', name, 'link', 'set', 'lo', 'up'])
    return name
  }

  const bridge = async (): Promise<string> => {
    if (hub === null) hub = await namespace('hub')
    const name = `br${count++}`
    // no snooping: every multicast frame is flooded, like a dumb switch
    await ip(['-n', hub, 'link', 'add', name, 'type', 'bridge', 'mcast_snooping', '0'])
    await ip(['-n', hub, 'link', 'set', name, 'up'])
    return name
  }

  const connect = async (ns: string, br: string, opts: { ifname: string, cidr: string }): Promise<void> => {
    if (hub === null) throw new Error('create a bridge first')
    const port = `p${count++}`
    await ip(['-n', hub, 'link', 'add', port, 'type', 'veth', 'peer', 'name', opts.ifname, 'netns', ns])
    await ip(['-n', hub, 'link', 'set', port, 'master', br, 'up'])
    await ip(['-n', ns, 'addr', 'add', opts.cidr, 'dev', opts.ifname])
    await ip(['-n', ns, 'link', 'set', opts.ifname, 'up'])
  }

  const spawnIn = (ns: string, command: string, args: string[], opts: { cwd?: string, env?: NodeJS.ProcessEnv } = {}): NsProcess => {
    const proc = spawn(IP as string, ['netns', 'exec', ns, command, ...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    const p = nsProcess(proc)
    procs.push(p)
    return p
  }

  const host = async (label: string, links: Array<{ bridge: string, ifname: string, cidr: string }>): Promise<string> => {
    const ns = await namespace(label)
    for (const l of links) await connect(ns, l.bridge, l)
    return ns
  }

  return { namespace, bridge, connect, host, ip: (ns, args) => ip(['-n', ns, ...args]), spawn: spawnIn }
}

function nsProcess (proc: ChildProcess): NsProcess {
  const lines: string[] = []
  const errLines: string[] = []
  let all = ''
  type Waiter = { match: (line: string) => boolean, resolve: (line: string) => void }
  const waiters = { out: new Set<Waiter>(), err: new Set<Waiter>() }
  const exited = new Promise<number | null>(resolve => proc.once('exit', code => resolve(code)))
  const read = (stream: NodeJS.ReadableStream, into: string[], set: Set<Waiter>): void => {
    createInterface({ input: stream }).on('line', line => {
      into.push(line)
      all += line + '\n'
      for (const w of set) if (w.match(line)) { set.delete(w); w.resolve(line) }
    })
  }
  read(proc.stdout as NodeJS.ReadableStream, lines, waiters.out)
  read(proc.stderr as NodeJS.ReadableStream, errLines, waiters.err)

  const parse = (line: string): unknown => {
    try { return JSON.parse(line) } catch { return undefined }
  }

  const waitIn = (from: string[], set: Set<Waiter>, match: (line: string) => boolean, timeoutMs = 15_000): Promise<string> => {
    const seen = from.find(match)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const w = { match, resolve: (line: string) => { clearTimeout(timer); resolve(line) } }
      const timer = setTimeout(() => { set.delete(w); reject(new Error(`no matching line within ${timeoutMs} ms; output:\n${all}`)) }, timeoutMs)
      set.add(w)
      exited.then(code => {
        if (!set.delete(w)) return
        clearTimeout(timer)
        reject(new Error(`process exited (${code}) before a matching line; output:\n${all}`))
      }, () => {})
    })
  }

  const waitFor = (match: (line: string) => boolean, timeoutMs?: number): Promise<string> => waitIn(lines, waiters.out, match, timeoutMs)

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<number | null> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return await exited
    proc.kill(signal)
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs)
    const code = await exited
    clearTimeout(timer)
    return code
  }

  return {
    proc,
    lines,
    errLines,
    json: () => lines.map(parse).filter(v => v !== undefined),
    output: () => all,
    waitFor,
    waitForStderr: (match, timeoutMs) => waitIn(errLines, waiters.err, match, timeoutMs),
    waitForJson: <T>(match: (value: T) => boolean, timeoutMs?: number) =>
      waitFor(line => { const v = parse(line); return v !== undefined && match(v as T) }, timeoutMs).then(line => JSON.parse(line) as T),
    exited,
    stop
  }
}
