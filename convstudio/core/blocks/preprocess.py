"""Preprocessing blocks: augmentation (Keras' random image layers, active only while training),
Rescaling and Resizing.

Augmentation blocks change the images only while training, so at inference (prediction, every
export, receptive fields) they pass the image through unchanged: pointwise, with no weights. Their
random draws come from Keras' seed generators, seeded by the training seed
(``keras.utils.set_random_seed`` before the model is built), so a run with the same seed augments
the same way. Resizing changes the image's scale: its window is ``RESAMPLE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import (
    POINTWISE,
    RESAMPLE,
    BlockSpec,
    Inference,
    KerasLayer,
    ParamSpec,
    Refusal,
    Shape,
    need_image,
    register,
)
from .glyph import Ellipse, Line, Polyline, Rect

CATEGORY = "Preprocessing"
FILL_MODES = ("reflect", "wrap", "constant", "nearest")
VALUE_RANGE = (0.0, 1.0)
"""The pixel range of the images a network sees (ConvStudio scales 0..255 to 0..1)."""


def _image(label: str):
    def infer(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
        need_image(label, shapes[0])
        return Inference(shapes[0], 0)
    return infer


def _symmetric(value: Any, what: str) -> float:
    """A Keras factor given as ``f`` or as the range ``(-f, f)`` (or ``(0, f)`` for contrast) as ``f``."""
    if isinstance(value, int | float):
        return float(value)
    lo, hi = (float(v) for v in value)
    if lo in (-hi, 0.0) and hi >= 0:
        return hi
    raise Refusal(f"{what} range ({lo:g}, {hi:g}) is not symmetric (a block draws from -f to f)")


def _geometry(cfg: dict[str, Any]) -> dict[str, Any]:
    """Settings the geometric augmentation blocks share; the interpolation and fill value stay Keras'."""
    reasons = []
    if cfg.get("interpolation", "bilinear") != "bilinear":
        reasons.append(f"interpolation {cfg['interpolation']!r} (blocks interpolate bilinearly)")
    if float(cfg.get("fill_value", 0.0)) != 0.0:
        reasons.append(f"fill value {cfg['fill_value']} (blocks fill with 0)")
    if reasons:
        raise Refusal("; ".join(reasons))
    return {"fill_mode": cfg.get("fill_mode", "reflect")}


_FILL = ParamSpec("fill_mode", str, "reflect", "How pixels moved in from outside the image are filled",
                  "Fill", choices=FILL_MODES)


def _augment(kind: str, help_text: str, params: tuple[ParamSpec, ...], config, summary, glyph, imports,
             cost: str = "resample") -> BlockSpec:
    return register(BlockSpec(
        kind, kind, CATEGORY, help_text + " Active only while training; at inference the image passes unchanged.",
        params, _image(kind), lambda p, shapes: [KerasLayer(kind, config(p))], summary,
        window=POINTWISE, glyph=glyph, imports={kind: imports}, augments=True, cost=cost,
    ))


RANDOM_FLIP = _augment(
    "RandomFlip", "Mirrors each training image at random.",
    (ParamSpec("mode", str, "horizontal", "Which flips are drawn", "Mode",
               choices=("horizontal", "vertical", "horizontal_and_vertical")),),
    lambda p: {"mode": p["mode"]},
    lambda p: p["mode"].replace("_", " "),
    (Line(0, -0.36, 0, 0.36, pen="dashed"), Polyline(((-0.08, -0.2), (-0.34, 0.0), (-0.08, 0.2))),
     Polyline(((0.08, -0.2), (0.34, 0.0), (0.08, 0.2)))),
    lambda cfg: {"mode": cfg["mode"]},
    cost="heavy",
)

RANDOM_TRANSLATION = _augment(
    "RandomTranslation", "Shifts each training image by a random fraction of its height and width.",
    (ParamSpec("height_factor", float, 0.1, "Largest shift, as a fraction of the height", "Height factor", 0.0, 1.0),
     ParamSpec("width_factor", float, 0.1, "Largest shift, as a fraction of the width", "Width factor", 0.0, 1.0),
     _FILL),
    lambda p: {"height_factor": p["height_factor"], "width_factor": p["width_factor"], "fill_mode": p["fill_mode"]},
    lambda p: f"±{p['height_factor']:g} x ±{p['width_factor']:g}",
    (Rect(-0.34, -0.34, 0.44, 0.44, pen="dashed"), Rect(-0.1, -0.1, 0.44, 0.44)),
    lambda cfg: {"height_factor": _symmetric(cfg["height_factor"], "height factor"),
                 "width_factor": _symmetric(cfg["width_factor"], "width factor"), **_geometry(cfg)},
)

RANDOM_ROTATION = _augment(
    "RandomRotation", "Rotates each training image by a random angle up to factor x 360 degrees.",
    (ParamSpec("factor", float, 0.05, "Largest rotation as a fraction of a full turn (0.05 = 18 degrees)",
               "Factor", 0.0, 1.0), _FILL),
    lambda p: {"factor": p["factor"], "fill_mode": p["fill_mode"]},
    lambda p: f"±{p['factor'] * 360:g}°",
    (Ellipse(0, 0, 0.3, 0.3, pen="dashed"), Polyline(((0.3, -0.1), (0.3, 0.06), (0.14, 0.0)))),
    lambda cfg: {"factor": _symmetric(cfg["factor"], "factor"), **_geometry(cfg)},
)


def _zoom_from_keras(cfg: dict[str, Any]) -> dict[str, Any]:
    if cfg.get("width_factor") is None:
        raise Refusal("a zoom that keeps the aspect ratio (no width factor); a block zooms each axis on its own")
    return {"height_factor": _symmetric(cfg["height_factor"], "height factor"),
            "width_factor": _symmetric(cfg["width_factor"], "width factor"), **_geometry(cfg)}


RANDOM_ZOOM = _augment(
    "RandomZoom", "Zooms each training image in or out by a random fraction (negative = in).",
    (ParamSpec("height_factor", float, 0.1, "Largest zoom of the height, as a fraction", "Height factor", 0.0, 0.9),
     ParamSpec("width_factor", float, 0.1, "Largest zoom of the width, as a fraction", "Width factor", 0.0, 0.9),
     _FILL),
    lambda p: {"height_factor": p["height_factor"], "width_factor": p["width_factor"], "fill_mode": p["fill_mode"]},
    lambda p: f"±{p['height_factor']:g} x ±{p['width_factor']:g}",
    (Rect(-0.34, -0.34, 0.68, 0.68, pen="dashed"), Rect(-0.18, -0.18, 0.36, 0.36)),
    _zoom_from_keras,
)


def _contrast_from_keras(cfg: dict[str, Any]) -> dict[str, Any]:
    value_range = tuple(float(v) for v in cfg.get("value_range", VALUE_RANGE))
    if value_range != VALUE_RANGE:
        raise Refusal(f"value range {value_range} (ConvStudio's images run from 0 to 1)")
    return {"factor": _symmetric(cfg["factor"], "factor")}


RANDOM_CONTRAST = _augment(
    "RandomContrast", "Scales each training image's contrast around its mean by a random factor in 1 ± f.",
    (ParamSpec("factor", float, 0.2, "Largest contrast change, as a fraction", "Factor", 0.0, 1.0),),
    lambda p: {"factor": p["factor"], "value_range": VALUE_RANGE},
    lambda p: f"±{p['factor']:g}",
    (Ellipse(0, 0, 0.32, 0.32), Rect(0.0, -0.32, 0.32, 0.64, "solid", pen="none")),
    _contrast_from_keras,
    cost="heavy",
)


def _rescaling_from_keras(cfg: dict[str, Any]) -> dict[str, Any]:
    values = [cfg["scale"], cfg["offset"]]
    if not all(isinstance(v, int | float) for v in values):
        raise Refusal("a scale or offset per channel (a block has one of each)")
    return {"scale": float(values[0]), "offset": float(values[1])}


RESCALING = register(BlockSpec(
    "Rescaling", "Rescaling", CATEGORY,
    "Multiplies every pixel by a scale and adds an offset: x * scale + offset (e.g. scale 2, offset -1 "
    "maps 0..1 to -1..1).",
    (ParamSpec("scale", float, 1.0, "Factor every value is multiplied by", "Scale", -1e6, 1e6),
     ParamSpec("offset", float, 0.0, "Value added after scaling", "Offset", -1e6, 1e6)),
    lambda p, shapes: Inference(shapes[0], 0),
    lambda p, shapes: [KerasLayer("Rescaling", {"scale": p["scale"], "offset": p["offset"]})],
    summary=lambda p: f"x {p['scale']:g} + {p['offset']:g}",
    window=POINTWISE,
    glyph=(Line(-0.34, 0.3, 0.34, -0.3), Line(-0.34, 0.34, 0.34, 0.34, pen="thin"),
           Line(-0.34, -0.34, -0.34, 0.34, pen="thin")),
    imports={"Rescaling": _rescaling_from_keras},
))


def _resizing_infer(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    _, _, c = need_image("Resizing", shapes[0])
    return Inference((p["height"], p["width"], c), 0)


def _resizing_from_keras(cfg: dict[str, Any]) -> dict[str, Any]:
    reasons = [f"{key.replace('_', ' ')}" for key in ("crop_to_aspect_ratio", "pad_to_aspect_ratio", "antialias")
               if cfg.get(key)]
    if reasons:
        raise Refusal(", ".join(reasons) + " (a block stretches the image to its size)")
    return {"height": cfg["height"], "width": cfg["width"], "interpolation": cfg["interpolation"]}


RESIZING = register(BlockSpec(
    "Resizing", "Resizing", CATEGORY,
    "Resizes the image to a height and width (stretching it): a network designed for one size can take "
    "images of another. Changes the scale every later block sees.",
    (ParamSpec("height", int, 32, "Height after resizing", "Height", 1, 4096),
     ParamSpec("width", int, 32, "Width after resizing", "Width", 1, 4096),
     ParamSpec("interpolation", str, "bilinear", "How new pixels are computed from their neighbours",
               "Interpolation", choices=("bilinear", "nearest"))),
    _resizing_infer,
    lambda p, shapes: [KerasLayer("Resizing", {"height": p["height"], "width": p["width"],
                                               "interpolation": p["interpolation"]})],
    summary=lambda p: f"to {p['height']}x{p['width']}, {p['interpolation']}",
    window=RESAMPLE,
    glyph=(Rect(-0.34, -0.34, 0.68, 0.68, pen="dashed"), Rect(-0.34, 0.02, 0.32, 0.32),
           Line(-0.02, 0.02, 0.3, -0.3), Polyline(((0.12, -0.3), (0.3, -0.3), (0.3, -0.12)))),
    imports={"Resizing": _resizing_from_keras},
    cost="resample",
))
