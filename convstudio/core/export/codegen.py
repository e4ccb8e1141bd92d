"""Python that runs without ConvStudio: a standalone training script, and predict.py beside a model.

The training script rebuilds the network layer by layer in the plain Keras functional API (layer
names = block ids) and trains it with the same settings and the same preprocessing. It is
verified by loading it as a module, building its model, copying the in-app weights in by layer
name and comparing outputs; predict.py is verified by classifying PNG files of the test images.
"""

from __future__ import annotations

import builtins
import importlib.util
import keyword
import pprint
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ..blocks import KerasLayer, adds_softmax, get_spec, softmax_layer
from ..network import Network
from ..settings import TrainSettings
from ..shapes import analyze, format_shape
from .formats import ExportError
from .keras_export import write_keras
from .verify import Check, ExportContext

__all__ = ["KERAS_DATASETS", "model_code", "predict_script", "training_script", "verify", "write"]

KERAS_DATASETS = {"mnist": "mnist", "fashion_mnist": "fashion_mnist"}
"""ConvStudio dataset names and the ``keras.datasets`` module that downloads each."""

_RESERVED = {"keras", "np", "json", "argparse", "os", "sys", "inputs", "outputs", "model", "main", "args",
             "build_model", "load_data", "preprocess", "train"}


# --------------------------------------------------------------------------- the model, layer by layer


def _var(block_id: str) -> str:
    """A Python variable for a block's output: its id, unless that is a keyword or a name in use."""
    clash = keyword.iskeyword(block_id) or block_id in _RESERVED or hasattr(builtins, block_id)
    return f"x_{block_id}" if clash else block_id


def _statement(target: str, call: str, args: list[str], arg: str) -> str:
    """``target = call(*args)(arg)``, with one constructor argument per line when it is long."""
    line = f"    {target} = {call}({', '.join(args)})({arg})"
    if len(line) <= 100:
        return line
    listed = "".join(f"\n        {a}," for a in args)
    return f"    {target} = {call}({listed}\n    )({arg})"


_INLINE = 60
"""Config values whose literal is longer than this go into a variable of their own (e.g. kernels)."""


class _Writer:
    """Writes each block's Keras layers as ``keras.layers.X(key=repr(value), ..., name=repr(id))``."""

    def __init__(self, network: Network) -> None:
        self.lines: list[str] = []
        self.taken = set(network.blocks) | {_var(b) for b in network.blocks} | _RESERVED

    def _hoist(self, base: str, value: object) -> str:
        var = base
        while var in self.taken:
            var += "_"
        self.taken.add(var)
        literal = pprint.pformat(value, width=96, compact=True).replace("\n", "\n        ")
        self.lines.append(f"    {var} = {literal}")
        return var

    def layer(self, layer: KerasLayer, block_id: str, target: str, arg: str) -> None:
        args = []
        for key, value in layer.config.items():
            literal = repr(value)
            if len(literal) > _INLINE:
                literal = self._hoist(f"{_var(block_id)}_{key}", value)
            args.append(f"{key}={literal}")
        args.append(f"name={block_id + layer.suffix!r}")
        self.lines.append(_statement(target, f"keras.layers.{layer.cls}", args, arg))


def model_code(network: Network, input_shape: tuple[int, int, int], num_classes: int) -> list[str]:
    """The body of ``build_model()``: one commented statement per block, in dependency order."""
    analysis = analyze(network, input_shape, num_classes)
    if not analysis.ok:
        raise ExportError("the network has errors; fix them before exporting a script")
    input_id = network.input_blocks()[0]
    writer = _Writer(network)
    writer.lines += [f"    # {input_id}: {format_shape(tuple(input_shape))} images",
                     f"    {_var(input_id)} = keras.Input(shape={tuple(input_shape)!r}, name={input_id!r})"]
    done = {input_id}
    for bid in analysis.order:
        block, srcs = network.blocks[bid], network.inputs_of(bid)
        if bid in done or not srcs or any(s not in done for s in srcs):
            continue
        spec, info = get_spec(block.kind), analysis.info[bid]
        writer.lines.append(f"    # {bid}: {spec.summary(block.params)} -> {format_shape(info.shape)}, "
                            f"{info.params:,} parameters")
        x = "[" + ", ".join(_var(s) for s in srcs) + "]" if spec.max_inputs > 1 else _var(srcs[0])
        for layer in spec.layers(block.params, [analysis.info[s].shape for s in srcs]):
            writer.layer(layer, bid, _var(bid), x)
            x = _var(bid)
        done.add(bid)
    out = network.blocks[analysis.output_id]
    result = _var(out.id)
    if adds_softmax(out.kind, out.params):
        writer.lines.append("    # the network's scores become class probabilities")
        writer.layer(softmax_layer(), "", "outputs", result)
        result = "outputs"
    writer.lines.append(f"    return keras.Model({_var(input_id)}, {result}, name=MODEL_NAME)")
    return writer.lines


def _settings(settings: Any) -> TrainSettings:
    if settings is None:
        return TrainSettings()
    if isinstance(settings, TrainSettings):
        return settings
    if isinstance(settings, dict):
        return TrainSettings.from_dict(settings)
    return TrainSettings.from_dict(settings.to_dict())


def _monitor(name: str, s: TrainSettings) -> str:
    """What a callback watches: without validation images, the training figure of the same name."""
    return name if s.validation_split > 0 or not name.startswith("val_") else name[4:]


def _dataset_name(ctx_dataset: Any) -> str:
    name = (getattr(ctx_dataset, "name", "") or "mnist").lower().replace("-", "_")
    return name if name in KERAS_DATASETS else "mnist"


def training_script(network: Network, *, input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10,
                    class_names: list[str] | None = None, dataset: str = "mnist", settings: Any = None,
                    model_name: str = "convstudio") -> str:
    """A standalone, commented training script for ``network`` (plain Keras + numpy)."""
    s = _settings(settings)
    class_names = class_names or [str(i) for i in range(num_classes)]
    callbacks = []
    if s.early_stopping.enabled:
        es = s.early_stopping
        callbacks.append(f'keras.callbacks.EarlyStopping(monitor="{_monitor(es.monitor, s)}", patience={es.patience}, '
                         f'restore_best_weights={es.restore_best})')
    if s.reduce_lr_on_plateau.enabled:
        r = s.reduce_lr_on_plateau
        callbacks.append(f'keras.callbacks.ReduceLROnPlateau(monitor="{_monitor("val_loss", s)}", factor={r.factor!r}, '
                         f'patience={r.patience}, min_lr={r.min_lr!r})')
    if s.optimizer == "sgd":
        optimizer = (f"keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum={s.momentum!r}, "
                     f"nesterov={s.nesterov})")
    elif s.optimizer == "rmsprop":
        optimizer = f"keras.optimizers.RMSprop(learning_rate=LEARNING_RATE, momentum={s.momentum!r})"
    else:
        optimizer = "keras.optimizers.Adam(learning_rate=LEARNING_RATE)"
    body = "\n".join(model_code(network, input_shape, num_classes))
    cb = ",\n        ".join(callbacks)
    return _TRAIN_TEMPLATE.format(
        model_name=model_name, dataset=dataset, class_names=class_names, input_shape=tuple(input_shape),
        num_classes=num_classes, epochs=s.epochs, batch_size=s.batch_size, learning_rate=s.learning_rate,
        validation_split=s.validation_split, seed=s.seed, optimizer=optimizer, model_body=body,
        callbacks=f"[\n        {cb},\n    ]" if callbacks else "[]",
    )


_TRAIN_TEMPLATE = '''#!/usr/bin/env python3
"""Train the "{model_name}" network, exported from ConvStudio, in plain Keras.

Needs only numpy and Keras 3 (with TensorFlow). By default the data comes from
keras.datasets.{dataset} (downloaded once); --data reads a Keras-style .npz file instead
(keys x_train, y_train, x_test, y_test).

    python {{script}} [--data mnist.npz] [--epochs N] [--out model.keras]

--limit, --max-steps and --summary-json make a quick check run: a few steps on a slice of the data.
"""

import argparse
import json

import numpy as np
import keras

MODEL_NAME = "{model_name}"
DATASET = "{dataset}"
CLASS_NAMES = {class_names!r}
INPUT_SHAPE = {input_shape}  # height, width, channels
NUM_CLASSES = {num_classes}

# Training settings, as they were in ConvStudio
EPOCHS = {epochs}
BATCH_SIZE = {batch_size}
LEARNING_RATE = {learning_rate!r}
VALIDATION_SPLIT = {validation_split!r}  # a seeded random part of the training set is held out
SEED = {seed}


def build_model():
    """The network, block by block; each layer is named after its block in ConvStudio."""
{model_body}


def preprocess(images):
    """uint8 pixels (n, height, width) -> float32 in 0..1 with a channel axis, as in ConvStudio."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    return images.astype("float32") / 255.0


def split_validation(x, y, fraction=VALIDATION_SPLIT, seed=SEED):
    """Hold out a seeded random ``fraction`` of the training images, exactly as ConvStudio does."""
    n_val = int(round(len(x) * fraction))
    order = np.random.default_rng(seed).permutation(len(x))
    train, val = np.sort(order[n_val:]), np.sort(order[:n_val])
    return (x[train], y[train]), (x[val], y[val])


def load_data(path=None):
    """(x_train, y_train), (x_test, y_test) as uint8 images and integer labels."""
    if path:
        with np.load(path) as data:
            return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])
    return getattr(keras.datasets, DATASET).load_data()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a .npz file with x_train, y_train, x_test, y_test")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--out", default=MODEL_NAME + ".keras", help="where to save the trained model")
    parser.add_argument("--limit", type=int, help="use only the first N training and test images")
    parser.add_argument("--max-steps", type=int, help="stop each epoch after N batches")
    parser.add_argument("--summary-json", help="write parameter count, output shape and results here")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(SEED)
    (x_train, y_train), (x_test, y_test) = load_data(args.data)
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
        x_test, y_test = x_test[:args.limit], y_test[:args.limit]
    (x_train, y_train), (x_val, y_val) = split_validation(x_train, y_train)
    x_train, x_val, x_test = preprocess(x_train), preprocess(x_val), preprocess(x_test)

    model = build_model()
    model.summary()
    model.compile(
        optimizer={optimizer},
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    callbacks = {callbacks}
    history = model.fit(
        x_train, y_train,
        batch_size=BATCH_SIZE,
        epochs=args.epochs,
        validation_data=(x_val, y_val) if len(x_val) else None,
        shuffle=True,  # a new order every epoch
        steps_per_epoch=args.max_steps,
        callbacks=callbacks,
        verbose=2,
    )
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=BATCH_SIZE, verbose=0)
    print(f"test accuracy {{test_accuracy:.4f}}, test loss {{test_loss:.4f}}")
    model.save(args.out)
    print(f"saved {{args.out}}")
    if args.summary_json:
        with open(args.summary_json, "w") as f:
            json.dump({{
                "params": int(model.count_params()),
                "output_shape": list(model.output_shape[1:]),
                "layers": {{layer.name: int(layer.count_params()) for layer in model.layers}},
                "test_accuracy": float(test_accuracy),
                "epochs_run": len(history.history.get("loss", [])),
            }}, f, indent=2)


if __name__ == "__main__":
    main()
'''


def predict_script(class_names: list[str], input_shape: tuple[int, int, int] = (28, 28, 1),
                   model_file: str = "model.keras") -> str:
    """predict.py: classify image files with the model beside it, preprocessed as in ConvStudio."""
    return _PREDICT_TEMPLATE.format(class_names=list(class_names), input_shape=tuple(input_shape),
                                    model_file=model_file)


_PREDICT_TEMPLATE = '''#!/usr/bin/env python3
"""Classify image files with the model exported from ConvStudio beside this script.

    python predict.py digit.png [more.png ...] [--invert] [--top 3]

Images are turned grey, resized to the model's input size and scaled to 0..1, as in ConvStudio.
MNIST-style data is light ink on a dark background: pass --invert for dark ink on white paper.
Needs numpy, Pillow and Keras 3 (with TensorFlow).
"""

import argparse
import os

import numpy as np

CLASS_NAMES = {class_names!r}
INPUT_SHAPE = {input_shape}  # height, width, channels
MODEL_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "{model_file}")


def load_image(path, invert=False):
    """One image file as uint8 pixels (height, width), grey, at the model's input size."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("L")
        if image.size != (INPUT_SHAPE[1], INPUT_SHAPE[0]):
            image = image.resize((INPUT_SHAPE[1], INPUT_SHAPE[0]), Image.BILINEAR)
        pixels = np.asarray(image, dtype=np.uint8)
    return 255 - pixels if invert else pixels


def preprocess(images):
    """uint8 pixels (n, height, width) -> float32 in 0..1 with a channel axis, as in ConvStudio."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    return images.astype("float32") / 255.0


def load_model(path=MODEL_FILE):
    import keras

    return keras.saving.load_model(path, safe_mode=True)


def classify(model, paths, invert=False):
    """Class probabilities (n, classes) for the image files in ``paths``."""
    images = np.stack([load_image(p, invert) for p in paths])
    return np.asarray(model.predict(preprocess(images), verbose=0))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Classify image files with the exported model.")
    parser.add_argument("images", nargs="+", help="image files (PNG, JPEG, ...)")
    parser.add_argument("--invert", action="store_true", help="for dark ink on a light background")
    parser.add_argument("--top", type=int, default=3, help="how many classes to list per image")
    parser.add_argument("--model", default=MODEL_FILE, help="the .keras model (default: the one beside this script)")
    args = parser.parse_args(argv)
    model = load_model(args.model)
    probabilities = classify(model, args.images, args.invert)
    for path, p in zip(args.images, probabilities):
        best = np.argsort(p)[::-1][:args.top]
        ranked = ", ".join(f"{{CLASS_NAMES[i]}} {{p[i]:.1%}}" for i in best)
        print(f"{{path}}: {{CLASS_NAMES[best[0]]}} ({{ranked}})")


if __name__ == "__main__":
    main()
'''


# --------------------------------------------------------------------------- export format hooks


def write(ctx: ExportContext, path: Path) -> None:
    if ctx.fmt.name == "script":
        source = training_script(ctx.network, input_shape=ctx.input_shape, num_classes=len(ctx.class_names),
                                 class_names=ctx.class_names, dataset=_dataset_name(ctx.dataset),
                                 settings=ctx.settings, model_name=ctx.model.name)
        path.write_text(source.replace("{script}", path.name), encoding="utf-8")
        path.chmod(0o755)
        return
    path.mkdir()
    write_keras(ctx.model, path / "model.keras")
    script = path / "predict.py"
    script.write_text(predict_script(ctx.class_names, ctx.input_shape), encoding="utf-8")
    script.chmod(0o755)


def load_module(path: Path) -> ModuleType:
    """Import a generated script as a module, without running its ``main`` or registering it."""
    spec = importlib.util.spec_from_file_location(f"_convstudio_check_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def verify(ctx: ExportContext, path: Path) -> Check:
    if ctx.fmt.name == "script":
        return _verify_script(ctx, path)
    return _verify_predict(ctx, path)


def _verify_script(ctx: ExportContext, path: Path) -> Check:
    module = load_module(path)
    rebuilt = module.build_model()
    if rebuilt.count_params() != ctx.model.count_params():
        raise ExportError(f"the network has {rebuilt.count_params():,} parameters but the trained model "
                          f"{ctx.model.count_params():,}: it was edited after training; train it again before "
                          "exporting a script; nothing was written")
    for layer in rebuilt.layers:
        if layer.weights:
            layer.set_weights(ctx.model.get_layer(layer.name).get_weights())
    outputs = np.asarray(rebuilt(module.preprocess(ctx.images), training=False))
    check = ctx.check(outputs)
    check.notes.append(f"the script's model has the same {rebuilt.count_params():,} parameters; "
                       "with the trained weights copied in it gives the same outputs")
    return check


def _verify_predict(ctx: ExportContext, path: Path) -> Check:
    from PIL import Image

    module = load_module(path / "predict.py")
    model = module.load_model(str(path / "model.keras"))
    with tempfile.TemporaryDirectory(prefix="convstudio-predict-check-") as tmp:
        files = []
        for i, image in enumerate(ctx.images):
            file = Path(tmp) / f"{i}.png"
            Image.fromarray(image).save(file)
            files.append(str(file))
        outputs = module.classify(model, files)
    check = ctx.check(outputs)
    check.notes.append(f"predict.py classified {len(files)} PNG files like the model in ConvStudio")
    return check

