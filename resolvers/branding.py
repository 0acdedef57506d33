"""Logo upload: PNG or JPEG only, proven by decoding it (SVG can carry script)."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from uuid import UUID

from PIL import Image, UnidentifiedImageError

from models.agency import Agency
from models.settings import AgencyLogo
from resolvers import audit
from resolvers.errors import ErrorCode, UserError, UserErrors
from resolvers.principal import Caller

RECOMMENDED_WIDTH = 200
RECOMMENDED_HEIGHT = 50
_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
# A decompression bomb is refused before it is decoded.
_MAX_PIXELS = 4096 * 4096


@dataclass(frozen=True)
class DecodedImage:
    content_type: str
    width: int
    height: int


def decode_image(data: bytes, max_bytes: int) -> DecodedImage:
    if len(data) > max_bytes:
        raise _refuse(ErrorCode.FILE_TOO_LARGE, f"The logo must be at most {max_bytes // 1024} KB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image_format = image.format or ""
            if image_format not in _FORMATS:
                raise _refuse(ErrorCode.UNSUPPORTED_IMAGE_TYPE, "Upload a PNG or JPEG image.")
            if image.width * image.height > _MAX_PIXELS:
                raise _refuse(ErrorCode.INVALID_IMAGE, "The image is too large to decode.")
            image.load()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise _refuse(ErrorCode.INVALID_IMAGE, "The file is not a readable image.") from exc
    return DecodedImage(_FORMATS[image_format], image.width, image.height)


def _refuse(code: ErrorCode, message: str) -> UserErrors:
    return UserErrors([UserError(code, message, "file")])


async def upload_logo(caller: Caller, data: bytes, max_bytes: int) -> AgencyLogo:
    principal = caller.principal
    assert principal is not None
    image = decode_image(data, max_bytes)
    logo, _ = await AgencyLogo.update_or_create(
        defaults={
            "content_type": image.content_type,
            "data": data,
            "width": image.width,
            "height": image.height,
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        agency_id=principal.agency_id,
    )
    await audit.record(caller, "settings.branding.logo_upload", "AgencyLogo", logo.id)
    return logo


async def clear_logo(caller: Caller) -> None:
    principal = caller.principal
    assert principal is not None
    await AgencyLogo.filter(agency_id=principal.agency_id).delete()
    await audit.record(caller, "settings.branding.logo_clear", "Agency", principal.agency_id)


async def logo_for_slug(slug: str) -> AgencyLogo | None:
    agency = await Agency.get_or_none(slug=slug)
    if agency is None:
        return None
    return await AgencyLogo.get_or_none(agency_id=agency.id)


def logo_url(public_base_url: str, slug: str, logo: AgencyLogo | None) -> str | None:
    if logo is None:
        return None
    return f"{public_base_url.rstrip('/')}/logos/{slug}?v={logo.sha256[:12]}"


def portal_url(public_base_url: str, slug: str) -> str:
    return f"{public_base_url.rstrip('/')}/portal/{slug}"


async def agency_by_id(agency_id: UUID) -> Agency:
    return await Agency.get(id=agency_id)
