import { request } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'
import { loadConfig } from '../../node/src/config/load.js'
import { startNode, type OutpostNode } from '../../node/src/node.js'
import { testLogger } from '../helpers/log.js'

export interface Res { status: number, headers: Record<string, string | string[] | undefined>, body: string }

export interface Req {
  /** Host header; omitted = 127.0.0.1:port. */
  host?: string
  path: string
  method?: string
  ua?: string
  /** Local address to send from: each loopback address is a different phone. */
  from?: string
  headers?: Record<string, string>
  body?: string
}

/** Raw HTTP to 127.0.0.1:port with exactly the Host, path and agent given. */
export async function send (port: number, r: Req): Promise<Res> {
  const headers: Record<string, string> = { ...r.headers }
  headers.Host = r.host ?? `127.0.0.1:${port}`
  if (r.ua !== undefined) headers['User-Agent'] = r.ua
  if (r.body !== undefined) {
    headers['Content-Type'] ??= 'application/x-www-form-urlencoded'
    headers['Content-Length'] = String(Buffer.byteLength(r.body))
  }
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: r.path, method: r.method ?? 'GET', headers, localAddress: r.from, agent: false }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(r.body)
  })
}

/** POST /portal/continue from `from` (the splash's form submit). */
export async function continueFrom (port: number, from: string): Promise<Res> {
  return await send(port, { path: '/portal/continue', method: 'POST', from, body: '' })
}

export async function tempDir (t: Test, prefix = 'outpost-portal-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A real node in-process on 127.0.0.1, port 0, fresh data dir; closed at teardown. */
export async function startPortalNode (t: Test, argv: string[] = [], dataDir?: string): Promise<OutpostNode & { port: number, dataDir: string }> {
  const dir = dataDir ?? await tempDir(t)
  const config = loadConfig({ argv: ['--host', '127.0.0.1', '--port', '0', '--sync-host', '127.0.0.1', '--sync-port', '0', '--data', dir, ...argv], env: {}, cwd: dir, isTTY: false })
  const node = await startNode(config, { log: testLogger() })
  t.teardown(() => node.close())
  return Object.assign(node, { port: node.address.port, dataDir: dir })
}
