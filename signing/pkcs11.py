"""Seals (and personal keys) held in a PKCS#11 token or HSM.

The private key never leaves the token. :func:`open_token_credential` gives a
:class:`~signing.Credential` whose ``private_key`` is a :class:`TokenKey`: an object with
cryptography's public private-key interface (``rsa.RSAPrivateKey`` or
``ec.EllipticCurvePrivateKey``) whose ``sign`` asks the token. So everything that signs with a
credential works unchanged:

- :func:`signing.sign_pdf` sees a :class:`TokenKey` and signs through pyHanko's own
  :class:`pyhanko.sign.pkcs11.PKCS11Signer` on the token's session (see :meth:`TokenKey.pdf_signer`);
- XML-DSig (signxml, the edXML envelope) calls ``key.sign(data, PKCS1v15(), SHA256())`` and gets
  the token's ``CKM_SHA256_RSA_PKCS`` (or ``CKM_ECDSA_SHA256``, DER-encoded) signature.

One logged-in session per token and process, shared by every key of that token (PKCS#11
login state belongs to the process: a second ``C_Login`` fails), used by one signature at a
time (a session runs one operation at a time). A session the token dropped (token pulled out
and put back, device error) is reopened once. A PIN the token refused is not tried again until
the PIN changes: real tokens lock after a few wrong PINs.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import hashlib
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

import pkcs11
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, utils
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

from .errors import SigningError
from .pki import Credential

__all__ = [
    "TokenConfig",
    "TokenError",
    "TokenKey",
    "TokenStatus",
    "check_token",
    "generate_token_key",
    "open_token_credential",
    "open_token_key",
    "store_certificate",
    "token_csr",
]


class TokenError(SigningError):
    """The token cannot sign: module, token, PIN, key or certificate (Vietnamese message)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code
        """``module``, ``token``, ``pin_missing``, ``pin_file``, ``pin``, ``pin_locked``,
        ``key``, ``certificate``, ``mismatch``, ``device``."""


@dataclass(frozen=True)
class TokenConfig:
    """Where a key lives: a PKCS#11 module, a token in it, a key in the token."""

    module: str
    """Path of the vendor's PKCS#11 library, e.g. ``/usr/lib/softhsm/libsofthsm2.so``."""
    token_label: str
    """The token's label (``CKA_LABEL`` of the token, as ``softhsm2-util --show-slots`` shows)."""
    key_label: str | None = None
    """Label of the private key object; with ``key_id``, both must match."""
    key_id: bytes | None = None
    """``CKA_ID`` of the private key object (and of its certificate)."""
    pin_env: str | None = None
    """Name of the environment variable holding the user PIN."""
    pin_file: str | None = None
    """File holding the user PIN (one line); must not be readable by group or others."""
    certificate: str | None = None
    """PEM or DER certificate file; if unset, the token's certificate object with the key's
    label/id is used."""

    @classmethod
    def from_dict(cls, data: dict) -> TokenConfig:
        """From the JSON shape of the application's config (``key_id`` in hex)."""
        unknown = set(data) - {"module", "token", "key_label", "key_id", "pin_env", "pin_file",
                               "certificate"}
        if unknown:
            raise ValueError(f"unknown token settings: {', '.join(sorted(unknown))}")
        if not data.get("module") or not data.get("token"):
            raise ValueError("a token needs 'module' and 'token' (its label)")
        if not data.get("key_label") and not data.get("key_id"):
            raise ValueError("a token key needs 'key_label' or 'key_id'")
        if not data.get("pin_env") and not data.get("pin_file"):
            raise ValueError("a token needs 'pin_env' or 'pin_file'")
        key_id = data.get("key_id")
        return cls(module=str(data["module"]), token_label=str(data["token"]),
                   key_label=data.get("key_label") or None,
                   key_id=binascii.unhexlify(key_id) if key_id else None,
                   pin_env=data.get("pin_env") or None, pin_file=data.get("pin_file") or None,
                   certificate=data.get("certificate") or None)

    @property
    def key_name(self) -> str:
        """How the key is named in messages."""
        parts = []
        if self.key_label:
            parts.append(f"nhãn «{self.key_label}»")
        if self.key_id:
            parts.append(f"id {self.key_id.hex()}")
        return ", ".join(parts)

    def read_pin(self) -> str:
        """The user PIN, from the environment variable first, then the file."""
        if self.pin_env and os.environ.get(self.pin_env):
            return os.environ[self.pin_env]
        if self.pin_file:
            path = Path(self.pin_file)
            try:
                mode = path.stat().st_mode
                if mode & (stat.S_IRWXG | stat.S_IRWXO):
                    raise TokenError(
                        f"Tệp mã PIN {path} của token «{self.token_label}» để người khác đọc được "
                        f"(quyền {stat.filemode(mode)}); chỉ tài khoản chạy ứng dụng được đọc: "
                        f"chmod 600 {path}.", "pin_file")
                pin = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise TokenError(f"Không đọc được tệp mã PIN {path} của token "
                                 f"«{self.token_label}»: {exc.strerror}.", "pin_file") from exc
            if pin:
                return pin
        where = " hoặc ".join(filter(None, (
            self.pin_env and f"biến môi trường {self.pin_env}",
            self.pin_file and f"tệp {self.pin_file}")))
        raise TokenError(f"Chưa có mã PIN của token «{self.token_label}» ({where}).",
                         "pin_missing")


# --- sessions ------------------------------------------------------------------------------

_DROPPED = (pkcs11.exceptions.SessionHandleInvalid, pkcs11.exceptions.SessionClosed,
            pkcs11.exceptions.DeviceRemoved, pkcs11.exceptions.TokenNotPresent,
            pkcs11.exceptions.UserNotLoggedIn)


class _Token:
    """The process's logged-in session on one token, reopened when the token dropped it."""

    def __init__(self, module: str, label: str) -> None:
        self.module, self.label = module, label
        self.lock = threading.Lock()
        """Held for each use of the session: one operation at a time."""
        self._session: pkcs11.Session | None = None
        self._refused_pin: bytes | None = None

    def session(self, pin: str) -> pkcs11.Session:
        """The open session (caller holds :attr:`lock`)."""
        if self._session is None:
            self._session = self._open(pin)
        return self._session

    def drop(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(pkcs11.PKCS11Error):  # the token may have forgotten it
                session.close()

    def _open(self, pin: str) -> pkcs11.Session:
        fingerprint = hashlib.sha256(pin.encode()).digest()
        if fingerprint == self._refused_pin:
            raise _wrong_pin(self.label)
        if not os.path.exists(self.module):
            raise TokenError(f"Không có thư viện PKCS#11 «{self.module}» của token "
                             f"«{self.label}» trên máy chủ (chưa cài trình điều khiển token?).",
                             "module")
        criteria = TokenCriteria(label=self.label)
        try:
            try:
                return open_pkcs11_session(self.module, token_criteria=criteria, user_pin=pin)
            except pkcs11.exceptions.UserAlreadyLoggedIn:
                # another session of this process logged in (login belongs to the process)
                return open_pkcs11_session(self.module, token_criteria=criteria)
        except pkcs11.exceptions.PinIncorrect as exc:
            self._refused_pin = fingerprint
            raise _wrong_pin(self.label) from exc
        except pkcs11.exceptions.PinLocked as exc:
            raise TokenError(f"Token «{self.label}» đã khóa mã PIN (nhập sai quá số lần cho "
                             "phép); cần mở khóa bằng mã PIN quản trị (SO PIN) của token.",
                             "pin_locked") from exc
        except (pkcs11.exceptions.PinInvalid, pkcs11.exceptions.PinLenRange) as exc:
            raise TokenError(f"Mã PIN của token «{self.label}» không đúng định dạng token chấp "
                             "nhận.", "pin") from exc
        except pkcs11.PKCS11Error as exc:
            if "No token" in str(exc) or isinstance(exc, pkcs11.exceptions.NoSuchToken):
                raise TokenError(f"Không tìm thấy token «{self.label}» trong thư viện "
                                 f"{self.module} (token chưa cắm vào máy chủ, hoặc sai nhãn "
                                 "token trong cấu hình).", "token") from exc
            if "loading" in str(exc):
                raise TokenError(f"Không nạp được thư viện PKCS#11 «{self.module}»: {exc}",
                                 "module") from exc
            raise TokenError(f"Lỗi token «{self.label}»: {type(exc).__name__} {exc}",
                             "device") from exc


def _wrong_pin(label: str) -> TokenError:
    return TokenError(f"Mã PIN của token «{label}» không đúng; chưa ký gì. Quản trị hệ thống cần "
                      "sửa mã PIN trong cấu hình (ứng dụng không thử lại mã PIN sai này, để token "
                      "không bị khóa).", "pin")


_tokens: dict[tuple[str, str], _Token] = {}
_tokens_lock = threading.Lock()


def _token(module: str, label: str) -> _Token:
    # per process, not per caller: the token's login state is the process's
    key = (os.path.realpath(module), label)
    with _tokens_lock:
        return _tokens.setdefault(key, _Token(module, label))


# --- the key -------------------------------------------------------------------------------


class _TokenKeyMixin:
    """What the RSA and EC token keys share."""

    def _init(self, config: TokenConfig, token: _Token, public: rsa.RSAPublicKey |
              ec.EllipticCurvePublicKey) -> None:
        self.config, self._token, self._public = config, token, public

    def public_key(self):
        return self._public

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def _with_session(self, use):
        """Run ``use(session)`` holding the token's lock; once more on a new session if the
        token dropped the one it had."""
        with self._token.lock:
            for attempt in (1, 2):
                session = self._token.session(self.config.read_pin())
                try:
                    return use(session)
                except _DROPPED as exc:
                    self._token.drop()
                    if attempt == 2:
                        raise TokenError(f"Mất kết nối với token «{self.config.token_label}» "
                                         f"({type(exc).__name__}); chưa ký.", "device") from exc
                except pkcs11.PKCS11Error as exc:
                    raise TokenError(f"Lỗi token «{self.config.token_label}»: "
                                     f"{type(exc).__name__} {exc}", "device") from exc

    def _raw_sign(self, data: bytes, mechanism: Mechanism) -> bytes:
        return self._with_session(lambda s: _find_key(s, self.config).sign(data, mechanism=mechanism))

    def pdf_signer(self, credential: Credential) -> PKCS11Signer:
        """pyHanko's PKCS#11 signer on this key's token, for :func:`signing.sign_pdf`."""
        return _SerialPKCS11Signer(self, credential)

    def private_bytes(self, *args, **kwargs):
        raise TypeError("a token key cannot be exported")

    def private_numbers(self):
        raise TypeError("a token key cannot be exported")

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __repr__(self) -> str:
        return f"<TokenKey {self.config.token_label} {self.config.key_name}>"


class TokenRSAKey(_TokenKeyMixin, rsa.RSAPrivateKey):
    """An RSA key in a token, with cryptography's ``RSAPrivateKey`` interface (PKCS#1 v1.5,
    SHA-256 only: what PAdES and edXML use here)."""

    def __init__(self, config: TokenConfig, token: _Token, public: rsa.RSAPublicKey) -> None:
        self._init(config, token, public)

    def sign(self, data, padding, algorithm):  # cryptography's parameter names: callers use them
        if not isinstance(padding, asym_padding.PKCS1v15) or not isinstance(algorithm, hashes.SHA256):
            raise TypeError("a token key signs RSASSA-PKCS1-v1_5 with SHA-256 only")
        return self._raw_sign(bytes(data), Mechanism.SHA256_RSA_PKCS)

    def decrypt(self, ciphertext, padding):
        raise TypeError("a seal key only signs")


class TokenECKey(_TokenKeyMixin, ec.EllipticCurvePrivateKey):
    """An EC key in a token, with cryptography's ``EllipticCurvePrivateKey`` interface (ECDSA
    with SHA-256; DER signature, as cryptography gives)."""

    def __init__(self, config: TokenConfig, token: _Token, public: ec.EllipticCurvePublicKey
                 ) -> None:
        self._init(config, token, public)

    @property
    def curve(self):
        return self._public.curve

    def sign(self, data, signature_algorithm):
        if not isinstance(signature_algorithm, ec.ECDSA) or not isinstance(
                signature_algorithm.algorithm, hashes.SHA256):
            raise TypeError("a token key signs ECDSA with SHA-256 only")
        # CKM_ECDSA over our own SHA-256: every token has it (SoftHSM has no CKM_ECDSA_SHA256)
        digest = hashlib.sha256(bytes(data)).digest()
        raw = self._raw_sign(digest, Mechanism.ECDSA)
        half = len(raw) // 2
        return utils.encode_dss_signature(int.from_bytes(raw[:half], "big"),
                                          int.from_bytes(raw[half:], "big"))

    def exchange(self, algorithm, peer_public_key):
        raise TypeError("a seal key only signs")


TokenKey = TokenRSAKey | TokenECKey
"""A key held in a token."""


class _SerialPKCS11Signer(PKCS11Signer):
    """pyHanko's PKCS#11 signer, one signature at a time on the shared session; the session
    is the token's current one (reopened if the token dropped it)."""

    def __init__(self, key: _TokenKeyMixin, credential: Credential) -> None:
        self._key = key
        token = key._token
        with token.lock:
            session = token.session(key.config.read_pin())
            super().__init__(session, signing_cert=credential.certificate,
                             ca_chain=list(credential.chain), key_label=key.config.key_label,
                             key_id=key.config.key_id, bulk_fetch=False, other_certs_to_pull=(),
                             # EC: hash here, CKM_ECDSA in the token (see TokenECKey.sign)
                             use_raw_mechanism=isinstance(key, TokenECKey))
            try:
                # both load what they need from the token: now, under the lock, not later
                # from pyHanko's PdfSigner while another thread uses the session
                _ = self.signing_cert, self.cert_registry
            except _DROPPED as exc:
                token.drop()
                raise TokenError(f"Mất kết nối với token «{key.config.token_label}»; hãy thử "
                                 "lại.", "device") from exc
            except pkcs11.PKCS11Error as exc:
                raise TokenError(f"Token «{key.config.token_label}» không tìm được khóa "
                                 f"({key.config.key_name}): {exc}", "key") from exc

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        if dry_run:
            return await super().async_sign_raw(data, digest_algorithm, dry_run=True)
        loop = asyncio.get_running_loop()
        lock = self._key._token.lock
        await loop.run_in_executor(None, lock.acquire)  # never block the event loop
        try:
            try:
                return await super().async_sign_raw(data, digest_algorithm)
            except _DROPPED:
                self._key._token.drop()
        except pkcs11.PKCS11Error as exc:
            raise TokenError(f"Token «{self._key.config.token_label}» không ký được: "
                             f"{type(exc).__name__} {exc}", "device") from exc
        finally:
            lock.release()
        # the token dropped the session: sign once more through the key, on a new session
        if isinstance(self._key, TokenECKey):
            return self._key.sign(data, ec.ECDSA(hashes.SHA256()))
        return self._key.sign(data, asym_padding.PKCS1v15(), hashes.SHA256())


# --- finding things in the token -----------------------------------------------------------


def _key_query(config: TokenConfig) -> dict:
    query: dict = {}
    if config.key_label:
        query[Attribute.LABEL] = config.key_label
    if config.key_id:
        query[Attribute.ID] = config.key_id
    return query


def _find_key(session: pkcs11.Session, config: TokenConfig):
    found = list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                                      **_key_query(config)}))
    if not found:
        raise TokenError(f"Không có khóa bí mật ({config.key_name}) trong token "
                         f"«{config.token_label}».", "key")
    if len(found) > 1:
        raise TokenError(f"Token «{config.token_label}» có {len(found)} khóa bí mật "
                         f"({config.key_name}); hãy chỉ rõ bằng key_id.", "key")
    return found[0]


def _public_from_private(session: pkcs11.Session, config: TokenConfig, key):
    """The public key, from the public key object with the same label/id, or from the private
    key's own public attributes."""
    pubs = list(session.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY,
                                     **_key_query(config)}))
    if key.key_type == KeyType.RSA:
        source = pubs[0] if len(pubs) == 1 else key
        n = int.from_bytes(source[Attribute.MODULUS], "big")
        e = int.from_bytes(source[Attribute.PUBLIC_EXPONENT], "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    if key.key_type == KeyType.EC and len(pubs) == 1:
        from pkcs11.util.ec import encode_ec_public_key

        return serialization.load_der_public_key(encode_ec_public_key(pubs[0]))
    raise TokenError(f"Khóa ({config.key_name}) trong token «{config.token_label}» không phải "
                     "RSA hay EC có khóa công khai đi kèm.", "key")


def _find_certificate(session: pkcs11.Session, config: TokenConfig) -> asn1_x509.Certificate:
    if config.certificate:
        try:
            data = Path(config.certificate).read_bytes()
        except OSError as exc:
            raise TokenError(f"Không đọc được tệp chứng thư số {config.certificate}: "
                             f"{exc.strerror}.", "certificate") from exc
        if pem.detect(data):
            data = pem.unarmor(data)[2]
        return asn1_x509.Certificate.load(data)
    found = list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE,
                                      **_key_query(config)}))
    if len(found) != 1:
        raise TokenError(f"Không có chứng thư số ({config.key_name}) trong token "
                         f"«{config.token_label}» (hãy cấp chứng thư cho khóa, hoặc chỉ tệp "
                         "chứng thư trong cấu hình).", "certificate")
    return asn1_x509.Certificate.load(found[0][Attribute.VALUE])


def _probe(config: TokenConfig) -> _TokenKeyMixin:
    """A key object without its public key: only to run things on the token's session."""
    probe = TokenRSAKey.__new__(TokenRSAKey)
    probe._init(config, _token(config.module, config.token_label), None)  # type: ignore[arg-type]
    return probe


def open_token_key(config: TokenConfig) -> TokenKey:
    """Log in to the token (once per process) and find the key: a :class:`TokenKey`.
    :class:`TokenError` with a Vietnamese message when the module, the token, the PIN or the
    key is missing or wrong."""
    probe = _probe(config)

    def load(session):
        key = _find_key(session, config)
        return key.key_type, _public_from_private(session, config, key)

    key_type, public = probe._with_session(load)
    return (TokenRSAKey if key_type == KeyType.RSA else TokenECKey)(config, probe._token, public)


def open_token_credential(config: TokenConfig, chain: tuple[asn1_x509.Certificate, ...] = ()
                          ) -> Credential:
    """:func:`open_token_key` with its certificate (from the token, or the configured file):
    a credential that signs in the token. ``chain``: issuing CA(s) then root, as in
    :class:`Credential`."""
    key = open_token_key(config)
    certificate = key._with_session(lambda session: _find_certificate(session, config))
    cert_public = x509.load_der_x509_certificate(certificate.dump()).public_key()
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if cert_public.public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise TokenError(f"Chứng thư số không khớp với khóa ({config.key_name}) trong token "
                         f"«{config.token_label}».", "mismatch")
    return Credential(certificate=certificate, private_key=key, chain=tuple(chain))


# --- provisioning and checks (the admin's CLI) ---------------------------------------------


def _writing(config: TokenConfig, use):
    """``use(session)`` on a read-write session of its own (the shared one is read-only)."""
    token = _token(config.module, config.token_label)
    pin = config.read_pin()
    with token.lock:
        token.session(pin)  # logs in (or says why not), as for signing
        found = pkcs11.lib(config.module).get_token(token_label=config.token_label)
        session = found.open(rw=True)  # the process is logged in already
        try:
            return use(session)
        except pkcs11.PKCS11Error as exc:
            raise TokenError(f"Lỗi token «{config.token_label}»: {type(exc).__name__} {exc}",
                             "device") from exc
        finally:
            session.close()


def generate_token_key(config: TokenConfig, key_type: str = "rsa"):
    """Generate a key pair in the token (private key not extractable, sensitive) under the
    config's label and id; return its public key. Refuses if such a key exists already."""
    def make(session):
        if list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                                     **_key_query(config)})):
            raise TokenError(f"Token «{config.token_label}» đã có khóa ({config.key_name}).",
                             "key")
        common = {Attribute.TOKEN: True}
        if config.key_label:
            common[Attribute.LABEL] = config.key_label
        if config.key_id:
            common[Attribute.ID] = config.key_id
        private = {**common, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
                   Attribute.EXTRACTABLE: False, Attribute.SIGN: True}
        public = {**common, Attribute.VERIFY: True}
        if key_type == "ec":
            from pkcs11.util.ec import encode_named_curve_parameters

            params = session.create_domain_parameters(KeyType.EC, {
                Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True)
            params.generate_keypair(store=True, public_template=public, private_template=private)
        else:
            session.generate_keypair(KeyType.RSA, 2048, store=True, public_template=public,
                                     private_template=private)
        return _public_from_private(session, config, _find_key(session, config))

    return _writing(config, make)


def store_certificate(config: TokenConfig, certificate: asn1_x509.Certificate) -> None:
    """Write the certificate into the token beside its key (same label and id), replacing the
    one there."""
    cert = x509.load_der_x509_certificate(certificate.dump())

    def write(session):
        for old in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE,
                                        **_key_query(config)}):
            old.destroy()
        attrs = {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.TOKEN: True,
                 Attribute.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
                 Attribute.VALUE: certificate.dump(),
                 Attribute.SUBJECT: cert.subject.public_bytes(),
                 Attribute.ISSUER: cert.issuer.public_bytes(),
                 Attribute.SERIAL_NUMBER: asn1_x509.Certificate.load(
                     certificate.dump())["tbs_certificate"]["serial_number"].dump()}
        attrs.update(_key_query(config))
        session.create_object(attrs)

    _writing(config, write)


@dataclass(frozen=True)
class TokenStatus:
    """What :func:`check_token` found."""

    tokens: tuple[str, ...]
    """Labels of the tokens the module shows."""
    objects: tuple[str, ...] = ()
    """Keys and certificates in the configured token, e.g. ``private key 'seal' id=01``."""
    certificate_subject: str = ""
    error: str = ""
    """The Vietnamese message of the first failure, or empty if a signature was made and
    verified with the certificate's public key."""
    signature_ok: bool = False


def check_token(config: TokenConfig) -> TokenStatus:
    """List the module's tokens and the configured token's objects, then sign a test value
    with the key and verify it against the certificate."""
    try:
        if not os.path.exists(config.module):
            raise TokenError(f"Không có thư viện PKCS#11 «{config.module}».", "module")
        lib = pkcs11.lib(config.module)
        labels = tuple(label for s in lib.get_slots(token_present=True)
                       if (label := s.get_token().label))
    except (pkcs11.PKCS11Error, TokenError) as exc:
        return TokenStatus(tokens=(), error=str(exc))
    try:
        credential = open_token_credential(config)
        token = _token(config.module, config.token_label)
        with token.lock:
            session = token.session(config.read_pin())
            objects = tuple(_describe(o) for o in session.get_objects({})
                            if o.object_class in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY,
                                                  ObjectClass.CERTIFICATE))
        key = credential.private_key
        probe = b"ioffice token check"
        public = key.public_key()
        if isinstance(key, TokenRSAKey):
            public.verify(key.sign(probe, asym_padding.PKCS1v15(), hashes.SHA256()), probe,
                          asym_padding.PKCS1v15(), hashes.SHA256())
        else:
            public.verify(key.sign(probe, ec.ECDSA(hashes.SHA256())), probe,
                          ec.ECDSA(hashes.SHA256()))
    except TokenError as exc:
        return TokenStatus(tokens=labels, error=str(exc))
    except Exception as exc:  # an invalid signature, an unexpected token answer
        return TokenStatus(tokens=labels, error=f"Chữ ký thử không hợp lệ: {exc!r}")
    return TokenStatus(tokens=labels, objects=objects,
                       certificate_subject=credential.certificate.subject.human_friendly,
                       signature_ok=True)


def _describe(obj) -> str:
    kind = {ObjectClass.PRIVATE_KEY: "private key", ObjectClass.PUBLIC_KEY: "public key",
            ObjectClass.CERTIFICATE: "certificate"}[obj.object_class]
    try:
        label, ident = obj[Attribute.LABEL], obj[Attribute.ID].hex()
    except pkcs11.PKCS11Error:
        label, ident = "", ""
    return f"{kind} '{label}' id={ident}"


def token_csr(config: TokenConfig, common_name: str) -> bytes:
    """A PEM certificate signing request signed by the token's key (proof of possession)."""
    from .pki import make_csr

    return make_csr(open_token_key(config), common_name)
