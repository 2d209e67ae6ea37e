import { promises as fs } from 'node:fs'
import path from 'node:path'
import { createCommunity, publicPart, readCommunityFile, resolveCommunity, writeCommunityFile, encodeCommunity, type Community } from './community.js'
import { admitNode, encodeAdmission, readAdmissionFile, writeAdmissionFile } from './admission.js'
import { loadIdentity } from './identity.js'
import { discoveryId } from './protocol.js'
import { ADMISSION_FILE } from './start-sync.js'

import { COMMUNITY_USAGE } from './community-usage.js'

export { COMMUNITY_USAGE }

export interface CommunityIo {
  stdout: { write (chunk: string): unknown }
  cwd: string
}

/** A usage error: exit code 2 with this message. */
export class CommunityUsageError extends Error {
  readonly code = 'ERR_USAGE'
}

const FLAGS_WITH_VALUE = new Set(['out', 'name', 'community', 'data', 'node'])
const BOOLEAN_FLAGS = new Set(['open', 'public', 'relay'])

function parse (args: string[]): { flags: Map<string, string | true>, rest: string[] } {
  const flags = new Map<string, string | true>()
  const rest: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string
    if (!a.startsWith('--')) { rest.push(a); continue }
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined]
    if (BOOLEAN_FLAGS.has(name)) { flags.set(name, true); continue }
    if (!FLAGS_WITH_VALUE.has(name)) throw new CommunityUsageError(`outpost community: unknown option --${name}`)
    const v = inline ?? args[++i]
    if (v === undefined || v === '') throw new CommunityUsageError(`outpost community: --${name} needs a value`)
    flags.set(name, v)
  }
  return { flags, rest }
}

const str = (flags: Map<string, string | true>, name: string): string | undefined => {
  const v = flags.get(name)
  return typeof v === 'string' ? v : undefined
}

function describe (c: Community): string {
  return JSON.stringify({ name: c.name, publicKey: c.publicKey.toString('hex'), open: c.open, discoveryId: discoveryId(c.publicKey), hasSecret: c.secretKey !== null }, null, 2) + '\n'
}

/** `outpost community …`: resolves the exit code (0, or throws coded errors / usage errors). */
export async function communityCommand (args: string[], io: CommunityIo): Promise<number> {
  const [sub, ...more] = args
  const { flags, rest } = parse(more)
  const abs = (p: string): string => path.resolve(io.cwd, p)
  switch (sub) {
    case 'create': {
      const out = str(flags, 'out')
      if (out === undefined) throw new CommunityUsageError('outpost community create: --out FILE is required')
      if (await fs.stat(abs(out)).then(() => true, () => false)) throw new CommunityUsageError(`outpost community create: ${out} exists; not overwriting a community`)
      const c = createCommunity({ ...(str(flags, 'name') === undefined ? {} : { name: str(flags, 'name') as string }), open: flags.has('open') })
      await writeCommunityFile(abs(out), c)
      io.stdout.write(`created ${c.open ? 'an open' : 'a closed'} community "${c.name}" in ${out} (keep this file secret: it admits nodes)\n` + describe(c))
      return 0
    }
    case 'show': {
      const c = await load(flags, abs)
      if (!flags.has('public')) { io.stdout.write(describe(c)); return 0 }
      const out = str(flags, 'out')
      if (out === undefined) io.stdout.write(encodeCommunity(publicPart(c)))
      else {
        await writeCommunityFile(abs(out), publicPart(c))
        io.stdout.write(`wrote the public part of "${c.name}" to ${out}\n`)
      }
      return 0
    }
    case 'request': {
      const data = str(flags, 'data')
      if (data === undefined) throw new CommunityUsageError('outpost community request: --data DIR is required')
      const kp = await loadIdentity(abs(data), { create: true })
      const key = (kp as { publicKey: Buffer }).publicKey.toString('hex')
      io.stdout.write(`${key}\nAsk the organiser to run:\n  outpost community admit --community COMMUNITY_FILE --node ${key} --out admission.json\n(for a relay, add --relay: it may carry the community's logs but never add one)\nthen: outpost community install --data ${data} admission.json\n`)
      return 0
    }
    case 'admit': {
      const file = str(flags, 'community')
      if (file === undefined) throw new CommunityUsageError('outpost community admit: --community FILE (the organiser\'s copy, with the secret) is required')
      const c = await readCommunityFile(abs(file))
      const data = str(flags, 'data')
      const nodeHex = str(flags, 'node')
      if ((data === undefined) === (nodeHex === undefined)) throw new CommunityUsageError('outpost community admit: give one of --node KEY or --data DIR')
      let node: Buffer
      if (nodeHex !== undefined) {
        if (!/^[0-9a-fA-F]{64}$/.test(nodeHex)) throw new CommunityUsageError('outpost community admit: --node must be 64 hex characters (see outpost community request)')
        node = Buffer.from(nodeHex, 'hex')
      } else {
        node = ((await loadIdentity(abs(data as string), { create: true })) as { publicKey: Buffer }).publicKey
      }
      const role = flags.has('relay') ? 'relay' : 'node'
      const cert = { community: c.publicKey, node, signature: admitNode(c, node, role), role } as const
      const out = data !== undefined ? path.join(abs(data), ADMISSION_FILE) : str(flags, 'out')
      if (out === undefined) io.stdout.write(encodeAdmission(cert))
      else {
        await writeAdmissionFile(abs(out), cert)
        io.stdout.write(`admitted ${role} ${node.toString('hex')} to "${c.name}": certificate in ${out}\n`)
      }
      return 0
    }
    case 'install': {
      const data = str(flags, 'data')
      const certFile = rest[0]
      if (data === undefined || certFile === undefined) throw new CommunityUsageError('outpost community install: --data DIR CERTIFICATE')
      const cert = await readAdmissionFile(abs(certFile))
      if (cert === null) throw Object.assign(new Error(`cannot read ${certFile}`), { code: 'ENOENT' })
      const kp = await loadIdentity(abs(data))
      if (kp === null || !kp.publicKey.equals(cert.node)) throw Object.assign(new Error(`${certFile} admits node ${cert.node.toString('hex')}, not the node of ${data}`), { code: 'ERR_ADMISSION' })
      await writeAdmissionFile(path.join(abs(data), ADMISSION_FILE), cert)
      io.stdout.write(`installed; restart the node to use it\n`)
      return 0
    }
    default:
      throw new CommunityUsageError(sub === undefined ? COMMUNITY_USAGE : `outpost community: unknown subcommand "${sub}" (create, show, request, admit, install)`)
  }
}

async function load (flags: Map<string, string | true>, abs: (p: string) => string): Promise<Community> {
  const file = str(flags, 'community')
  if (file !== undefined) return await readCommunityFile(abs(file))
  const data = str(flags, 'data')
  if (data === undefined) throw new CommunityUsageError('outpost community show: --community FILE or --data DIR is required')
  return (await resolveCommunity(null, abs(data))).community
}
