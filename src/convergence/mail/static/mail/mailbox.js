// The webmail's keyboard shortcuts and drag and drop (progressive: every action also has its
// button or menu). Shortcuts are ignored while typing in a field, and never use a modifier
// key, so they do not collide with the browser's or a screen reader's own (which a person can
// keep by not using them: they only act on single letters outside fields).
//   j / k   next / previous message of the list      x   select the current message
//   c       write a message                          /   search in the folder
//   r, a, f reply, reply to all, forward (a message) e   archive    #   delete
//   u       back to the folder                       ?   the list of shortcuts
// Any element with data-shortcut="<key>" is clicked (or followed) when <key> is pressed.
(function () {
  "use strict";

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll(".cv-mail-list tbody tr[data-uid]"));
  }

  function currentRow() {
    var focused = document.activeElement;
    return focused && focused.closest ? focused.closest("tr[data-uid]") : null;
  }

  function focusRow(offset) {
    var list = rows();
    if (!list.length) { return; }
    var index = list.indexOf(currentRow());
    var next = index === -1 ? 0 : Math.max(0, Math.min(list.length - 1, index + offset));
    var link = list[next].querySelector("a.cv-mail-subject");
    if (link) { link.focus(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var key = event.key;
    if (key === "j" || key === "k") {
      event.preventDefault();
      focusRow(key === "j" ? 1 : -1);
      return;
    }
    if (key === "x") {
      var row = currentRow();
      var box = row && row.querySelector("input[type=checkbox]");
      if (box) { event.preventDefault(); box.click(); }
      return;
    }
    var target = document.querySelector('[data-shortcut="' + (key === "Delete" ? "#" : key).replace(/"/g, "") + '"]');
    if (!target) { return; }
    event.preventDefault();
    if (target.tagName === "INPUT") { target.focus(); } else { target.click(); }
  });

  // Drag a message (or the selection it belongs to) onto a folder of the side menu: moved.
  var actions = document.getElementById("mail-actions");
  if (!actions) { return; }
  var dragged = [];
  rows().forEach(function (row) {
    row.addEventListener("dragstart", function (event) {
      var box = row.querySelector("input[type=checkbox]");
      var selected = Array.prototype.slice.call(document.querySelectorAll(".cv-mail-list input[name=uid]:checked"))
        .map(function (input) { return input.value; });
      dragged = box && box.checked && selected.length ? selected : [row.getAttribute("data-uid")];
      event.dataTransfer.setData("text/plain", dragged.join(","));
      event.dataTransfer.effectAllowed = "move";
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("a[data-folder]"), function (link) {
    link.addEventListener("dragover", function (event) { event.preventDefault(); link.classList.add("cv-mail-drop"); });
    link.addEventListener("dragleave", function () { link.classList.remove("cv-mail-drop"); });
    link.addEventListener("drop", function (event) {
      event.preventDefault();
      link.classList.remove("cv-mail-drop");
      if (!dragged.length) { return; }
      var form = document.createElement("form");
      form.method = "post";
      form.action = actions.getAttribute("action");
      function field(name, value) {
        var input = document.createElement("input");
        input.type = "hidden"; input.name = name; input.value = value;
        form.appendChild(input);
      }
      field("csrfmiddlewaretoken", actions.querySelector("[name=csrfmiddlewaretoken]").value);
      field("dossier", actions.querySelector("[name=dossier]").value);
      field("action", "move");
      field("cible", link.getAttribute("data-folder"));
      dragged.forEach(function (uid) { field("uid", uid); });
      document.body.appendChild(form);
      form.submit();
    });
  });
})();
