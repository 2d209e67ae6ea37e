import { useEffect, useState } from 'preact/hooks'
import { loadKeys } from '../state.js'

/** A public key as npub (NIP-19); the bech32 code arrives with the key module, on demand. */
export function Npub ({ pubkey }: { pubkey: string }) {
  const [text, setText] = useState('')
  useEffect(() => {
    let alive = true
    void loadKeys().then(k => { if (alive) setText(k.npubOf(pubkey)) })
    return () => { alive = false }
  }, [pubkey])
  return <p class='small mono'>{text !== '' ? text : '\u00a0'}</p>
}
