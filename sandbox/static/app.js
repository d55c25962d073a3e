// ShareTrail sandbox chat client: posts what the person does, re-renders on server events.
"use strict";
(function () {
  var body = document.body;
  var user = body.dataset.user;
  if (!user) { return; } // the "who are you?" page needs no script
  var pane = body.dataset.pane;
  var modalSignature = body.dataset.modalSignature || "";
  var errorLine = document.getElementById("error-line");
  var unread = {};
  var lastPane = null;
  // A conversation reads from its newest message at the bottom; the App Home from its top.
  var isHome = pane === "home";

  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = false;
  }

  function clearError() {
    errorLine.hidden = true;
    errorLine.textContent = "";
  }

  // Every user action: JSON {ok, error} back; a failed fetch is shown, never swallowed.
  function send(url, options) {
    options.headers = Object.assign({ "X-Requested-With": "fetch" }, options.headers || {});
    return fetch(url, options)
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("json") < 0) {
          return response.text().then(function (text) {
            throw new Error("HTTP " + response.status + (text ? ": " + text.slice(0, 200) : ""));
          });
        }
        return response.json();
      })
      .then(function (answer) {
        if (answer.ok) { clearError(); } else { showError(answer.error || "Something went wrong."); }
        refresh();
        return answer;
      })
      .catch(function (error) {
        showError("Could not reach the sandbox: " + error.message);
        return { ok: false, error: error.message };
      });
  }

  function formEntries(form) {
    var data = new FormData(form);
    var entries = {};
    data.forEach(function (value, key) {
      if (typeof value !== "string") { return; }
      (entries[key] = entries[key] || []).push(value);
    });
    return entries;
  }

  function selection(element) {
    if (element.tagName === "SELECT") {
      if (element.multiple) {
        return Array.prototype.map.call(element.selectedOptions, function (o) { return o.value; });
      }
      return element.value;
    }
    if (element.type === "checkbox") {
      var group = element.closest(".bk-choices");
      return Array.prototype.map.call(group.querySelectorAll("input:checked"), function (i) {
        return i.value;
      });
    }
    return element.value;
  }

  function sendAction(element, selected) {
    var data = element.dataset;
    var payload = {
      action_id: data.actionId,
      block_id: data.blockId,
      kind: data.kind,
      container: data.container,
      channel: data.channel || null,
      ts: data.ts || null,
      view_id: data.viewId || null,
      selected: selected
    };
    var form = element.closest("form.modal");
    if (form) { payload.entered = formEntries(form); }
    if (element.tagName === "BUTTON") { element.disabled = true; }
    return send("/u/" + user + "/action", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload)
    }).then(function () { element.disabled = false; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.bk-interactive");
    if (!button) { return; }
    event.preventDefault();
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) { return; }
    if (button.dataset.url) { window.open(button.dataset.url, "_blank", "noopener"); }
    sendAction(button, null);
  });

  document.addEventListener("change", function (event) {
    var element = event.target.closest(".bk-interactive");
    if (!element || element.tagName === "BUTTON") { return; }
    sendAction(element, selection(element));
    if (element.classList.contains("bk-overflow")) { element.value = ""; }
  });

  // Composer, thread replies and modals: posted in the background, no page reload.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-async")) { return; }
    event.preventDefault();
    var submitter = event.submitter;
    var url = (submitter && submitter.getAttribute("formaction")) || form.getAttribute("action");
    var text = form.querySelector("input[name=text]");
    var buttons = form.querySelectorAll("button[type=submit]");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    // Files (a modal's file_input) go as multipart, as the browser would post them.
    var data = new FormData(form);
    var body = form.querySelector("input[type=file]") ? data : new URLSearchParams(data);
    send(url, { method: "POST", body: body })
      .then(function (answer) {
        Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
        if (answer.ok && text) { text.value = ""; }
      });
  });

  // --- live updates ----------------------------------------------------------------

  function keptInputs(root) {
    var kept = {};
    Array.prototype.forEach.call(root.querySelectorAll("[data-preserve]"), function (input) {
      if (input.value) { kept[input.dataset.preserve] = input.value; }
    });
    var active = document.activeElement;
    return {
      values: kept,
      focus: active && root.contains(active) ? active.dataset.preserve : null,
      open: Array.prototype.map.call(root.querySelectorAll("details.thread[open]"), function (d) {
        return d.closest(".msg").dataset.ts;
      })
    };
  }

  function restoreInputs(root, kept) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-preserve]"), function (input) {
      var value = kept.values[input.dataset.preserve];
      if (value) { input.value = value; }
      if (kept.focus && kept.focus === input.dataset.preserve) { input.focus(); }
    });
    kept.open.forEach(function (ts) {
      var details = root.querySelector('.msg[data-ts="' + ts + '"] > .msg-body > details.thread');
      if (details) { details.open = true; }
    });
  }

  function markUnread() {
    Object.keys(unread).forEach(function (id) {
      var link = document.querySelector('#sidebar [data-pane="' + id + '"]');
      if (link) { link.classList.add("unread"); }
    });
  }

  function apply(parts) {
    document.getElementById("sidebar").innerHTML = parts.sidebar;
    markUnread();
    var paneElement = document.getElementById("pane");
    if (parts.pane !== lastPane) {
      var atBottom = paneElement.scrollHeight - paneElement.scrollTop - paneElement.clientHeight < 80;
      var kept = keptInputs(paneElement);
      paneElement.innerHTML = parts.pane;
      restoreInputs(paneElement, kept);
      if (atBottom && !isHome) { paneElement.scrollTop = paneElement.scrollHeight; }
      lastPane = parts.pane;
    }
    if (parts.modal_signature !== modalSignature) {
      var modals = document.getElementById("modals");
      modals.innerHTML = parts.modals;
      modalSignature = parts.modal_signature;
      body.dataset.modalSignature = modalSignature;
      var first = modals.querySelector(".modal-body input, .modal-body textarea, .modal-body select");
      if (first) { first.focus(); }
    }
  }

  var refreshing = false;
  var again = false;
  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch("/u/" + user + "/" + pane + "/fragment", {
      headers: { "X-Requested-With": "fetch" },
      cache: "no-store"
    })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(apply)
      .catch(function (error) { showError("Could not refresh: " + error.message); })
      .then(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }

  var events = new EventSource("/u/" + user + "/events");
  events.addEventListener("ready", function () {
    body.dataset.live = "1";
    refresh(); // catch up on anything that changed before the stream was open
  });
  events.addEventListener("change", function (event) {
    var change = JSON.parse(event.data);
    if (change.type === "message" && change.channel && change.channel !== pane) {
      unread[change.channel] = true;
    }
    refresh();
  });
  events.onerror = function () { body.dataset.live = "0"; };

  var paneElement = document.getElementById("pane");
  if (!isHome) { paneElement.scrollTop = paneElement.scrollHeight; }
})();
