"""Convolutions: Conv2D (learned or hand-designed filters, dilation, L2 decay), SeparableConv2D and
DepthwiseConv2D."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import (
    ACTIVATIONS,
    BlockSpec,
    Fix,
    Inference,
    KerasLayer,
    ParamSpec,
    Refusal,
    Shape,
    ShapeError,
    activation_of,
    l2_config,
    l2_from_keras,
    l2_param,
    pair,
    register,
    sliding,
    sliding_output,
)
from .glyph import Ellipse, Rect

_SQUARE_3x3 = ("sobel", "kirsch")
KERNEL_INIT_HELP = (
    "Starting kernels: 'learned' = random, shaped by training; 'sobel' = horizontal and vertical edge "
    "detectors; 'kirsch' = eight compass edge detectors (N, NE, ... NW); 'gaussian' = a blur. "
    "Hand-designed kernels repeat over the filters (bias starts at 0)"
)


def effective_kernel(p: dict[str, Any]) -> tuple[int, int]:
    """The span of a (dilated) kernel: ``d * (k - 1) + 1`` per axis."""
    return (p.get("dilation_h", 1) * (p["kernel_h"] - 1) + 1, p.get("dilation_w", 1) * (p["kernel_w"] - 1) + 1)


def _check_dilation(label: str, p: dict[str, Any]) -> None:
    """Keras does not combine a stride above 1 with a dilation above 1."""
    if max(p.get("dilation_h", 1), p.get("dilation_w", 1)) > 1 and max(p["stride_h"], p["stride_w"]) > 1:
        raise ShapeError(f"{label} cannot both stride and dilate; set the stride to 1 or the dilation to 1",
                         Fix("Use stride 1", "set_params", {"values": {"stride_h": 1, "stride_w": 1}}))


def _infer(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    shape = shapes[0]
    _check_dilation("Conv2D", p)
    oh, ow = sliding_output("Conv2D", "Kernel", shape, effective_kernel(p), (p["stride_h"], p["stride_w"]),
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
        "use_bias": p["use_bias"], **_dilation(p), **l2_config(p),
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
    kh, kw = effective_kernel(p)
    pad = KerasLayer("ZeroPadding2D", {"padding": (kh - 1, kw - 1)}, suffix="__pad")
    return [pad, KerasLayer("Conv2D", {**config, "padding": "valid"})]


def _dilation(p: dict[str, Any]) -> dict[str, Any]:
    d = (p.get("dilation_h", 1), p.get("dilation_w", 1))
    return {"dilation_rate": d} if d != (1, 1) else {}


def _summary(p: dict[str, Any]) -> str:
    """``16 @ 3x3, s1, same · relu``; hand-designed or frozen kernels say so first."""
    stride = f"s{p['stride_h']}" if p["stride_h"] == p["stride_w"] else f"s{p['stride_h']}x{p['stride_w']}"
    hand = [p["kernel_init"]] if p.get("kernel_init", "learned") != "learned" else []
    frozen = ["frozen"] if not p.get("trainable", True) else []
    dilated = [f"dilation {p['dilation_h']}x{p['dilation_w']}"] if (p["dilation_h"], p["dilation_w"]) != (1, 1) else []
    decay = [f"L2 {p['l2']:g}"] if p.get("l2") else []
    head = ", ".join([f"{p['filters']} @ {p['kernel_h']}x{p['kernel_w']}", *dilated, *hand, *frozen, *decay])
    return f"{head}, {stride}, {p['padding']} · {p['activation']}"


def _from_keras(cfg: dict[str, Any]) -> dict[str, Any]:
    """A frozen Conv2D becomes a block with Trainable unticked; its kernels come with the weights."""
    if cfg.get("groups", 1) != 1:
        raise Refusal(f"{cfg['groups']} groups (grouped convolution)")
    (kh, kw), (sh, sw), (dh, dw) = pair(cfg["kernel_size"]), pair(cfg["strides"]), pair(cfg.get("dilation_rate", 1))
    return {"filters": cfg["filters"], "kernel_h": kh, "kernel_w": kw, "stride_h": sh, "stride_w": sw,
            "dilation_h": dh, "dilation_w": dw, "padding": cfg["padding"], "activation": activation_of(cfg),
            "use_bias": cfg["use_bias"], "trainable": cfg.get("trainable", True) is not False, **l2_from_keras(cfg)}


_DILATION = (
    ParamSpec("dilation_h", int, 1, "Rows between the kernel's taps: a dilated 3x3 kernel with dilation 2 "
              "spans 5 rows (stride must then be 1)", "Dilation height", 1, 16),
    ParamSpec("dilation_w", int, 1, "Columns between the kernel's taps", "Dilation width", 1, 16),
)


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
        *_DILATION,
        l2_param(),
    ),
    _infer, _layers, _summary,
    window=sliding("kernel_h", "kernel_w", ("dilation_h", "dilation_w")),
    glyph=(Rect(-0.34, -0.34, 0.5, 0.5), Rect(-0.16, -0.16, 0.5, 0.5), Rect(0.04, 0.04, 0.18, 0.18, "solid")),
    imports={"Conv2D": _from_keras},
    activation="activation",
    kernel_view=True,
    explore="conv",
    cost="multiply",
))


# --------------------------------------------------------------------------- depthwise and separable


def _depthwise_shape(label: str, p: dict[str, Any], shape: Shape) -> tuple[int, int, int]:
    if p["stride_h"] != p["stride_w"]:
        raise ShapeError(f"{label} moves by the same stride along rows and columns (TensorFlow's depthwise "
                         f"convolution); set both strides to {p['stride_h']}",
                         Fix("Use equal strides", "set_params", {"values": {"stride_w": p["stride_h"]}}))
    oh, ow = sliding_output(label, "Kernel", shape, (p["kernel_h"], p["kernel_w"]), (p["stride_h"], p["stride_w"]),
                            p["padding"])
    return oh, ow, shape[2] * p["depth_multiplier"]


def _window_config(p: dict[str, Any]) -> dict[str, Any]:
    return {"kernel_size": (p["kernel_h"], p["kernel_w"]), "strides": (p["stride_h"], p["stride_w"]),
            "padding": p["padding"], "depth_multiplier": p["depth_multiplier"], "activation": p["activation"],
            "use_bias": p["use_bias"]}


def _window_from_keras(cfg: dict[str, Any]) -> dict[str, Any]:
    if pair(cfg.get("dilation_rate", 1)) != (1, 1):
        raise Refusal(f"dilation rate {tuple(pair(cfg['dilation_rate']))} (only Conv2D blocks are dilated)")
    (kh, kw), (sh, sw) = pair(cfg["kernel_size"]), pair(cfg["strides"])
    return {"kernel_h": kh, "kernel_w": kw, "stride_h": sh, "stride_w": sw, "padding": cfg["padding"],
            "depth_multiplier": cfg["depth_multiplier"], "activation": activation_of(cfg), "use_bias": cfg["use_bias"]}


def _window_params(what: str) -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("kernel_h", int, 3, f"Height of each {what} filter", "Kernel height", 1, 28),
        ParamSpec("kernel_w", int, 3, f"Width of each {what} filter", "Kernel width", 1, 28),
        ParamSpec("stride_h", int, 1, "Rows the filter moves per step", "Stride height", 1, 28),
        ParamSpec("stride_w", int, 1, "Columns the filter moves per step", "Stride width", 1, 28),
        ParamSpec("padding", str, "valid", "'valid': no border; 'same': zeros keep ceil(n / stride)",
                  choices=("valid", "same")),
        ParamSpec("depth_multiplier", int, 1, "Filters per input channel", "Depth multiplier", 1, 64),
        ParamSpec("activation", str, "relu", "Non-linearity applied to the output", choices=ACTIVATIONS),
        ParamSpec("use_bias", bool, True, "Add a learned bias to each output", label="Bias"),
    )


def _depthwise_infer(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    oh, ow, c_out = _depthwise_shape("DepthwiseConv2D", p, shapes[0])
    taps = p["kernel_h"] * p["kernel_w"]
    params = c_out * taps + (c_out if p["use_bias"] else 0)
    return Inference((oh, ow, c_out), params, macs=oh * ow * c_out * taps)


def _window_summary(p: dict[str, Any], head: str) -> str:
    stride = f"s{p['stride_h']}" if p["stride_h"] == p["stride_w"] else f"s{p['stride_h']}x{p['stride_w']}"
    return f"{head}{p['kernel_h']}x{p['kernel_w']} x{p['depth_multiplier']}, {stride}, {p['padding']} · {p['activation']}"


DEPTHWISE = register(BlockSpec(
    "DepthwiseConv2D", "DepthwiseConv2D", "Convolution",
    "Filters each input channel on its own (depth multiplier filters per channel), without mixing channels. "
    "Parameters = f_h*f_w*c_in*multiplier (+ bias).",
    _window_params("per-channel"),
    _depthwise_infer,
    lambda p, shapes: [KerasLayer("DepthwiseConv2D", _window_config(p))],
    lambda p: _window_summary(p, "per channel "),
    window=sliding("kernel_h", "kernel_w"),
    glyph=(Rect(-0.34, -0.34, 0.3, 0.3), Rect(0.04, -0.34, 0.3, 0.3), Rect(-0.34, 0.04, 0.3, 0.3),
           Rect(0.04, 0.04, 0.3, 0.3, "half")),
    imports={"DepthwiseConv2D": _window_from_keras},
    activation="activation",
    cost="multiply",
))


def _separable_infer(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    oh, ow, mid = _depthwise_shape("SeparableConv2D", p, shapes[0])
    taps, filters = p["kernel_h"] * p["kernel_w"], p["filters"]
    params = mid * taps + mid * filters + (filters if p["use_bias"] else 0)
    return Inference((oh, ow, filters), params, macs=oh * ow * mid * (taps + filters))


SEPARABLE = register(BlockSpec(
    "SeparableConv2D", "SeparableConv2D", "Convolution",
    "A depthwise convolution (each channel filtered on its own) followed by a 1x1 convolution that mixes "
    "the channels: far fewer parameters than Conv2D. Parameters = f_h*f_w*c_in*m + c_in*m*filters + filters.",
    (ParamSpec("filters", int, 32, "Output channels of the 1x1 mixing step", "Filters", 1, 2048),
     *_window_params("per-channel")),
    _separable_infer,
    lambda p, shapes: [KerasLayer("SeparableConv2D", {"filters": p["filters"], **_window_config(p)})],
    lambda p: _window_summary(p, f"{p['filters']} @ separable "),
    window=sliding("kernel_h", "kernel_w"),
    glyph=(Rect(-0.34, -0.34, 0.42, 0.42), Rect(0.12, 0.12, 0.22, 0.22, "solid"), Ellipse(-0.13, -0.13, 0.08, 0.08,
                                                                                            "solid")),
    imports={"SeparableConv2D": lambda cfg: {"filters": cfg["filters"], **_window_from_keras(cfg)}},
    activation="activation",
    cost="multiply",
))
