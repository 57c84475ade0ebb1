// BBB's "snapshot of the current slide": the page image with its annotations, as a PNG.
import { SVG } from "../../../../sala/room/static/shapes.js";

export async function snapshotSlide(slide, board, doc) {
  if (!doc || !slide?.naturalWidth) return;
  const [width, height] = [slide.naturalWidth, slide.naturalHeight];
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  context.drawImage(slide, 0, 0, width, height);
  const copy = board.cloneNode(true);
  copy.setAttribute("xmlns", SVG);
  copy.setAttribute("width", width);
  copy.setAttribute("height", height);
  for (const el of copy.querySelectorAll(".wb-selection")) el.remove(); // the select tool's frame
  // Strokes keep their on-screen thickness in the page; scale it to the image.
  const scale = width / Math.max(1, board.getBoundingClientRect().width);
  for (const el of copy.querySelectorAll("[style]")) {
    const px = parseFloat(el.style.strokeWidth);
    if (px) el.style.strokeWidth = `${px * scale}px`;
  }
  const overlay = new Image();
  overlay.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(new XMLSerializer().serializeToString(copy))}`;
  await overlay.decode();
  context.drawImage(overlay, 0, 0, width, height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `${doc.name.replace(/\.[^.]+$/, "")}-${doc.page}.png`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
