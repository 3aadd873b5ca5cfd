/* Progressive enhancement only: every action also works with plain forms and links. */
(function () {
  "use strict";

  // Favourites: drag and drop with the mouse posts the new order; the keyboard uses the
  // "Monter" / "Descendre" buttons, which are ordinary forms.
  var dragged = null;

  function list() { return document.getElementById("favoris"); }

  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest(".cv-favourite");
    if (!item) { return; }
    dragged = item;
    item.classList.add("cv-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.slug);
  });

  document.addEventListener("dragover", function (event) {
    var item = event.target.closest && event.target.closest(".cv-favourite");
    if (!dragged || !item || item === dragged) { return; }
    event.preventDefault();
    var box = item.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    item.parentNode.insertBefore(dragged, after ? item.nextSibling : item);
  });

  document.addEventListener("dragend", function () {
    if (!dragged) { return; }
    dragged.classList.remove("cv-dragging");
    dragged = null;
    var favourites = list();
    if (!favourites || !window.htmx) { return; }
    var order = Array.prototype.map.call(
      favourites.querySelectorAll(".cv-favourite"),
      function (item) { return item.dataset.slug; }
    );
    var search = document.getElementById("q");
    window.htmx.ajax("POST", favourites.dataset.reorderUrl, {
      target: "#favoris-et-catalogue",
      swap: "outerHTML",
      values: { order: order, q: search ? search.value : "" }
    });
  });

  // Deferred dashboard widgets (core/widgets.py): the server answers "unavailable" itself
  // after its timeout; this covers the network failing or the server not answering at all.
  function widgetUnavailable(event) {
    var box = event.target;
    if (!box || !box.classList || !box.classList.contains("cv-widget--deferred")) { return; }
    var status = box.querySelector("[role=status]");
    if (status) { status.textContent = box.dataset.unavailable; }
    box.removeAttribute("aria-busy");
    box.classList.remove("cv-widget--deferred");
    box.classList.add("cv-widget--unavailable");
  }
  ["htmx:timeout", "htmx:responseError", "htmx:sendError"].forEach(function (name) {
    document.addEventListener(name, widgetUnavailable);
  });

  // The display settings' pictograms (core/templates/dsfr/theme_modale.html) are put in place
  // when the modal is first opened; the DSFR then fetches and inlines them as it does on load.
  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[aria-controls=fr-theme-modal]");
    var modal = opener && document.getElementById("fr-theme-modal");
    if (!modal) { return; }
    Array.prototype.forEach.call(modal.querySelectorAll("template.cv-artwork"), function (slot) {
      slot.replaceWith(slot.content.cloneNode(true));
    });
  }, true);
  // The DSFR copies the header's links into the phone menu, their badges with them: each
  // copy would ask the server (the mail badge opens an IMAP session, the bell polls every
  // 30 s). The first copy's request goes; another asking the same address within a few
  // seconds is stopped, and is given the first one's answer.
  var asked = {};
  function headerBadgeUrl(elt) {
    return elt && elt.closest && elt.closest(".fr-header") ? elt.getAttribute("hx-get") : null;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var url = headerBadgeUrl(event.detail.elt);
    if (!url) { return; }
    var now = Date.now();
    if (asked[url] && now - asked[url] < 5000) { event.preventDefault(); return; }
    asked[url] = now;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    var url = headerBadgeUrl(elt);
    var xhr = event.detail.xhr;
    if (!url || !xhr || xhr.status !== 200) { return; }
    Array.prototype.forEach.call(document.querySelectorAll(".fr-header [hx-get]"), function (other) {
      if (other === elt || other.getAttribute("hx-get") !== url) { return; }
      var holder = document.createElement("template");
      holder.innerHTML = xhr.responseText.trim();
      var fresh = holder.content.firstElementChild;
      if (!fresh) { other.remove(); return; }
      other.replaceWith(fresh);
      if (window.htmx) { window.htmx.process(fresh); }
    });
  });
})();