// The dashboard's own script (htmx does the rest). CSP allows no inline script, so every
// behaviour the pages need beyond htmx attributes is here:
// - the access token: asked for by the sign-in page, kept in this tab's sessionStorage,
//   sent as "Authorization: Bearer" on every htmx request and on the export download;
// - error answers that are not HTML (from before a view ran: 401, 413, a refused Origin)
//   shown as text in the notice area;
// - Close / Cancel buttons of a memory's detail slot, and keyboard focus after a swap.
(function () {
  "use strict";
  var TOKEN = "mem0-mcp:token";
  var REJECTED = "mem0-mcp:token-rejected";

  function token() {
    return sessionStorage.getItem(TOKEN);
  }

  function loadWithToken() {
    // Reload the page asked for, this time with the token: the whole body is replaced.
    htmx.ajax("GET", location.pathname + location.search, {
      source: document.body, target: "body", swap: "innerHTML",
      // A whole-page load, as a boosted link would be (the server sends the full page).
      headers: { "HX-Boosted": "true" },
    });
  }

  function signedIn() {
    var out = document.querySelector("[data-signout]");
    if (out) out.hidden = !token();
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var value = token();
    if (value) event.detail.headers["Authorization"] = "Bearer " + value;
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status === 401 && document.body.dataset.auth === "token") {
      event.detail.shouldSwap = false;
      sessionStorage.removeItem(TOKEN);
      sessionStorage.setItem(REJECTED, "1");
      location.reload();
      return;
    }
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (xhr.status >= 400 && type.indexOf("text/html") !== 0) {
      event.detail.shouldSwap = false;
      showNotice(xhr.responseText || xhr.statusText);
    }
  });

  function showNotice(text) {
    var notice = document.getElementById("notice");
    if (!notice) return;
    var p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    notice.replaceChildren(p);
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target.classList && target.classList.contains("detail")) {
      // Remember which button opened it, to give focus back on Close / Cancel.
      var opener = event.detail.requestConfig && event.detail.requestConfig.elt;
      target.opener = opener && opener.querySelector ? opener.querySelector("button") : null;
      var field = target.querySelector("textarea, input:not([type=hidden]), button");
      if (field) field.focus();
    }
    signedIn();
  });

  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close]");
    if (close) {
      var detail = close.closest(".detail");
      var memory = close.closest(".memory");
      var back = (detail && detail.opener) || (memory && memory.querySelector(".actions button"));
      if (detail) detail.replaceChildren();
      if (back) back.focus();
      return;
    }
    if (event.target.closest("[data-signout]")) {
      sessionStorage.removeItem(TOKEN);
      location.assign("/ui");
      return;
    }
    var link = event.target.closest("a[data-download]");
    if (link && token()) {
      event.preventDefault();
      download(link.href);
    }
  });

  function download(url) {
    fetch(url, { headers: { Authorization: "Bearer " + token() } })
      .then(function (response) {
        if (!response.ok) {
          return response.text().then(function (text) { showNotice(text); });
        }
        var disposition = response.headers.get("Content-Disposition") || "";
        var match = /filename="([^"]+)"/.exec(disposition);
        return response.blob().then(function (blob) {
          var a = document.createElement("a");
          a.href = URL.createObjectURL(blob);
          a.download = match ? match[1] : "memories.jsonl";
          document.body.appendChild(a);
          a.click();
          a.remove();
          setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
        });
      })
      .catch(function (error) { showNotice("Export failed: " + error); });
  }

  document.addEventListener("submit", function (event) {
    if (event.target.id !== "signin") return;
    event.preventDefault();
    var value = document.getElementById("token").value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN, value);
    loadWithToken();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("signin");
    if (form) {
      if (sessionStorage.getItem(REJECTED)) {
        sessionStorage.removeItem(REJECTED);
        var error = document.getElementById("signin-error");
        error.textContent = "That token was not accepted. Check it and sign in again.";
        error.hidden = false;
      } else if (token()) {
        loadWithToken();
        return;
      }
      document.getElementById("token").focus();
    }
    signedIn();
  });
})();
