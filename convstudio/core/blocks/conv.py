"""Conv2D: learned (or hand-designed) filters sliding over the input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import (ACTIVATIONS, BlockSpec, Fix, Inference, KerasLayer, ParamSpec, Refusal, Shape, ShapeError,
                   activation_of, pair, register, sliding, sliding_output)
from .glyph import Rect

_SQUARE_3x3 = ("sobel", "kirsch")
KERNEL_INIT_HELP = (
    "Starting kernels: 'learned' = random, shaped by training; 'sobel' = horizontal and vertical edge "
    "detectors; 'kirsch' = eight compass edge detectors (N, NE, ... NW); 'gaussian' = a blur. "
    "Hand-designed kernels repeat over the filters (bias starts at 0)"
)


def _infer(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    shape = shapes[0]
    oh, ow = sliding_output("Conv2D", "Kernel", shape, (p["kernel_h"], p["kernel_w"]), (p["stride_h"], p["stride_w"]),
                            p["padding"])
    c_in, c_out = shape[2], p["filters"]
    init = p.get("kernel_init", "learned")
    if init in _SQUARE_3x3 and (p["kernel_h"], p["kernel_w"]) != (3, 3):
        raise ShapeError(
            f"{init.capitalize()} kernels are 3x3 but this block's kernel is {p['kernel_h']}x{p['kernel_w']}; "
            "set the kernel height and width to 3 or use Gaussian kernels",
            Fix("Use Gaussian kernels", "set_param", {"name": "kernel_init", "value": "gaussian"}),
        )
    params = (p["kernel_h"] * p["kernel_w"] * c_in + (1 if p["use_bias"] else 0)) * c_out
    macs = oh * ow * c_out * p["kernel_h"] * p["kernel_w"] * c_in
    trainable = None if p.get("trainable", True) else 0
    return Inference((oh, ow, c_out), params, trainable_params=trainable, macs=macs)


def _layers(p: dict[str, Any], shapes: Sequence[Shape]) -> list[KerasLayer]:
    """'full' padding is a ZeroPadding2D (``<id>__pad``) of kernel-1 before a 'valid' Conv2D."""
    config: dict[str, Any] = {
        "filters": p["filters"], "kernel_size": (p["kernel_h"], p["kernel_w"]),
        "strides": (p["stride_h"], p["stride_w"]), "padding": p["padding"], "activation": p["activation"],
        "use_bias": p["use_bias"],
    }
    init = p.get("kernel_init", "learned")
    if init != "learned":
        from ..inspection.filters import conv_kernel_array

        c_in = shapes[0][-1] if shapes else 1
        bank = conv_kernel_array(init, p["kernel_h"], p["kernel_w"], c_in, p["filters"], broadcast=True)
        value = bank.astype(str).astype(float).tolist()  # the shortest decimals that are the same float32s
        config["kernel_initializer"] = {"class_name": "Constant", "config": {"value": value}}
    if not p.get("trainable", True):
        config["trainable"] = False
    if p["padding"] != "full":
        return [KerasLayer("Conv2D", config)]
    pad = KerasLayer("ZeroPadding2D", {"padding": (p["kernel_h"] - 1, p["kernel_w"] - 1)}, suffix="__pad")
    return [pad, KerasLayer("Conv2D", {**config, "padding": "valid"})]


def _summary(p: dict[str, Any]) -> str:
    """``16 @ 3x3, s1, same · relu``; hand-designed or frozen kernels say so first."""
    stride = f"s{p['stride_h']}" if p["stride_h"] == p["stride_w"] else f"s{p['stride_h']}x{p['stride_w']}"
    hand = [p["kernel_init"]] if p.get("kernel_init", "learned") != "learned" else []
    frozen = ["frozen"] if not p.get("trainable", True) else []
    head = ", ".join([f"{p['filters']} @ {p['kernel_h']}x{p['kernel_w']}", *hand, *frozen])
    return f"{head}, {stride}, {p['padding']} · {p['activation']}"


def _from_keras(cfg: dict[str, Any]) -> dict[str, Any]:
    """A frozen Conv2D becomes a block with Trainable unticked; its kernels come with the weights."""
    reasons = []
    if pair(cfg.get("dilation_rate", 1)) != (1, 1):
        reasons.append(f"dilation rate {tuple(cfg['dilation_rate'])} (ConvStudio's Conv2D is not dilated)")
    if cfg.get("groups", 1) != 1:
        reasons.append(f"{cfg['groups']} groups (grouped convolution)")
    if reasons:
        raise Refusal("; ".join(reasons))
    (kh, kw), (sh, sw) = pair(cfg["kernel_size"]), pair(cfg["strides"])
    return {"filters": cfg["filters"], "kernel_h": kh, "kernel_w": kw, "stride_h": sh, "stride_w": sw,
            "padding": cfg["padding"], "activation": activation_of(cfg), "use_bias": cfg["use_bias"],
            "trainable": cfg.get("trainable", True) is not False}


CONV2D = register(BlockSpec(
    "Conv2D", "Conv2D", "Convolution",
    "Slides learned filters over the input; each filter makes one feature map. "
    "Output side = floor((n + 2p - f) / s) + 1; parameters = (f_h*f_w*c_in + 1)*filters.",
    (
        ParamSpec("filters", int, 32, "Number of learned filters = output channels", "Filters", 1, 2048),
        ParamSpec("kernel_h", int, 3, "Height of each filter", "Kernel height", 1, 28),
        ParamSpec("kernel_w", int, 3, "Width of each filter", "Kernel width", 1, 28),
        ParamSpec("stride_h", int, 1, "Rows the filter moves per step: stride 2 halves the height",
                  "Stride height", 1, 28),
        ParamSpec("stride_w", int, 1, "Columns the filter moves per step", "Stride width", 1, 28),
        ParamSpec("padding", str, "valid",
                  "'valid': no border, the map shrinks; 'same': zeros keep ceil(n / stride); "
                  "'full': kernel-1 zeros, the map grows", choices=("valid", "same", "full")),
        ParamSpec("activation", str, "relu", "Non-linearity applied to the output", choices=ACTIVATIONS),
        ParamSpec("use_bias", bool, True, "Add a learned bias to each output", label="Bias"),
        ParamSpec("kernel_init", str, "learned", KERNEL_INIT_HELP, "Initial kernels",
                  choices=("learned", "sobel", "kirsch", "gaussian")),
        ParamSpec("trainable", bool, True, "Untick to freeze the kernels (hand-designed filters stay as they are)",
                  "Trainable"),
    ),
    _infer, _layers, _summary,
    window=sliding("kernel_h", "kernel_w"),
    glyph=(Rect(-0.34, -0.34, 0.5, 0.5), Rect(-0.16, -0.16, 0.5, 0.5), Rect(0.04, 0.04, 0.18, 0.18, "solid")),
    imports={"Conv2D": _from_keras},
    activation="activation",
    kernel_view=True,
    explore="conv",
))
