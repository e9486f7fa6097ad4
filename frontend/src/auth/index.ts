/** The app's one session, bound to the generated client the pages use. */
import { client } from '@/client/client.gen'

import { createSession } from './session'

export const session = createSession({ client })

export function useSession() {
  return session
}
