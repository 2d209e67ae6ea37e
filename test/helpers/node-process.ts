import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = path.join(ROOT, 'bin', 'outpost.js')

function newestMtime (dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

/** Process tests run the compiled node (bin/ -> dist/), as a Pi does; `npm test` builds first. */
export function ensureBuilt (): void {
  const built = path.join(ROOT, 'dist', 'cli', 'main.js')
  if (existsSync(built) && statSync(built).mtimeMs >= newestMtime(path.join(ROOT, 'node', 'src'))) return
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' })
}

export interface NodeProcess {
  proc: ChildProcess
  port: number
  /** Every stdout/stderr line so far. */
  output: () => string
  /**
   * Resolves with the output once it matches `pattern`: a line the node logs after answering a request
   * may reach this pipe after the answer reaches the test. Rejects with the output after `ms`.
   */
  waitForOutput: (pattern: RegExp | string, ms?: number) => Promise<string>
  exited: Promise<number | null>
}

/** Spawns `outpost start` on loopback port 0 (optionally inside a netns) and resolves once it logs its address. */
export async function spawnNode (t: Test, args: string[], opts: { netns?: string, env?: Record<string, string> } = {}): Promise<NodeProcess> {
  ensureBuilt()
  const argv = [BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--no-log-pretty', '--sync-host', '127.0.0.1', '--sync-port', '0', ...args]
  // in a network namespace the test made: `ip netns exec` execs node in place (same pid)
  const env = opts.env === undefined ? process.env : { ...process.env, ...opts.env }
  const proc = opts.netns === undefined
    ? spawn(process.execPath, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('ip', ['netns', 'exec', opts.netns, process.execPath, ...argv], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const waiters = new Set<() => void>()
  const exited = new Promise<number | null>(resolve => proc.once('exit', code => resolve(code)))
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) { proc.kill('SIGKILL'); await exited }
  })
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d.toString()
      for (const w of waiters) w()
      for (const line of out.split('\n')) {
        if (!line.includes('listening')) continue
        try {
          const v = JSON.parse(line) as { port?: number }
          if (typeof v.port === 'number') { resolve(v.port); return }
        } catch {}
      }
    }
    proc.stdout.on('data', onData)
    proc.stderr.on('data', (d: Buffer) => { out += d.toString(); for (const w of waiters) w() })
    exited.then(code => reject(new Error(`node exited with ${code} before listening:\n${out}`)), () => {})
  })
  const matches = (pattern: RegExp | string): boolean => typeof pattern === 'string' ? out.includes(pattern) : pattern.test(out)
  const waitForOutput = async (pattern: RegExp | string, ms = 10_000): Promise<string> => {
    if (matches(pattern)) return out
    return await new Promise<string>((resolve, reject) => {
      const check = (): void => {
        if (!matches(pattern)) return
        done()
        resolve(out)
      }
      const timer = setTimeout(() => { done(); reject(new Error(`no output matching ${String(pattern)} within ${ms} ms:\n${out}`)) }, ms)
      const done = (): void => { clearTimeout(timer); waiters.delete(check) }
      waiters.add(check)
    })
  }
  return { proc, port, output: () => out, waitForOutput, exited }
}
