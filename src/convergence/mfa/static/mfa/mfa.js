// Passkeys (WebAuthn): allauth's scripts report failures as an "allauth.error" event; show a
// French message in the page's alert zone instead of the console (cancelled, no key, timeout).
(function () {
  document.addEventListener('allauth.error', function (event) {
    const zone = document.getElementById('mfa-erreur')
    if (!zone) {
      return
    }
    event.preventDefault()
    zone.hidden = false
    zone.focus()
  })
})()
