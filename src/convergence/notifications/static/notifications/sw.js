// The portal's service worker, served at /sw.js (notifications/views.py) so that its scope
// is the whole portal; the view puts the icon's address in self.NOTIFICATION_ICON first.
// It only shows the pushes the portal sends and opens their page: no cache, no fetch handler.
'use strict'

self.addEventListener('install', function () {
  self.skipWaiting()
})

self.addEventListener('activate', function (event) {
  event.waitUntil(self.clients.claim())
})

function sameOriginUrl (value) {
  try {
    const url = new URL(value || '/', self.location.origin)
    return url.origin === self.location.origin ? url.href : self.location.origin + '/'
  } catch (error) {
    return self.location.origin + '/'
  }
}

self.addEventListener('push', function (event) {
  let message = {}
  try {
    message = event.data ? event.data.json() : {}
  } catch (error) {
    message = {}
  }
  const title = message.title || 'Convergence'
  event.waitUntil(self.registration.showNotification(title, {
    body: message.body || '',
    icon: self.NOTIFICATION_ICON,
    badge: self.NOTIFICATION_ICON,
    tag: message.tag || undefined,
    lang: 'fr',
    data: { url: sameOriginUrl(message.url) }
  }))
})

self.addEventListener('notificationclick', function (event) {
  event.notification.close()
  const target = sameOriginUrl(event.notification.data && event.notification.data.url)
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (windows) {
    for (const client of windows) {
      if (client.url === target && 'focus' in client) {
        return client.focus()
      }
    }
    return self.clients.openWindow(target)
  }))
})
