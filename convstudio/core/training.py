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
precision as :func:`~convstudio.core.device.speed_options` resolves them for the machine. Before a
fresh model is built, its memory is estimated (:mod:`convstudio.core.memory`) and a run that cannot
fit is refused with what to change.

Epoch ``e`` sees the training images in the order seeded by ``(seed, e)`` (:func:`epoch_batches`),
whatever came before; with the model, its optimizer state and the random-generator state of its
layers in the checkpoint (:mod:`convstudio.core.checkpoint`), a resumed run repeats the
uninterrupted one on a CPU. The callbacks (:mod:`convstudio.core.callbacks`) do microseconds of work
per batch. At the end the history is checked for divergence and chance-level accuracy
(:mod:`convstudio.core.diagnosis`).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .builder import build_model
from .checkpoint import (
    CHECKPOINT_MODEL,
    CHECKPOINT_STATE,
    CheckpointError,
    clean_checkpoint_folder,
    find_checkpoint,
    read_checkpoint_state,
    restore_random_state,
    write_checkpoint,
)
from .datasets import Dataset
from .device import SpeedOptions, describe_device, speed_options
from .diagnosis import diagnose
from .memory import MemoryEstimate, available_memory, estimate_training_memory, memory_problem
from .model_reuse import ModelReuse, ReuseKey, reuse_key
from .network import Network
from .settings import TrainSettings
from .training_events import EventChannel, TrainFinished, TrainStarted, TrainWarning

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

    from .runs import RunRecorder

__all__ = [
    "CHECKPOINT_MODEL",
    "CHECKPOINT_STATE",
    "CheckpointError",
    "Trainer",
    "compile_model",
    "epoch_batches",
    "make_optimizer",
    "read_checkpoint_state",
]


def make_optimizer(settings: TrainSettings) -> keras.optimizers.Optimizer:
    """The Keras optimizer the settings describe."""
    import keras

    lr = settings.learning_rate
    if settings.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=settings.momentum, nesterov=settings.nesterov)
    if settings.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(lr, momentum=settings.momentum)
    return keras.optimizers.Adam(lr)


def compile_model(model: keras.Model, settings: TrainSettings, speed: SpeedOptions | None = None) -> None:
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


def _has_float16_layers(model: keras.Model) -> bool:
    return any(getattr(layer, "compute_dtype", "float32") == "float16" for layer in model.layers)


def _build_training_state(model: keras.Model, element_spec: Any) -> None:
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


def _copy_model(model: keras.Model, network: Network, dataset: Dataset, settings: TrainSettings,
                speed: SpeedOptions) -> keras.Model:
    """A new model with ``model``'s variables and optimizer state (the same layer names), compiled alike."""
    copy = build_model(network, dataset.input_shape, dataset.num_classes, mixed_precision=speed.mixed_precision)
    compile_model(copy, settings, speed)
    copy.optimizer.build(copy.trainable_variables)
    for source, target in ((model.variables, copy.variables), (model.optimizer.variables, copy.optimizer.variables)):
        if len(source) != len(target):
            raise ValueError("the copy of the trained model does not have the same variables")
        for a, b in zip(source, target):
            b.assign(a)
    return copy


def _use_jit(model: keras.Model, jit: bool) -> None:
    """Switch XLA on or off for a compiled model (a resumed one keeps its saved choice otherwise)."""
    if bool(model.jit_compile) != jit:
        model.jit_compile = jit
        model.train_function = model.test_function = model.predict_function = None


def _lr_of(model: keras.Model) -> float:
    try:
        return float(model.optimizer.learning_rate.numpy())
    except Exception:  # noqa: BLE001 - a schedule or a missing optimizer: no single number
        return float("nan")




def epoch_batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, first_epoch: int,
                  last_epoch: int) -> tf.data.Dataset:
    """Normalized training batches for epochs ``first_epoch`` up to ``last_epoch`` (exclusive), one after another.

    Epoch ``e`` is a permutation seeded by ``(seed, e)`` alone, so a run resumed at epoch ``e``
    sees exactly the batches an uninterrupted run would. Fit it with ``steps_per_epoch``.
    """
    import tensorflow as tf

    from .pipeline import _scale_tf

    images, labels, n = tf.constant(x), tf.constant(y), len(x)
    seed_t = tf.constant(int(seed), tf.int64)

    def one_epoch(epoch: Any) -> tf.data.Dataset:
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=tf.stack([seed_t, epoch]))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    ds = tf.data.Dataset.range(first_epoch, last_epoch).flat_map(one_epoch)
    ds = ds.map(lambda idx: _scale_tf(tf.gather(images, idx), tf.gather(labels, idx)),
                num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _is_out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError" or "OOM" in str(exc)


_Memory = tuple[MemoryEstimate, "int | None", str]


def _error_message(exc: BaseException, settings: TrainSettings, memory: _Memory | None = None) -> str:
    """One line for a run that failed; out of memory advises a smaller network when the weights alone do not fit."""
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    if _is_out_of_memory(exc):
        if memory is not None and memory[1] is not None and memory[0].fixed_bytes > memory[1]:
            return memory_problem(*memory) or ""
        return (f"Out of memory while training with batch size {settings.batch_size}. "
                f"Try a smaller batch size (e.g. {max(1, settings.batch_size // 2)}) or a smaller network.")
    if name in ("BuildError", "DistributionError", "MemoryTooSmall"):
        return str(exc)
    return f"Training failed: {name}: {text}"


class MemoryTooSmall(RuntimeError):
    """The run's estimated memory exceeds what the machine has (the message says what to change)."""


class Trainer:
    """Trains ``network`` on ``dataset`` with ``settings``, publishing events into ``channel``.

    ``model`` (or ``run(initial_model=...)``) continues training an existing Keras model; without
    one a fresh model is built from the network. ``checkpoint_dir`` receives a checkpoint after every
    completed epoch (:mod:`convstudio.core.checkpoint`); one that cannot be written (a full disk) is
    a :class:`TrainWarning`, the previous one stays, and training goes on.
    ``recorder`` (a :class:`~convstudio.core.runs.RunRecorder`) records the run in its run folder and
    adds the health monitor's warnings to the events.
    ``reuse`` (a :class:`~convstudio.core.model_reuse.ModelReuse` shared by the runs of one session)
    lets a fresh run of an unchanged network train the last such run's model again, started afresh,
    instead of tracing a new one; the run then hands out a copy of what it trained.
    ``pause``, ``resume``, ``stop`` and ``set_probe`` may be called from any thread.
    """

    def __init__(self, network: Network, dataset: Dataset, settings: TrainSettings, channel: EventChannel,
                 checkpoint_dir: str | Path | None = None, model: keras.Model | None = None,
                 recorder: RunRecorder | None = None, reuse: ModelReuse | None = None) -> None:
        self.network = network.copy()
        self.reuse = reuse
        self._reuse_key: ReuseKey | None = None
        self.dataset = dataset
        self.settings = settings
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.recorder = recorder
        self.channel = recorder.attach(self, channel) if recorder is not None else channel
        self.model = model
        self.initial_epoch = 0
        self.history: dict[str, list[float]] = {}
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._probe_lock = threading.Lock()
        self._probe_image: np.ndarray | None = None

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
        """Watch this uint8 image's activations while training (None: stop watching); its shape is the
        dataset's ((h, w) grey, (h, w, c) colour)."""
        if image is not None:
            image = np.asarray(image)
            if image.ndim == 3 and image.shape[-1] == 1:
                image = image[..., 0]
            h, w, c = self.dataset.input_shape
            dims = (h, w) if c == 1 else (h, w, c)
            if image.shape != dims:
                raise ValueError(f"the probe image must be {'x'.join(map(str, dims))}, "
                                 f"got {'x'.join(map(str, image.shape))}")
            image = image.astype(np.uint8, copy=True)
        with self._probe_lock:
            self._probe_image = image

    def probe_image(self, default: bool) -> np.ndarray | None:
        """The watched image; with ``default``, the first test image when none is watched."""
        with self._probe_lock:
            image = self._probe_image
        if image is None and default and len(self.dataset.x_test):
            image = np.asarray(self.dataset.x_test[0], dtype=np.uint8)
        return image

    # ----------------------------------------------------------------- resuming

    @classmethod
    def resume_from(cls, checkpoint_dir: str | Path, network: Network, dataset: Dataset,
                    settings: TrainSettings, channel: EventChannel,
                    recorder: RunRecorder | None = None) -> Trainer:
        """A trainer that continues the checkpoint in ``checkpoint_dir`` for ``settings.epochs`` more epochs.

        History is appended to the checkpoint's, and new checkpoints go to the same folder. The
        optimizer keeps its state (and a plateau-reduced learning rate) unless ``settings`` names
        another optimizer or another learning rate than the checkpointed run; layers that draw random
        numbers (Dropout) continue their sequences.
        """
        import keras

        from .distribute import choose_strategy

        clean_checkpoint_folder(checkpoint_dir)
        checkpoint = find_checkpoint(checkpoint_dir)
        state = checkpoint.state
        with choose_strategy(settings).scope():
            try:
                model = keras.saving.load_model(checkpoint.model_path)
            except Exception as exc:  # noqa: BLE001 - any load failure is a damaged checkpoint
                raise CheckpointError(f"the checkpoint model in {checkpoint.folder} cannot be loaded: {exc}") from None
            restore_random_state(model, state.get("random_state"))
            before = state.get("settings") if isinstance(state.get("settings"), dict) else {}
            if before.get("optimizer") != settings.optimizer:
                compile_model(model, settings)  # another optimizer: start its state afresh
            elif before.get("learning_rate") != settings.learning_rate:
                model.optimizer.learning_rate.assign(settings.learning_rate)  # the user chose a new rate
        trainer = cls(network, dataset, settings, channel, checkpoint_dir, model=model, recorder=recorder)
        trainer.initial_epoch = state["epoch"]
        trainer.history = {k: [float(v) for v in vals] for k, vals in state["history"].items()}
        return trainer

    # ----------------------------------------------------------------- the run

    def run(self, initial_model: keras.Model | None = None, initial_epoch: int | None = None,
            history: dict[str, list[float]] | None = None) -> TrainFinished:
        """Train for ``settings.epochs`` epochs after ``initial_epoch``; always returns (and publishes)
        a :class:`TrainFinished`, never raises."""
        if initial_model is not None:
            self.model = initial_model
        if initial_epoch is not None:
            self.initial_epoch = int(initial_epoch)
        if history is not None:
            self.history = {k: list(v) for k, v in history.items()}
        self._epochs_done = self.initial_epoch
        self._checkpoint: str | None = None
        self._warnings: list[str] = []
        self._memory: _Memory | None = None
        try:
            finished = self._run()
            self._hand_out()
        except BaseException as exc:  # noqa: BLE001 - the thread must always end with an event
            if self.reuse is not None:
                self.reuse.forget(self.model)
            if not isinstance(exc, Exception) and not isinstance(exc, MemoryError):
                raise
            finished = TrainFinished("error", _error_message(exc, self.settings, self._memory), self._epochs_done,
                                     self._history_copy(), checkpoint=self._checkpoint,
                                     warnings=tuple(self._warnings))
        self.channel.put(finished)
        return finished

    def _hand_out(self) -> None:
        """Keep the trained model for the next fresh run and hand out a copy, which later runs leave alone."""
        model = self.model
        if self.reuse is None or model is None or not self.reuse.keep(model):
            return
        try:
            self.model = _copy_model(model, self.network, self.dataset, self.settings, self._speed)
        except Exception:  # noqa: BLE001 - the run stands: its own model is handed out and not kept
            self.reuse.clear()

    def _history_copy(self) -> dict[str, list[float]]:
        return {k: list(v) for k, v in self.history.items()}

    def _check_memory(self) -> None:
        """Refuse a fresh model whose weights, optimizer state and activations cannot fit (pure estimate)."""
        from .device import gpu_names
        from .shapes import analyze

        s, ds = self.settings, self.dataset
        estimate = estimate_training_memory(analyze(self.network, ds.input_shape, ds.num_classes), s.batch_size,
                                            s.optimizer, s.momentum)
        available, where = available_memory(on_gpu=bool(gpu_names()))
        self._memory = (estimate, available, where)
        problem = memory_problem(estimate, available, where)
        if problem:
            raise MemoryTooSmall(problem)

    def _prepare(self, strategy: Any, speed: SpeedOptions, element_spec: Any) -> keras.Model:
        """The model to train, built (fresh) or taken over, compiled, with its training state created."""
        from .distribute import prepare_model

        key, built = self._reuse_key, False
        with strategy.scope():
            if self.model is None and key is not None and self.reuse is not None:
                self.model = self.reuse.take(key)
            if self.model is None:
                self.model = build_model(self.network, self.dataset.input_shape, self.dataset.num_classes,
                                         mixed_precision=speed.mixed_precision)
                built = True
            model = self.model
            if not getattr(model, "compiled", False) or model.optimizer is None:
                compile_model(model, self.settings)
            _use_jit(model, speed.jit_compile)
            _build_training_state(model, element_spec)
        if built and key is not None and self.reuse is not None:
            self.reuse.starting(key, model)
        prepare_model(model, strategy, element_spec)
        if self._stop.is_set():
            model.stop_training = True
        return model

    def _keras_callbacks(self, has_val: bool) -> tuple[list[Any], Any]:
        """EarlyStopping and ReduceLROnPlateau as the settings ask; returns them and the early stopper."""
        import keras

        s, callbacks, early = self.settings, [], None
        if s.early_stopping.enabled:
            early = keras.callbacks.EarlyStopping(
                monitor=_monitor(s.early_stopping.monitor, has_val), patience=s.early_stopping.patience,
                restore_best_weights=s.early_stopping.restore_best, mode="auto")
            callbacks.append(early)
        if s.reduce_lr_on_plateau.enabled:
            r = s.reduce_lr_on_plateau
            callbacks.append(keras.callbacks.ReduceLROnPlateau(
                monitor=_monitor("val_loss", has_val), factor=r.factor, patience=r.patience, min_lr=r.min_lr))
        return callbacks, early

    def _run(self) -> TrainFinished:
        import keras

        from .callbacks import ActivationProbe, LazyBatchLogs, RunState, run_callbacks
        from .distribute import choose_strategy, strategy_name
        from .pipeline import make_datasets

        s, ds = self.settings, self.dataset
        strategy = choose_strategy(s)  # first: a cluster must be joined before TensorFlow runs anything
        if self.model is None:
            self._check_memory()
        speed = self._speed = speed_options(s)
        one_device = strategy_name(strategy) == "one device"
        self._reuse_key = (reuse_key(self.network, ds, s, speed)
                           if self.reuse is not None and self.model is None and one_device else None)
        if self.checkpoint_dir is not None:
            clean_checkpoint_folder(self.checkpoint_dir)
        keras.utils.set_random_seed(s.seed)
        # an image folder larger than memory is decoded per batch by its own pipeline (shuffled by
        # tf.data, so a resumed run does not see exactly the same batches); files that fail to
        # decode are dropped, hence repeat() to keep every epoch at ``steps`` batches
        streamed = getattr(ds, "stream", None) is not None
        splits = make_datasets(ds, s.batch_size, s.validation_split, s.seed, shuffle=streamed)
        counts, steps = splits.counts, int(splits.steps["train"])
        total = self.initial_epoch + s.epochs
        train = splits.train.repeat() if streamed else epoch_batches(
            ds.x_train[splits.train_index], ds.y_train[splits.train_index], s.batch_size, s.seed,
            self.initial_epoch, total)
        model = self._prepare(strategy, speed, train.element_spec)
        has_val = counts["val"] > 0 and splits.val is not None
        where = describe_device()
        if strategy_name(strategy) != "one device":
            where += f", {strategy_name(strategy)}"
        self.channel.put(TrainStarted(f"{where}; {speed.reason}", total, self.initial_epoch, steps, counts["train"],
                                      counts["val"], ds.source, ds.is_sample, int(counts.get("test", 0))))

        callbacks, early = self._keras_callbacks(has_val)
        self._state = RunState(self._stop, self._running, steps, epochs_done=self.initial_epoch)
        callbacks += run_callbacks(
            self._state, self.channel, batch_size=s.batch_size, batch_interval_s=s.batch_event_interval_s,
            history=self.history, total_epochs=total, learning_rate=_lr_of,
            probe=ActivationProbe(self.network, self.channel), probe_image=self.probe_image,
            probe_interval_s=s.probe_interval_s, save=self._save_checkpoint)
        if self.recorder is not None:
            callbacks += self.recorder.keras_callbacks(self, self._state, steps, s.epochs)
        callback_list = LazyBatchLogs(callbacks, add_history=True, add_progbar=False, model=model, verbose=0,
                                      epochs=total, steps=steps)
        model.fit(train, validation_data=splits.val if has_val else None, epochs=total, steps_per_epoch=steps,
                  initial_epoch=self.initial_epoch, verbose=0, shuffle=False, callbacks=callback_list)
        self._epochs_done = self._state.epochs_done
        return self._finish(model, splits, early)

    def _finish(self, model: keras.Model, splits: Any, early: Any) -> TrainFinished:
        """The :class:`TrainFinished` of a run that got through ``fit``: its status, test result and diagnosis."""
        s, done, history = self.settings, self._epochs_done, self._history_copy()
        extra = {"checkpoint": self._checkpoint, "warnings": tuple(self._warnings)}
        if self._state.nan_at is not None:
            epoch, step = self._state.nan_at
            lr = s.learning_rate
            return TrainFinished(
                "nan", f"The loss became NaN (not a number) in epoch {epoch + 1}, batch {step}: training "
                       f"diverged. Try a lower learning rate, e.g. {lr / 10:g} instead of {lr:g}.",
                done, history, **extra)
        diagnosis = None
        if done > self.initial_epoch:
            diagnosis = diagnose(history, self.dataset.num_classes, s.learning_rate, done * self._state.steps)
        found = {"diagnosis": diagnosis.kind if diagnosis else "", "advice": diagnosis.message if diagnosis else ""}
        advice = f" {diagnosis.message}" if diagnosis else ""
        if self._stop.is_set():
            self._save_checkpoint()  # the weights trained so far, also mid-epoch, so Train more can go on
            extra["checkpoint"] = self._checkpoint
            return TrainFinished("stopped", stopped_message(done) + advice, done, history, **extra, **found)
        test_loss = test_acc = None
        if splits.counts.get("test", 0) > 0 and splits.test is not None:
            result = model.evaluate(splits.test, verbose=0, return_dict=True)
            test_loss, test_acc = float(result["loss"]), float(result["accuracy"])
        status = "early_stopped" if early is not None and early.stopped_epoch > 0 else "completed"
        message = (f"Stopped early after {done} epochs: {early.monitor} stopped improving."
                   if status == "early_stopped" else f"Finished {done} epochs.")
        if test_acc is not None:
            message += f" Test accuracy {test_acc:.2%}."
        return TrainFinished(status, message + advice, done, history, test_loss, test_acc, **extra, **found)

    # ----------------------------------------------------------------- checkpoint (training thread)

    def _save_checkpoint(self) -> None:
        """Write this epoch's checkpoint; a failed write (a full disk) keeps the last one and warns."""
        if self.checkpoint_dir is None:
            return
        done = self._state.epochs_done
        state = {"epoch": done, "history": self.history, "settings": self.settings.to_dict(),
                 "dataset": self.dataset.name}
        try:
            write_checkpoint(self.checkpoint_dir, self.model, state)
        except OSError as exc:
            try:
                kept = f"the checkpoint of epoch {read_checkpoint_state(self.checkpoint_dir)['epoch']} is kept"
            except CheckpointError:
                kept = "there is no earlier checkpoint"
            warning = (f"Could not write the checkpoint of epoch {done} to {self.checkpoint_dir}: "
                       f"{exc.strerror or exc}; {kept}. Training goes on with the model in memory.")
            self._warnings.append(warning)
            self.channel.put(TrainWarning(warning))
            return
        self._checkpoint = str(self.checkpoint_dir)


def stopped_message(epochs_done: int) -> str:
    """What a stopped run says: how far it got and that its weights are kept."""
    if epochs_done == 0:
        return "Stopped during the first epoch; the weights trained so far are kept."
    return f"Stopped after {epochs_done} epoch{'s' if epochs_done != 1 else ''}; the weights trained so far are kept."


def _monitor(name: str, has_val: bool) -> str:
    return name if has_val or not name.startswith("val_") else name[4:]
