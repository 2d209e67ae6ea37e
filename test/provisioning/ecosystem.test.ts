import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { BIN, ROOT, ensureBuilt } from '../helpers/node-process.js'
import { tempDir } from './run-script.js'

interface App { name: string, script: string, args: string[], cwd: string, instances: number, exec_mode: string, kill_timeout: number, env: Record<string, string> }

const load = (): { apps: App[] } => {
  const require = createRequire(import.meta.url)
  const path = join(ROOT, 'ecosystem.config.cjs')
  delete require.cache[path]
  return require(path) as { apps: App[] }
}

t.test('the pm2 ecosystem file parses and runs one outpost process from bin/outpost.js', async t => {
  const { apps } = load()
  t.equal(apps.length, 1)
  const app = apps[0] as App
  t.equal(app.name, 'outpost')
  t.equal(app.script, BIN, 'points at bin/outpost.js of this checkout')
  t.ok(existsSync(app.script))
  t.same(app.args, ['start'])
  t.equal(app.cwd, ROOT)
  t.equal(app.instances, 1, 'one process per data directory')
  t.equal(app.exec_mode, 'fork')
  t.ok(app.kill_timeout >= 30000, 'time for a clean close')
  // the provisioned config is used when it exists, not invented when it does not
  t.equal(app.env.OUTPOST_CONFIG !== undefined, existsSync('/etc/outpost/config.json'))
})

t.test('what pm2 would start does start a node (script, args and env as pm2 passes them)', async t => {
  ensureBuilt()
  const app = load().apps[0] as App
  const data = tempDir(t, 'pm2')
  const proc = spawn(process.execPath, [app.script, ...app.args, '--host', '127.0.0.1', '--port', '0', '--data', data], {
    cwd: app.cwd,
    env: { ...process.env, ...app.env, OUTPOST_CONFIG: '' },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  t.teardown(() => { if (proc.exitCode === null) proc.kill('SIGKILL') })
  const exited = new Promise<number | null>(resolve => proc.once('exit', resolve))
  let out = ''
  await new Promise<void>((resolve, reject) => {
    proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('"msg":"started"')) resolve() })
    exited.then(code => { reject(new Error(`exited ${code}: ${out}`)) }, reject)
  })
  t.notMatch(out, /\u001b\[/, 'JSON logs, not pretty ones (OUTPOST_LOG_PRETTY=false)')
  proc.kill('SIGINT')
  t.equal(await exited, 0, 'SIGINT (pm2\'s stop signal) closes it cleanly')
})
