// Forms in the browser (docs/forms.md): Vietnamese validation messages, files checked before
// upload, dates as dd/mm/yyyy, a warning for a deadline already past, a filter over long
// recipient lists, and buttons that say "Đang xử lý…" while a submission runs. Every form also
// works without this script: the server checks everything again.
(function () {
  "use strict";

  var DATE = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$|^\s*(\d{4})-(\d{2})-(\d{2})\s*$/;

  function parseDate(text) {
    var m = DATE.exec(text || "");
    if (!m) return null;
    var d = m[1] ? +m[1] : +m[6], mo = m[1] ? +m[2] : +m[5], y = m[1] ? +m[3] : +m[4];
    var date = new Date(Date.UTC(y, mo - 1, d));
    if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
    return date;
  }

  function label(el) {
    var owner = el.closest("label");
    var text = owner ? owner.childNodes[0].textContent : (el.name || "");
    return text.replace(/[*\s]+$/, "").trim();
  }

  function fileProblem(input) {
    var max = +input.dataset.maxBytes || 0, total = 0;
    var accepted = (input.dataset.accept || "").split(",").map(function (s) { return s.trim().toLowerCase(); });
    for (var i = 0; i < input.files.length; i++) {
      var f = input.files[i], name = f.name.toLowerCase();
      total += f.size;
      if (accepted.length && accepted[0] && !accepted.some(function (ext) { return name.endsWith(ext); })) {
        return "Tệp «" + f.name + "» không đúng loại: chỉ nhận " + accepted.join(", ").toUpperCase().replace(/\./g, "") + ".";
      }
    }
    if (max && total > max) {
      var mb = (total / 1048576).toFixed(1).replace(".", ",");
      return "Tệp quá lớn (" + mb + " MB); giới hạn là " + input.dataset.maxMb +
        " MB. Hãy chọn tệp nhỏ hơn (ví dụ quét lại ở 200 dpi, đen trắng).";
    }
    return "";
  }

  function message(el) {
    var v = el.validity;
    if (el.type === "file" && el.dataset.problem) return el.dataset.problem;
    if (v.valueMissing) {
      if (el.type === "file") return "Vui lòng chọn tệp.";
      if (el.type === "checkbox") return "Vui lòng đánh dấu ô này nếu muốn tiếp tục.";
      if (el.tagName === "SELECT") return "Vui lòng chọn một mục trong danh sách.";
      return "Vui lòng nhập «" + label(el) + "».";
    }
    if (el.hasAttribute("data-date") && el.value.trim()) {
      return "Ngày không hợp lệ: nhập theo dạng ngày/tháng/năm, ví dụ 05/12/2026.";
    }
    if (v.patternMismatch) return "Giá trị chưa đúng định dạng yêu cầu.";
    if (v.rangeUnderflow) return "Giá trị phải từ " + el.min + " trở lên.";
    if (v.rangeOverflow) return "Giá trị không được lớn hơn " + el.max + ".";
    if (v.stepMismatch || v.badInput) return "Vui lòng nhập một số nguyên.";
    if (v.tooLong) return "Quá dài: tối đa " + el.maxLength + " ký tự.";
    if (v.tooShort) return "Quá ngắn: tối thiểu " + el.minLength + " ký tự.";
    if (v.typeMismatch) return el.type === "email" ? "Địa chỉ thư điện tử không hợp lệ." : "Giá trị không hợp lệ.";
    return "Giá trị không hợp lệ.";
  }

  // The browser's own messages are in its language (English on most machines): replace them.
  document.addEventListener("invalid", function (e) {
    var el = e.target;
    var own = (el.type === "file" && el.dataset.problem) ||
      (el.hasAttribute("data-date") && el.value.trim() && !parseDate(el.value));
    el.setCustomValidity("");
    if (own || !el.validity.valid) el.setCustomValidity(message(el));
  }, true);

  function recheck(el) {
    if (!el.willValidate) return;
    el.setCustomValidity("");
    if (el.type === "file") {
      var problem = fileProblem(el);
      el.dataset.problem = problem;
      if (problem) el.setCustomValidity(problem);
      showNote(el, "file-problem", problem, "field-error");
      if (problem) el.reportValidity();
    } else if (el.hasAttribute("data-date")) {
      if (el.value.trim() && !parseDate(el.value)) el.setCustomValidity(message(el));
      if (el.hasAttribute("data-deadline")) warnPast(el);
    }
  }

  function showNote(el, cls, text, kind) {
    var box = el.parentNode.querySelector("." + cls);
    if (!text) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("span");
      box.className = kind + " " + cls;
      box.setAttribute("role", "status");
      el.insertAdjacentElement("afterend", box);
    }
    box.textContent = text;
  }

  function warnPast(el) {
    var date = parseDate(el.value), today = parseDate(el.dataset.today);
    var past = date && today && date < today;
    showNote(el, "deadline-past", past ? "Lưu ý: hạn này đã qua (trước hôm nay). Kiểm tra lại nếu không cố ý." : "", "field-warning");
  }

  document.addEventListener("input", function (e) { if (e.target.matches("input, select, textarea")) recheck(e.target); });
  document.addEventListener("change", function (e) { if (e.target.matches("input, select, textarea")) recheck(e.target); });

  // Searchable recipient lists: hide what does not match; the list stays a plain list without JS.
  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }
  document.querySelectorAll("input[data-filter]").forEach(function (box) {
    var scope = document.querySelector(box.dataset.filter);
    if (!scope) return;
    box.closest("[hidden]") && box.closest("[hidden]").removeAttribute("hidden");
    box.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });
    box.addEventListener("input", function () {
      var q = fold(box.value.trim()), shown = 0;
      scope.querySelectorAll("[data-filter-item]").forEach(function (item) {
        var match = !q || fold(item.textContent).indexOf(q) !== -1;
        item.hidden = !match;
        if (match) shown++;
      });
      var empty = scope.querySelector(".filter-empty");
      if (empty) empty.hidden = shown > 0;
      scope.querySelectorAll("fieldset").forEach(function (group) {  // a group left empty goes too
        group.hidden = !group.querySelector("[data-filter-item]:not([hidden])");
      });
    });
  });

  document.querySelectorAll("input[data-deadline]").forEach(function (el) { if (el.value) warnPast(el); });

  // While a submission runs (a DOCX conversion, a seal), its buttons say so and cannot be pressed
  // twice. Disabled after the event, so that the pressed button's name/value is still sent.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    setTimeout(function () {
      if (e.defaultPrevented || form.hasAttribute("data-no-busy")) return;
      form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) {
        b.dataset.label = b.textContent;
        b.textContent = "Đang xử lý…";
        b.disabled = true;
        b.setAttribute("aria-busy", "true");
      });
    }, 0);
  });
  // Back to a page kept in the browser's cache: its buttons work again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[aria-busy=true]").forEach(function (b) {
      b.textContent = b.dataset.label || b.textContent;
      b.disabled = false;
      b.removeAttribute("aria-busy");
    });
  });
})();

// the work calendar's «In lịch tuần» (docs/calendar.md): the page's print style does the rest
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) {
    window.print();
  }
});
