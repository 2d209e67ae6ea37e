import { createHash } from 'node:crypto'

/** Version of the node-to-node sync protocol; advertised over mDNS and checked in the channel handshake. */
export const SYNC_PROTOCOL = 1

/** Domain-separated sha256: the same input never hashes alike for two purposes. */
export function domainHash (domain: string, ...parts: Buffer[]): Buffer {
  const h = createHash('sha256')
  h.update(`outpost/${domain}\0`)
  for (const p of parts) h.update(p)
  return h.digest()
}

/** What mDNS advertises for a community (hex): a hash of its public key, never the key. */
export function discoveryId (communityPublicKey: Buffer): string {
  return domainHash('discovery-id/v1', communityPublicKey).toString('hex')
}

/** The hyperswarm topic of a community (32 bytes), unrelated to the discovery id. */
export function swarmTopic (communityPublicKey: Buffer): Buffer {
  return domainHash('swarm-topic/v1', communityPublicKey)
}

/** The protomux channel id of a community: nodes of two communities never open a channel. */
export function channelId (communityPublicKey: Buffer): Buffer {
  return domainHash('channel/v1', communityPublicKey)
}
