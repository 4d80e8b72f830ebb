// The event list's map drawn from clusters counted on the server
// (server_map.py): one request per view, a few hundred markers at most.
// Leaflet is loaded before this module, from the page's head.
const settings = window.SERVER_MAP;
// The page's own filters and search, which the server applies to every answer.
const page = location.search.slice(1);
const ask = (params) => fetch(`${settings.url}?${page ? page + "&" : ""}${params}`).then((r) => r.json());

const escapeHTML = (s) =>
  String(s)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#039;");

// An event's popup as datasette-cluster-map renders the popup column: title, description, link.
const popupHTML = (popup) => {
  const title = `<p><strong>${escapeHTML(popup.title || "")}</strong></p>`;
  const description = popup.description ? `<p style="color: black">${escapeHTML(popup.description)}</p>` : "";
  return popup.link ? `<a href="${escapeHTML(popup.link)}">${title}${description}</a>` : title + description;
};

const style = document.createElement("style");
style.textContent = `
.server-map-cluster { background: rgba(0, 102, 204, 0.8); color: #fff; border-radius: 50%;
  display: flex; align-items: center; justify-content: center; font: bold 12px sans-serif;
  border: 2px solid #fff; box-shadow: 0 0 3px rgba(0,0,0,0.5); }
.server-map-caption { margin: 0.3em 0 2em; }
`;
document.head.appendChild(style);

const clusterIcon = (events) => {
  const size = Math.round(26 + 8 * Math.log10(events));
  return L.divIcon({
    html: events.toLocaleString(),
    className: "server-map-cluster",
    iconSize: [size, size],
  });
};

const placePopup = async (marker, placeId) => {
  const data = await ask(`place=${encodeURIComponent(placeId)}`);
  // This page is the event list, the one page that draws this map.
  const more =
    data.events > data.popups.length
      ? `<p><a href="${escapeHTML(location.pathname)}?${page ? escapeHTML(page) + "&amp;" : ""}place_id=${encodeURIComponent(placeId)}">All ${data.events.toLocaleString()} events here</a></p>`
      : "";
  const heading = data.events > 1 ? `<p>${data.events.toLocaleString()} events, newest first:</p>` : "";
  marker.setPopupContent(
    `<div class="server-map-popup" style="max-height: 250px; overflow: auto">${heading}${data.popups
      .map(popupHTML)
      .join("")}${more}</div>`
  );
  marker.getPopup().update();
};

const draw = async () => {
  const el = document.createElement("div");
  el.id = "server-map";
  el.style.width = "100%";
  el.style.height = "500px";
  const table = document.querySelector(".table-wrapper") || document.querySelector("table.rows-and-columns");
  table.parentNode.insertBefore(el, table);
  const caption = document.createElement("p");
  caption.className = "server-map-caption";
  el.parentNode.insertBefore(caption, el.nextSibling);
  const map = L.map(el, { layers: [L.tileLayer(window.DATASETTE_CLUSTER_MAP_TILE_LAYER, window.DATASETTE_CLUSTER_MAP_TILE_LAYER_OPTIONS)] });
  const markers = L.layerGroup().addTo(map);
  const total = settings.total || (await ask(""));
  if (!total.events) {
    caption.textContent = "None of these events has a place on the map.";
    el.dataset.firstDrawMs = Math.round(performance.now());
    return;
  }
  caption.textContent = `${total.events.toLocaleString()} events on the map, in clusters counted on the server; click a cluster to zoom in, a place for its events.`;
  let request = 0;
  // The places drawn, by place id. Opening a place's popup pans the map when
  // the popup would not fit (Leaflet's autoPan), and so asks for the view
  // anew: a redraw keeps that place's marker, or the popup just opened would
  // close under the reader's pointer.
  let places = new Map();
  const refresh = async () => {
    const mine = ++request;
    const b = map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].join(",");
    const data = await ask(`zoom=${map.getZoom()}&bbox=${bbox}`);
    if (mine !== request) return; // a later view has been asked for
    const open = [...places].find(([, marker]) => marker.isPopupOpen());
    const kept = data.kind === "places" && open && data.markers.some((m) => m.place_id === open[0]) ? open : null;
    markers.eachLayer((layer) => kept?.[1] !== layer && markers.removeLayer(layer));
    places = new Map(kept ? [kept] : []);
    for (const m of data.markers) {
      const at = L.latLng(m.latitude, m.longitude);
      if (data.kind === "places") {
        if (places.has(m.place_id)) continue;
        const marker = L.marker(at, { title: m.name });
        marker.bindPopup("Loading…");
        marker.on("popupopen", () => placePopup(marker, m.place_id));
        places.set(m.place_id, marker);
        markers.addLayer(marker);
      } else {
        const zoom = m.places === 1 ? settings.points_zoom : Math.min(map.getZoom() + 2, settings.points_zoom);
        markers.addLayer(L.marker(at, { icon: clusterIcon(m.events) }).on("click", () => map.setView(at, zoom)));
      }
    }
    el.dataset.zoom = map.getZoom();
    el.dataset.bbox = bbox;
    el.dataset.kind = data.kind;
    el.dataset.markers = data.markers.length;
    el.dataset.events = data.markers.reduce((sum, m) => sum + m.events, 0);
    if (!el.dataset.firstDrawMs) el.dataset.firstDrawMs = Math.round(performance.now());
  };
  map.on("moveend", refresh);
  map.fitBounds([
    [total.south, total.west],
    [total.north, total.east],
  ]);
};

draw();
