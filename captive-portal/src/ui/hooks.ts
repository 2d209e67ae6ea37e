import { useEffect, useReducer, useState } from 'preact/hooks'
import { app } from '../state.js'
import { parseRoute, type Route } from '../lib/env.js'

/**
 * Re-renders the component whenever the shared state changes (batched per frame). The effect
 * subscribes only after the next frame: a change in between (the socket opening) is caught by
 * comparing the state's version with the one this render saw.
 */
export function useApp (): typeof app {
  const [, tick] = useReducer((n: number) => n + 1, 0)
  const seen = app.version
  useEffect(() => {
    let queued = false
    const off = app.on(() => {
      if (queued) return
      queued = true
      requestAnimationFrame(() => { queued = false; tick(0) })
    })
    if (app.version !== seen) tick(0)
    return off
  }, [])
  return app
}

export function useRoute (): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash))
  useEffect(() => {
    const on = (): void => { setRoute(parseRoute(location.hash)); window.scrollTo(0, 0) }
    addEventListener('hashchange', on)
    return () => removeEventListener('hashchange', on)
  }, [])
  return route
}

export function ago (ts: number): string {
  const s = Math.max(0, Math.floor(Date.now() / 1000) - ts)
  if (s < 60) return 'now'
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 86400) return `${Math.floor(s / 3600)}h`
  return new Date(ts * 1000).toLocaleDateString()
}
