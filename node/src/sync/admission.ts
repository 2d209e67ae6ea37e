import { promises as fs } from 'node:fs'
import crypto from 'hypercore-crypto'
import type { Community } from './community.js'
import { domainHash } from './protocol.js'
import { writeFileDurable } from '../store/node-file.js'

/**
 * Admission is a two-link chain:
 *   community key --signs--> node key   (the admission certificate, made by the organiser)
 *   node key      --signs--> log key    (made by the node itself, for each of its logs)
 * so a node that rotates onto a new log (after a fork) certifies it without the organiser.
 * The node key is the node's Noise key, so the same certificate also admits the connection.
 *
 * A relay gets a different certificate (`relay/v1`): it admits the relay's connections but no
 * log, since verifyEntry() only accepts a node certificate. So a relay, even a tampered one,
 * can carry the community's logs but never add one of its own (in a closed community).
 */

const HEX32 = /^[0-9a-f]{64}$/
const HEX64 = /^[0-9a-f]{128}$/

export function admissionMessage (community: Buffer, node: Buffer): Buffer {
  return domainHash('admission/v1', community, node)
}

export function logMessage (community: Buffer, log: Buffer): Buffer {
  return domainHash('log/v1', community, log)
}

export function relayMessage (community: Buffer, node: Buffer): Buffer {
  return domainHash('relay/v1', community, node)
}

export type AdmissionRole = 'node' | 'relay'

/** The organiser's signature admitting `node` (needs the community secret). */
export function admitNode (community: Community, node: Buffer, role: AdmissionRole = 'node'): Buffer {
  if (community.secretKey === null) throw Object.assign(new Error('this community file holds no secret key: only the organiser\'s copy can admit nodes'), { code: 'ERR_NO_SECRET' })
  return crypto.sign(role === 'relay' ? relayMessage(community.publicKey, node) : admissionMessage(community.publicKey, node), community.secretKey)
}

/** A relay certificate: admits the relay's connections, never a log. */
export function verifyRelay (community: Community, node: Buffer, sig: Buffer | null): boolean {
  if (community.open) return true
  if (sig === null || sig.length !== 64 || node.length !== 32) return false
  return crypto.verify(relayMessage(community.publicKey, node), sig, community.publicKey)
}

/** Whether a peer may hold a sync session: a node or a relay certificate. */
export function verifyPeer (community: Community, node: Buffer, sig: Buffer | null): boolean {
  return verifyAdmission(community, node, sig) || verifyRelay(community, node, sig)
}

export function verifyAdmission (community: Community, node: Buffer, sig: Buffer | null): boolean {
  if (community.open) return true
  if (sig === null || sig.length !== 64 || node.length !== 32) return false
  return crypto.verify(admissionMessage(community.publicKey, node), sig, community.publicKey)
}

export function signLog (community: Community, log: Buffer, nodeSecretKey: Buffer): Buffer {
  return crypto.sign(logMessage(community.publicKey, log), nodeSecretKey)
}

export function verifyLog (community: Community, log: Buffer, node: Buffer, sig: Buffer): boolean {
  if (log.length !== 32 || node.length !== 32 || sig.length !== 64) return false
  return crypto.verify(logMessage(community.publicKey, log), sig, node)
}

/** One admitted log as it travels between nodes: enough for anyone to check it. */
export interface LogEntry {
  log: Buffer
  node: Buffer
  /** Community signature over the node key; empty in an open community. */
  admission: Buffer
  /** Node signature over the log key. */
  logSig: Buffer
}

export function verifyEntry (community: Community, e: LogEntry): boolean {
  return verifyAdmission(community, e.node, e.admission.length === 0 ? null : e.admission) && verifyLog(community, e.log, e.node, e.logSig)
}

/** Admission certificate file, handed from the organiser to a node's operator. */
interface AdmissionFileV1 {
  type: 'outpost-admission'
  version: 1
  community: string
  node: string
  signature: string
  /** Absent = a node certificate (files made before relays existed). */
  role?: 'relay'
}

export interface Admission { community: Buffer, node: Buffer, signature: Buffer, role?: AdmissionRole }

export function encodeAdmission (a: Admission): string {
  const v: AdmissionFileV1 = { type: 'outpost-admission', version: 1, community: a.community.toString('hex'), node: a.node.toString('hex'), signature: a.signature.toString('hex') }
  if (a.role === 'relay') v.role = 'relay'
  return JSON.stringify(v, null, 2) + '\n'
}

export function decodeAdmission (text: string, where = 'admission certificate'): Admission {
  let v: Partial<AdmissionFileV1>
  try {
    v = JSON.parse(text) as Partial<AdmissionFileV1>
  } catch (err) {
    throw Object.assign(new Error(`${where} is not JSON: ${(err as Error).message}`), { code: 'ERR_ADMISSION' })
  }
  if (v === null || typeof v !== 'object' || v.type !== 'outpost-admission' || v.version !== 1) throw Object.assign(new Error(`${where} is not an Outpost admission certificate (version 1)`), { code: 'ERR_ADMISSION' })
  if (typeof v.community !== 'string' || !HEX32.test(v.community) || typeof v.node !== 'string' || !HEX32.test(v.node) || typeof v.signature !== 'string' || !HEX64.test(v.signature)) {
    throw Object.assign(new Error(`${where}: community and node must be 64 hex characters, signature 128`), { code: 'ERR_ADMISSION' })
  }
  if (v.role !== undefined && v.role !== 'relay') throw Object.assign(new Error(`${where}: role must be "relay" or absent`), { code: 'ERR_ADMISSION' })
  return { community: Buffer.from(v.community, 'hex'), node: Buffer.from(v.node, 'hex'), signature: Buffer.from(v.signature, 'hex'), role: v.role ?? 'node' }
}

export async function writeAdmissionFile (file: string, a: Admission): Promise<void> {
  await writeFileDurable(file, encodeAdmission(a))
}

/** null when the file does not exist. */
export async function readAdmissionFile (file: string): Promise<Admission | null> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  return decodeAdmission(text, file)
}
