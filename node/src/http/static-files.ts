import { createReadStream, promises as fs, type Stats } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { gzip as gzipCb } from 'node:zlib'
import type { Middleware } from 'koa'
import type { Logger } from 'pino'

const gzip = promisify(gzipCb)

/** Strict CSP for HTML: no inline script or style, WebSocket back to the node only. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join('; ')

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm'
}

const COMPRESSIBLE = /^(text\/|image\/svg\+xml|application\/(json|manifest\+json|wasm))/

/**
 * A file name carrying a content hash: `app.3f9a1c.js`, `app-3f9a1c2b.js` (hex, 6+ chars with a
 * digit) or esbuild's `app-5HLXWTQK.js` (8 base32 chars with a digit). Such files never change.
 */
export const HASHED_NAME = /[.-](?:(?=[a-f]*\d)[0-9a-f]{6,64}|(?=[A-Z]*\d)[0-9A-Z]{8})\.[0-9a-z]+$/

/** Files smaller than this are not worth compressing; larger than MAX_GZIP_ON_THE_FLY are streamed as is. */
const MIN_GZIP = 1024
const MAX_GZIP_ON_THE_FLY = 4 * 1024 * 1024

export interface StaticFilesOptions {
  root: string
  log: Logger
  /** Bytes of on-the-fly gzip output kept in memory. Default 8 MiB. */
  gzipCacheBytes?: number
}

interface Resolved { file: string, stat: Stats }

/** Serves files under `root` for GET/HEAD; anything it does not find falls through to next(). */
export function staticFiles (opts: StaticFilesOptions): Middleware {
  const log = opts.log
  const maxCache = opts.gzipCacheBytes ?? 8 * 1024 * 1024
  const cache = new Map<string, { version: string, gz: Buffer | null }>()
  let cached = 0
  let rootPromise: Promise<string | null> | null = null
  let warned = false

  const realRoot = async (): Promise<string | null> => {
    rootPromise ??= fs.realpath(opts.root).catch(err => {
      if (!warned) log.warn({ err, root: opts.root }, 'static directory missing')
      warned = true
      // looked up again next time: the directory may appear (an update being unpacked)
      rootPromise = null
      return null
    })
    return await rootPromise
  }

  /** The file a real path inside root resolves to, or null (missing, a directory, a symlink out). */
  const inside = async (root: string, candidate: string): Promise<Resolved | null> => {
    try {
      const file = await fs.realpath(candidate)
      if (!file.startsWith(root + path.sep)) return null
      const stat = await fs.stat(file)
      return stat.isFile() ? { file, stat } : null
    } catch {
      return null
    }
  }

  const gzipped = async (r: Resolved, version: string): Promise<Buffer | null> => {
    const hit = cache.get(r.file)
    if (hit !== undefined && hit.version === version) return hit.gz
    const data = await fs.readFile(r.file)
    const out = await gzip(data, { level: 9 })
    const gz = out.length < data.length ? out : null
    if (hit !== undefined) {
      cached -= hit.gz?.length ?? 0
      cache.delete(r.file)
    }
    const size = gz?.length ?? 0
    if (size <= maxCache) {
      for (const [k, v] of cache) {
        if (cached + size <= maxCache) break
        cached -= v.gz?.length ?? 0
        cache.delete(k)
      }
      cache.set(r.file, { version, gz })
      cached += size
    }
    return gz
  }

  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return await next()
    let rel = decodePath(ctx.path)
    if (rel === null) return ctx.throw(400, 'malformed path')
    const segments = rel.split('/')
    if (rel.includes('\0') || segments.includes('..')) ctx.throw(400, 'invalid path')
    // dotfiles are never served
    if (segments.some(s => s.startsWith('.'))) return await next()
    if (rel.endsWith('/')) rel += 'index.html'

    const root = await realRoot()
    if (root === null) return await next()
    const r = await inside(root, path.join(root, rel))
    if (r === null) return await next()

    const ext = path.extname(r.file).toLowerCase()
    const type = TYPES[ext] ?? 'application/octet-stream'
    const version = `${r.stat.size.toString(16)}-${Math.floor(r.stat.mtimeMs).toString(16)}`
    let etag = `"${version}"`
    let body: Buffer | string = r.file
    let length = r.stat.size
    let encoded = false

    if (COMPRESSIBLE.test(type)) {
      ctx.vary('Accept-Encoding')
      if (r.stat.size >= MIN_GZIP && ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
        const pre = await inside(root, r.file + '.gz')
        if (pre !== null && pre.stat.mtimeMs >= r.stat.mtimeMs) {
          body = pre.file
          length = pre.stat.size
          etag = `"${version}-gzs"`
          encoded = true
        } else if (r.stat.size <= MAX_GZIP_ON_THE_FLY) {
          const gz = await gzipped(r, version)
          if (gz !== null) {
            body = gz
            length = gz.length
            etag = `"${version}-gz"`
            encoded = true
          }
        }
      }
    }

    ctx.set('Cache-Control', HASHED_NAME.test(path.basename(r.file)) ? 'public, max-age=31536000, immutable' : 'no-cache')
    if (type.startsWith('text/html')) ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY)
    ctx.set('ETag', etag)
    ctx.set('Last-Modified', r.stat.mtime.toUTCString())
    ctx.status = 200
    if (ctx.fresh) {
      ctx.status = 304
      return
    }
    ctx.type = type
    if (encoded) ctx.set('Content-Encoding', 'gzip')
    // koa destroys a stream body when the response finishes, HEAD included
    ctx.body = typeof body === 'string' ? createReadStream(body) : body
    ctx.length = length
  }
}

function decodePath (p: string): string | null {
  try {
    return decodeURIComponent(p)
  } catch {
    return null
  }
}
