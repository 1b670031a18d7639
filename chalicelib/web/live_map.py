"""Geometry of the live map on the tracking page: Web Mercator at a zoom that fits the driver and the destination
area, so the self-drawn SVG and OpenStreetMap-style tiles (when the operator configures a tile URL) line up.

The page's script projects new positions with the same formula (templates/pages/tracking.html.j2, `project`).
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

WIDTH, HEIGHT = 320, 200
TILE = 256
MAX_ZOOM = 16
#: Room kept around the points (the destination area is drawn as a circle around its centre).
MARGIN = 40
#: The destination area's radius on the map, in degrees of latitude (about 550 m): an area, never a door.
AREA_RADIUS_DEG = 0.005


def world(lat: float, lng: float, zoom: float) -> tuple[float, float]:
    """Web Mercator pixel coordinates at `zoom` (tiles of 256 px)."""
    size = TILE * 2**zoom
    lat = max(min(lat, 85.0), -85.0)
    sin = math.sin(math.radians(lat))
    x = (lng + 180.0) / 360.0 * size
    y = (0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * size
    return x, y


def frame(points: list[tuple[float, float]], whole_zoom: bool) -> dict[str, float]:
    """The zoom and centre (as lat/lng) that show every point with a margin; a whole zoom when tiles are drawn."""
    lats, lngs = [p[0] for p in points], [p[1] for p in points]
    centre = ((min(lats) + max(lats)) / 2, (min(lngs) + max(lngs)) / 2)
    zoom = float(MAX_ZOOM)
    while zoom > 2:
        xs, ys = zip(*(world(lat, lng, zoom) for lat, lng in points), strict=True)
        if max(xs) - min(xs) <= WIDTH - 2 * MARGIN and max(ys) - min(ys) <= HEIGHT - 2 * MARGIN:
            break
        zoom -= 1 if whole_zoom else 0.25
    return {"lat": centre[0], "lng": centre[1], "zoom": zoom}


def project(lat: float, lng: float, view: dict[str, float]) -> tuple[float, float]:
    """A point's place on the map, clamped to its edges (a driver who drove off the frame stays visible)."""
    cx, cy = world(view["lat"], view["lng"], view["zoom"])
    x, y = world(lat, lng, view["zoom"])
    return (
        round(min(max(x - cx + WIDTH / 2, 6), WIDTH - 6), 1),
        round(min(max(y - cy + HEIGHT / 2, 6), HEIGHT - 6), 1),
    )


def tiles(view: dict[str, float], template: str) -> list[dict[str, Any]]:
    """The tiles under the frame, each with its URL and place (x, y) on the map."""
    zoom = int(view["zoom"])
    cx, cy = world(view["lat"], view["lng"], zoom)
    left, top = cx - WIDTH / 2, cy - HEIGHT / 2
    count = 2**zoom
    found = []
    for tx in range(math.floor(left / TILE), math.floor((left + WIDTH) / TILE) + 1):
        for ty in range(math.floor(top / TILE), math.floor((top + HEIGHT) / TILE) + 1):
            if 0 <= ty < count:
                url = template.replace("{z}", str(zoom)).replace("{x}", str(tx % count)).replace("{y}", str(ty))
                found.append({"url": url, "x": round(tx * TILE - left, 1), "y": round(ty * TILE - top, 1)})
    return found


def https_origin(template: str) -> str:
    """The scheme and host of an https URL (or tile URL template): what a CSP source list names."""
    parts = urlsplit(template.replace("{z}", "0").replace("{x}", "0").replace("{y}", "0"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme == "https" and parts.netloc else ""


def live_map(live: dict[str, Any] | None, tile_template: str) -> dict[str, Any] | None:
    """What the template draws: the frame, the driver and area marks, the tiles (if any); None with nothing to
    place (no fresh position and no destination area)."""
    if not live:
        return None
    position, area = live.get("position"), live.get("destination_area")
    points = [(p["lat"], p["lng"]) for p in (position, area) if p]
    if not points:
        return None
    view = frame(points, whole_zoom=bool(tile_template))
    radius = 0.0
    if area:
        _, top = world(area["lat"] + AREA_RADIUS_DEG, area["lng"], view["zoom"])
        _, middle = world(area["lat"], area["lng"], view["zoom"])
        radius = max(round(middle - top, 1), 8.0)
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "view": view,
        "driver": project(position["lat"], position["lng"], view) if position else None,
        "area": project(area["lat"], area["lng"], view) if area else None,
        "radius": radius,
        "tiles": tiles(view, tile_template) if tile_template else [],
    }
