import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import type { Test } from 'tap'
import { ROOT } from '../helpers/node-process.js'

export const PROVISION = join(ROOT, 'provisioning', 'provision.sh')
export const FIRSTBOOT = join(ROOT, 'provisioning', 'firstboot.sh')
export const UNINSTALL = join(ROOT, 'provisioning', 'uninstall.sh')

export interface ScriptResult { code: number | null, stdout: string, stderr: string }

/** Runs a provisioning script with bash and collects its output. */
export async function runScript (script: string, args: string[], opts: { input?: string, env?: Record<string, string> } = {}): Promise<ScriptResult> {
  return await new Promise((resolve, reject) => {
    const proc = spawn('bash', [script, ...args], { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    proc.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    proc.on('error', reject)
    // a script that exits without reading its stdin is fine
    proc.stdin.on('error', () => {})
    proc.on('close', code => { resolve({ code, stdout, stderr }) })
    proc.stdin.end(opts.input ?? '')
  })
}

/** A temporary directory removed when the test ends. */
export function tempDir (t: Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `outpost-${prefix}-`))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

/** path (relative to dir) -> "mode mtimeNs size" for every file under dir. */
export function snapshot (dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) { walk(p); continue }
      const s = statSync(p, { bigint: true })
      out[relative(dir, p)] = `${(s.mode & 0o7777n).toString(8)} ${s.mtimeNs} ${s.size}`
    }
  }
  walk(dir)
  return out
}

/** Settings a typical hotspot is provisioned with (the node binary of this machine). */
export const BASE_ARGS = ['--yes', '--country', 'DE', '--node-bin', process.execPath]
