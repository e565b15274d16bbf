"""JSON bodies with packages spliced in as base64 are the JSON ``json.dumps`` would write."""

from __future__ import annotations

import base64
import binascii
import json
import os

import pytest

from axis_connector.client.wire import (
    BLOBS_MEDIA_TYPE,
    Blob,
    WireError,
    b64decode,
    dumps_binary,
    dumps_with_blobs,
    loads_binary,
)


def test_blobs_become_base64_strings_anywhere_in_the_document() -> None:
    blobs = [os.urandom(n) for n in (0, 1, 2, 3, 300 * 1024)]
    payload = {"items": [{"messagetype": "edoc", "package": Blob(b), "note": "Văn bản số 1"}
                         for b in blobs], "last": Blob(b"x"), "nested": [[Blob(b"yz")]]}
    body = dumps_with_blobs(payload)
    expected = {"items": [{"messagetype": "edoc", "package": base64.b64encode(b).decode(),
                           "note": "Văn bản số 1"} for b in blobs],
                "last": "eA==", "nested": [["eXo="]]}
    assert json.loads(body) == expected
    assert body == json.dumps(expected, ensure_ascii=False).encode()


def test_metadata_that_looks_like_a_marker_is_left_alone() -> None:
    tricky = {"a": '":0"', "b": "abc:0", "package": Blob(b"\x00\xff")}
    assert json.loads(dumps_with_blobs(tricky)) == {**tricky, "package": "AP8="}


def test_without_blobs_it_is_plain_json() -> None:
    assert dumps_with_blobs({"limit": 10, "tên": "Cà Mau"}) == '{"limit": 10, "tên": "Cà Mau"}'.encode()


def test_other_objects_are_refused_like_json_does() -> None:
    with pytest.raises(TypeError):
        dumps_with_blobs({"when": object()})


def test_strict_decoding_refuses_what_the_alphabet_does_not_allow() -> None:
    assert b64decode("AP8=", strict=True) == b"\x00\xff"
    for bad in ("AP8", "A P8=", "AP8=\n", "***", "AP8==="):
        with pytest.raises(binascii.Error):
            b64decode(bad, strict=True)
    with pytest.raises(ValueError):
        b64decode("Ạ", strict=True)
    assert b64decode("AP 8=\n") == b"\x00\xff"  # lenient when reading what a hub answered


def test_binary_bodies_carry_raw_bytes_and_read_back_exactly() -> None:
    blobs = [os.urandom(n) for n in (0, 1, 300 * 1024)] + [b"\x00{\"$blob\": 3}\x00"]
    payload = {"items": [{"messagetype": "edoc", "package": Blob(b), "tên": "Văn bản số 1"}
                         for b in blobs], "nested": [[Blob(b"yz")]], "limit": 3}
    body, media_type = dumps_binary(payload)
    assert media_type == BLOBS_MEDIA_TYPE
    assert len(body) < sum(map(len, blobs)) + 400  # the bytes as they are, no base64
    assert loads_binary(body) == {"items": [{"messagetype": "edoc", "package": b, "tên": "Văn bản số 1"}
                                            for b in blobs], "nested": [[b"yz"]], "limit": 3}


def test_binary_form_without_blobs_is_plain_json() -> None:
    assert dumps_binary({"limit": 10, "tên": "Cà Mau"}) == (
        '{"limit": 10, "tên": "Cà Mau"}'.encode(), "application/json")


HOSTILE = {
    "no NUL": b'{"package": {"$blob": 2}}ab',
    "length beyond the end": b'{"package": {"$blob": 5}}\x00ab',
    "bytes left over": b'{"package": {"$blob": 1}}\x00ab',
    "bytes but no marker": b'{"package": "x"}\x00ab',
    "negative length": b'{"package": {"$blob": -1}}\x00',
    "length not an integer": b'{"package": {"$blob": "2"}}\x00ab',
    "length true": b'{"package": {"$blob": true}}\x00a',
    "marker with another key": b'{"package": {"$blob": 2, "x": 1}}\x00ab',
    "invalid JSON": b'{"package": \x00ab',
    "invalid UTF-8": b'{"t\xe0": 1}\x00',
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_binary_bodies_that_break_the_format_are_refused(body: bytes) -> None:
    with pytest.raises(WireError):
        loads_binary(body)
