// Polls the operational endpoints and shows their state. Paths are relative so the page also works when the
// server is mounted under a URL prefix (--url-prefix).
async function show(path, id) {
  const el = document.getElementById(id);
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
function refresh() {
  show("healthz", "health");
  show("readyz", "ready");
}
refresh();
setInterval(refresh, 5000);
