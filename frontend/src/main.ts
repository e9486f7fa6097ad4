import { createApp } from 'vue'

import App from './App.vue'
import { router } from './router'
import './styles/main.css'

const app = createApp(App)
app.use(router)
// Mount after the first navigation (and so the session check): no flash of
// the login page for a user who is signed in.
void router.isReady().then(() => app.mount('#app'))
