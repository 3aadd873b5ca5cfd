// Recipients (lists, contacts, recent addresses, the academic directory) for the « À », « Copie », « Copie cachée » fields of
// the webmail's compose page: the last address being typed is looked up (the server decides
// who may be found), and a suggestion is chosen with the mouse or the keyboard
// (↓ ↑ to move, Entrée to choose, Échap to close). Without JavaScript the fields stay plain.
(function () {
  "use strict";
  var form = document.getElementById("compose-form");
  if (!form) { return; }
  var url = form.getAttribute("data-recipients-url");
  var fields = ["id_a", "id_cc", "id_cci"].map(function (id) { return document.getElementById(id); })
    .filter(Boolean);
  var timer = null;
  var box = null;
  var active = -1;

  function lastToken(value) {
    var parts = value.split(/[,;]/);
    return parts[parts.length - 1].trim();
  }

  function close() {
    if (box) { box.remove(); box = null; }
    active = -1;
    fields.forEach(function (field) { field.setAttribute("aria-expanded", "false"); });
  }

  function options() {
    return box ? Array.prototype.slice.call(box.querySelectorAll("[role=option]")) : [];
  }

  function highlight(field, index) {
    var list = options();
    list.forEach(function (option, i) { option.setAttribute("aria-selected", i === index ? "true" : "false"); });
    active = index;
    if (list[index]) { field.setAttribute("aria-activedescendant", list[index].id); }
  }

  // A list (a group, a class) goes to « Copie cachée » whichever field it was typed in: its
  // members do not see each other's addresses. Its name is announced under that field.
  function chooseList(field, option) {
    var bcc = document.getElementById("id_cci") || field;
    var parts = field.value.split(/[,;]/);
    parts.pop();
    field.value = parts.join(",").replace(/^\s+/, "") + (parts.length ? ", " : "");
    var present = bcc.value.split(/[,;]/).map(function (one) { return one.trim().toLowerCase(); });
    var added = option.getAttribute("data-addresses").split(",").map(function (one) { return one.trim(); })
      .filter(function (one) { return one && present.indexOf(one.toLowerCase()) < 0; });
    var kept = bcc.value.replace(/[\s,;]+$/, "");
    bcc.value = (kept ? kept + ", " : "") + added.join(", ") + (added.length ? ", " : "");
    var status = document.getElementById("mail-list-status");
    if (!status) {
      status = document.createElement("p");
      status.id = "mail-list-status";
      status.className = "fr-hint-text";
      status.setAttribute("role", "status");
      bcc.parentNode.appendChild(status);
    }
    status.textContent = option.getAttribute("data-announce");
  }

  function choose(field, option) {
    if (option.hasAttribute("data-addresses")) {
      chooseList(field, option);
    } else {
      var parts = field.value.split(/[,;]/);
      parts[parts.length - 1] = " " + option.getAttribute("data-address");
      field.value = parts.join(",").replace(/^\s+/, "") + ", ";
    }
    close();
    field.focus();
  }

  function lookup(field) {
    var query = lastToken(field.value);
    if (query.length < 2) { close(); return; }
    fetch(url + "?q=" + encodeURIComponent(query), { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        close();
        var holder = document.createElement("div");
        holder.innerHTML = html;  // the server's own escaped fragment
        box = holder.firstElementChild;
        if (!box) { return; }
        field.parentNode.appendChild(box);
        field.setAttribute("aria-expanded", "true");
        options().forEach(function (option) {
          option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(field, option); });
        });
      })
      .catch(close);
  }

  fields.forEach(function (field) {
    field.setAttribute("role", "combobox");
    field.setAttribute("aria-autocomplete", "list");
    field.setAttribute("aria-controls", "mail-recipients-listbox");
    field.setAttribute("aria-expanded", "false");
    field.setAttribute("autocomplete", "off");
    field.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { lookup(field); }, 250);
    });
    field.addEventListener("keydown", function (event) {
      var list = options();
      if (!list.length) { return; }
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(field, Math.min(active + 1, list.length - 1)); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(field, Math.max(active - 1, 0)); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(field, list[active]); }
      else if (event.key === "Escape") { close(); }
    });
    field.addEventListener("blur", function () { window.setTimeout(close, 150); });
  });
})();
