// « Cet appareil » (notifications/preferences.html): subscribe this browser to web push.
// Without JavaScript, or without service workers and the Push API, the button stays hidden
// and the page says why; the list of devices and « Retirer » are plain forms.
(function () {
  const section = document.getElementById('push-device')
  const button = document.getElementById('push-subscribe')
  if (!section || !button) {
    return
  }
  const supported = 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window
  const needsScript = document.getElementById('push-needs-script')
  const errorZone = document.getElementById('push-error')
  const errorText = document.getElementById('push-error-text')

  function showError (message) {
    errorText.textContent = message
    errorZone.hidden = false
    errorZone.focus()
  }

  function keyBytes (base64url) {
    const padded = (base64url + '='.repeat((4 - base64url.length % 4) % 4))
      .replace(/-/g, '+').replace(/_/g, '/')
    const raw = window.atob(padded)
    const bytes = new Uint8Array(raw.length)
    for (let index = 0; index < raw.length; index++) {
      bytes[index] = raw.charCodeAt(index)
    }
    return bytes
  }

  function csrfToken () {
    const field = section.querySelector('input[name="csrfmiddlewaretoken"]')
    return field ? field.value : ''
  }

  async function subscribe () {
    errorZone.hidden = true
    const permission = await Notification.requestPermission()
    if (permission === 'denied') {
      showError(section.dataset.msgDenied)
      return
    }
    if (permission !== 'granted') {
      showError(section.dataset.msgDismissed)
      return
    }
    const registration = await navigator.serviceWorker.register(section.dataset.worker, { scope: '/' })
    await navigator.serviceWorker.ready
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(section.dataset.key)
    })
    const response = await fetch(section.dataset.url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken() },
      body: JSON.stringify(subscription.toJSON())
    })
    if (response.ok) {
      window.location.reload()
      return
    }
    let message = section.dataset.msgFailed
    try {
      const answer = await response.json()
      message = answer.error || message
    } catch (error) {
      // Not JSON (a proxy's page): the generic message.
    }
    showError(message)
  }

  if (!supported) {
    needsScript.textContent = section.dataset.msgUnsupported
    return
  }
  needsScript.hidden = true
  button.hidden = false
  button.addEventListener('click', function () {
    button.disabled = true
    subscribe().catch(function () {
      showError(section.dataset.msgFailed)
    }).finally(function () {
      button.disabled = false
    })
  })
})()
