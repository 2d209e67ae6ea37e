import type { ComponentType } from 'preact'
import { useEffect, useState } from 'preact/hooks'

/**
 * A component whose code arrives on demand (a separate chunk, not in the first load): `waiting`
 * shows until it has loaded, then the real one renders with the same props.
 */
export function lazy<P extends object> (load: () => Promise<ComponentType<P>>, waiting: string): ComponentType<P> {
  let loaded: ComponentType<P> | null = null
  return function Lazy (props: P) {
    const [C, setC] = useState<ComponentType<P> | null>(() => loaded)
    useEffect(() => {
      if (C !== null) return
      let alive = true
      void load().then(c => { loaded = c; if (alive) setC(() => c) })
      return () => { alive = false }
    }, [])
    return C !== null ? <C {...props} /> : <p class='hint' role='status'>{waiting}</p>
  }
}
