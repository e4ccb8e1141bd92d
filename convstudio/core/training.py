"""Training a network on a dataset with Keras ``fit``, in whatever thread calls :meth:`Trainer.run`.

The trainer only publishes plain records (:mod:`convstudio.core.training_events`) into an
:class:`~convstudio.core.training_events.EventChannel`; the GUI runs it in a worker thread and
drains the channel on a timer, the command line runs it in the main thread and prints.

Conventions of the events it publishes: ``epoch`` is Keras's 0-based absolute epoch index (a run
resumed after 3 epochs starts at epoch 3), ``step`` is the number of batches done in that epoch
(1..steps), so ``epoch + step / steps`` is the fractional epoch. ``TrainFinished.epochs_done`` is
the absolute number of completed epochs, the ``initial_epoch`` of a later "train more".

The model is built and compiled inside the strategy :func:`~convstudio.core.distribute.choose_strategy`
picks (one device, mirrored GPUs, or a multi-worker cluster from ``TF_CONFIG``), with XLA and mixed
precision as :func:`~convstudio.core.device.speed_options` resolves them for the machine.

The per-batch callback does microseconds of work: a step count, a clock read, and only every
``batch_event_interval_s`` a finite-loss check and a :class:`BatchEnd`. Batch logs reach it as
tensors and are read only then: reading one waits for the device, which on a GPU would stall the
queue of batches every step (Keras converts them for every callback on every batch otherwise).
A loss that turns NaN is therefore caught at the next report or at the end of the epoch. The probe
(activations of every block for one sample, and the Conv2D kernels) runs at most every
``probe_interval_s`` and once per epoch.
"""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .atomic import atomic_write_text, atomic_write_with
from .builder import build_model
from .datasets import Dataset
from .device import SpeedOptions, describe_device, speed_options
from .network import Network
from .settings import TrainSettings
from .training_events import BatchEnd, EpochEnd, EventChannel, ProbeUpdate, TrainFinished, TrainStarted

if TYPE_CHECKING:
    import keras

__all__ = [
    "CHECKPOINT_MODEL",
    "CHECKPOINT_STATE",
    "CheckpointError",
    "Trainer",
    "compile_model",
    "make_optimizer",
    "read_checkpoint_state",
]

CHECKPOINT_MODEL = "model.keras"
CHECKPOINT_STATE = "state.json"
_CHECKPOINT_FORMAT = "convstudio-checkpoint"


class CheckpointError(RuntimeError):
    """A checkpoint folder that cannot be resumed from; the message says why."""


def make_optimizer(settings: TrainSettings) -> "keras.optimizers.Optimizer":
    """The Keras optimizer the settings describe."""
    import keras

    lr = settings.learning_rate
    if settings.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=settings.momentum, nesterov=settings.nesterov)
    if settings.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(lr, momentum=settings.momentum)
    return keras.optimizers.Adam(lr)


def compile_model(model: "keras.Model", settings: TrainSettings, speed: SpeedOptions | None = None) -> None:
    """Compile for classification: sparse categorical cross-entropy on the softmax output, accuracy.

    XLA follows ``speed`` (default: resolved from ``settings`` for this machine); a model with
    float16 layers gets a loss-scaling optimizer so small gradients do not vanish.
    """
    import keras

    speed = speed or speed_options(settings)
    optimizer = make_optimizer(settings)
    if _has_float16_layers(model):
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=speed.jit_compile)


def _has_float16_layers(model: "keras.Model") -> bool:
    return any(getattr(layer, "compute_dtype", "float32") == "float16" for layer in model.layers)


def _build_training_state(model: "keras.Model", element_spec: Any) -> None:
    """Create the optimizer's and the metrics' variables now rather than while ``fit`` traces its step.

    Variables first made inside a trace get conditional initialisers whose functions TensorFlow keeps
    for the life of the process: about 6 MiB per run of a fresh model (docs/PERFORMANCE.md, memory).
    """
    optimizer = model.optimizer
    if optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)
    symbolic_build = getattr(model, "_symbolic_build", None)  # Keras 3's own pre-build, used under strategies
    if symbolic_build is not None:
        try:
            symbolic_build(data_batch=element_spec)
        except Exception:  # noqa: BLE001 - an optimisation only: fit builds whatever is left
            pass


def _use_jit(model: "keras.Model", jit: bool) -> None:
    """Switch XLA on or off for a compiled model (a resumed one keeps its saved choice otherwise)."""
    if bool(model.jit_compile) != jit:
        model.jit_compile = jit
        model.train_function = model.test_function = model.predict_function = None


def read_checkpoint_state(checkpoint_dir: str | Path) -> dict[str, Any]:
    """The ``state.json`` of a checkpoint folder (epoch, history), checked."""
    folder = Path(checkpoint_dir)
    state_path, model_path = folder / CHECKPOINT_STATE, folder / CHECKPOINT_MODEL
    if not state_path.is_file() or not model_path.is_file():
        raise CheckpointError(f"{folder} holds no checkpoint to resume from "
                              f"(expected {CHECKPOINT_MODEL} and {CHECKPOINT_STATE}); train first")
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"the checkpoint state {state_path} cannot be read: {exc}") from None
    if not isinstance(state, dict) or state.get("format") != _CHECKPOINT_FORMAT:
        raise CheckpointError(f"{state_path} is not a ConvStudio checkpoint state")
    epoch, history = state.get("epoch"), state.get("history")
    if not isinstance(epoch, int) or epoch < 0 or not isinstance(history, dict) or not all(
            isinstance(v, list) for v in history.values()):
        raise CheckpointError(f"{state_path} is damaged: it needs a whole epoch count and a history")
    return state


def _lr_of(model: "keras.Model") -> float:
    try:
        return float(model.optimizer.learning_rate.numpy())
    except Exception:  # noqa: BLE001 - a schedule or a missing optimizer: no single number
        return float("nan")


def _error_message(exc: BaseException, settings: TrainSettings) -> str:
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    if isinstance(exc, MemoryError) or name == "ResourceExhaustedError" or "OOM" in str(exc):
        return (f"Out of memory while training with batch size {settings.batch_size}. "
                f"Try a smaller batch size (e.g. {max(1, settings.batch_size // 2)}) or a smaller network.")
    if name in ("BuildError", "DistributionError"):
        return str(exc)
    return f"Training failed: {name}: {text}"


class Trainer:
    """Trains ``network`` on ``dataset`` with ``settings``, publishing events into ``channel``.

    ``model`` (or ``run(initial_model=...)``) continues training an existing Keras model; without
    one a fresh model is built from the network. ``checkpoint_dir`` receives a checkpoint
    (``model.keras`` with optimizer state and ``state.json``) after every completed epoch.
    ``pause``, ``resume``, ``stop`` and ``set_probe`` may be called from any thread.
    """

    def __init__(self, network: Network, dataset: Dataset, settings: TrainSettings, channel: EventChannel,
                 checkpoint_dir: str | Path | None = None, model: "keras.Model | None" = None) -> None:
        self.network = network.copy()
        self.dataset = dataset
        self.settings = settings
        self.channel = channel
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.model = model
        self.initial_epoch = 0
        self.history: dict[str, list[float]] = {}
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._probe_lock = threading.Lock()
        self._probe_image: np.ndarray | None = None
        self._probe_model: Any = None
        self._probe_for: Any = None
        self._probe_ids: list[str] = []
        self._conv_ids = [b.id for b in self.network if b.kind == "Conv2D"]

    # ----------------------------------------------------------------- control (any thread)

    def pause(self) -> None:
        """Hold training between two batches until :meth:`resume` or :meth:`stop`."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def stop(self) -> None:
        """Ask the run to end after the current batch; the weights trained so far are kept.

        A stop asked before :meth:`run` starts is honoured too, so a stopped trainer stays stopped;
        train more with a new trainer (``resume_from`` or ``model=trainer.model``).
        """
        self._stop.set()
        self._running.set()
        model = self.model
        if model is not None:
            model.stop_training = True

    def set_probe(self, image: np.ndarray | None) -> None:
        """Watch this uint8 28x28 image's activations while training (None: stop watching)."""
        if image is not None:
            image = np.asarray(image)
            if image.ndim == 3 and image.shape[-1] == 1:
                image = image[..., 0]
            if image.shape != tuple(self.dataset.input_shape[:2]):
                raise ValueError(f"the probe image must be {self.dataset.input_shape[0]}x"
                                 f"{self.dataset.input_shape[1]}, got {'x'.join(map(str, image.shape))}")
            image = image.astype(np.uint8, copy=True)
        with self._probe_lock:
            self._probe_image = image

    # ----------------------------------------------------------------- resuming

    @classmethod
    def resume_from(cls, checkpoint_dir: str | Path, network: Network, dataset: Dataset,
                    settings: TrainSettings, channel: EventChannel) -> "Trainer":
        """A trainer that continues the checkpoint in ``checkpoint_dir`` for ``settings.epochs`` more epochs.

        History is appended to the checkpoint's, and new checkpoints go to the same folder. The
        optimizer keeps its state (and a plateau-reduced learning rate) unless ``settings`` names
        another optimizer or another learning rate than the checkpointed run.
        """
        import keras

        from .distribute import choose_strategy

        state = read_checkpoint_state(checkpoint_dir)
        with choose_strategy(settings).scope():
            try:
                model = keras.saving.load_model(Path(checkpoint_dir) / CHECKPOINT_MODEL)
            except Exception as exc:  # noqa: BLE001 - any load failure is a damaged checkpoint
                raise CheckpointError(f"the checkpoint model in {checkpoint_dir} cannot be loaded: {exc}") from None
            before = state.get("settings") if isinstance(state.get("settings"), dict) else {}
            if before.get("optimizer") != settings.optimizer:
                compile_model(model, settings)  # another optimizer: start its state afresh
            elif before.get("learning_rate") != settings.learning_rate:
                model.optimizer.learning_rate.assign(settings.learning_rate)  # the user chose a new rate
        trainer = cls(network, dataset, settings, channel, checkpoint_dir, model=model)
        trainer.initial_epoch = state["epoch"]
        trainer.history = {k: [float(v) for v in vals] for k, vals in state["history"].items()}
        return trainer

    # ----------------------------------------------------------------- the run

    def run(self, initial_model: "keras.Model | None" = None, initial_epoch: int | None = None,
            history: dict[str, list[float]] | None = None) -> TrainFinished:
        """Train for ``settings.epochs`` epochs after ``initial_epoch``; always returns (and publishes)
        a :class:`TrainFinished`, never raises."""
        if initial_model is not None:
            self.model = initial_model
        if initial_epoch is not None:
            self.initial_epoch = int(initial_epoch)
        if history is not None:
            self.history = {k: list(v) for k, v in history.items()}
        self._nan: tuple[int, int] | None = None
        self._epochs_done = self.initial_epoch
        self._checkpoint: str | None = None
        try:
            finished = self._run()
        except BaseException as exc:  # noqa: BLE001 - the thread must always end with an event
            if not isinstance(exc, Exception) and not isinstance(exc, MemoryError):
                raise
            finished = TrainFinished("error", _error_message(exc, self.settings), self._epochs_done,
                                     self._history_copy(), checkpoint=self._checkpoint)
        self.channel.put(finished)
        return finished

    def _history_copy(self) -> dict[str, list[float]]:
        return {k: list(v) for k, v in self.history.items()}

    def _run(self) -> TrainFinished:
        import keras

        from .distribute import choose_strategy, prepare_model, strategy_name
        from .pipeline import make_datasets

        s, ds = self.settings, self.dataset
        strategy = choose_strategy(s)  # first: a cluster must be joined before TensorFlow runs anything
        speed = speed_options(s)
        keras.utils.set_random_seed(s.seed + self.initial_epoch)
        splits = make_datasets(ds, s.batch_size, s.validation_split, s.seed, shuffle=True)
        with strategy.scope():
            if self.model is None:
                self.model = build_model(self.network, ds.input_shape, ds.num_classes,
                                         mixed_precision=speed.mixed_precision)
            model = self.model
            if not getattr(model, "compiled", False) or model.optimizer is None:
                compile_model(model, s)
            _use_jit(model, speed.jit_compile)
            _build_training_state(model, splits.train.element_spec)
        prepare_model(model, strategy, splits.train.element_spec)
        if self._stop.is_set():
            model.stop_training = True
        counts, steps = splits.counts, int(splits.steps["train"])
        has_val = counts["val"] > 0 and splits.val is not None
        total = self.initial_epoch + s.epochs
        where = describe_device()
        if strategy_name(strategy) != "one device":
            where += f", {strategy_name(strategy)}"
        self.channel.put(TrainStarted(f"{where}; {speed.reason}", total, self.initial_epoch, steps, counts["train"],
                                      counts["val"], ds.source, ds.is_sample))

        callbacks: list[Any] = []
        early = None
        if s.early_stopping.enabled:
            early = keras.callbacks.EarlyStopping(
                monitor=_monitor(s.early_stopping.monitor, has_val), patience=s.early_stopping.patience,
                restore_best_weights=s.early_stopping.restore_best, mode="auto")
            callbacks.append(early)
        if s.reduce_lr_on_plateau.enabled:
            r = s.reduce_lr_on_plateau
            callbacks.append(keras.callbacks.ReduceLROnPlateau(
                monitor=_monitor("val_loss", has_val), factor=r.factor, patience=r.patience, min_lr=r.min_lr))
        callbacks.append(_make_callback(self, steps))

        model.fit(splits.train, validation_data=splits.val if has_val else None, epochs=total,
                  initial_epoch=self.initial_epoch, verbose=0, shuffle=False,
                  callbacks=_callback_list(callbacks, model, total, steps))

        history = self._history_copy()
        done = self._epochs_done
        if self._nan is not None:
            epoch, step = self._nan
            lr = s.learning_rate
            return TrainFinished(
                "nan", f"The loss became NaN (not a number) in epoch {epoch + 1}, batch {step}: training "
                       f"diverged. Try a lower learning rate, e.g. {lr / 10:g} instead of {lr:g}.",
                done, history, checkpoint=self._checkpoint)
        if self._stop.is_set():
            return TrainFinished("stopped", f"Stopped after {done} epoch(s); the weights trained so far are kept.",
                                 done, history, checkpoint=self._checkpoint)
        test_loss = test_acc = None
        if counts.get("test", 0) > 0 and splits.test is not None:
            result = model.evaluate(splits.test, verbose=0, return_dict=True)
            test_loss, test_acc = float(result["loss"]), float(result["accuracy"])
        status = "early_stopped" if early is not None and early.stopped_epoch > 0 else "completed"
        message = (f"Stopped early after {done} epochs: {early.monitor} stopped improving."  # type: ignore[union-attr]
                   if status == "early_stopped" else f"Finished {done} epochs.")
        if test_acc is not None:
            message += f" Test accuracy {test_acc:.2%}."
        return TrainFinished(status, message, done, history, test_loss, test_acc, self._checkpoint)

    # ----------------------------------------------------------------- probe and checkpoint (training thread)

    def _probe(self, epoch: int, step: int, image: np.ndarray) -> None:
        import keras

        from .pipeline import normalize

        model = self.model
        if self._probe_for is not model:
            names = {layer.name for layer in model.layers}
            self._probe_ids = [b.id for b in self.network if b.id in names]
            outputs = [model.get_layer(bid).output for bid in self._probe_ids] + [model.outputs[0]]
            self._probe_model = keras.Model(model.inputs, outputs, name="convstudio_probe")
            self._probe_for = model
        x = normalize(image[None])
        outs = self._probe_model([x], training=False)
        arrays = [np.asarray(keras.ops.convert_to_numpy(o)[0], dtype=np.float32) for o in outs]  # float16 layers too
        activations = dict(zip(self._probe_ids, arrays[:-1]))
        kernels = {bid: np.array(model.get_layer(bid).kernel.numpy())
                   for bid in self._conv_ids if bid in activations}
        self.channel.put(ProbeUpdate(epoch, step, activations, kernels, arrays[-1]))

    def _probe_image_now(self, default: bool) -> np.ndarray | None:
        with self._probe_lock:
            image = self._probe_image
        if image is None and default and len(self.dataset.x_test):
            image = np.asarray(self.dataset.x_test[0], dtype=np.uint8)
        return image

    def _save_checkpoint(self) -> None:
        if self.checkpoint_dir is None:
            return
        folder = self.checkpoint_dir
        atomic_write_with(folder / CHECKPOINT_MODEL, lambda tmp: self.model.save(tmp), suffix=".keras")
        state = {"format": _CHECKPOINT_FORMAT, "epoch": self._epochs_done, "history": self.history,
                 "settings": self.settings.to_dict(), "dataset": self.dataset.name}
        atomic_write_text(folder / CHECKPOINT_STATE, json.dumps(state, indent=1))
        self._checkpoint = str(folder)


def _monitor(name: str, has_val: bool) -> str:
    return name if has_val or not name.startswith("val_") else name[4:]


_CALLBACK_CLASS: Any = None
_CALLBACK_LIST_CLASS: Any = None


def _callback_list(callbacks: list[Any], model: Any, epochs: int, steps: int) -> Any:
    """Keras's callback list, except that batch-end logs are handed on unconverted (see the module docstring)."""
    global _CALLBACK_LIST_CLASS
    if _CALLBACK_LIST_CLASS is None:
        import keras

        class _LazyBatchLogs(keras.callbacks.CallbackList):
            def on_train_batch_end(self, batch, logs=None):
                for callback in self.callbacks:
                    callback.on_train_batch_end(batch, logs)

        _CALLBACK_LIST_CLASS = _LazyBatchLogs
    return _CALLBACK_LIST_CLASS(callbacks, add_history=True, add_progbar=False, model=model, verbose=0,
                                epochs=epochs, steps=steps)


def _scalar(value: Any, default: float = 0.0) -> float:
    """A log value (tensor, numpy or Python number) as a float; reading a tensor waits for the device."""
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _make_callback(trainer: Trainer, steps: int) -> Any:
    """The per-batch callback (its class is made on first use so importing this module needs no Keras)."""
    global _CALLBACK_CLASS
    if _CALLBACK_CLASS is None:
        import keras

        class _TrainerCallback(keras.callbacks.Callback):
            def __init__(self, trainer: Trainer, steps: int) -> None:
                super().__init__()
                self.t, self.steps = trainer, steps

            def on_train_begin(self, logs=None):
                if self.t._stop.is_set():
                    self.model.stop_training = True
                now = time.perf_counter()
                self.t0, self.paused = now, 0.0
                self.last_batch_event = -math.inf
                self.last_probe = now

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch, self.step = epoch, 0
                self.epoch_t0, self.epoch_paused = time.perf_counter(), self.paused
                self.lr = _lr_of(self.model)

            def on_train_batch_end(self, batch, logs=None):
                t = self.t
                self.step += 1
                now = time.perf_counter()
                if now - self.last_batch_event >= t.settings.batch_event_interval_s:
                    logs = logs or {}
                    loss = _scalar(logs.get("loss"))  # the only places the device is waited for
                    if not math.isfinite(loss):
                        t._nan = (self.epoch, self.step)
                        self.model.stop_training = True
                        return
                    busy = now - self.epoch_t0 - (self.paused - self.epoch_paused)
                    rate = self.step * t.settings.batch_size / max(busy, 1e-9)  # mean over the epoch so far
                    t.channel.put(BatchEnd(self.epoch, self.step, self.steps, loss, _scalar(logs.get("accuracy")),
                                           now - self.t0 - self.paused, rate))
                    self.last_batch_event = now
                if now - self.last_probe >= t.settings.probe_interval_s:
                    image = t._probe_image_now(default=False)
                    if image is not None:
                        t._probe(self.epoch, self.step, image)
                    self.last_probe = time.perf_counter()
                if t._stop.is_set():
                    self.model.stop_training = True
                elif not t._running.is_set():
                    t0 = time.perf_counter()
                    t._running.wait()
                    waited = time.perf_counter() - t0
                    self.paused += waited
                    if t._stop.is_set():
                        self.model.stop_training = True

            def on_test_begin(self, logs=None):
                if self.t._stop.is_set() or self.t._nan is not None:
                    self.model.stop_evaluating = True  # a stopped run skips the rest of validation

            def on_epoch_end(self, epoch, logs=None):
                t = self.t
                if t._nan is not None or self.step < self.steps or t._stop.is_set():
                    return  # an interrupted epoch is neither recorded nor checkpointed
                logs = dict(logs or {})
                if any(isinstance(v, float) and not math.isfinite(v) for v in logs.values()):
                    t._nan = (epoch, self.step)
                    self.model.stop_training = True
                    return
                metrics = {k: float(v) for k, v in logs.items() if isinstance(v, int | float)}
                metrics["learning_rate"] = self.lr
                for key, value in metrics.items():
                    t.history.setdefault(key, []).append(value)
                t._epochs_done = epoch + 1
                seconds = time.perf_counter() - self.epoch_t0 - (self.paused - self.epoch_paused)
                t.channel.put(EpochEnd(epoch, t.initial_epoch + t.settings.epochs, metrics, seconds))
                image = t._probe_image_now(default=True)
                if image is not None:
                    t._probe(epoch, self.step, image)
                    self.last_probe = time.perf_counter()
                t._save_checkpoint()

        _CALLBACK_CLASS = _TrainerCallback
    return _CALLBACK_CLASS(trainer, steps)
