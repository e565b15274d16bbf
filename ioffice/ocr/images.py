"""A photo of a paper document (JPEG or PNG from a phone or a scanner) turned into a one-page PDF,
so that it is stored, previewed, OCRed and sent as any scan is."""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from ioffice.documents.pdf import InvalidPdf

IMAGE_MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
MAX_PIXELS = 60_000_000  # a 48-megapixel phone photo passes; a decompression bomb does not
A4_LONG_INCHES = 297 / 25.4


def is_image(data: bytes) -> bool:
    return any(data.startswith(magic) for magic in IMAGE_MAGIC)


def image_to_pdf(data: bytes, filename: str = "") -> bytes:
    """A one-page PDF holding the photo, upright (its EXIF orientation applied) and sized to
    A4's long side; :class:`InvalidPdf` with a clerk's message if the image cannot be read."""
    name = f" «{filename}»" if filename else ""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise InvalidPdf(f"Ảnh{name} quá lớn ({img.width}×{img.height} điểm ảnh); hãy "
                                 "chụp hoặc quét ở độ phân giải thấp hơn.")
            img.load()
            upright = ImageOps.exif_transpose(img)
            mode = "L" if upright.mode in ("1", "L", "LA", "I;16") else "RGB"
            page = upright.convert(mode)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError) as exc:
        raise InvalidPdf(f"Ảnh{name} bị hỏng hoặc không đọc được; hãy chụp hoặc quét lại "
                         "văn bản.") from exc
    dpi = max(72, round(max(page.size) / A4_LONG_INCHES))
    out = io.BytesIO()
    page.save(out, "PDF", resolution=dpi, quality=90)
    return out.getvalue()


def pdf_name(filename: str) -> str:
    """``anh-chup.jpg`` -> ``anh-chup.pdf``."""
    base, dot, suffix = filename.rpartition(".")
    return f"{base}.pdf" if dot and f".{suffix.lower()}" in IMAGE_SUFFIXES else f"{filename}.pdf"
