/* Signing with a key held in this browser (WebCrypto, ECDSA P-256, non-extractable).
 *
 * First use: make the key pair, keep it in IndexedDB, build a PKCS#10 CSR (DER written here:
 * no library, nothing fetched), send it; the agency CA answers with the certificate's serial.
 * Signing: the server prepares the PDF and sends the DER signed attributes; the key signs them
 * (WebCrypto hashes with SHA-256 and returns raw r||s); the server verifies and embeds.
 * The private key never leaves the browser: only the public key and signatures are sent.
 */
(function () {
  "use strict";

  // --- a minimal DER encoder -------------------------------------------------------------------
  function concat(parts) {
    var n = 0, i, out, off = 0;
    for (i = 0; i < parts.length; i++) n += parts[i].length;
    out = new Uint8Array(n);
    for (i = 0; i < parts.length; i++) { out.set(parts[i], off); off += parts[i].length; }
    return out;
  }
  function len(n) {
    if (n < 0x80) return new Uint8Array([n]);
    var bytes = [];
    while (n > 0) { bytes.unshift(n & 0xff); n = Math.floor(n / 256); }
    return new Uint8Array([0x80 | bytes.length].concat(bytes));
  }
  function tlv(tag, content) { return concat([new Uint8Array([tag]), len(content.length), content]); }
  function seq() { return tlv(0x30, concat(Array.prototype.slice.call(arguments))); }
  function set() { return tlv(0x31, concat(Array.prototype.slice.call(arguments))); }
  function utf8(s) { return tlv(0x0c, new TextEncoder().encode(s)); }
  function oid(dotted) {
    var p = dotted.split(".").map(Number), out = [40 * p[0] + p[1]], i, v, chunk;
    for (i = 2; i < p.length; i++) {
      v = p[i]; chunk = [v & 0x7f];
      while ((v = Math.floor(v / 128)) > 0) chunk.unshift(0x80 | (v & 0x7f));
      out = out.concat(chunk);
    }
    return tlv(0x06, new Uint8Array(out));
  }
  function uint(bytes) { // a positive INTEGER from big-endian bytes
    var i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    bytes = bytes.slice(i);
    if (bytes[0] & 0x80) bytes = concat([new Uint8Array([0]), bytes]);
    return tlv(0x02, bytes);
  }
  function bitString(bytes) { return tlv(0x03, concat([new Uint8Array([0]), bytes])); }
  function ecdsaDer(raw) { // WebCrypto's r||s -> ECDSA-Sig-Value
    var half = raw.length / 2;
    return seq(uint(raw.slice(0, half)), uint(raw.slice(half)));
  }
  function b64(bytes) {
    var s = "", i;
    for (i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s);
  }
  function unb64(text) {
    var s = atob(text), out = new Uint8Array(s.length), i;
    for (i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  var ECDSA = { name: "ECDSA", namedCurve: "P-256" };
  var SIGN = { name: "ECDSA", hash: "SHA-256" };

  async function makeCsr(keyPair, commonName) {
    var spki = new Uint8Array(await crypto.subtle.exportKey("spki", keyPair.publicKey));
    var info = seq(
      tlv(0x02, new Uint8Array([0])),                              // version v1
      seq(set(seq(oid("2.5.4.3"), utf8(commonName)))),             // subject: CN
      spki,                                                        // SubjectPublicKeyInfo
      tlv(0xa0, new Uint8Array(0))                                 // attributes [0] (none)
    );
    var raw = new Uint8Array(await crypto.subtle.sign(SIGN, keyPair.privateKey, info));
    var der = seq(info, seq(oid("1.2.840.10045.4.3.2")), bitString(ecdsaDer(raw)));
    var body = b64(der).replace(/(.{64})/g, "$1\n");
    return "-----BEGIN CERTIFICATE REQUEST-----\n" + body + "\n-----END CERTIFICATE REQUEST-----\n";
  }

  // --- IndexedDB: CryptoKey objects are stored as they are (structured clone) --------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open("ioffice-keys", 1);
      req.onupgradeneeded = function () { req.result.createObjectStore("keys"); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  async function idb(mode, fn) {
    var db = await openDb();
    return new Promise(function (resolve, reject) {
      var tx = db.transaction("keys", mode), req = fn(tx.objectStore("keys"));
      tx.oncomplete = function () { resolve(req && req.result); };
      tx.onerror = function () { reject(tx.error); };
    });
  }
  function loadKey(name) { return idb("readonly", function (s) { return s.get(name); }); }
  function saveKey(name, value) { return idb("readwrite", function (s) { return s.put(value, name); }); }

  async function postJson(url, csrf, body) {
    var resp = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    });
    var data = await resp.json().catch(function () { return {}; });
    if (!resp.ok) throw new Error(data.error || ("Lỗi máy chủ (" + resp.status + ")."));
    return data;
  }

  async function ensureKey(box, say) {
    var d = box.dataset, stored = await loadKey(d.keyName);
    if (stored && stored.serial && stored.serial === d.certSerial) return stored;
    say("Đang tạo khóa ký số trong trình duyệt…");
    var pair = await crypto.subtle.generateKey(ECDSA, false, ["sign", "verify"]);
    say("Đang xin cấp chứng thư số…");
    var csr = await makeCsr(pair, d.fullName);
    var issued = await postJson(d.keyUrl, d.csrf, { csr: csr });
    var record = { privateKey: pair.privateKey, publicKey: pair.publicKey, serial: issued.serial };
    await saveKey(d.keyName, record);
    d.certSerial = issued.serial;
    return record;
  }

  async function sign(box, say) {
    var d = box.dataset;
    var key = await ensureKey(box, say);
    say("Đang chuẩn bị văn bản…");
    var prep = await postJson(d.prepareUrl, d.csrf, {});
    if (prep.algorithm !== "ECDSA-P256") throw new Error("Khóa trên trình duyệt không hợp với chứng thư.");
    say("Đang ký…");
    var value = new Uint8Array(await crypto.subtle.sign(SIGN, key.privateKey, unb64(prep.to_sign)));
    var done = await postJson(d.finishUrl, d.csrf, { handle: prep.handle, signature: b64(value) });
    say("Đã ký. Đang mở văn bản đã ký…");
    window.location.assign(done.redirect);
  }

  function init() {
    var box = document.getElementById("browser-sign");
    if (!box) return;
    var button = document.getElementById("browser-sign-button");
    var status = document.getElementById("browser-sign-status");
    function say(text) { status.textContent = text; }
    if (!window.crypto || !crypto.subtle || !window.indexedDB) {
      button.disabled = true;
      say("Trình duyệt này không hỗ trợ ký số (cần WebCrypto và IndexedDB, qua HTTPS).");
      return;
    }
    button.addEventListener("click", function () {
      button.disabled = true;
      sign(box, say).catch(function (err) {
        say(err.message || String(err));
        status.className = "error";
        button.disabled = false;
      });
    });
  }

  // The signer clicks the page preview where the signature should go (the form's selects
  // do the same without a pointer): the point, as fractions of the page, and the page shown.
  function initPlace() {
    var img = document.querySelector("img[data-place-form]");
    if (!img) return;
    var form = document.getElementById(img.dataset.placeForm);
    img.addEventListener("click", function (event) {
      var rect = img.getBoundingClientRect();
      form.elements.x.value = ((event.clientX - rect.left) / rect.width).toFixed(4);
      form.elements.y.value = ((event.clientY - rect.top) / rect.height).toFixed(4);
      form.elements.page.value = img.dataset.page;
      form.submit();
    });
  }

  window.iofficeSign = { makeCsr: makeCsr, ecdsaDer: ecdsaDer, der: { seq: seq, oid: oid, uint: uint } };
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("DOMContentLoaded", initPlace);
})();
