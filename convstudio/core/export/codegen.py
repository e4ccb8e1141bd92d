"""Python that runs without ConvStudio: a standalone training script, and predict.py beside a model.

The training script rebuilds the network layer by layer in the plain Keras functional API (layer
names = block ids) and trains it with the same settings and the same preprocessing. Every user
string (model name, class names, dataset, file names) is written as a Python literal (``repr``),
and the written source is parsed back to prove it. Verification runs the generated file in a
child Python process (:mod:`.child`), never in the app's: the script's model is built there with
the in-app weights copied in by layer name and its outputs compared; predict.py classifies PNG
files of the test images there.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import json
import keyword
import pprint
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ..blocks import KerasLayer, adds_softmax, get_spec, softmax_layer
from ..builder import model_name as safe_model_name
from ..network import Network
from ..settings import TrainSettings
from ..shapes import analyze, format_shape
from .child import run_generated
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


def model_code(network: Network, input_shape: tuple[int, int, int] | None, num_classes: int) -> list[str]:
    """The body of ``build_model()``: one commented statement per block, in dependency order."""
    analysis = analyze(network, input_shape, num_classes)
    if not analysis.ok:
        raise ExportError("the network has errors; fix them before exporting a script")
    input_shape = analysis.input_shape
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


def _q(text: Any) -> str:
    """``text`` as a double-quoted Python string literal (JSON string syntax is a subset of Python's)."""
    return json.dumps(str(text))


def _doc_text(text: Any) -> str:
    """``text`` for inside a triple-quoted docstring: escaped so that it can never end the string."""
    return repr(str(text))[1:-1].replace('"', '\\"')


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


def training_script(network: Network, *, input_shape: tuple[int, int, int] | None = None, num_classes: int = 10,
                    class_names: list[str] | None = None, dataset: str = "mnist", settings: Any = None,
                    model_name: str = "convstudio", script_name: str = "train.py") -> str:
    """A standalone, commented training script for ``network`` (plain Keras + numpy).

    ``model_name`` (made a name Keras can train, :func:`~convstudio.core.builder.model_name`),
    ``class_names``, ``dataset`` and ``script_name`` appear only as literals."""
    s = _settings(settings)
    model_name = safe_model_name(model_name)
    class_names = [str(c) for c in class_names or range(num_classes)]
    callbacks = []
    if s.early_stopping.enabled:
        es = s.early_stopping
        callbacks.append(f'keras.callbacks.EarlyStopping(monitor={_q(_monitor(es.monitor, s))}, '
                         f'patience={es.patience!r}, restore_best_weights={es.restore_best!r})')
    if s.reduce_lr_on_plateau.enabled:
        r = s.reduce_lr_on_plateau
        callbacks.append(f'keras.callbacks.ReduceLROnPlateau(monitor={_q(_monitor("val_loss", s))}, '
                         f'factor={r.factor!r}, patience={r.patience!r}, min_lr={r.min_lr!r})')
    if s.optimizer == "sgd":
        optimizer = (f"keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum={s.momentum!r}, "
                     f"nesterov={s.nesterov!r})")
    elif s.optimizer == "rmsprop":
        optimizer = f"keras.optimizers.RMSprop(learning_rate=LEARNING_RATE, momentum={s.momentum!r})"
    else:
        optimizer = "keras.optimizers.Adam(learning_rate=LEARNING_RATE)"
    input_shape = analyze(network, input_shape, num_classes).input_shape
    body = "\n".join(model_code(network, input_shape, num_classes))
    cb = ",\n        ".join(callbacks)
    return _TRAIN_TEMPLATE.format(
        model_name=_q(model_name), doc_name=_doc_text(model_name), script=_doc_text(script_name),
        dataset=_q(dataset), doc_dataset=_doc_text(dataset), class_names=class_names,
        input_shape=tuple(int(d) for d in input_shape), num_classes=int(num_classes), epochs=s.epochs, batch_size=s.batch_size, learning_rate=s.learning_rate,
        validation_split=s.validation_split, seed=s.seed, optimizer=optimizer, model_body=body,
        callbacks=f"[\n        {cb},\n    ]" if callbacks else "[]",
    )


_TRAIN_TEMPLATE = '''#!/usr/bin/env python3
"""Train the "{doc_name}" network, exported from ConvStudio, in plain Keras.

Needs only numpy and Keras 3 (with TensorFlow). By default the data comes from
keras.datasets.{doc_dataset} (downloaded once); --data reads a Keras-style .npz file instead
(keys x_train, y_train, x_test, y_test).

    python {script} [--data mnist.npz] [--epochs N] [--out model.keras]

--limit, --max-steps and --summary-json make a quick check run: a few steps on a slice of the data.
"""

import argparse
import json

import numpy as np
import keras

MODEL_NAME = {model_name}
DATASET = {dataset}
CLASS_NAMES = {class_names!r}
INPUT_SHAPE = {input_shape}  # height, width, channels
NUM_CLASSES = {num_classes!r}

# Training settings, as they were in ConvStudio
EPOCHS = {epochs!r}
BATCH_SIZE = {batch_size!r}
LEARNING_RATE = {learning_rate!r}
VALIDATION_SPLIT = {validation_split!r}  # a seeded random part of the training set is held out
SEED = {seed!r}


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
    return _PREDICT_TEMPLATE.format(class_names=[str(c) for c in class_names],
                                    input_shape=tuple(int(d) for d in input_shape), model_file=_q(model_file))


_PREDICT_TEMPLATE = '''#!/usr/bin/env python3
"""Classify image files with the model exported from ConvStudio beside this script.

    python predict.py digit.png [more.png ...] [--invert] [--top 3]

Images are turned grey (or RGB, for a colour model), resized to the model's input size and scaled to
0..1, as in ConvStudio.
MNIST-style data is light ink on a dark background: pass --invert for dark ink on white paper.
Needs numpy, Pillow and Keras 3 (with TensorFlow).
"""

import argparse
import os
import sys

import numpy as np

CLASS_NAMES = {class_names!r}
INPUT_SHAPE = {input_shape}  # height, width, channels
MODEL_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), {model_file})


def load_image(path, invert=False):
    """One image file as uint8 pixels at the model's input size: (height, width) grey, or
    (height, width, channels) for a colour model."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert({{1: "L", 3: "RGB", 4: "RGBA"}}[INPUT_SHAPE[2]])
        if image.size != (INPUT_SHAPE[1], INPUT_SHAPE[0]):
            image = image.resize((INPUT_SHAPE[1], INPUT_SHAPE[0]), Image.BILINEAR)
        pixels = np.asarray(image, dtype=np.uint8)
    return 255 - pixels if invert else pixels


def preprocess(images):
    """uint8 pixels (n, height, width[, channels]) -> float32 in 0..1 with a channel axis, as in ConvStudio."""
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
    return predict(model, images)


def predict(model, images, batch_size=256):
    """Class probabilities for uint8 ``images`` (n, height, width), in batches.

    The model is called directly: ``model.predict`` refuses models whose name is not a valid
    TensorFlow scope name (an imported model may carry any name)."""
    x = preprocess(images)
    outputs = [np.asarray(model(x[i:i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
    return np.concatenate(outputs)


def read_images(paths, invert=False):
    """The images that can be read and their paths; each file that cannot is named on stderr and skipped."""
    images, readable = [], []
    for path in paths:
        try:
            images.append(load_image(path, invert))
        except FileNotFoundError:
            print(f"{{path}}: no such file; skipped", file=sys.stderr)
            continue
        except (OSError, ValueError, SyntaxError):  # Pillow's "cannot identify image file" is an OSError
            print(f"{{path}}: not an image (PNG, JPEG, ...) that can be read; skipped", file=sys.stderr)
            continue
        readable.append(path)
    return images, readable


def main(argv=None):
    parser = argparse.ArgumentParser(description="Classify image files with the exported model.")
    parser.add_argument("images", nargs="+", help="image files (PNG, JPEG, ...)")
    parser.add_argument("--invert", action="store_true", help="for dark ink on a light background")
    parser.add_argument("--top", type=int, default=3, help="how many classes to list per image")
    parser.add_argument("--model", default=MODEL_FILE, help="the .keras model (default: the one beside this script)")
    args = parser.parse_args(argv)
    images, readable = read_images(args.images, args.invert)
    if not readable:
        print("no image could be read; nothing to classify", file=sys.stderr)
        return 1
    try:
        model = load_model(args.model)
    except (OSError, ValueError) as exc:
        print(f"cannot load the model {{args.model}}: {{exc}}", file=sys.stderr)
        return 2
    probabilities = predict(model, np.stack(images))
    for path, p in zip(readable, probabilities):
        best = np.argsort(p)[::-1][:args.top]
        ranked = ", ".join(f"{{CLASS_NAMES[i]}} {{p[i]:.1%}}" for i in best)
        print(f"{{path}}: {{CLASS_NAMES[best[0]]}} ({{ranked}})")
    return 0 if len(readable) == len(args.images) else 1


if __name__ == "__main__":
    sys.exit(main())
'''


# --------------------------------------------------------------------------- export format hooks


def write(ctx: ExportContext, path: Path) -> None:
    if ctx.fmt.name == "script":
        name, dataset = safe_model_name(str(ctx.model.name)), _dataset_name(ctx.dataset)
        source = training_script(ctx.network, input_shape=ctx.input_shape, num_classes=len(ctx.class_names),
                                 class_names=ctx.class_names, dataset=dataset,
                                 settings=ctx.settings, model_name=name, script_name=path.name)
        check_literals(source, {"MODEL_NAME": name, "DATASET": dataset,
                                "CLASS_NAMES": [str(c) for c in ctx.class_names]})
        path.write_text(source, encoding="utf-8")
        path.chmod(0o755)
        return
    path.mkdir()
    write_keras(ctx.model, path / "model.keras")
    script = path / "predict.py"
    source = predict_script(ctx.class_names, ctx.input_shape)
    check_literals(source, {"CLASS_NAMES": [str(c) for c in ctx.class_names]})
    script.write_text(source, encoding="utf-8")
    script.chmod(0o755)


def check_literals(source: str, expected: dict[str, Any]) -> None:
    """Prove that generated ``source`` parses and assigns each name in ``expected`` exactly that literal
    value (so no user string can have turned into code); :class:`ExportError` otherwise."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ExportError(f"the generated script is not valid Python (line {exc.lineno}); nothing was written") \
            from None
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    for name, value in expected.items():
        if found.get(name) != value:
            raise ExportError(f"the generated script does not hold {name} as a plain value; nothing was written")


def load_module(path: Path) -> ModuleType:
    """Import a generated script as a module, without running its ``main`` or registering it.

    This executes the file: for tests and tools that trust it. Export verification never calls it;
    it runs generated files in a child process (:func:`~.child.run_generated`)."""
    spec = importlib.util.spec_from_file_location(f"_convstudio_check_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def verify(ctx: ExportContext, path: Path) -> Check:
    if ctx.fmt.name == "script":
        return _verify_script(ctx, path)
    return _verify_predict(ctx, path)


def _save_weights(model: Any, work: Path) -> None:
    """The model's weights by layer name, as ``weights.npz`` plus an index ``weights.json``."""
    arrays: dict[str, np.ndarray] = {}
    names: dict[str, list[str]] = {}
    for layer in model.layers:
        keys = []
        for weight in layer.get_weights():
            keys.append(f"w{len(arrays)}")
            arrays[keys[-1]] = np.asarray(weight)
        names[layer.name] = keys
    np.savez(work / "weights.npz", **arrays)
    (work / "weights.json").write_text(json.dumps(names), encoding="utf-8")


def _verify_script(ctx: ExportContext, path: Path) -> Check:
    with tempfile.TemporaryDirectory(prefix="convstudio-script-check-") as tmp:
        work = Path(tmp)
        _save_weights(ctx.model, work)
        np.save(work / "images.npy", np.asarray(ctx.images))
        info, outputs = run_generated("script", path, work)
    params = int(info.get("params", -1))
    if params != ctx.model.count_params() or info.get("mismatch") or outputs is None:
        raise ExportError(f"the network has {params:,} parameters but the trained model "
                          f"{ctx.model.count_params():,}: it was edited after training; train it again before "
                          "exporting a script; nothing was written")
    check = ctx.check(outputs)
    check.notes.append(f"the script's model has the same {params:,} parameters; "
                       "with the trained weights copied in it gives the same outputs")
    return check


def _verify_predict(ctx: ExportContext, path: Path) -> Check:
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="convstudio-predict-check-") as tmp:
        files = []
        for i, image in enumerate(ctx.images):
            file = Path(tmp) / f"{i}.png"
            Image.fromarray(image).save(file)
            files.append(str(file))
        (Path(tmp) / "files.json").write_text(json.dumps(files), encoding="utf-8")
        _, outputs = run_generated("predict", path / "predict.py", Path(tmp))
    check = ctx.check(outputs)
    check.notes.append(f"predict.py classified {len(files)} PNG files like the model in ConvStudio")
    return check
