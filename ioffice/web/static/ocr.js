// Scanned paper (docs/ocr.md). On the registration form: the scan is sent as soon as it is
// chosen, the worker reads it, and the fields it finds fill the empty boxes, each marked
// "máy đọc" until the clerk confirms it (or edits it). On the document page: the OCR's
// progress. Without this script the form still works: the scan is OCRed after registration.
(function () {
  "use strict";

  var FIELDS = ["issuer_name", "number", "notation", "document_date", "doc_type", "subject", "signer"];

  function isoToVn(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    return m ? m[3] + "/" + m[2] + "/" + m[1] : iso;
  }

  function setupForm(form) {
    var input = form.querySelector("input[type=file][name=files]");
    var box = document.getElementById("scan-status");
    var jobField = form.querySelector("input[name=scan_job]");
    var confirmAll = form.querySelector(".machine-confirm-all");
    if (!input || !box) return;
    var label = box.querySelector(".scan-label"), bar = box.querySelector("progress");

    function show(text, done, total) {
      box.hidden = false;
      label.textContent = text;
      bar.max = Math.max(total || 1, 1);
      bar.value = done || 0;
    }

    function unmark(name) {
      form.querySelectorAll("input[name=machine_read][value='" + name + "']").forEach(function (h) { h.remove(); });
      var el = form.elements[name];
      if (el && el.classList) el.classList.remove("machine");
      form.querySelectorAll(".machine-read[data-machine='" + name + "']").forEach(function (b) { b.remove(); });
      if (confirmAll) confirmAll.hidden = !form.querySelector(".machine-read");
    }

    function mark(name) {
      var el = form.elements[name];
      if (!el || !el.closest) return;
      if (!form.querySelector("input[name=machine_read][value='" + name + "']")) {
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = "machine_read"; hidden.value = name;
        form.appendChild(hidden);
      }
      el.classList.add("machine");
      if (!form.querySelector(".machine-read[data-machine='" + name + "']")) {
        var badge = document.createElement("span");
        badge.className = "machine-read";
        badge.dataset.machine = name;
        badge.title = "Ô này do máy đọc từ bản quét; đối chiếu với bản giấy";
        badge.appendChild(document.createTextNode("máy đọc "));
        var ok = document.createElement("button");
        ok.type = "button"; ok.className = "secondary small"; ok.textContent = "Đúng";
        ok.addEventListener("click", function () { unmark(name); });
        badge.appendChild(ok);
        el.insertAdjacentElement("afterend", badge);
        el.addEventListener("input", function () { unmark(name); }, { once: true });
        el.addEventListener("change", function () { unmark(name); }, { once: true });
      }
      if (confirmAll) confirmAll.hidden = false;
    }

    function fill(fields) {
      var filled = 0;
      FIELDS.forEach(function (name) {
        var value = fields[name], el = form.elements[name];
        if (!value || !el || (el.value || "").trim()) return;  // never over what was typed
        if (el.tagName === "SELECT") {
          if (!el.querySelector("option[value='" + value + "']")) return;
        }
        el.value = name === "document_date" ? isoToVn(value) : value;
        mark(name);
        filled += 1;
      });
      return filled;
    }

    function poll(url) {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (!s.finished) {
            show(s.label + ": " + s.pages_done + "/" + s.pages_total + " trang", s.pages_done, s.pages_total);
            setTimeout(function () { poll(url); }, 1500);
            return;
          }
          var n = fill(s.fields || {});
          var text = s.state === "failed" ? s.label + ": " + s.error
            : n ? "Máy đã đọc xong bản quét và điền " + n + " ô (đánh dấu «máy đọc»): đối chiếu với bản giấy rồi bấm «Đúng» hoặc sửa lại."
            : "Máy đã đọc xong bản quét nhưng không nhận ra ô nào; vui lòng nhập tay." + (s.error ? " " + s.error : "");
          show(text, s.pages_total, s.pages_total);
          box.classList.toggle("warn", s.state === "failed");
          var note = box.querySelector(".scan-note");
          if (note) note.hidden = true;
        })
        .catch(function () { setTimeout(function () { poll(url); }, 5000); });
    }

    input.addEventListener("change", function () {
      if (input.files.length !== 1 || input.dataset.problem) return;
      var data = new FormData();
      data.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
      data.append("file", input.files[0]);
      show("Đang tải tệp quét lên…", 0, 1);
      fetch(form.dataset.scanUrl, { method: "POST", body: data, credentials: "same-origin",
                                    headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (res) {
          if (!res.ok) { show(res.body.error || "Không gửi được tệp quét.", 0, 1); box.classList.add("warn"); return; }
          var s = res.body;
          form.querySelectorAll(".held-file").forEach(function (p) { p.remove(); });
          var held = document.createElement("p");
          held.className = "held-file"; held.dataset.held = s.token;
          var h = document.createElement("input");
          h.type = "hidden"; h.name = "held"; h.value = s.token;
          held.appendChild(h);
          held.appendChild(document.createTextNode("Đã nhận tệp «" + s.filename + "» (" + s.pages_total + " trang)."));
          input.closest("label").insertAdjacentElement("beforebegin", held);
          input.value = "";
          input.required = false;
          jobField.value = s.job;
          box.classList.remove("warn");
          poll(s.status_url);
        })
        .catch(function () { show("Không gửi được tệp quét; tệp sẽ được gửi cùng biểu mẫu.", 0, 1); });
    });

    if (confirmAll) {
      confirmAll.querySelector("button").addEventListener("click", function () {
        FIELDS.forEach(unmark);
      });
    }
    // after a refused submission the server lists the fields still unconfirmed
    form.querySelectorAll("input[name=machine_read]").forEach(function (h) { mark(h.value); });
  }

  function setupProgress() {
    var lines = document.querySelectorAll("[data-ocr-url]");
    if (!lines.length) return;
    var url = lines[0].dataset.ocrUrl;
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          var pending = false;
          s.jobs.forEach(function (j) {
            var line = document.querySelector("[data-ocr-file='" + j.file_id + "']");
            if (!line) return;
            var text = line.querySelector(".ocr-label"), bar = line.querySelector("progress");
            if (j.finished) {
              line.textContent = j.label + (j.error ? ": " + j.error : "") + " — ";
              var a = document.createElement("a");
              a.href = location.href; a.textContent = "tải lại trang";
              line.appendChild(a);
            } else {
              pending = true;
              if (text) text.textContent = j.label + ": " + j.pages_done + "/" + j.pages_total + " trang";
              if (bar) { bar.max = Math.max(j.pages_total, 1); bar.value = j.pages_done; }
            }
          });
          if (pending) setTimeout(tick, 3000);
        })
        .catch(function () { setTimeout(tick, 10000); });
    }
    setTimeout(tick, 2000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("register-form");
    if (form) setupForm(form);
    setupProgress();
  });
})();
