// The owner's signature on the agent's device: draw on the canvas; on submit the drawing becomes the form's
// "signature" PNG (unless a picture was chosen instead). Without script the file input still works.
document.addEventListener("DOMContentLoaded", () => {
  const pad = document.getElementById("signature-pad");
  if (!pad) return;
  const form = pad.closest("form"), file = document.getElementById("signature-file"), pen = pad.getContext("2d");
  let drawing = false, drawn = false;
  const at = (e) => { const r = pad.getBoundingClientRect(); return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height]; };
  pad.addEventListener("pointerdown", (e) => { drawing = true; pen.beginPath(); pen.moveTo(...at(e)); });
  pad.addEventListener("pointermove", (e) => { if (!drawing) return; pen.lineWidth = 2; pen.lineTo(...at(e)); pen.stroke(); drawn = true; });
  ["pointerup", "pointerleave"].forEach((name) => pad.addEventListener(name, () => { drawing = false; }));
  document.getElementById("signature-clear").addEventListener("click", () => { pen.clearRect(0, 0, pad.width, pad.height); drawn = false; });
  form.addEventListener("submit", (e) => {
    if (!drawn || file.files.length) return;
    e.preventDefault();
    pad.toBlob((blob) => {
      const chosen = new DataTransfer();
      chosen.items.add(new File([blob], "signature.png", { type: "image/png" }));
      file.files = chosen.files;
      form.submit();
    }, "image/png");
  });
});
