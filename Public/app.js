// The try-it page: caption an image, rank texts for it, and show the server's state. Paths are relative so the
// page also works when the server is mounted under a URL prefix (--url-prefix).
const $ = (id) => document.getElementById(id);
let imageFile = null;

function setImage(file) {
  if (!file) return;
  imageFile = file;
  $("preview").src = URL.createObjectURL(file);
  $("preview").style.display = "block";
}

$("file").addEventListener("change", (event) => setImage(event.target.files[0]));
$("drop").addEventListener("dragover", (event) => { event.preventDefault(); $("drop").classList.add("over"); });
$("drop").addEventListener("dragleave", () => $("drop").classList.remove("over"));
$("drop").addEventListener("drop", (event) => {
  event.preventDefault();
  $("drop").classList.remove("over");
  setImage(event.dataTransfer.files[0]);
});

// The timings and cache state the server reports in Server-Timing.
function timing(response) {
  const header = response.headers.get("Server-Timing") || "";
  return header.split(",").map((part) => part.trim()).filter(Boolean).map((part) => {
    const [name, ...params] = part.split(";");
    const dur = params.find((p) => p.trim().startsWith("dur="));
    return dur ? `${name} ${Number(dur.split("=")[1]).toFixed(1)} ms` : name;
  }).join(" · ");
}

function errorText(body, response) {
  return body && body.error ? `${response.status} ${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`;
}

async function post(path, form) {
  const started = performance.now();
  const response = await fetch(path, { method: "POST", body: form });
  const body = await response.json().catch(() => null);
  return { response, body, elapsed: performance.now() - started };
}

$("caption-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const list = $("captions");
  list.innerHTML = "";
  if (!imageFile) { $("caption-meta").textContent = "Pick an image first."; return; }
  const form = new FormData();
  form.append("image", imageFile);
  if ($("prompt").value) form.append("prompt", $("prompt").value);
  for (const name of ["max_new_tokens", "num_beams", "num_captions"]) form.append(name, $(name).value);
  if ($("do_sample").checked) {
    form.append("do_sample", "true");
    form.append("temperature", $("temperature").value);
    form.append("top_p", $("top_p").value);
  }
  $("caption-meta").textContent = "…";
  const { response, body, elapsed } = await post("caption", form);
  if (!response.ok || !body || !body.data) { $("caption-meta").textContent = errorText(body, response); return; }
  const item = body.data[0];
  if (item.error) { $("caption-meta").textContent = `${item.error.code}: ${item.error.message}`; return; }
  for (const caption of item.captions) {
    const li = document.createElement("li");
    li.textContent = caption.text;
    li.title = `tokens ${caption.token_ids.join(" ")} (${caption.finish_reason})`;
    list.appendChild(li);
  }
  $("caption-meta").textContent =
    `${elapsed.toFixed(0)} ms · ${item.cached ? "cache hit" : "computed"} · ${timing(response)}`;
});

$("match-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const tbody = $("ranking").querySelector("tbody");
  tbody.innerHTML = "";
  if (!imageFile) { $("match-meta").textContent = "Pick an image first."; return; }
  const texts = $("texts").value.split("\n").map((t) => t.trim()).filter(Boolean);
  if (texts.length === 0) { $("match-meta").textContent = "Type at least one text."; return; }
  const form = new FormData();
  form.append("image", imageFile);
  for (const text of texts) form.append("text", text);
  $("match-meta").textContent = "…";
  const { response, body, elapsed } = await post("match", form);
  if (!response.ok || !body || !body.results) { $("match-meta").textContent = errorText(body, response); return; }
  const result = body.results[0];
  if (result.error) { $("match-meta").textContent = `${result.error.code}: ${result.error.message}`; return; }
  for (const entry of result.ranking) {
    const row = document.createElement("tr");
    for (const value of [texts[entry.text_index], entry.itm?.toFixed(4) ?? "–", entry.itc?.toFixed(4) ?? "–"]) {
      const cell = document.createElement("td");
      cell.textContent = value;
      row.appendChild(cell);
    }
    tbody.appendChild(row);
  }
  $("match-meta").textContent =
    `${elapsed.toFixed(0)} ms · ${result.cached ? "cache hit" : "computed"} · ${timing(response)}`;
});

async function show(path, id) {
  const el = $(id);
  try {
    const response = await fetch(path, { cache: "no-store" });
    const body = await response.json();
    el.textContent = body.status;
    el.className = response.ok ? "ok" : "bad";
  } catch (error) {
    el.textContent = "unreachable";
    el.className = "bad";
  }
}

async function models() {
  try {
    const body = await (await fetch("v1/models", { cache: "no-store" })).json();
    $("models").textContent = body.data.map((m) => m.id).join(", ") || "none";
  } catch (error) {
    $("models").textContent = "unknown";
  }
}

function refresh() {
  show("healthz", "health");
  show("readyz", "ready");
}
refresh();
models();
setInterval(refresh, 5000);
