"""Draw the extension's icon set (extension/icons/icon-{16,32,48,128}.png) with Pillow.

An indigo rounded square with a white chain link. Run once after changing the
design: ``python scripts/make_extension_icons.py``; the PNGs are committed,
so loading the extension needs no build step.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZES = (16, 32, 48, 128)
BRAND = (67, 56, 202, 255)
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "extension" / "icons"


def draw(size: int = 512) -> Image.Image:
    """The icon at a large size, to be scaled down."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((0, 0, size - 1, size - 1), radius=size * 0.22, fill=BRAND)
    # Two interlocking links, drawn horizontally on a layer and turned 45°.
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ink = ImageDraw.Draw(layer)
    width = size * 0.075
    w, h = size * 0.42, size * 0.24
    cy = size / 2
    left = (size * 0.16, cy - h / 2, size * 0.16 + w, cy + h / 2)
    right = (size * 0.84 - w, cy - h / 2, size * 0.84, cy + h / 2)
    ink.rounded_rectangle(left, radius=h / 2, outline=WHITE, width=int(width))
    ink.rounded_rectangle(right, radius=h / 2, outline=WHITE, width=int(width))
    layer = layer.rotate(45, resample=Image.BICUBIC, center=(size / 2, size / 2))
    image.alpha_composite(layer)
    return image


def main() -> None:
    """Write every size."""
    OUT.mkdir(parents=True, exist_ok=True)
    big = draw()
    for size in SIZES:
        big.resize((size, size), Image.LANCZOS).save(OUT / f"icon-{size}.png", optimize=True)
        print(OUT / f"icon-{size}.png")


if __name__ == "__main__":
    main()
