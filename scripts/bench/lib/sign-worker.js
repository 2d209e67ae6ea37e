// Signs a slice of event templates with nostr-tools (pure JS) and posts them back.
import { parentPort, workerData } from 'node:worker_threads'
import { finalizeEvent } from 'nostr-tools/pure'

const out = workerData.map(({ e, sk }) => {
  const s = finalizeEvent({ kind: e.kind, created_at: e.created_at, tags: e.tags, content: e.content }, Buffer.from(sk, 'hex'))
  return { id: s.id, sig: s.sig }
})
parentPort.postMessage(out)
