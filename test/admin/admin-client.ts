import { request } from 'node:http'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { ROOT } from '../helpers/node-process.js'

export interface Res { status: number, headers: Record<string, string | string[] | undefined>, body: string }

/**
 * A browser-like client of /admin over plain HTTP: keeps its cookies (name -> value), sends
 * from a chosen loopback address (the login limit is per address).
 */
export class AdminClient {
  readonly cookies = new Map<string, string>()

  constructor (readonly port: number, readonly from = '127.0.0.1') {}

  async get (route: string): Promise<Res> {
    return await this.send('GET', route)
  }

  /** An urlencoded form POST. */
  async post (route: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Res> {
    return await this.send('POST', route, new URLSearchParams(fields).toString(), { 'Content-Type': 'application/x-www-form-urlencoded', ...headers })
  }

  async send (method: string, route: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Res> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    return await new Promise((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: this.port,
        localAddress: this.from,
        method,
        path: route,
        headers: { ...(cookie === '' ? {} : { Cookie: cookie }), ...(body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(body)) }), ...headers }
      }, res => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => { text += d })
        res.on('end', () => {
          for (const c of res.headers['set-cookie'] ?? []) {
            const [pair] = c.split(';')
            const i = (pair ?? '').indexOf('=')
            const name = (pair ?? '').slice(0, i)
            const value = (pair ?? '').slice(i + 1)
            if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(name)
            else this.cookies.set(name, value)
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text })
        })
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    })
  }

  /** The CSRF token of the forms on the last page fetched from `route`. */
  async csrf (route = '/admin'): Promise<string> {
    const page = await this.get(route)
    const m = /name="csrf" value="([^"]+)"/.exec(page.body)
    if (m === null) throw new Error(`no form token on ${route} (${page.status}): ${page.body.slice(0, 300)}`)
    return m[1] as string
  }

  async login (password: string): Promise<Res> {
    return await this.post('/admin/login', { csrf: await this.csrf(), password })
  }
}

/** Writes the scrypt hash of `password` as provisioning does (its own hash-password.mjs). */
export function writePasswordFile (dir: string, password: string): string {
  const file = path.join(dir, 'admin-password.scrypt')
  const line = execFileSync(process.execPath, [path.join(ROOT, 'provisioning', 'lib', 'hash-password.mjs')], { input: password, encoding: 'utf8' })
  writeFileSync(file, line, { mode: 0o600 })
  return file
}

/** The text of a page with tags dropped and entities of the escaper undone (for matching what a person reads). */
export function textOf (html: string): string {
  return html.replace(/<[^>]*>/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ')
}
