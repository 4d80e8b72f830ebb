// What datasette-cluster-map's map of a table page lacks for a reader (issue 27):
// - a cluster click zooms by at most two steps and never past the tiles' native
//   zoom (maxNativeZoom); clusters still together there fan out instead, and a
//   map zoomed past it by hand says that the tiles are enlarged;
// - every marker has an accessible name (its event's title), every cluster one
//   saying how many events it holds;
// - on the event list, the events with no place on the map are listed under it,
//   the curated places' English names are drawn over the basemap (whose own
//   labels are in each country's script) from zoom LABELS_ZOOM, and a place
//   known only as a country or region is drawn as what it is: a dashed circle
//   around an approximate point, named so.
// - a popup's link, which the views give relative to the database's address
//   (schema.sql's popup columns: events/ID), leads to its page from the database's
//   own SQL page too, which is that address itself rather than a page beside it.
// The plugin keeps no reference to its map or cluster group, so this reaches
// them through Leaflet's own init hook on every map, and the cluster group by
// the layer it adds. Leaflet is imported from the same URL the plugin imports
// it from, so both share one `L`. datasette-cluster-map 0.18 has no option for
// any of this; a `zoomToBoundsOnClick`/max zoom option upstream would remove
// the first part.
const leaflet = window.datasette && window.datasette.leaflet;
// The database's address, under the site's base_url: the page's own on the
// database's SQL page (a query page of no ready-made query), else the one the
// table or ready-made query page is beside.
const ownQuery = document.body.matches(".query") && !/(^|\s)query-/.test(document.body.className);
const database = ownQuery ? location.pathname : location.pathname.replace(/\/[^/]*$/, "");
const STEPS = 2;
const LABELS_ZOOM = 5;
// How far around its approximate point (geo_precision other than locality) a place
// may reach, in metres, by its kind; a site or building known only approximately, 2 km.
const REACH = { country: 150000, region: 60000, province: 40000, governorate: 40000, zone: 15000 };

const drawPlaces = async (map) => {
  const response = await fetch(`${database}/place_list.json?events__gt=0&_shape=objects&_size=max`);
  const rows = (await response.json()).rows || [];
  const labels = L.layerGroup();
  for (const place of rows) {
    if (place.latitude == null || place.longitude == null) continue;
    const at = [place.latitude, place.longitude];
    const approximate = ["country", "representative"].includes(place.geo_precision);
    const radius = approximate ? REACH[place.kind] || 2000 : 0;
    // A place's name is text, never markup: Leaflet would read a string as HTML.
    const text = document.createElement("span");
    text.textContent = radius ? `${place.name} (${place.kind || "area"}; approximate point)` : place.name;
    if (radius) {
      L.circle(at, { radius, color: "#555", weight: 1, dashArray: "4 4", fillOpacity: 0.04, interactive: false })
        .addTo(map);
    }
    labels.addLayer(
      L.tooltip({ permanent: true, direction: "right", offset: [10, 0], className: "place-label" })
        .setLatLng(at)
        .setContent(text)
    );
  }
  const show = () => (map.getZoom() >= LABELS_ZOOM ? labels.addTo(map) : labels.remove());
  map.on("zoomend", show);
  show();
};

const announce = (map, native) => {
  const note = document.createElement("p");
  note.className = "map-zoom-note";
  note.setAttribute("role", "status");
  map.getContainer().after(note);
  const update = () => {
    map.getContainer().dataset.zoom = map.getZoom();
    note.textContent =
      map.getZoom() > native
        ? `Zoomed in past the map's detail (level ${native}): the tiles are enlarged and look blurred; the markers stay exact.`
        : "";
  };
  map.on("zoomend", update);
  update();
};

const titleOf = (marker) => {
  const popup = marker.getPopup && marker.getPopup();
  const html = popup && popup.getContent();
  if (typeof html !== "string") return "";
  const doc = new DOMParser().parseFromString(html, "text/html");
  const strong = doc.querySelector("strong");
  return (strong || doc.body).textContent.trim();
};

const resolveLinks = (popup) => {
  const base = new URL(`${database}/`, location.href);
  for (const a of popup.getElement().querySelectorAll("a[href]")) {
    a.href = new URL(a.getAttribute("href"), base).href;
  }
};

const name = (layer) => {
  const icon = layer._icon;
  if (!icon) return;
  if (layer.getChildCount) {
    const count = layer.getChildCount();
    icon.setAttribute("role", "button");
    icon.setAttribute("aria-label", `${count} events here: zoom in`);
  } else if (icon.tagName === "IMG") {
    icon.alt = titleOf(layer) || "An event";
  }
};

function steppedClick(e) {
  const map = this._map;
  const cluster = e.layer;
  const native = this._nativeZoom;
  const target = Math.min(map.getBoundsZoom(cluster.getBounds()), map.getZoom() + STEPS, native);
  if (target > map.getZoom()) {
    map.setView(cluster.getLatLng(), target);
  } else {
    cluster.spiderfy();
  }
}

const listUnplaced = async (container) => {
  const query = location.search.slice(1);
  const url = `${location.pathname}.json?${query ? query + "&" : ""}latitude__isnull=1&_shape=objects&_size=max`;
  const data = await (await fetch(url)).json();
  const rows = data.rows || [];
  if (!rows.length) return;
  const section = document.createElement("section");
  section.className = "unplaced-events";
  const heading = document.createElement("h2");
  heading.textContent = `Not on the map: ${rows.length} event${rows.length === 1 ? "" : "s"} with no place the sources name`;
  const list = document.createElement("ul");
  for (const row of rows) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `${database}/events/${encodeURIComponent(row.id)}`;
    link.textContent = row.title;
    item.append(`${row.date_label}: `, link);
    list.append(item);
  }
  section.append(heading, list);
  container.after(section);
};

// Only where datasette-cluster-map draws a map: it names its latitude column first.
if (leaflet && window.DATASETTE_CLUSTER_MAP_LATITUDE_COLUMN && !window.SERVER_MAP) {
  import(leaflet.JAVASCRIPT_URL).then(() => {
    L.Map.addInitHook(function () {
      const map = this;
      const options = window.DATASETTE_CLUSTER_MAP_TILE_LAYER_OPTIONS || {};
      const native = options.maxNativeZoom ?? options.maxZoom ?? 18;
      map.whenReady(() => {
        announce(map, native);
        if (document.querySelector("body.table-event_list")) {
          listUnplaced(map.getContainer().nextSibling || map.getContainer());
          drawPlaces(map);
        }
      });
      map.on("popupopen", (e) => resolveLinks(e.popup));
      map.on("layeradd", (e) => {
        const layer = e.layer;
        if (layer._zoomOrSpiderfy && !layer._nativeZoom) {
          layer._nativeZoom = native;
          layer.off("clusterclick", layer._zoomOrSpiderfy, layer);
          layer.on("clusterclick", steppedClick, layer);
        }
        if (layer instanceof L.Marker) name(layer);
      });
    });
  });
}
