// The AnyRes deep-zoom page: one or two OpenSeadragon viewers over the server's Deep Zoom pyramids. Every tile is rendered by
// the model at the zoom it is shown at; levels below the base size (zoom < 1) are never requested (minLevel).
"use strict";
const $ = id => document.getElementById(id);
const state = { info: null, networks: [], viewers: [], syncing: false };

function aspect() {
  if ($("aspect").value !== "custom") return $("aspect").value;
  const w = Math.max(1, Math.round(+$("customW").value)), h = Math.max(1, Math.round(+$("customH").value));
  return `${w}x${h}`;
}

function imagePath(network, mode) {
  return [network, mode, Math.max(0, Math.round(+$("seed").value)), +$("psi").value, aspect()].map(encodeURIComponent).join("/");
}

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${(await response.text()).trim()}`);
  return response.json();
}

function tileSource(info) {
  return new OpenSeadragon.DziTileSource({
    width: info.width, height: info.height, tileSize: info.tileSize, tileOverlap: info.overlap,
    tilesUrl: info.tilesUrl, fileFormat: "png", minLevel: info.minLevel, maxLevel: info.maxLevel,
  });
}

function makeViewer(id) {
  const viewer = OpenSeadragon({
    id, showNavigationControl: false, drawer: "canvas", crossOriginPolicy: false,
    maxZoomPixelRatio: 1, visibilityRatio: 0.5, animationTime: 0.6, imageLoaderLimit: 6,
    timeout: 600000,   // a tile can wait minutes behind other renders on a busy CPU; OpenSeadragon's 30 s would drop it
  });
  viewer.addHandler("viewport-change", () => { sync(viewer); showZoom(); });
  return viewer;
}

// Side by side: whichever viewer moves, the other takes its bounds (both show the same canvas, so bounds coincide).
function sync(source) {
  if (state.syncing || state.viewers.length < 2 || $("pane2").hidden) return;
  state.syncing = true;
  const bounds = source.viewport.getBounds();
  for (const v of state.viewers) if (v !== source && v.world.getItemCount() > 0) v.viewport.fitBounds(bounds, true);
  state.syncing = false;
}

// Zoom relative to the base size: screen pixels per base-canvas pixel (1 = the model's own p-pixel output).
function currentZoom() {
  const v = state.viewers[0], info = state.info;
  if (!v || !info || v.world.getItemCount() === 0) return 1;
  const imageZoom = v.viewport.viewportToImageZoom(v.viewport.getZoom(true));
  return imageZoom * info.width / info.baseWidth * window.devicePixelRatio;
}

function showZoom() {
  const info = state.info;
  if (!info) return;
  const z = currentZoom(), max = info.maxZoom, frac = x => Math.min(1, Math.max(0, Math.log2(Math.max(x, 1)) / Math.log2(Math.max(max, 2))));
  const [t0, t1] = info.trainedZoom;
  $("trained").style.left = `${frac(t0) * 100}%`;
  $("trained").style.width = `${Math.max(0.5, (frac(t1) - frac(t0)) * 100)}%`;
  $("marker").style.left = `${frac(z) * 100}%`;
  const where = z > t1 * 1.001 ? "beyond the trained range: the model extrapolates" : z < t0 * 0.999 ? "below the base size" : "within the trained range";
  $("zoomText").textContent = `zoom ${z.toFixed(2)}× (trained ${t0}–${t1}×, max ${max}×) — ${where}`;
}

// A 360° panorama's strip repeats to both sides, so panning never reaches an end.
function openWrapped(viewer, info) {
  const wrap = info.panorama != null;
  viewer.viewport.visibilityRatio = wrap ? 0 : 0.5;   // 0.5 would pull the view back inside one copy of the strip
  viewer.addOnceHandler("open", () => { viewer.world.getItemAt(0).wrapHorizontal = wrap; });
  viewer.open(tileSource(info));
}

async function openImage() {
  $("status").textContent = "";
  try {
    const left = $("network").value, mode = $("mode").value;
    state.info = await fetchJson(`/api/image/${imagePath(left, mode)}`);
    const keep = state.viewers[0].world.getItemCount() > 0 ? state.viewers[0].viewport.getBounds() : null;
    openWrapped(state.viewers[0], state.info);
    $("caption1").textContent = `${left}: ${mode === "model" ? "rendered by the model at each zoom" : "G(z) at p, band-limited upsampling"}`;
    const side = $("sideBySide").checked;
    $("pane2").hidden = !side;
    $("rightControls").hidden = !side;
    if (side) {
      const right = $("network2").value, mode2 = $("mode2").value;
      const info2 = await fetchJson(`/api/image/${imagePath(right, mode2)}`);
      openWrapped(state.viewers[1], info2);
      $("caption2").textContent = `${right}: ${mode2 === "model" ? "rendered by the model at each zoom" : "G(z) at p, band-limited upsampling (the stage-1 baseline)"}`;
      state.viewers[1].addOnceHandler("open", () => sync(state.viewers[0]));
    }
    if (keep) state.viewers[0].addOnceHandler("open", () => state.viewers[0].viewport.fitBounds(keep, true));
    showZoom();
  } catch (e) { $("status").textContent = e.message; }
}

// "Save this view": the visible part of the canvas (fractions of its width and height), rendered at the chosen width.
function save() {
  const v = state.viewers[0], info = state.info;
  if (!v || !info) return;
  const b = v.viewport.viewportToImageRectangle(v.viewport.getBounds(true));
  const x0 = b.x / info.width, y0 = b.y / info.height, x1 = (b.x + b.width) / info.width, y1 = (b.y + b.height) / info.height;
  const width = Math.max(1, Math.round(+$("saveWidth").value)), height = Math.max(1, Math.round(width * b.height / b.width));
  const a = document.createElement("a");
  a.href = `/save/${imagePath($("network").value, $("mode").value)}?x0=${x0}&y0=${y0}&x1=${x1}&y1=${y1}&width=${width}&height=${height}`;
  a.download = "";
  document.body.appendChild(a);
  a.click();
  a.remove();
}

// Links can preset the controls: ?network=N&mode=model&seed=3&psi=0.5&canvas=16x9&side=1&right=M&rightMode=upsampled
function applyQuery(q) {
  const set = (id, value) => { if (value !== null) $(id).value = value; };
  set("network", q.get("network")); set("mode", q.get("mode")); set("seed", q.get("seed")); set("psi", q.get("psi"));
  set("network2", q.get("right")); set("mode2", q.get("rightMode"));
  const canvas = q.get("canvas");
  if (canvas && [...$("aspect").options].some(o => o.value === canvas)) $("aspect").value = canvas;
  else if (canvas && /^\d+x\d+$/.test(canvas)) { $("aspect").value = "custom"; [$("customW").value, $("customH").value] = canvas.split("x"); }
  $("custom").hidden = $("aspect").value !== "custom";
  $("sideBySide").checked = q.get("side") === "1";
}

async function start() {
  const api = await fetchJson("/api/networks");
  state.networks = api.networks;
  for (const select of [$("network"), $("network2")])
    for (const n of api.networks) select.add(new Option(`${n.name} (${n.stage}, p=${n.p})`, n.name));
  // The paper's comparison: a stage-2 model on the left, a stage-1 model upsampled on the right when both are loaded.
  const stage2 = api.networks.find(n => n.stage === "patch"), stage1 = api.networks.find(n => n.stage === "global");
  if (stage2) $("network").value = stage2.name;
  $("network2").value = (stage1 ?? stage2 ?? api.networks[0]).name;
  applyQuery(new URLSearchParams(location.search));
  state.viewers = [makeViewer("viewer1"), makeViewer("viewer2")];
  for (const id of ["network", "mode", "seed", "psi", "aspect", "customW", "customH", "sideBySide", "network2", "mode2"])
    $(id).addEventListener("change", () => { $("custom").hidden = $("aspect").value !== "custom"; openImage(); });
  $("save").addEventListener("click", save);
  await openImage();
}

start().catch(e => { $("status").textContent = e.message; });
