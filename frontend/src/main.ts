import { createApp } from 'vue'

import App from './App.vue'
import { startErrorTracking } from './lib/errorTracking'
import { applyStoredTheme } from './lib/theme'
import { router } from './router'
import './styles/main.css'

applyStoredTheme()

const app = createApp(App)
app.use(router)
// Mount after the first navigation (and so the session check): no flash of
// the login page for a user who is signed in. Error tracking, when the build has
// it, loads meanwhile, so that errors while mounting are reported too.
void Promise.all([router.isReady(), startErrorTracking(app)]).then(() => app.mount('#app'))
