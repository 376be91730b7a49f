"""A small QR decoder for tests: reads the modules a ReportLab QR drawing actually draws.

No QR image decoder (zbar, OpenCV) is installed, so the tests take the dark rectangles of the
drawing, rebuild the module matrix and decode it per ISO/IEC 18004 (format-free: each of
the eight masks is tried and only a clean byte-mode parse with standard padding is accepted).
Error correction is not applied: the drawing is exact, so the data codewords must be too.
"""

from __future__ import annotations

from reportlab.graphics.barcode import qrencoder
from reportlab.graphics.shapes import Group, Rect

MASKS = [
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
]
LEVELS = {"L": qrencoder.QRErrorCorrectLevel.L, "M": qrencoder.QRErrorCorrectLevel.M}


def matrix_from_widget(widget) -> list[list[int]]:
    """The module matrix as drawn (dark rectangles of the widget's drawing)."""
    group: Group = widget.draw()
    n = widget.qr.getModuleCount()
    border = widget.barBorder
    box = min(widget.barWidth, widget.barHeight) / (n + 2 * border)
    matrix = [[0] * n for _ in range(n)]
    for shape in group.contents:
        if not isinstance(shape, Rect) or shape.fillColor is None:
            continue
        col = round((shape.x - widget.x) / box) - border
        row = round((widget.y + widget.barHeight - shape.y) / box) - border - 1
        for k in range(round(shape.width / box)):
            matrix[row][col + k] = 1
    return matrix


def _function_modules(n: int, version: int) -> set[tuple[int, int]]:
    f: set[tuple[int, int]] = set()
    for r0, c0 in ((0, 0), (0, n - 8), (n - 8, 0)):  # finders, separators and format areas
        for r in range(r0, r0 + 8):
            for c in range(c0, c0 + 8):
                f.add((r, c))
    for k in range(9):
        f.update({(8, k), (k, 8)})
    for k in range(8):
        f.update({(8, n - 1 - k), (n - 1 - k, 8)})
    for k in range(n):
        f.update({(6, k), (k, 6)})
    positions = qrencoder.QRUtil.getPatternPosition(version)
    corners = {(6, 6), (6, n - 7), (n - 7, 6)}
    for r in positions:
        for c in positions:
            if (r, c) in corners:
                continue  # would overlap a finder
            for dr in range(-2, 3):
                for dc in range(-2, 3):
                    f.add((r + dr, c + dc))
    if version >= 7:
        for a in range(6):
            for b in range(n - 11, n - 8):
                f.update({(a, b), (b, a)})
    return f


def _codewords(matrix, function, mask) -> list[int]:
    n = len(matrix)
    bits: list[int] = []
    col, upward = n - 1, True
    while col > 0:
        if col == 6:
            col -= 1
        rows = range(n - 1, -1, -1) if upward else range(n)
        for r in rows:
            for c in (col, col - 1):
                if (r, c) in function:
                    continue
                bits.append(matrix[r][c] ^ int(MASKS[mask](r, c)))
        col -= 2
        upward = not upward
    return [int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits) - 7, 8)]


def _parse(data: list[int], version: int) -> str | None:
    bits = "".join(f"{b:08b}" for b in data)
    if bits[:4] != "0100":  # byte mode
        return None
    width = 8 if version < 10 else 16
    count = int(bits[4 : 4 + width], 2)
    start = 4 + width
    end = start + 8 * count
    if end > len(bits):
        return None
    payload = bytes(int(bits[i : i + 8], 2) for i in range(start, end, 8))
    rest = bits[end:]
    if rest[:4].strip("0"):
        return None  # the terminator must be zeros
    pad_from = (end + 4 + 7) // 8
    pads = data[pad_from:]
    if any(p != (0xEC, 0x11)[i % 2] for i, p in enumerate(pads)):
        return None
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return None


def decode(matrix: list[list[int]], level: str = "M") -> str:
    n = len(matrix)
    version = (n - 17) // 4
    function = _function_modules(n, version)
    blocks = qrencoder.QRRSBlock.getRSBlocks(version, LEVELS[level])
    results = set()
    for mask in range(8):
        words = _codewords(matrix, function, mask)
        data_blocks: list[list[int]] = [[] for _ in blocks]
        i = 0
        for k in range(max(b.dataCount for b in blocks)):
            for b, block in enumerate(blocks):
                if k < block.dataCount:
                    data_blocks[b].append(words[i])
                    i += 1
        text = _parse([w for block in data_blocks for w in block], version)
        if text is not None:
            results.add(text)
    if len(results) != 1:
        raise ValueError(f"QR code could not be decoded ({len(results)} candidates)")
    return results.pop()


def _concat(m: list[float], ctm: list[float]) -> list[float]:
    """The PDF ``cm`` operator: m × ctm for 2-D affine matrices [a b c d e f]."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = ctm
    return [a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u]


def matrices_in_pdf(pdf: bytes) -> list[tuple[str, list[list[int]]]]:
    """(link URI, module matrix) for every link annotation drawn over a QR code in the PDF.

    Interprets the page's content stream (q/Q/cm and filled rectangles) to find the dark
    squares inside each link's rectangle, then rebuilds the module grid from their positions.
    """
    import io

    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(io.BytesIO(pdf))
    found = []
    for page in reader.pages:
        links = []
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            uri = annot.get("/A", {}).get("/URI")
            if uri:
                links.append((str(uri), [float(v) for v in annot["/Rect"]]))
        if not links:
            continue
        rects = []
        ctm = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
        stack = []
        pending = []
        for operands, op in ContentStream(page.get_contents(), reader).operations:
            if op == b"q":
                stack.append(list(ctm))
            elif op == b"Q":
                ctm = stack.pop()
            elif op == b"cm":
                ctm = _concat([float(v) for v in operands], ctm)
            elif op == b"re":
                x, y, w, h = (float(v) for v in operands)
                sx, _b, _c, sy, tx, ty = ctm  # QR drawings are only scaled and moved
                pending.append((sx * x + tx, sy * y + ty, sx * w, sy * h))
            elif op in (b"f", b"f*", b"F"):
                rects.extend(pending)
                pending = []
            elif op in (b"S", b"n", b"B", b"B*", b"b", b"b*"):
                pending = []
        for uri, (x1, y1, x2, y2) in links:
            inside = [
                r for r in rects if x1 - 0.01 <= r[0] <= x2 and y1 - 0.01 <= r[1] <= y2 and abs(r[3]) < (y2 - y1) / 10
            ]
            if not inside:
                continue
            box = min(abs(r[3]) for r in inside)
            left = min(r[0] for r in inside)
            top = max(r[1] + abs(r[3]) for r in inside)
            n = round((max(r[0] + r[2] for r in inside) - left) / box)
            matrix = [[0] * n for _ in range(n)]
            for x, y, w, h in inside:
                row = round((top - (y + abs(h))) / box)
                col = round((x - left) / box)
                for k in range(round(w / box)):
                    matrix[row][col + k] = 1
            found.append((uri, matrix))
    return found
